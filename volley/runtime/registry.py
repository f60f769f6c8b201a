"""The operator registry: from an ``OperatorSpec``'s kind to the factory that builds it.

Operator modules register their kinds with ``@operator_kind("...")``; the modules that define the
built-in kinds are imported on the first lookup, so importing the registry stays cheap and a
worker process that receives a pickled job graph can build any operator in it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from volley.physical.job_graph import OperatorSpec
    from volley.runtime.operator import Operator

Factory = Callable[["OperatorSpec"], "Operator"]
F = TypeVar("F", bound=type)

_FACTORIES: dict[str, Factory] = {}

#: the modules defining the built-in operator kinds
_BUILTIN_MODULES = (
    "volley.runtime.ops_basic",
    "volley.runtime.ops_aggregate",
    "volley.runtime.ops_join",
    "volley.runtime.ops_blocking",
    "volley.runtime.ops_sinks",
)
_loaded = False


def operator_kind(kind: str) -> Callable[[F], F]:
    """Class decorator: operators of ``kind`` are built by calling the class with the spec."""

    def register(cls: F) -> F:
        _FACTORIES[kind] = cls
        return cls

    return register


def _load_builtins() -> None:
    global _loaded
    if not _loaded:
        for module in _BUILTIN_MODULES:
            importlib.import_module(module)
        _loaded = True


def build_operator(spec: OperatorSpec) -> Operator:
    """A fresh operator for ``spec`` (not opened)."""
    _load_builtins()
    try:
        factory = _FACTORIES[spec.kind]
    except KeyError:
        raise KeyError(f"no operator of kind {spec.kind!r} is registered; known kinds: "
                       f"{', '.join(sorted(_FACTORIES))}") from None
    return factory(spec)


def registered_kinds() -> list[str]:
    _load_builtins()
    return sorted(_FACTORIES)
