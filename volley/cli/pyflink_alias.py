"""Make ``import pyflink...`` resolve to Volley's modules, so PyFlink programs run unchanged.

``volley run`` installs :class:`PyflinkAliasFinder` at the front of ``sys.meta_path``. It maps
``pyflink`` to ``volley`` and ``pyflink.x.y`` to ``volley.x.y`` and hands back the *same* module
object, not a copy: ``pyflink.table.DataTypes is volley.table.DataTypes``, so classes compare
equal, ``isinstance`` works across both names, and module-level state (registries, defaults) exists
once.

A PyFlink module that Volley has no counterpart for fails with a ``ModuleNotFoundError`` naming the
PyFlink module, so the user learns what is missing instead of seeing ``No module named 'volley.x'``.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType

ALIAS = "pyflink"
TARGET = "volley"


def target_name(fullname: str) -> str | None:
    """Return the Volley module name for a PyFlink module name, or None if it is not PyFlink's.

    >>> target_name("pyflink.table.udf")
    'volley.table.udf'
    >>> target_name("pyflinkish") is None
    True
    """
    if fullname == ALIAS:
        return TARGET
    if fullname.startswith(ALIAS + "."):
        return TARGET + fullname[len(ALIAS) :]
    return None


def missing_module_message(fullname: str, target: str) -> str:
    """The text of the error for a PyFlink module Volley does not provide (pinned by tests)."""
    return f"No module named {fullname!r}: Volley does not provide {fullname!r} yet (no {target!r})"


class _ExistingModuleLoader(importlib.abc.Loader):
    """Loader whose 'loading' returns an already imported Volley module as-is.

    The import machinery only fills in module attributes that are missing, so the Volley module
    keeps its own ``__name__``, ``__spec__`` and ``__path__``; it is merely also registered in
    ``sys.modules`` under its PyFlink name.
    """

    def __init__(self, module: ModuleType) -> None:
        self._module = module

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return self._module

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: the Volley module was executed when it was imported under its name."""


class PyflinkAliasFinder(importlib.abc.MetaPathFinder):
    """Meta path finder that answers for ``pyflink`` and every ``pyflink.*`` module."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        volley_name = target_name(fullname)
        if volley_name is None:
            return None
        try:
            module = importlib.import_module(volley_name)
        except ModuleNotFoundError as exc:
            # Only translate "this Volley module does not exist"; a missing module deeper down
            # (a bug or a missing optional dependency inside Volley) must surface unchanged.
            if exc.name is None or not _is_self_or_parent(exc.name, volley_name):
                raise
            raise ModuleNotFoundError(
                missing_module_message(fullname, volley_name), name=fullname
            ) from None
        is_package = hasattr(module, "__path__")
        return importlib.machinery.ModuleSpec(
            fullname,
            _ExistingModuleLoader(module),
            origin=getattr(module, "__file__", None),
            is_package=is_package,
        )


def _is_self_or_parent(missing: str, wanted: str) -> bool:
    return wanted == missing or wanted.startswith(missing + ".")


def install() -> PyflinkAliasFinder:
    """Put the alias finder first on ``sys.meta_path`` (idempotent) and return it.

    First, so that a real ``apache-flink`` installation in the same environment cannot win.
    """
    for finder in sys.meta_path:
        if isinstance(finder, PyflinkAliasFinder):
            return finder
    finder = PyflinkAliasFinder()
    sys.meta_path.insert(0, finder)
    return finder


def uninstall() -> None:
    """Remove the finder and forget the ``pyflink`` names it registered (for tests and embedding)."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, PyflinkAliasFinder)]
    for name in [n for n in sys.modules if target_name(n) is not None]:
        del sys.modules[name]
