"""Windowed plan nodes: the window table functions and window aggregation.

``WindowTableFunction`` is ``TABLE(TUMBLE|HOP|CUMULATE|SESSION(TABLE t, DESCRIPTOR(ts), ...))``:
the input's columns plus ``window_start``, ``window_end`` (TIMESTAMP(3) NOT NULL) and
``window_time`` (``window_end`` - 1 ms, a time attribute of the input's kind: TIMESTAMP(3)
*ROWTIME*, TIMESTAMP_LTZ(3) *ROWTIME* over an LTZ column, TIMESTAMP_LTZ(3) *PROCTIME* over
processing time). ``WindowAggregate`` aggregates rows per window and group key and emits each
window once, when it closes; the SQL window aggregation (``GROUP BY window_start, window_end,
...`` over a window table function), the legacy ``GROUP BY TUMBLE(ts, ...)`` and the Table
API's group windows all become one.

``window_columns`` follows the window bounds of a plan through projections and filters: window
Top-N and window joins need to know which columns they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from volley.common.changelog import ChangelogMode
from volley.errors import PlanError, UnsupportedFeatureError
from volley.plan import nodes as n
from volley.plan.calls import AggCall, WindowSpec
from volley.plan.expressions import Expr, InputRef
from volley.plan.join_keys import split_equi_condition
from volley.plan.types import (
    DataType,
    LocalZonedTimestampType,
    RowField,
    RowType,
    TimestampType,
)

WINDOW_COLUMNS = ("window_start", "window_end", "window_time")


def window_time_type(time_type: DataType, proctime: bool) -> DataType:
    """``window_time``'s type: a time attribute of the input's kind, never NULL (a plain
    timestamp when the time column is one: batch mode windows any TIMESTAMP column)."""
    kind = getattr(time_type, "time_attribute", None)
    if proctime:
        return LocalZonedTimestampType(3, nullable=False, time_attribute="proctime")
    if isinstance(time_type, LocalZonedTimestampType):
        return LocalZonedTimestampType(3, nullable=False, time_attribute=kind)
    return TimestampType(3, nullable=False, time_attribute=kind)


def window_fields(time_type: DataType, proctime: bool) -> tuple[RowField, ...]:
    bound = TimestampType(3, nullable=False)
    return (RowField("window_start", bound), RowField("window_end", bound),
            RowField("window_time", window_time_type(time_type, proctime)))


def check_window(window: WindowSpec, schema: RowType, what: str) -> None:
    """The time column is a timestamp and the sizes make windows (Flink's checks). That it is
    a time attribute matters in streaming mode only: see ``check_streaming_window``."""
    field = schema.fields[window.time_col]
    if not isinstance(field.data_type, (TimestampType, LocalZonedTimestampType)):
        raise PlanError(
            f"the time column {field.name!r} of {what} must be a TIMESTAMP(3) or "
            f"TIMESTAMP_LTZ(3) time attribute; got {field.data_type}"
        )
    kind = getattr(field.data_type, "time_attribute", None)
    if window.proctime != (kind == "proctime"):
        raise PlanError(f"internal: window over {field.name!r} disagrees on its time kind")
    sizes = {"tumble": [("size", window.size)], "hop": [("slide", window.slide),
                                                         ("size", window.size)],
             "cumulate": [("step", window.slide), ("max size", window.size)],
             "session": [("gap", window.gap)]}[window.kind]
    for name, value in sizes:
        if value <= 0:
            raise PlanError(f"the {name} of a {window.kind.upper()} window must be a positive "
                            f"interval; got {value} ms")
    if window.kind == "cumulate" and window.size % window.slide:
        raise PlanError(
            f"a CUMULATE window's max size must be an integral multiple of its step; got max "
            f"size {window.size} ms and step {window.slide} ms"
        )
    if window.kind != "session" and abs(window.offset) >= window.size:
        raise PlanError(f"a window offset must be smaller than the window size; got offset "
                        f"{window.offset} ms and size {window.size} ms")


def check_streaming_window(window: WindowSpec, schema: RowType, what: str) -> None:
    """In streaming mode a window needs a time attribute: event time comes with a watermark,
    processing time from PROCTIME()."""
    field = schema.fields[window.time_col]
    if getattr(field.data_type, "time_attribute", None) is None:
        raise PlanError(
            f"the time column {field.name!r} of {what} must be a time attribute in streaming "
            f"mode (a column with a WATERMARK, or one computed AS PROCTIME()); got "
            f"{field.data_type}; declare `WATERMARK FOR {field.name} AS {field.name} - "
            f"INTERVAL '5' SECOND` on the table, or run the query in batch mode"
        )


def check_batch_window(window: WindowSpec, what: str) -> None:
    """Batch mode has all its input at once: there is no clock for processing-time windows."""
    if window.proctime:
        raise UnsupportedFeatureError(
            f"{what} over processing time is not supported in batch mode (as in Flink); use an "
            "event-time column, or run the query in streaming mode"
        )


def _insert_only(node: n.Node, what: str) -> None:
    if node.changelog_mode() is not n.INSERT_ONLY:
        raise UnsupportedFeatureError(
            f"{what} over an updating input (the result of a GROUP BY, a join, ...) is not "
            "supported by Volley yet; apply the window to the source table, before aggregating"
        )


@dataclass(frozen=True, eq=False)
class WindowTableFunction(n.Node):
    """``TABLE(TUMBLE|HOP|CUMULATE|SESSION(...))``: each input row with the bounds of each window
    it falls in (a HOP or CUMULATE row is in several); see the module docstring."""

    input: n.Node
    window: WindowSpec

    def __post_init__(self) -> None:
        check_window(self.window, self.input.schema, f"{self.window.kind.upper()}(...)")
        _insert_only(self.input, f"a {self.window.kind.upper()} window")
        names = set(self.input.schema.names)
        clash = [c for c in WINDOW_COLUMNS if c in names]
        if clash:
            raise PlanError(f"the input of a window table function already has a column named "
                            f"{clash[0]!r}; rename it first")

    @property
    def inputs(self) -> tuple[n.Node, ...]:
        return (self.input,)

    @cached_property
    def schema(self) -> RowType:
        time_type = self.input.schema.fields[self.window.time_col].data_type
        return RowType(self.input.schema.fields + window_fields(time_type, self.window.proctime))

    def changelog_mode(self) -> ChangelogMode:
        return n.INSERT_ONLY

    def describe(self) -> str:
        return f"WindowTableFunction({self.window.describe(self.input.schema.names)})"


@dataclass(frozen=True, eq=False)
class WindowAggregate(n.Node):
    """Aggregates per window of ``window`` and ``group_keys`` (input column indices); emits each
    window's groups once, when the window closes (the watermark, or the clock for processing
    time, passes its end). Output: the group keys, the aggregates, then ``window_start``,
    ``window_end`` and ``window_time``. Insert-only."""

    input: n.Node
    window: WindowSpec
    group_keys: tuple[int, ...]
    aggs: tuple[AggCall, ...]

    def __post_init__(self) -> None:
        check_window(self.window, self.input.schema, "a window aggregation")
        _insert_only(self.input, "a window aggregation")
        names = [self.input.schema.fields[k].name for k in self.group_keys]
        n._check_unique(names + [a.name for a in self.aggs] + list(WINDOW_COLUMNS),
                        "a window aggregation")

    @property
    def inputs(self) -> tuple[n.Node, ...]:
        return (self.input,)

    @cached_property
    def schema(self) -> RowType:
        keys = [n.materialized(self.input.schema.fields[k]) for k in self.group_keys]
        aggs = [RowField(a.name, a.type) for a in self.aggs]
        time_type = self.input.schema.fields[self.window.time_col].data_type
        return RowType(tuple(keys) + tuple(aggs) + window_fields(time_type, self.window.proctime))

    def changelog_mode(self) -> ChangelogMode:
        return n.INSERT_ONLY

    def describe(self) -> str:
        names = self.input.schema.names
        keys = ", ".join(names[k] for k in self.group_keys)
        aggs = ", ".join(f"{a} AS {a.name}" for a in self.aggs)
        return (f"WindowAggregate(window=[{self.window.describe(names)}], groupBy=[{keys}], "
                f"select=[{aggs}])")


@dataclass(frozen=True, eq=False)
class WindowJoin(n.Node):
    """A join of two windowed inputs on their window bounds (``L.window_start = R.window_start
    AND L.window_end = R.window_end AND ...``): each window's rows are joined once, when the
    window closes, so the result is insert-only, outer joins included, and time attributes
    stay what they were. ``kind`` is inner, left, right, full, semi or anti."""

    left: n.Node
    right: n.Node
    kind: str
    condition: Expr

    @property
    def inputs(self) -> tuple[n.Node, ...]:
        return (self.left, self.right)

    @cached_property
    def schema(self) -> RowType:
        if self.kind in ("semi", "anti"):
            return self.left.schema
        lf, rf = self.left.schema.fields, self.right.schema.fields
        if self.kind in ("right", "full"):
            lf = tuple(RowField(f.name, f.data_type.as_nullable()) for f in lf)
        if self.kind in ("left", "full"):
            rf = tuple(RowField(f.name, f.data_type.as_nullable()) for f in rf)
        return RowType(tuple(lf) + tuple(rf))

    def changelog_mode(self) -> ChangelogMode:
        return n.INSERT_ONLY

    def describe(self) -> str:
        return f"WindowJoin(joinType=[{self.kind}], where=[{self.condition}])"


WINDOW_JOIN_KINDS = ("inner", "left", "right", "full", "semi", "anti")


def as_window_join(join: n.Join) -> n.Node:
    """``join`` as a ``WindowJoin`` when both inputs are windowed the same way and it joins
    them on both window bounds; else ``join`` itself."""
    left, right = window_columns(join.left), window_columns(join.right)
    if left is None or right is None or join.condition is None \
            or join.kind not in WINDOW_JOIN_KINDS:
        return join
    width = len(join.left.schema.fields)
    left_keys, right_keys, _ = split_equi_condition(join.condition, width)
    pairs = set(zip(left_keys, right_keys, strict=True))
    if (left.start, right.start) not in pairs or (left.end, right.end) not in pairs:
        return join
    if left.proctime != right.proctime:
        raise PlanError("a window join needs both inputs windowed on the same kind of time; "
                        "one is on processing time, the other on event time")
    _insert_only(join.left, "a window join")
    _insert_only(join.right, "a window join")
    return WindowJoin(join.left, join.right, join.kind, join.condition)


@dataclass(frozen=True, eq=False)
class WindowRank(n.Rank):
    """A ranking partitioned by window bounds (window Top-N and deduplication): each window is
    ranked once, when it closes, so the result is insert-only."""

    def changelog_mode(self) -> ChangelogMode:
        return n.Node.changelog_mode(self)

    def describe(self) -> str:
        return "Window" + super().describe()


def as_window_rank(rank: n.Rank) -> n.Rank:
    """``rank`` as a ``WindowRank`` when it ranks within window bounds; else ``rank``."""
    if window_rank(rank) is None:
        return rank
    return WindowRank(rank.input, rank.partition_keys, rank.order_keys, rank.function, rank.name)


def window_rank(node: n.Rank) -> WindowColumns | None:
    """The window bounds of a ranking partitioned by them (window Top-N and deduplication)."""
    columns = window_columns(node.input)
    if columns is None or columns.start not in node.partition_keys \
            or columns.end not in node.partition_keys:
        return None
    return columns


# -- where the window bounds of a plan are ------------------------------------------------------


@dataclass(frozen=True)
class WindowColumns:
    """Where a windowed plan's ``window_start``/``window_end`` (and ``window_time``, if kept)
    columns are, and whether its windows follow processing time."""

    start: int
    end: int
    time: int | None
    proctime: bool


def window_columns(node: n.Node) -> WindowColumns | None:
    """The window bounds of ``node``'s rows, followed through projections and filters from the
    window table function or window aggregation that set them; None when it has none."""
    if isinstance(node, WindowTableFunction):
        width = len(node.schema.fields)
        return WindowColumns(width - 3, width - 2, width - 1, node.window.proctime)
    if isinstance(node, WindowAggregate):
        width = len(node.schema.fields)
        return WindowColumns(width - 3, width - 2, width - 1, node.window.proctime)
    if isinstance(node, n.Filter):
        return window_columns(node.input)
    if isinstance(node, n.Rank):
        return window_columns(node.input) if window_rank(node) is not None else None
    if isinstance(node, WindowJoin):
        return window_columns(node.left)
    if isinstance(node, n.Project):
        inner = window_columns(node.input)
        if inner is None:
            return None

        def find(index: int | None) -> int | None:
            for j, e in enumerate(node.exprs):
                if isinstance(e, InputRef) and e.index == index:
                    return j
            return None

        start, end = find(inner.start), find(inner.end)
        if start is None or end is None:
            return None
        return WindowColumns(start, end, find(inner.time), inner.proctime)
    return None
