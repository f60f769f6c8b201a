"""Logical plan -> job graph.

One vertex per logical node (a node shared by several sinks, as in a statement set, is computed
once). In batch mode blocking operators are chosen (aggregate once, join once, sort once); in
streaming mode the incremental ones, and plans a streaming engine cannot run are rejected here
with the name of the feature and an alternative.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pyarrow as pa

from volley.errors import UnsupportedFeatureError
from volley.physical.job_graph import JobGraph, Vertex
from volley.plan import nodes as n
from volley.plan.expressions import InputRef
from volley.plan.join_keys import split_equi_condition
from volley.runtime import operators as ops
from volley.runtime.evaluator import EvalContext
from volley.runtime.incremental_aggregate import can_accumulate
from volley.runtime.join import ALL_COLUMNS, OutputColumns

SourceFactory = Callable[[n.Scan], tuple[Callable[[], Iterator[pa.RecordBatch]], bool]]


class PhysicalPlanner:
    def __init__(self, streaming: bool, ctx: EvalContext, create_source: SourceFactory,
                 batch_rows: int = 1 << 20) -> None:
        self.streaming = streaming
        self.ctx = ctx
        self.create_source = create_source
        # In-memory tables (VALUES, from_pandas, from_arrow) are already in memory, so they are
        # handed out in large slices: fewer, bigger batches cost less per row downstream.
        self.batch_rows = batch_rows
        self.graph = JobGraph("job")
        self._memo: dict[int, Vertex] = {}

    # -- entry points -----------------------------------------------------------------------------
    def add_output(self, node: n.Node, operator: ops.Operator, name: str) -> Vertex:
        upstream = self.plan(node)
        return self.graph.add(Vertex(self.graph.next_id(), name, operator=operator,
                                     inputs=[(upstream.id, 0)]))

    def plan(self, node: n.Node) -> Vertex:
        key = id(node)
        if key not in self._memo:
            self._memo[key] = self._translate(node)
        return self._memo[key]

    # -- translation ------------------------------------------------------------------------------
    def _vertex(self, name: str, operator: ops.Operator, inputs: list[n.Node]) -> Vertex:
        ins = [(self.plan(i).id, port) for port, i in enumerate(inputs)]
        return self.graph.add(Vertex(self.graph.next_id(), name, operator=operator, inputs=ins))

    def _translate(self, node: n.Node) -> Vertex:
        schema = node.schema.to_arrow_schema()
        if isinstance(node, n.Values):
            table = node.table
            rows = self.batch_rows

            def values() -> Iterator[pa.RecordBatch]:
                yield from table.to_batches(max_chunksize=rows)

            return self.graph.add(Vertex(self.graph.next_id(), "Values", source=values,
                                         in_memory=True))
        if isinstance(node, n.Scan):
            factory, bounded = self.create_source(node)
            if not self.streaming and not bounded:
                raise UnsupportedFeatureError(
                    f"table {node.table_name!r} is unbounded and cannot be read in batch mode; "
                    "bound it (e.g. 'number-of-rows' for datagen) or use streaming mode"
                )
            return self.graph.add(Vertex(self.graph.next_id(), node.describe(), source=factory,
                                         bounded=bounded))
        if isinstance(node, n.Project):
            fused = self._join_with_projection(node, schema)
            if fused is not None:
                return fused
            changelog = self.streaming and node.input.changelog_mode() is not n.INSERT_ONLY
            op = ops.ProjectOp(node.exprs, schema, self.ctx, changelog=changelog)
            return self._vertex(node.describe(), op, [node.input])
        if isinstance(node, n.Filter):
            return self._vertex(node.describe(), ops.FilterOp(node.condition, self.ctx),
                                [node.input])
        if isinstance(node, n.Aggregate):
            in_schema = node.input.schema.to_arrow_schema()
            if self.streaming:
                self._require_insert_only(node.input, "a group aggregation")
                op: ops.Operator = ops.StreamAggregateOp(in_schema, node.group_keys, node.aggs,
                                                         schema)
            else:
                op = ops.AggregateOp(in_schema, node.group_keys, node.aggs, schema)
                encoded = self._encodable_group_keys(node)
                if encoded:  # a join vertex of its own: its output suits only this consumer
                    join = self._join_with_projection(node.input, in_schema, encoded)
                    assert join is not None
                    return self.graph.add(Vertex(self.graph.next_id(), node.describe(),
                                                 operator=op, inputs=[(join.id, 0)]))
            return self._vertex(node.describe(), op, [node.input])
        if isinstance(node, n.Join):
            return self._join(node, schema)
        if isinstance(node, n.SetOp):
            schemas = [node.left.schema.to_arrow_schema(), node.right.schema.to_arrow_schema()]
            if node.kind == "union" and node.all:
                return self._vertex(node.describe(), ops.UnionAllOp(schema),
                                    [node.left, node.right])
            if self.streaming:
                raise UnsupportedFeatureError(
                    f"{node.kind.upper()}{' ALL' if node.all else ''} in streaming mode is not "
                    "supported by Volley yet; use UNION ALL, or run the query in batch mode"
                )
            return self._vertex(node.describe(), ops.SetOpOp(schemas, node.kind, node.all, schema),
                                [node.left, node.right])
        if isinstance(node, n.Sort):
            if self.streaming:
                if node.keys:
                    raise UnsupportedFeatureError(
                        "ORDER BY on a stream is not supported (as in Flink, sorting needs a "
                        "time attribute); run the query in batch mode, or drop the ORDER BY"
                    )
                return self._vertex(node.describe(), ops.StreamLimitOp(node.offset, node.fetch),
                                    [node.input])
            return self._vertex(node.describe(),
                                ops.SortOp(node.input.schema.to_arrow_schema(), node.keys,
                                           node.offset, node.fetch), [node.input])
        if isinstance(node, n.Rank):
            if self.streaming:
                raise UnsupportedFeatureError(
                    f"{node.function.upper()}() OVER (...) in streaming mode is not supported by "
                    "Volley yet; run the query in batch mode"
                )
            op = ops.RankOp(node.input.schema.to_arrow_schema(), node.partition_keys,
                            node.order_keys, node.function, schema)
            return self._vertex(node.describe(), op, [node.input])
        if isinstance(node, n.OverAggregate):
            if self.streaming:
                raise UnsupportedFeatureError(
                    "OVER aggregates in streaming mode are not supported by Volley yet; run the "
                    "query in batch mode"
                )
            op = ops.OverAggregateOp(node.input.schema.to_arrow_schema(), node, schema)
            return self._vertex(node.describe(), op, [node.input])
        raise UnsupportedFeatureError(f"plan node {type(node).__name__} cannot be executed yet")

    def _join_with_projection(self, node: n.Project, schema: pa.Schema,
                              encoded: frozenset[int] = frozenset()) -> Vertex | None:
        """A batch join that gathers only the columns a projection of plain references keeps
        (``encoded``: which of them may stay dictionary-encoded, see _encodable_group_keys)."""
        if self.streaming or not isinstance(node.input, n.Join):
            return None
        if not all(isinstance(e, InputRef) for e in node.exprs):
            return None
        select = tuple(e.index for e in node.exprs)  # type: ignore[attr-defined]
        columns = OutputColumns(select, encoded)
        return self._join(node.input, schema, columns, name=f"{node.input.describe()} -> "
                                                            f"{node.describe()}")

    def _encodable_group_keys(self, node: n.Aggregate) -> frozenset[int]:
        """Let a batch join feeding this aggregation hand over the build side's non-integer
        group-key columns dictionary-encoded (no copy; the grouping hashes each build row once).
        Only for the incremental aggregate, which accepts such columns."""
        project = node.input
        if self.streaming or not isinstance(project, n.Project):
            return frozenset()
        join = project.input
        if not isinstance(join, n.Join) or join.kind in ("semi", "anti", "null_aware_anti"):
            return frozenset()
        if not can_accumulate(project.schema.to_arrow_schema(), node.aggs):
            return frozenset()
        left_width = len(join.left.schema.fields)
        args = {a.arg for a in node.aggs}
        encodable = set()
        for key in node.group_keys:
            expr = project.exprs[key]
            if key in args or not isinstance(expr, InputRef) or expr.index < left_width:
                continue
            if not pa.types.is_integer(expr.type.to_arrow()):
                encodable.add(key)
        return frozenset(encodable)

    def _join(self, node: n.Join, schema: pa.Schema, columns: OutputColumns = ALL_COLUMNS,
              name: str | None = None) -> Vertex:
        left_width = len(node.left.schema.fields)
        left_keys, right_keys, residual = split_equi_condition(node.condition, left_width)
        schemas = [node.left.schema.to_arrow_schema(), node.right.schema.to_arrow_schema()]
        if self.streaming:
            if node.kind != "inner":
                raise UnsupportedFeatureError(
                    f"a {node.kind.upper()} join in streaming mode is not supported by Volley "
                    "yet; use an inner join, or run the query in batch mode"
                )
            self._require_insert_only(node.left, "a streaming join")
            self._require_insert_only(node.right, "a streaming join")
            op: ops.Operator = ops.StreamInnerJoinOp(schemas, left_keys, right_keys, residual,
                                                     schema, self.ctx)
        else:
            op = ops.JoinOp(schemas, node.kind, left_keys, right_keys, residual, schema, self.ctx,
                            columns)
        return self._vertex(name or node.describe(), op, [node.left, node.right])

    def _require_insert_only(self, node: n.Node, what: str) -> None:
        if node.changelog_mode() is not n.INSERT_ONLY:
            raise UnsupportedFeatureError(
                f"{what} over an updating input (the result of another aggregation or outer "
                "join) is not supported by Volley in streaming mode yet; run the query in "
                "batch mode"
            )
