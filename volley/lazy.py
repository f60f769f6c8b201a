"""Modules imported on first use.

sqlglot takes about 100 ms to import, a quarter of a cold start. A job built with the Table API
over in-memory data never parses SQL, so the modules that only need sqlglot on some paths hold a
``lazy_module`` in its place: the real import happens at the first attribute read, and every
later read is a plain instance-dict lookup.
"""

from __future__ import annotations

import importlib
from typing import Any


class LazyModule:
    """Stands in for the module ``name`` until an attribute of it is read."""

    def __init__(self, name: str) -> None:
        self.__dict__["_lazy_name"] = name

    def __getattr__(self, attr: str) -> Any:
        # Only called for names not yet in the instance dict: the first read of each name.
        module = importlib.import_module(self.__dict__["_lazy_name"])
        self.__dict__.update(vars(module))
        return getattr(module, attr)

    def __repr__(self) -> str:
        return f"<lazy module {self.__dict__['_lazy_name']!r}>"


def lazy_module(name: str) -> Any:
    """A stand-in for ``importlib.import_module(name)`` that defers the import to first use."""
    return LazyModule(name)
