"""Logical plan nodes: immutable, validated when built, each with a derived output schema.

The Table API and SQL both build these. ``changelog_mode`` says what kinds of rows a node emits
in streaming mode (Flink's changelog-mode inference): a sink that takes only inserts rejects an
updating plan before anything runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pyarrow as pa

from volley.common.changelog import ChangelogMode
from volley.errors import PlanError
from volley.plan.calls import AggCall, OverFrame, SortKey
from volley.plan.expressions import Expr, input_refs
from volley.plan.types import (
    BigIntType,
    DataType,
    LocalZonedTimestampType,
    RowField,
    RowType,
    TimestampType,
)

__all__ = ["AggCall", "SortKey"]  # defined in plan.calls; most callers import them from here

INSERT_ONLY = ChangelogMode.INSERT_ONLY
RETRACT = ChangelogMode.RETRACT


@dataclass(frozen=True, eq=False)
class Node:
    """Base of logical plan nodes."""

    @property
    def inputs(self) -> tuple[Node, ...]:
        return ()

    @cached_property
    def schema(self) -> RowType:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def changelog_mode(self) -> ChangelogMode:
        """Insert-only unless an input is updating; stateful nodes override."""
        if any(i.changelog_mode() is not INSERT_ONLY for i in self.inputs):
            return RETRACT
        return INSERT_ONLY

    def describe(self) -> str:
        """One line for ``explain()``: the node name and its arguments."""
        return type(self).__name__

    @property
    def bounded(self) -> bool:
        return all(i.bounded for i in self.inputs)


def materialized(f: RowField) -> RowField:
    """The field with a time attribute's mark dropped (a plain TIMESTAMP)."""
    if getattr(f.data_type, "time_attribute", None) is None:
        return f
    return RowField(f.name, f.data_type.materialized())  # type: ignore[attr-defined]


def _schema(names: tuple[str, ...] | list[str], types: list[DataType]) -> RowType:
    return RowType(tuple(RowField(n, t) for n, t in zip(names, types, strict=True)))


def _check_unique(names: tuple[str, ...] | list[str], what: str) -> None:
    seen: set[str] = set()
    for n in names:
        if n in seen:
            raise PlanError(
                f"duplicate column name {n!r} in {what}; give the columns distinct names "
                "with .alias(...) or AS"
            )
        seen.add(n)


@dataclass(frozen=True, eq=False)
class Values(Node):
    """In-memory rows (from_elements, from_pandas, from_arrow, SQL VALUES)."""

    row_type: RowType
    table: pa.Table

    @cached_property
    def schema(self) -> RowType:
        return self.row_type

    def describe(self) -> str:
        return f"Values(fields=[{', '.join(self.row_type.names)}], rows={self.table.num_rows})"


@dataclass(frozen=True, eq=False)
class Scan(Node):
    """Read a catalog table's physical columns through its connector."""

    table_name: str
    catalog_table: Any  # plan.catalog.CatalogTable
    row_type: RowType
    is_bounded: bool = True
    #: the physical columns read, by position in the table (``row_type`` holds just those);
    #: None: all of them
    columns: tuple[int, ...] | None = None

    @cached_property
    def schema(self) -> RowType:
        return self.row_type

    @property
    def bounded(self) -> bool:
        return self.is_bounded

    def describe(self) -> str:
        return f"Scan(table=[{self.table_name}], fields=[{', '.join(self.row_type.names)}])"


@dataclass(frozen=True, eq=False)
class Project(Node):
    """Computes ``exprs`` over each input row, named ``names``."""

    input: Node
    exprs: tuple[Expr, ...]
    names: tuple[str, ...]

    def __post_init__(self) -> None:
        _check_unique(self.names, "a projection")
        width = len(self.input.schema.fields)
        for e in self.exprs:
            bad = [i for i in input_refs(e) if i >= width]
            if bad:
                raise PlanError(f"internal: column #{bad[0]} out of range in {e}")

    @property
    def inputs(self) -> tuple[Node, ...]:
        return (self.input,)

    @cached_property
    def schema(self) -> RowType:
        return _schema(self.names, [e.type for e in self.exprs])

    def describe(self) -> str:
        parts = [
            str(e) if str(e).endswith(f":{n}") else f"{e} AS {n}"
            for e, n in zip(self.exprs, self.names, strict=True)
        ]
        return f"Project({', '.join(parts)})"


@dataclass(frozen=True, eq=False)
class WatermarkAssigner(Node):
    """Event time: rows pass unchanged; after each batch the watermark becomes the largest value
    of ``watermark`` (the declared expression, e.g. ``ts - INTERVAL '5' SECOND``) seen so far.
    ``rowtime`` is the index of the time attribute column."""

    input: Node
    rowtime: int
    watermark: Expr
    #: ``SOURCE_WATERMARK()``: the connector (named here) is to emit the watermarks itself
    source_watermark: str | None = None

    def __post_init__(self) -> None:
        column = self.input.schema.fields[self.rowtime]
        if not isinstance(column.data_type, (TimestampType, LocalZonedTimestampType)):
            raise PlanError(
                f"a watermark can only be declared on a TIMESTAMP(3) or TIMESTAMP_LTZ(3) column; "
                f"column {column.name!r} has type {column.data_type}"
            )
        if not isinstance(self.watermark.type, (TimestampType, LocalZonedTimestampType)):
            raise PlanError(
                f"the watermark of {column.name!r} must be a TIMESTAMP expression (e.g. "
                f"`{column.name}` - INTERVAL '5' SECOND); got {self.watermark.type}"
            )

    @property
    def inputs(self) -> tuple[Node, ...]:
        return (self.input,)

    @cached_property
    def schema(self) -> RowType:
        return self.input.schema

    def describe(self) -> str:
        watermark = "SOURCE_WATERMARK()" if self.source_watermark else self.watermark
        return (f"WatermarkAssigner(rowtime=[{self.input.schema.names[self.rowtime]}], "
                f"watermark=[{watermark}])")


@dataclass(frozen=True, eq=False)
class Filter(Node):
    """Keeps the input rows for which ``condition`` is true (not false, not NULL)."""

    input: Node
    condition: Expr

    @property
    def inputs(self) -> tuple[Node, ...]:
        return (self.input,)

    @cached_property
    def schema(self) -> RowType:
        return self.input.schema

    def describe(self) -> str:
        return f"Filter(condition=[{self.condition}])"


@dataclass(frozen=True, eq=False)
class Aggregate(Node):
    """Group by ``group_keys`` (input column indices); output: the keys, then the aggregates."""

    input: Node
    group_keys: tuple[int, ...]
    aggs: tuple[AggCall, ...]

    def __post_init__(self) -> None:
        _check_unique(
            [self.input.schema.fields[k].name for k in self.group_keys]
            + [a.name for a in self.aggs],
            "a group by",
        )

    @property
    def inputs(self) -> tuple[Node, ...]:
        return (self.input,)

    @cached_property
    def schema(self) -> RowType:
        keys = [materialized(self.input.schema.fields[k]) for k in self.group_keys]
        return RowType(tuple(keys) + tuple(RowField(a.name, a.type) for a in self.aggs))

    def changelog_mode(self) -> ChangelogMode:
        return RETRACT

    def describe(self) -> str:
        names = self.input.schema.names
        keys = ", ".join(names[k] for k in self.group_keys)
        aggs = ", ".join(f"{a} AS {a.name}" for a in self.aggs)
        return f"Aggregate(groupBy=[{keys}], select=[{aggs}])"


JOIN_KINDS = ("inner", "left", "right", "full", "semi", "anti", "null_aware_anti")


@dataclass(frozen=True, eq=False)
class Join(Node):
    """``condition`` is over the left columns followed by the right ones."""

    left: Node
    right: Node
    kind: str
    condition: Expr | None

    def __post_init__(self) -> None:
        if self.kind not in JOIN_KINDS:
            raise PlanError(f"unknown join kind {self.kind!r}; expected one of {JOIN_KINDS}")

    @property
    def inputs(self) -> tuple[Node, ...]:
        return (self.left, self.right)

    @cached_property
    def schema(self) -> RowType:
        if self.kind in ("semi", "anti", "null_aware_anti"):
            return self.left.schema
        # a regular join's output is no longer in event-time order: time attributes become
        # plain timestamps, as in Flink
        lf = tuple(materialized(f) for f in self.left.schema.fields)
        rf = tuple(materialized(f) for f in self.right.schema.fields)
        if self.kind in ("right", "full"):
            lf = tuple(RowField(f.name, f.data_type.as_nullable()) for f in lf)
        if self.kind in ("left", "full"):
            rf = tuple(RowField(f.name, f.data_type.as_nullable()) for f in rf)
        return RowType(tuple(lf) + tuple(rf))

    def changelog_mode(self) -> ChangelogMode:
        if self.kind == "inner" and super().changelog_mode() is INSERT_ONLY:
            return INSERT_ONLY
        return RETRACT

    def describe(self) -> str:
        return f"Join(joinType=[{self.kind}], where=[{self.condition}])"


@dataclass(frozen=True, eq=False)
class SetOp(Node):
    """UNION / INTERSECT / MINUS (EXCEPT), with or without ALL; output names are the left's."""

    left: Node
    right: Node
    kind: str  # "union" | "intersect" | "minus"
    all: bool
    row_type: RowType = field(default=None)  # type: ignore[assignment]

    @property
    def inputs(self) -> tuple[Node, ...]:
        return (self.left, self.right)

    @cached_property
    def schema(self) -> RowType:
        return self.row_type

    def changelog_mode(self) -> ChangelogMode:
        if self.kind == "union" and self.all:
            return super().changelog_mode()
        return RETRACT

    def describe(self) -> str:
        return f"{self.kind.capitalize()}(all=[{str(self.all).lower()}])"


@dataclass(frozen=True, eq=False)
class Sort(Node):
    """ORDER BY with optional OFFSET/FETCH; with no keys it is a plain LIMIT/OFFSET."""

    input: Node
    keys: tuple[SortKey, ...]
    offset: int = 0
    fetch: int | None = None

    @property
    def inputs(self) -> tuple[Node, ...]:
        return (self.input,)

    @cached_property
    def schema(self) -> RowType:
        return self.input.schema

    def describe(self) -> str:
        names = self.input.schema.names
        keys = ", ".join(
            f"{names[k.index]} {'ASC' if k.ascending else 'DESC'}" for k in self.keys
        )
        return f"Sort(orderBy=[{keys}], offset=[{self.offset}], fetch=[{self.fetch}])"


RANK_FUNCTIONS = ("row_number", "rank", "dense_rank")


@dataclass(frozen=True, eq=False)
class Rank(Node):
    """A ranking window function over partitions, appended as the last column. On a stream,
    filtered on its rank it becomes a ``ranking.TopN``; left alone it is the running count of
    an OVER window (insert-only)."""

    input: Node
    partition_keys: tuple[int, ...]
    order_keys: tuple[SortKey, ...]
    function: str
    name: str

    @property
    def inputs(self) -> tuple[Node, ...]:
        return (self.input,)

    @cached_property
    def schema(self) -> RowType:
        return RowType(self.input.schema.fields + (RowField(self.name, BigIntType(nullable=False)),))

    def changelog_mode(self) -> ChangelogMode:
        # on a stream, numbering by a non-time column renumbers the rows it emitted
        if self.order_keys and getattr(self.input.schema.fields[self.order_keys[0].index]
                                       .data_type, "time_attribute", None) is None:
            return RETRACT
        return super().changelog_mode()

    def describe(self) -> str:
        names = self.input.schema.names
        part = ", ".join(names[k] for k in self.partition_keys)
        order = ", ".join(
            f"{names[k.index]} {'ASC' if k.ascending else 'DESC'}" for k in self.order_keys
        )
        return f"Rank({self.function}, partitionBy=[{part}], orderBy=[{order}])"


@dataclass(frozen=True, eq=False)
class OverAggregate(Node):
    """Aggregates over windows of rows (``SUM(x) OVER (...)``), appended as the last columns;
    every aggregate of one node shares its window (partition, order and ``frame``).

    ``select_windows`` is how many distinct windows the SELECT this node came from uses: a
    streaming job computes one window per SELECT, as Flink does.
    """

    input: Node
    partition_keys: tuple[int, ...]
    order_keys: tuple[SortKey, ...]
    aggs: tuple[AggCall, ...]
    frame: OverFrame = OverFrame()
    select_windows: int = 1

    @property
    def inputs(self) -> tuple[Node, ...]:
        return (self.input,)

    @cached_property
    def schema(self) -> RowType:
        return RowType(self.input.schema.fields + tuple(RowField(a.name, a.type) for a in self.aggs))

    def changelog_mode(self) -> ChangelogMode:
        # on a stream, a window ordered by a non-time column updates the rows it emitted
        if self.frame.end is None or self.order_keys and getattr(
                self.input.schema.fields[self.order_keys[0].index].data_type,
                "time_attribute", None) is None:
            return RETRACT
        return super().changelog_mode()

    def describe(self) -> str:
        names = self.input.schema.names
        part = ", ".join(names[k] for k in self.partition_keys)
        order = ", ".join(
            f"{names[k.index]} {'ASC' if k.ascending else 'DESC'}" for k in self.order_keys
        )
        aggs = ", ".join(f"{a} AS {a.name}" for a in self.aggs)
        return f"OverAggregate(partitionBy=[{part}], orderBy=[{order}], {self.frame}, [{aggs}])"


@dataclass(frozen=True, eq=False)
class Sink(Node):
    """Write the input into a catalog table (or a collect/print target)."""

    input: Node
    table_name: str
    catalog_table: Any

    @property
    def inputs(self) -> tuple[Node, ...]:
        return (self.input,)

    @cached_property
    def schema(self) -> RowType:
        return self.input.schema

    def describe(self) -> str:
        return f"Sink(table=[{self.table_name}], fields=[{', '.join(self.input.schema.names)}])"


def explain_tree(node: Node, indent: int = 0) -> list[str]:
    """One line per node, children indented under their parent; deterministic."""
    lines = [("   " * indent) + ("+- " if indent else "") + node.describe()]
    for child in node.inputs:
        lines.extend(explain_tree(child, indent + 1))
    return lines
