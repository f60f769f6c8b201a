"""Plan values that operator specs carry to the runtime: aggregate calls and sort keys.

They live apart from the logical plan nodes because the runtime receives them inside operator
specs and must not import the nodes themselves (DESIGN.md's dependency rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from volley.plan.types import DataType

#: The aggregates that fold into numeric per-group accumulators (count, sum, min, max).
NUMERIC_ACCUMULATORS = frozenset({"count", "sum", "avg", "min", "max"})


@dataclass(frozen=True)
class AggCall:
    """One aggregate: ``fn`` over input column ``arg`` (None for COUNT(*))."""

    fn: str
    arg: int | None
    distinct: bool
    type: DataType
    name: str
    udaf: Any = None

    def __str__(self) -> str:
        a = "*" if self.arg is None else f"${self.arg}"
        return f"{self.fn}({'DISTINCT ' if self.distinct else ''}{a})"


@dataclass(frozen=True)
class SortKey:
    """One ORDER BY key: an input column, its direction and where NULLs go."""

    index: int
    ascending: bool = True
    nulls_first: bool | None = None  # None: Flink's default (first for ASC, last for DESC)

    @property
    def effective_nulls_first(self) -> bool:
        return self.ascending if self.nulls_first is None else self.nulls_first


@dataclass(frozen=True)
class OverFrame:
    """The rows of its partition an OVER aggregate covers for each row (its frame).

    ``mode`` is ``rows`` (offsets count rows) or ``range`` (offsets are distances in the ORDER BY
    key's value — milliseconds for a timestamp — and rows with an equal key, peers, share one
    frame). ``start`` and ``end`` are offsets from the current row: negative precede it, 0 is the
    current row (with its peers under ``range``), positive follow it; None is UNBOUNDED (PRECEDING
    for ``start``, FOLLOWING for ``end``). The default is the running frame, UNBOUNDED PRECEDING
    to CURRENT ROW.
    """

    mode: str = "range"
    start: int | float | None = None
    end: int | float | None = 0

    def __str__(self) -> str:
        def bound(offset: int | float | None, unbounded: str) -> str:
            if offset is None:
                return f"UNBOUNDED {unbounded}"
            if offset == 0:
                return "CURRENT ROW"
            return f"{abs(offset)} {'PRECEDING' if offset < 0 else 'FOLLOWING'}"

        return (f"{self.mode.upper()} BETWEEN {bound(self.start, 'PRECEDING')} AND "
                f"{bound(self.end, 'FOLLOWING')}")


@dataclass(frozen=True)
class OutputColumns:
    """The columns a join emits: positions in left + right (``select``; None: all of them), and
    which of those (indices into ``select``) may stay dictionary-encoded over the build side's
    column — set by the planner only for group keys of an aggregation that reads them next."""

    select: tuple[int, ...] | None = None
    encoded: frozenset[int] = frozenset()


ALL_COLUMNS = OutputColumns()


def _numeric(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t)


def can_accumulate(in_schema: pa.Schema, aggs: tuple[AggCall, ...]) -> bool:
    """Whether every aggregate decomposes into numeric per-group accumulators (COUNT, SUM,
    AVG, MIN, MAX over integer or floating columns, without DISTINCT or a Python UDAF)."""
    for agg in aggs:
        if agg.distinct or agg.udaf is not None or agg.fn not in NUMERIC_ACCUMULATORS:
            return False
        if agg.fn == "count":
            continue
        if agg.arg is None or not _numeric(in_schema.field(agg.arg).type):
            return False
        if not _numeric(agg.type.to_arrow()):
            return False
    return True


def key_types(left: pa.Schema, right: pa.Schema, left_keys: list[int],
              right_keys: list[int]) -> list[pa.DataType]:
    """One type per key pair that both sides' key columns are cast to before hashing."""
    return [_common_arrow(left.field(lk).type, right.field(rk).type)
            for lk, rk in zip(left_keys, right_keys, strict=True)]


def _common_arrow(a: pa.DataType, b: pa.DataType) -> pa.DataType:
    if a == b:
        return a
    if pa.types.is_integer(a) and pa.types.is_integer(b):
        return pa.int64()
    if pa.types.is_decimal(a) or pa.types.is_decimal(b):
        return pa.float64() if (pa.types.is_floating(a) or pa.types.is_floating(b)) else (
            pa.decimal128(38, max(getattr(a, "scale", 0), getattr(b, "scale", 0)))
        )
    if (pa.types.is_floating(a) or pa.types.is_integer(a)) and (
        pa.types.is_floating(b) or pa.types.is_integer(b)
    ):
        return pa.float64()
    return a


#: the window kinds of the window table functions (and of the group windows built on them)
WINDOW_KINDS = ("tumble", "hop", "cumulate", "session")


@dataclass(frozen=True)
class WindowSpec:
    """How rows are assigned to windows: ``kind`` (one of ``WINDOW_KINDS``), the time attribute
    ``time_col`` (an input column index), whether it is processing time (``proctime``: windows
    follow the clock of the operator that assigns them, the column is not read), and the sizes
    in milliseconds: ``size`` (TUMBLE and HOP size, CUMULATE max size), ``slide`` (HOP slide,
    CUMULATE step), ``offset`` (TUMBLE/HOP/CUMULATE) and ``gap`` (SESSION).
    ``partition_keys``: the input columns a SESSION window is kept apart by."""

    kind: str
    time_col: int
    proctime: bool = False
    size: int = 0
    slide: int = 0
    offset: int = 0
    gap: int = 0
    partition_keys: tuple[int, ...] = ()

    def describe(self, names: list[str]) -> str:
        time = names[self.time_col]
        if self.kind == "tumble":
            args = f"size=[{_interval(self.size)}]"
        elif self.kind == "hop":
            args = f"slide=[{_interval(self.slide)}], size=[{_interval(self.size)}]"
        elif self.kind == "cumulate":
            args = f"step=[{_interval(self.slide)}], max_size=[{_interval(self.size)}]"
        else:
            args = f"gap=[{_interval(self.gap)}]"
            if self.partition_keys:
                args += f", partitionBy=[{', '.join(names[k] for k in self.partition_keys)}]"
        if self.offset:
            args += f", offset=[{_interval(self.offset)}]"
        return f"{self.kind.upper()}(time_col=[{time}], {args})"

    def remap(self, mapping: dict[int, int]) -> WindowSpec:
        """The same window over an input whose columns moved (old index -> new index)."""
        from dataclasses import replace

        return replace(self, time_col=mapping[self.time_col],
                       partition_keys=tuple(mapping[k] for k in self.partition_keys))


def _interval(ms: int) -> str:
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("min", 60_000), ("s", 1000)):
        if ms and ms % size == 0:
            return f"{ms // size} {unit}"
    return f"{ms} ms"
