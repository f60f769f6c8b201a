"""The runtime operators (one per physical plan node kind).

Stateless operators transform each batch as it arrives. Blocking operators (batch-mode
aggregate, join, sort, set operations, rank) buffer their input and compute once in ``finish``.
Streaming variants keep columnar state and emit changes per batch.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from volley.common.changelog import ROW_KIND_COLUMN as ROW_KIND
from volley.plan.calls import AggCall, SortKey
from volley.plan.expressions import Expr
from volley.runtime.aggregate import aggregate_table
from volley.runtime.evaluator import (
    EvalContext,
    compile_expr,
    evaluate_columns,
    evaluate_predicate,
)
from volley.runtime.incremental_aggregate import IncrementalAggregate, can_accumulate
from volley.runtime.join import (
    ALL_COLUMNS,
    BuildSide,
    GrowingBuildSide,
    OutputColumns,
    key_types,
    probe_join,
    unmatched_build_rows,
)
from volley.runtime.operator import Batches, BufferingOperator, Operator, to_batches
from volley.runtime.sort import distinct_table, intersect_or_minus, rank_table, sort_table


class ProjectOp(Operator):
    name = "Project"

    def __init__(self, exprs: tuple[Expr, ...], schema: pa.Schema, ctx: EvalContext,
                 changelog: bool = False) -> None:
        self._compiled = [compile_expr(e, ctx) for e in exprs]
        self._schema = schema
        self._udfs = _udfs_in(exprs)
        self._changelog = changelog

    def open(self, context: Any) -> None:
        from volley.udf.functions import FunctionContext

        for udf in self._udfs:
            udf.open(FunctionContext(getattr(context, "job_parameters", None)))

    def process(self, batch: pa.RecordBatch, port: int = 0) -> Batches:
        out = evaluate_columns(self._compiled, batch, self._schema.names, self._schema)
        if self._changelog:
            out = _with_kinds(out, batch.column(batch.num_columns - 1))
        return [out]

    def close(self) -> None:
        for udf in self._udfs:
            udf.close()


def _udfs_in(exprs: tuple[Expr, ...]) -> list[Any]:
    from volley.plan.expressions import UdfCall, walk

    seen: dict[int, Any] = {}
    for e in exprs:
        for node in walk(e):
            if isinstance(node, UdfCall):
                seen[id(node.function)] = node.function
    return list(seen.values())


def _with_kinds(batch: pa.RecordBatch, kinds: pa.Array) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(
        list(batch.columns) + [kinds], names=list(batch.schema.names) + [ROW_KIND]
    )


class FilterOp(Operator):
    name = "Filter"

    def __init__(self, condition: Expr, ctx: EvalContext) -> None:
        self._compiled = compile_expr(condition, ctx)
        self._udfs = _udfs_in((condition,))

    def open(self, context: Any) -> None:
        from volley.udf.functions import FunctionContext

        for udf in self._udfs:
            udf.open(FunctionContext())

    def process(self, batch: pa.RecordBatch, port: int = 0) -> Batches:
        mask = evaluate_predicate(self._compiled, batch)
        out = batch.filter(mask)
        return [out] if out.num_rows else []


class UnionAllOp(Operator):
    name = "Union"
    arity = 2

    def __init__(self, schema: pa.Schema) -> None:
        self._schema = schema

    def process(self, batch: pa.RecordBatch, port: int = 0) -> Batches:
        if batch.schema.equals(self._schema):
            return [batch]
        columns = [c.cast(f.type) if c.type != f.type else c
                   for c, f in zip(batch.columns, self._schema, strict=False)]
        if batch.num_columns > len(self._schema):  # changelog column rides along
            columns.append(batch.column(batch.num_columns - 1))
            names = self._schema.names + [ROW_KIND]
            return [pa.RecordBatch.from_arrays(columns, names=names)]
        return [pa.RecordBatch.from_arrays(columns, schema=self._schema)]


class AggregateOp(BufferingOperator):
    """Batch mode: one result at the end of the input.

    COUNT/SUM/AVG/MIN/MAX over numeric columns fold each batch into per-group accumulators as it
    arrives (``IncrementalAggregate``: memory per group, not per row); other aggregates buffer the
    input and run one hash aggregate at the end.
    """

    name = "HashAggregate"

    def __init__(self, in_schema: pa.Schema, group_keys: tuple[int, ...],
                 aggs: tuple[AggCall, ...], out: pa.Schema) -> None:
        super().__init__([in_schema])
        self._keys, self._aggs, self._out = group_keys, aggs, out
        self._incremental = (
            IncrementalAggregate(in_schema, group_keys, aggs, out)
            if can_accumulate(in_schema, aggs) else None
        )

    def process(self, batch: pa.RecordBatch, port: int = 0) -> Batches:
        if self._incremental is None:
            return super().process(batch, port)
        self._incremental.add(batch)
        return []

    def finish(self) -> Batches:
        if self._incremental is not None:
            return to_batches(self._incremental.result())
        result = aggregate_table(self.table(), self._keys, self._aggs, self._out)
        self.release()
        return to_batches(result)


class StreamAggregateOp(Operator):
    """Streaming group aggregation over an insert-only input, emitting a changelog: a
    ``GroupAggregation`` (see ``stream_aggregate``), its KeyedTables snapshotted by name."""

    name = "GroupAggregate"

    def __init__(self, in_schema: pa.Schema, group_keys: tuple[int, ...],
                 aggs: tuple[AggCall, ...], out: pa.Schema) -> None:
        from volley.runtime.stream_aggregate import GroupAggregation

        self._state = GroupAggregation(in_schema, group_keys, aggs, out, retracting=False)

    def process(self, batch: pa.RecordBatch, port: int = 0) -> Batches:
        result = self._state.update(batch, None)
        return [] if result is None else [result]

    def snapshot(self) -> dict[str, Any]:
        return {name: table.snapshot() for name, table in self._state.states().items()}

    def restore(self, state: dict[str, Any]) -> None:
        for name, table in self._state.states().items():
            table.restore([state[name]], None)
        self._state.restored()


class JoinOp(Operator):
    """Batch mode hash join: hashes the right input, then streams the left input through it.

    Left batches that arrive before the right input has ended wait; after that each left batch
    is joined and emitted at once, so only the right (build) side is held in memory — put the
    smaller table on the right. RIGHT and FULL joins emit the unmatched right rows at the end.
    """

    name = "HashJoin"
    arity = 2

    def __init__(self, schemas: list[pa.Schema], kind: str, left_keys: list[int],
                 right_keys: list[int], residual: Expr | None, out: pa.Schema,
                 ctx: EvalContext, columns: OutputColumns = ALL_COLUMNS) -> None:
        self._schemas = schemas
        self._columns = columns
        self._kind, self._left_keys, self._right_keys = kind, left_keys, right_keys
        self._residual, self._out, self._ctx = residual, out, ctx
        self._build_batches: list[pa.RecordBatch] = []
        self._waiting: list[pa.RecordBatch] = []
        self._build: BuildSide | None = None

    def process(self, batch: pa.RecordBatch, port: int = 0) -> Batches:
        if port == 1:
            if batch.num_rows:
                self._build_batches.append(batch)
            return []
        if self._build is None:
            self._waiting.append(batch)
            return []
        return self._probe(batch)

    def end_input(self, port: int = 0) -> Batches:
        if port != 1:
            return []
        right = pa.Table.from_batches(self._build_batches, schema=self._schemas[1])
        self._build_batches = []
        types = key_types(self._schemas[0], self._schemas[1], self._left_keys, self._right_keys)
        self._build = BuildSide(right, self._right_keys, types)
        waiting, self._waiting = self._waiting, []
        return [b for batch in waiting for b in self._probe(batch)]

    def _probe(self, batch: pa.RecordBatch) -> Batches:
        assert self._build is not None
        left = pa.Table.from_batches([batch], schema=self._schemas[0])
        result = probe_join(self._build, left, self._kind, self._left_keys, self._residual,
                            self._out, self._ctx, self._columns)
        return to_batches(result)

    def finish(self) -> Batches:
        if self._kind in ("right", "full") and self._build is not None:
            return to_batches(unmatched_build_rows(self._build, self._schemas[0], self._out,
                                                   self._columns))
        return []


class StreamInnerJoinOp(Operator):
    """Streaming inner join of two insert-only inputs: each new batch is joined with
    everything the other side has seen, then remembered (Flink's regular join). Each side is
    kept hashed as it grows (``GrowingBuildSide``), so a batch costs O(log n) probes, not a
    rehash of the other side."""

    name = "Join"
    arity = 2

    def __init__(self, schemas: list[pa.Schema], left_keys: list[int], right_keys: list[int],
                 residual: Expr | None, out: pa.Schema, ctx: EvalContext) -> None:
        types = key_types(schemas[0], schemas[1], left_keys, right_keys)
        self._keys = (left_keys, right_keys)
        self._sides = (GrowingBuildSide(schemas[0], left_keys, types),
                       GrowingBuildSide(schemas[1], right_keys, types))
        self._residual, self._out, self._ctx = residual, out, ctx

    def process(self, batch: pa.RecordBatch, port: int = 0) -> Batches:
        if batch.num_rows == 0:
            return []
        results = self._sides[1 - port].join(
            pa.Table.from_batches([batch]), self._keys[port], port == 0,
            self._residual, self._out, self._ctx,
        )
        self._sides[port].add(batch)
        return [b for result in results for b in to_batches(result)]


class SortOp(BufferingOperator):
    name = "Sort"

    def __init__(self, schema: pa.Schema, keys: tuple[SortKey, ...], offset: int,
                 fetch: int | None) -> None:
        super().__init__([schema])
        self._keys, self._offset, self._fetch = keys, offset, fetch

    def finish(self) -> Batches:
        result = sort_table(self.table(), self._keys, self._offset, self._fetch)
        self.release()
        return to_batches(result)


class StreamLimitOp(Operator):
    """LIMIT/OFFSET without ORDER BY on a stream: pass rows through until the limit is hit."""

    name = "Limit"

    def __init__(self, offset: int, fetch: int | None) -> None:
        self._skip = offset
        self._left = fetch

    def process(self, batch: pa.RecordBatch, port: int = 0) -> Batches:
        if self._skip:
            dropped = min(self._skip, batch.num_rows)
            batch = batch.slice(dropped)
            self._skip -= dropped
        if self._left is not None:
            batch = batch.slice(0, self._left)
            self._left -= batch.num_rows
        return [batch] if batch.num_rows else []


class SetOpOp(BufferingOperator):
    name = "SetOp"
    arity = 2

    def __init__(self, schemas: list[pa.Schema], kind: str, all_rows: bool,
                 out: pa.Schema) -> None:
        super().__init__(schemas)
        self._kind, self._all, self._out = kind, all_rows, out

    def finish(self) -> Batches:
        left = self.table(0).cast(self._out)
        right = self.table(1).rename_columns(self._out.names).cast(self._out)
        if self._kind == "union":
            result = distinct_table(pa.concat_tables([left, right]))
        else:
            result = intersect_or_minus(left, right, self._kind, self._all)
        self.release()
        return to_batches(result)


class RankOp(BufferingOperator):
    name = "Rank"

    def __init__(self, schema: pa.Schema, partition_keys: tuple[int, ...],
                 order_keys: tuple[SortKey, ...], function: str, out: pa.Schema) -> None:
        super().__init__([schema])
        self._args = (partition_keys, order_keys, function, out)

    def finish(self) -> Batches:
        result = rank_table(self.table(), *self._args)
        self.release()
        return to_batches(result)


class OverAggregateOp(BufferingOperator):
    name = "OverAggregate"

    def __init__(self, schema: pa.Schema, node: Any, out: pa.Schema) -> None:
        super().__init__([schema])
        self._args = (node.partition_keys, node.order_keys, node.aggs, node.frame, out)

    def finish(self) -> Batches:
        from volley.runtime.over import over_table

        result = over_table(self.table(), *self._args)
        self.release()
        return to_batches(result)


class SinkOp(Operator):
    """Hands batches to a connector sink.

    The planner ends an insert's plan with a cast to the table's column types, and the sink
    conforms batches to its schema itself, so nothing is cast here.
    """

    name = "Sink"

    def __init__(self, sink: Any) -> None:
        self._sink = sink
        self.rows_written = 0

    def open(self, context: Any) -> None:
        self._sink.open()

    def process(self, batch: pa.RecordBatch, port: int = 0) -> Batches:
        self.rows_written += batch.num_rows
        self._sink.write(batch)
        return []

    def finish(self) -> Batches:
        self._sink.finish()
        return []


def _conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """Cast to ``schema`` (names and types), keeping a trailing row-kind column."""
    n = len(schema)
    columns = [
        c if c.type == f.type else c.cast(f.type, safe=False)
        for c, f in zip(batch.columns[:n], schema, strict=True)
    ]
    if batch.num_columns > n:
        return pa.RecordBatch.from_arrays(
            columns + [batch.column(n)], names=schema.names + [ROW_KIND]
        )
    return pa.RecordBatch.from_arrays(columns, schema=schema)


class CollectOp(Operator):
    """Keeps result batches for ``TableResult.collect()`` and ``to_pandas()``."""

    name = "Collect"

    def __init__(self, schema: pa.Schema) -> None:
        self.schema = schema
        self.batches: list[pa.RecordBatch] = []

    def process(self, batch: pa.RecordBatch, port: int = 0) -> Batches:
        if batch.num_rows:
            self.batches.append(_conform(batch, self.schema))
        return []
