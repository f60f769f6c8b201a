"""Blocking batch-mode operators: ORDER BY, set operations, ranking and OVER aggregates.

Each buffers its input and computes once all of it has arrived (batch mode only; the planner
refuses them on streams with an alternative).
"""

from __future__ import annotations

import pyarrow as pa

from volley.runtime.operator import BufferingOperator
from volley.runtime.registry import operator_kind
from volley.runtime.sort import distinct_table, intersect_or_minus, rank_table, sort_table


@operator_kind("sort")
class SortOp(BufferingOperator):
    """``params``: ``keys`` (SortKeys), ``offset``, ``fetch``."""

    name = "Sort"

    def finish(self) -> None:
        result = sort_table(self.table(), self.params["keys"], self.params["offset"],
                            self.params["fetch"])
        self.release()
        self.emit_table(result)


@operator_kind("set_op")
class SetOpOp(BufferingOperator):
    """UNION (distinct), INTERSECT [ALL], EXCEPT [ALL]. ``params``: ``kind``, ``all``."""

    name = "SetOp"

    def finish(self) -> None:
        out = self.spec.output_schema
        left = self.table(0).cast(out)
        right = self.table(1).rename_columns(out.names).cast(out)
        if self.params["kind"] == "union":
            result = distinct_table(pa.concat_tables([left, right]))
        else:
            result = intersect_or_minus(left, right, self.params["kind"], self.params["all"])
        self.release()
        self.emit_table(result)


@operator_kind("rank")
class RankOp(BufferingOperator):
    """ROW_NUMBER/RANK/DENSE_RANK. ``params``: ``partition_keys``, ``order_keys``,
    ``function``."""

    name = "Rank"

    def finish(self) -> None:
        result = rank_table(self.table(), self.params["partition_keys"], self.params["order_keys"],
                            self.params["function"], self.spec.output_schema)
        self.release()
        self.emit_table(result)


@operator_kind("over_aggregate")
class OverAggregateOp(BufferingOperator):
    """``params``: ``partition_keys``, ``order_keys``, ``aggs``, ``frame``."""

    name = "OverAggregate"

    def finish(self) -> None:
        from volley.runtime.over import over_table

        p = self.params
        result = over_table(self.table(), p["partition_keys"], p["order_keys"], p["aggs"],
                            p["frame"], self.spec.output_schema)
        self.release()
        self.emit_table(result)
