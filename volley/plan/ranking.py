"""Logical nodes for ranking on streams: Top-N and deduplication.

``SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v DESC) AS rn FROM t)
WHERE rn <= 3`` is a ``Rank`` under a filter on its rank; the optimizer turns the pair into a
``TopN`` (the rows ranked ``start..end`` of each partition, an updating result), and a Top-N that
keeps the first row by a time attribute, without showing the rank, into a ``Deduplicate``
(Flink's rules: ``ORDER BY time ASC`` keeps the first row and is insert-only, ``DESC`` keeps the
last row and updates it).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from volley.common.changelog import ChangelogMode
from volley.plan.calls import SortKey
from volley.plan.nodes import Node, RowField, RowType
from volley.plan.types import BigIntType


@dataclass(frozen=True, eq=False)
class TopN(Node):
    """The rows ranked ``start..end`` (ROW_NUMBER, from 1) of each partition by ``order_keys``;
    with ``output_rank`` the rank is appended as column ``rank_name``. ``ORDER BY ... LIMIT n``
    on a stream is a Top-N without partition keys."""

    input: Node
    partition_keys: tuple[int, ...]
    order_keys: tuple[SortKey, ...]
    start: int
    end: int
    output_rank: bool = True
    rank_name: str = "rn"

    @property
    def inputs(self) -> tuple[Node, ...]:
        return (self.input,)

    @cached_property
    def schema(self) -> RowType:
        if not self.output_rank:
            return self.input.schema
        return RowType(self.input.schema.fields
                       + (RowField(self.rank_name, BigIntType(nullable=False)),))

    def changelog_mode(self) -> ChangelogMode:
        return ChangelogMode.RETRACT

    def describe(self) -> str:
        names = self.input.schema.names
        part = ", ".join(names[k] for k in self.partition_keys)
        order = ", ".join(
            f"{names[k.index]} {'ASC' if k.ascending else 'DESC'}" for k in self.order_keys)
        return (f"TopN(rankRange=[{self.start}..{self.end}], partitionBy=[{part}], "
                f"orderBy=[{order}], outputRank=[{str(self.output_rank).lower()}])")


@dataclass(frozen=True, eq=False)
class Deduplicate(Node):
    """One row per partition key: the first by the time attribute ``time_index`` (insert-only)
    or, with ``keep_last``, the last (updating). ``rowtime``: the time is event time."""

    input: Node
    partition_keys: tuple[int, ...]
    time_index: int
    keep_last: bool
    rowtime: bool

    @property
    def inputs(self) -> tuple[Node, ...]:
        return (self.input,)

    @cached_property
    def schema(self) -> RowType:
        return self.input.schema

    def changelog_mode(self) -> ChangelogMode:
        return ChangelogMode.RETRACT if self.keep_last else ChangelogMode.INSERT_ONLY

    def describe(self) -> str:
        names = self.input.schema.names
        part = ", ".join(names[k] for k in self.partition_keys)
        return (f"Deduplicate(keep=[{'LastRow' if self.keep_last else 'FirstRow'}], "
                f"key=[{part}], order=[{'ROWTIME' if self.rowtime else 'PROCTIME'}])")


def time_attribute(node: Node, index: int) -> str | None:
    """``rowtime``, ``proctime`` or None: the time attribute column ``index`` of ``node`` is."""
    return getattr(node.schema.fields[index].data_type, "time_attribute", None)
