"""Row-wise operators: projection (calc), filter, union and the streaming LIMIT.

Projection and filter evaluate compiled expressions over each batch; an updating input's row
kind column (found by name) passes through unchanged. User functions in the expressions are
opened once per task through the task's context and closed with it.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from volley.common.changelog import ROW_KIND_COLUMN
from volley.plan.expressions import Expr, UdfCall, walk
from volley.runtime.evaluator import (
    EvalContext,
    compile_expr,
    evaluate_columns,
    evaluate_predicate,
)
from volley.runtime.operator import Operator, OperatorContext, Output
from volley.runtime.registry import operator_kind

PANDAS_BATCH_SIZE_KEY = "python.fn-execution.arrow.batch.size"
DEFAULT_PANDAS_BATCH_SIZE = 10_000


def eval_context(ctx: OperatorContext) -> EvalContext:
    """Evaluation settings from the job's configuration."""
    size = ctx.config.get(PANDAS_BATCH_SIZE_KEY)
    return EvalContext(int(size) if size is not None else DEFAULT_PANDAS_BATCH_SIZE)


def udfs_in(exprs: tuple[Expr, ...] | list[Expr]) -> list:
    """The distinct user functions called in ``exprs``."""
    seen: dict[int, object] = {}
    for e in exprs:
        for node in walk(e):
            if isinstance(node, UdfCall):
                seen.setdefault(id(node.function), node.function)
    return list(seen.values())


def open_functions(ctx: OperatorContext, exprs: tuple[Expr, ...] | list[Expr]) -> None:
    """Open the user functions of ``exprs`` (once per task: the task closes them)."""
    for function in udfs_in(exprs):
        ctx.open_function(function)


def row_kind_index(schema: pa.Schema) -> int | None:
    index = schema.get_field_index(ROW_KIND_COLUMN)
    return None if index < 0 else index


def with_row_kinds(batch: pa.RecordBatch, kinds: pa.Array) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(list(batch.columns) + [kinds],
                                      names=list(batch.schema.names) + [ROW_KIND_COLUMN])


@operator_kind("calc")
class ProjectOp(Operator):
    """``params``: ``exprs`` (one per output column other than the row kind)."""

    name = "Calc"

    def open(self, ctx: OperatorContext, out: Output) -> None:
        super().open(ctx, out)
        exprs = self.params["exprs"]
        evaluation = eval_context(ctx)
        self._compiled = [compile_expr(e, evaluation) for e in exprs]
        schema = self.spec.output_schema
        self._kinds_in = row_kind_index(self.spec.input_schemas[0])
        self._kinds_out = row_kind_index(schema)
        self._values_schema = schema if self._kinds_out is None else schema.remove(self._kinds_out)
        open_functions(ctx, exprs)

    def process(self, batch: pa.RecordBatch, port: int) -> None:
        schema = self._values_schema
        result = evaluate_columns(self._compiled, batch, schema.names, schema)
        if self._kinds_out is not None and self._kinds_in is not None:
            result = with_row_kinds(result, batch.column(self._kinds_in))
        self.out.emit(result)


@operator_kind("filter")
class FilterOp(Operator):
    """``params``: ``condition``."""

    name = "Filter"

    def open(self, ctx: OperatorContext, out: Output) -> None:
        super().open(ctx, out)
        condition = self.params["condition"]
        self._compiled = compile_expr(condition, eval_context(ctx))
        open_functions(ctx, [condition])

    def process(self, batch: pa.RecordBatch, port: int) -> None:
        result = batch.filter(evaluate_predicate(self._compiled, batch))
        if result.num_rows:
            self.out.emit(result)


@operator_kind("union")
class UnionAllOp(Operator):
    """UNION ALL: both inputs' batches, cast to the output's column types; an updating input's
    rows keep their kinds, and an insert-only input's become ``+I`` when the other updates."""

    name = "Union"

    def process(self, batch: pa.RecordBatch, port: int) -> None:
        schema = self.spec.output_schema
        if batch.schema.equals(schema):
            self.out.emit(batch)
            return
        if len(batch.schema) < len(schema):  # an insert-only input beside an updating one
            batch = with_row_kinds(batch, pa.array(np.zeros(batch.num_rows, dtype=np.int8)))
        columns = [c.cast(f.type) if c.type != f.type else c
                   for c, f in zip(batch.columns, schema, strict=True)]
        self.out.emit(pa.RecordBatch.from_arrays(columns, schema=schema))


@operator_kind("limit")
class StreamLimitOp(Operator):
    """LIMIT/OFFSET without ORDER BY on a stream: rows pass until the limit is reached. Runs at
    parallelism 1 (its input is gathered to one subtask); how many rows are still to skip and
    to pass is its state. ``params``: ``offset``, ``fetch`` (None: no limit)."""

    name = "Limit"
    _SCHEMA = pa.schema([("skip", pa.int64()), ("left", pa.int64())])

    def open(self, ctx: OperatorContext, out: Output) -> None:
        from volley.state import OperatorState

        super().open(ctx, out)
        self._state = ctx.register_state("counts", OperatorState())
        restored = self._state.get()
        if restored.num_rows:
            self._skip = int(restored.column("skip")[0].as_py())
            left = restored.column("left")[0].as_py()
            self._left = None if left is None else int(left)
        else:
            self._skip, self._left = self.params["offset"], self.params["fetch"]

    def process(self, batch: pa.RecordBatch, port: int) -> None:
        if self._skip:
            dropped = min(self._skip, batch.num_rows)
            batch = batch.slice(dropped)
            self._skip -= dropped
        if self._left is not None:
            batch = batch.slice(0, self._left)
            self._left -= batch.num_rows
        if batch.num_rows:
            self.out.emit(batch)

    def prepare_snapshot(self, checkpoint_id: int) -> None:
        left = pa.array([self._left], pa.int64())
        self._state.set(pa.Table.from_arrays(
            [pa.array(np.array([self._skip], dtype=np.int64)), left], schema=self._SCHEMA))
