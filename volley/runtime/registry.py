"""The operator registry: from an ``OperatorSpec``'s kind to the factory that builds it.

Operator modules register their kinds with ``@operator_kind("...")``; the module that defines a
built-in kind is imported when a job first uses the kind, so a job loads only its operators'
modules, and a worker process that receives a pickled job graph can build any operator in it.
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

#: the module defining each built-in kind: a job imports the modules of the kinds it uses
_BUILTIN_KINDS = {
    "calc": "volley.runtime.ops_basic",
    "filter": "volley.runtime.ops_basic",
    "union": "volley.runtime.ops_basic",
    "limit": "volley.runtime.ops_basic",
    "watermark_assigner": "volley.runtime.ops_time",
    "aggregate": "volley.runtime.ops_aggregate",
    "group_aggregate": "volley.runtime.ops_aggregate",
    "hash_join": "volley.runtime.ops_join",
    "stream_join": "volley.runtime.ops_join",
    "interval_join": "volley.runtime.ops_interval_join",
    "temporal_join": "volley.runtime.ops_temporal_join",
    "lookup_join": "volley.runtime.ops_lookup_join",
    "sort": "volley.runtime.ops_blocking",
    "set_op": "volley.runtime.ops_blocking",
    "stream_set_op": "volley.runtime.ops_set",
    "rank": "volley.runtime.ops_blocking",
    "over_aggregate": "volley.runtime.ops_blocking",
    "window_table_function": "volley.runtime.ops_window",
    "window_aggregate": "volley.runtime.ops_window",
    "session_window": "volley.runtime.ops_session",
    "window_rank": "volley.runtime.ops_window_buffer",
    "window_join": "volley.runtime.ops_window_buffer",
    "stream_over_aggregate": "volley.runtime.ops_over",
    "sorted_over_aggregate": "volley.runtime.ops_over",
    "top_n": "volley.runtime.ops_rank",
    "deduplicate": "volley.runtime.ops_rank",
    "temporal_sort": "volley.runtime.ops_rank",
    "sink": "volley.runtime.ops_sinks",
    "collect": "volley.runtime.ops_sinks",
}


def operator_kind(kind: str) -> Callable[[F], F]:
    """Class decorator: operators of ``kind`` are built by calling the class with the spec."""

    def register(cls: F) -> F:
        _FACTORIES[kind] = cls
        return cls

    return register


def build_operator(spec: OperatorSpec) -> Operator:
    """A fresh operator for ``spec`` (not opened)."""
    if spec.kind not in _FACTORIES and spec.kind in _BUILTIN_KINDS:
        importlib.import_module(_BUILTIN_KINDS[spec.kind])
    try:
        factory = _FACTORIES[spec.kind]
    except KeyError:
        raise KeyError(f"no operator of kind {spec.kind!r} is registered; known kinds: "
                       f"{', '.join(sorted(_FACTORIES))}") from None
    return factory(spec)


def load_kinds(kinds: set[str] | list[str]) -> None:
    """Import the modules defining the built-in ``kinds`` (a runner does, before it forks the
    processes that build them)."""
    for kind in kinds:
        if kind not in _FACTORIES and kind in _BUILTIN_KINDS:
            importlib.import_module(_BUILTIN_KINDS[kind])


def registered_kinds() -> list[str]:
    for module in set(_BUILTIN_KINDS.values()):
        importlib.import_module(module)
    return sorted(_FACTORIES)


def builtin_kinds() -> list[str]:
    """The kinds Volley itself defines (tests and extensions may register more)."""
    return sorted(_BUILTIN_KINDS)
