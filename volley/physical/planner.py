"""Logical plan -> job graph.

Three passes. Translation turns each logical node into an operator spec (one per node; a node
shared by several sinks, as in a statement set, is computed once): in batch mode blocking
operators (aggregate once, join once, sort once), in streaming mode the incremental ones, and
plans a streaming engine cannot run are rejected here with the name of the feature and an
alternative. The distribution pass (``distribution.py``) decides how rows move between
operators and each operator's parallelism; the chaining pass (``chaining.py``) fuses
forward-connected operators into vertices, each run as one task.
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa

from volley.common.changelog import ROW_KIND_COLUMN
from volley.connectors.base import TableSpec
from volley.errors import UnsupportedFeatureError
from volley.physical import windows
from volley.physical.chaining import chain
from volley.physical.distribution import distribute
from volley.physical.job_graph import DEFAULT_MAX_PARALLELISM, JobGraph, OperatorSpec, SourceSpec
from volley.physical.plan_op import PlanOp
from volley.physical.window_functions import plan_window_function
from volley.plan import nodes as n
from volley.plan.calls import ALL_COLUMNS, OutputColumns, can_accumulate
from volley.plan.changelog import BEFORE_AND_AFTER, ChangelogInference, UpdateKind
from volley.plan.expressions import InputRef
from volley.plan.join_keys import null_aware_anti, split_equi_condition
from volley.plan.ranking import Deduplicate, TopN

TableSpecOf = Callable[[n.Scan], TableSpec]
#: the regular joins the streaming join runs
STREAM_JOIN_KINDS = ("inner", "left", "right", "full", "semi", "anti", "null_aware_anti")


class PhysicalPlanner:
    def __init__(self, streaming: bool, table_spec_of: TableSpecOf, parallelism: int = 1,
                 max_parallelism: int = DEFAULT_MAX_PARALLELISM,
                 batch_rows: int = 1 << 20,
                 splits_of: Callable[[TableSpec, int], int] | None = None) -> None:
        self.streaming = streaming
        self.table_spec_of = table_spec_of
        #: how many splits a table's source has (a source runs no more subtasks than that)
        self.splits_of = splits_of
        self.parallelism = parallelism
        self.max_parallelism = max_parallelism
        # In-memory tables (VALUES, from_pandas, from_arrow) are already in memory, so they are
        # handed out in large slices: fewer, bigger batches cost less per row downstream.
        self.batch_rows = batch_rows
        self._memo: dict[tuple[int, UpdateKind], PlanOp] = {}
        #: ``WHERE rn <= N`` found above a window ranking: its N, by the ranking's node
        self.window_rank_limits: dict[int, int] = {}
        self._ops: list[PlanOp] = []
        self.outputs: list[PlanOp] = []
        #: which row kinds each node emits (streaming mode); see ``plan.changelog``
        self.changelogs = ChangelogInference()
        self._updates: list[UpdateKind] = []  # how the node being translated carries updates

    # -- entry points -----------------------------------------------------------------------------
    def add_collect(self, plan: n.Node) -> PlanOp:
        """``collect()``, like Flink's collect sink, takes updates as -U/+U pairs."""
        upstream = self.plan(plan)
        schema = upstream.spec.output_schema if upstream.spec else upstream.source.output_schema  # type: ignore[union-attr]
        return self._output("collect", "Collect", {}, upstream, schema)

    def add_sink(self, plan: n.Node, table: TableSpec, overwrite: bool,
                 update: UpdateKind = BEFORE_AND_AFTER) -> PlanOp:
        """``update``: how the sink takes updates (``ChangelogInference.sink_update_kind``)."""
        if overwrite:
            _check_overwrite(table, self.streaming)
        upstream = self.plan(plan, update)
        schema = self.schema_of(plan)
        return self._output("sink", f"Sink: {table.name}",
                            {"table": table, "overwrite": overwrite}, upstream, schema)

    def build(self, name: str = "job") -> JobGraph:
        distribute(self._ops, self.parallelism)
        return chain(self._ops, self.outputs, name, self.max_parallelism)

    # -- translation ------------------------------------------------------------------------------
    def plan(self, node: n.Node, update: UpdateKind = BEFORE_AND_AFTER) -> PlanOp:
        """The op computing ``node``, its updates carried as ``update`` asks (a node needed
        both ways, as in a statement set, is computed twice)."""
        update = self.changelogs.required(node, update) if self.streaming else UpdateKind.NONE
        key = (id(node), update)
        if key not in self._memo:
            self._updates.append(update)
            try:
                self._memo[key] = self._translate(node)
            finally:
                self._updates.pop()
        return self._memo[key]

    def _child(self, node: n.Node, child: n.Node) -> PlanOp:
        """The op of input ``child`` of ``node``, as ``node`` (being translated) needs it."""
        update = self._updates[-1] if self._updates else BEFORE_AND_AFTER
        for index, candidate in enumerate(node.inputs):
            if candidate is child:
                return self.plan(child, self.changelogs.child_requirement(node, update, index))
        return self.plan(child)

    def schema_of(self, node: n.Node) -> pa.Schema:
        """The arrow schema of a node's output, with the row kind field when it is updating."""
        schema = node.schema.to_arrow_schema()
        if self.streaming and self.changelogs.updating(node):
            schema = schema.append(pa.field(ROW_KIND_COLUMN, pa.int8(), nullable=False))
        return schema

    def _add(self, op: PlanOp) -> PlanOp:
        self._ops.append(op)
        return op

    def _uid(self, kind: str) -> str:
        """Stable across re-planning of the same query: the kind and the translation order."""
        return f"{kind}-{len(self._ops)}"

    def _output(self, kind: str, name: str, params: dict, upstream: PlanOp,
                schema: pa.Schema) -> PlanOp:
        spec = OperatorSpec(kind, self._uid(kind), name, params, (schema,), schema)
        op = self._add(PlanOp(spec=spec, inputs=[upstream]))
        self.outputs.append(op)
        return op

    def _op(self, kind: str, node: n.Node, params: dict, inputs: list[n.Node],
            name: str | None = None, input_ops: list[PlanOp] | None = None) -> PlanOp:
        ups = input_ops if input_ops is not None else [self._child(node, i) for i in inputs]
        in_schemas = tuple(self.schema_of(i) for i in inputs)
        spec = OperatorSpec(kind, self._uid(kind), name or node.describe(), params, in_schemas,
                            self.schema_of(node))
        return self._add(PlanOp(spec=spec, inputs=ups))

    def _translate(self, node: n.Node) -> PlanOp:
        windowed = windows.translate(self, node)
        if windowed is not None:
            return windowed
        if isinstance(node, n.Values):
            return self._add(PlanOp(source=SourceSpec(
                self._uid("values"), "Values", node.schema.to_arrow_schema(), True,
                data=node.table, batch_rows=self.batch_rows)))
        if isinstance(node, n.Scan):
            if not self.streaming and not node.bounded:
                raise UnsupportedFeatureError(
                    f"table {node.table_name!r} is unbounded and cannot be read in batch mode; "
                    "bound it (e.g. 'number-of-rows' for datagen) or use streaming mode"
                )
            table = self.table_spec_of(node)
            return self._add(PlanOp(source=SourceSpec(
                self._uid("source"), node.describe(), node.schema.to_arrow_schema(),
                node.bounded, table=table, columns=node.columns),
                max_parallelism=self._splits(table)))
        if isinstance(node, n.Project):
            fused = self._join_with_projection(node)
            if fused is not None:
                return fused
            return self._op("calc", node, {"exprs": node.exprs}, [node.input])
        if isinstance(node, n.WatermarkAssigner):
            if not self.streaming:  # a batch job has all its input: no event time to track
                return self.plan(node.input)
            if node.source_watermark:
                raise UnsupportedFeatureError(
                    f"WATERMARK ... AS SOURCE_WATERMARK() asks the source to emit watermarks, "
                    f"and connector {node.source_watermark!r} emits none of its own (as in "
                    "Flink, only sources that push watermarks down support it); declare the "
                    "watermark, e.g. WATERMARK FOR ts AS ts - INTERVAL '5' SECOND"
                )
            return self._op("watermark_assigner", node, {"rowtime": node.rowtime,
                                                         "watermark": node.watermark},
                            [node.input])
        if isinstance(node, n.Filter):
            return self._op("filter", node, {"condition": node.condition}, [node.input])
        if isinstance(node, n.Aggregate):
            return self._aggregate(node)
        if isinstance(node, n.Join):
            return self._join(node)
        if isinstance(node, n.SetOp):
            if node.kind == "union" and node.all:
                return self._op("union", node, {}, [node.left, node.right])
            params = {"kind": node.kind, "all": node.all}
            if self.streaming and node.kind != "union" and not node.all:
                # as Flink, which drops the distinct aggregation over a unique semi/anti join
                params["left_unique"] = self.changelogs.upsert_keys(node.left) is not None
            return self._op("stream_set_op" if self.streaming else "set_op", node, params,
                            [node.left, node.right])
        if isinstance(node, (n.Sort, n.Rank, n.OverAggregate, TopN, Deduplicate)):
            return plan_window_function(self, node)
        from volley.physical.time_joins import TIME_JOINS, plan_time_join

        if isinstance(node, TIME_JOINS):
            return plan_time_join(self, node)
        raise UnsupportedFeatureError(f"plan node {type(node).__name__} cannot be executed yet")

    def _splits(self, table: TableSpec) -> int | None:
        """How many subtasks can read the table: no more than it has splits (one file cannot
        be read by two), so the operators after it get its rows rebalanced instead."""
        if self.parallelism == 1 or self.splits_of is None:
            return None
        return max(1, self.splits_of(table, self.parallelism))

    def _aggregate(self, node: n.Aggregate) -> PlanOp:
        params = {"group_keys": node.group_keys, "aggs": node.aggs}
        if self.streaming:
            # an upsert consumer (ONLY_UPDATE_AFTER) needs no -U rows: Flink's
            # generateUpdateBefore = false
            params["update_before"] = self._updates[-1] is not UpdateKind.ONLY_UPDATE_AFTER
            return self._op("group_aggregate", node, params, [node.input])
        encoded = self._encodable_group_keys(node)
        if encoded:  # a join of its own: its output suits only this consumer
            project = node.input
            assert isinstance(project, n.Project)
            join = self._join_with_projection(project, encoded)
            assert join is not None
            return self._op("aggregate", node, params, [node.input], input_ops=[join])
        return self._op("aggregate", node, params, [node.input])

    def _join_with_projection(self, node: n.Project,
                              encoded: frozenset[int] = frozenset()) -> PlanOp | None:
        """A batch join that gathers only the columns a projection of plain references keeps
        (``encoded``: which of them may stay dictionary-encoded, see _encodable_group_keys)."""
        if self.streaming or not isinstance(node.input, n.Join):
            return None
        if not all(isinstance(e, InputRef) for e in node.exprs):
            return None
        select = tuple(e.index for e in node.exprs)  # type: ignore[attr-defined]
        columns = OutputColumns(select, encoded)
        return self._join(node.input, node, columns,
                          name=f"{node.input.describe()} -> {node.describe()}")

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

    def _join(self, node: n.Join, output: n.Node | None = None,
              columns: OutputColumns = ALL_COLUMNS, name: str | None = None) -> PlanOp:
        left_width = len(node.left.schema.fields)
        left_keys, right_keys, residual = split_equi_condition(node.condition, left_width)
        params = {"left_keys": tuple(left_keys), "right_keys": tuple(right_keys),
                  "residual": residual}
        if self.streaming:
            if node.kind not in STREAM_JOIN_KINDS:
                raise UnsupportedFeatureError(
                    f"a {node.kind.upper()} join in streaming mode is not supported by Volley "
                    "yet; use an inner or outer join, or run the query in batch mode"
                )
            params["kind"] = node.kind
            if node.kind == "null_aware_anti":  # NOT IN, as Flink runs it
                params.update(null_aware_anti(node, left_keys, right_keys, residual))
            return self._op("stream_join", node, params, [node.left, node.right], name)
        params.update(kind=node.kind, columns=columns)
        return self._op("hash_join", output or node, params, [node.left, node.right], name)


def _check_overwrite(table: TableSpec, streaming: bool) -> None:
    """INSERT OVERWRITE as Flink allows it: a filesystem table in batch mode."""
    connector = table.options.get("connector")
    if connector != "filesystem":
        raise UnsupportedFeatureError(
            f"INSERT OVERWRITE into {table.name!r} is not supported: its connector "
            f"{connector!r} cannot replace what it holds (as in Flink, only the filesystem "
            "connector can); use INSERT INTO"
        )
    if streaming:
        raise UnsupportedFeatureError(
            f"INSERT OVERWRITE into {table.name!r} is not supported in streaming mode (as in "
            "Flink); run it in batch mode (EnvironmentSettings.in_batch_mode()), or use "
            "INSERT INTO"
        )
