"""Evaluate resolved expressions over a record batch, column at a time.

``compile_expr`` turns an expression tree into a closure once per operator, so per-batch work is
only kernel calls. Literals stay Arrow scalars (kernels broadcast them) until a projection needs
a full column.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from volley.errors import JobExecutionError
from volley.plan.expressions import Call, Cast, Expr, InputRef, Literal, UdfCall
from volley.plan.types import NullType
from volley.runtime.casts import Value, cast_value
from volley.runtime.kernels import KERNELS
from volley.udf.invoke import call_general, call_pandas

Compiled = Callable[[pa.RecordBatch], Value]


class EvalContext:
    """What evaluation needs beyond the batch: the pandas UDF batch size."""

    def __init__(self, pandas_batch_size: int = 10_000) -> None:
        self.pandas_batch_size = pandas_batch_size


def compile_expr(expr: Expr, ctx: EvalContext) -> Compiled:
    if isinstance(expr, InputRef):
        index = expr.index
        return lambda batch: batch.column(index)
    if isinstance(expr, Literal):
        scalar = pa.scalar(expr.value, type=expr.type.to_arrow())
        return lambda batch: scalar
    if isinstance(expr, Cast):
        inner = compile_expr(expr.operand, ctx)
        source, target, safe = expr.operand.type, expr.type, expr.safe
        if source == target or source.as_nullable() == target.as_nullable():
            return inner
        return lambda batch: cast_value(inner(batch), source, target, safe)
    if isinstance(expr, UdfCall):
        return _compile_udf(expr, ctx)
    if isinstance(expr, Call):
        return _compile_call(expr, ctx)
    raise TypeError(f"cannot evaluate {type(expr).__name__}")


def _compile_call(call: Call, ctx: EvalContext) -> Compiled:
    args = [compile_expr(a, ctx) for a in call.args]
    if call.fn == "case":
        return _compile_case(call, args)
    if call.fn == "rand":
        rng = np.random.default_rng()
        return lambda batch: pa.array(rng.random(batch.num_rows))
    if call.fn in ("current_timestamp", "proctime", "localtimestamp", "now", "current_date",
                   "current_time"):
        return _compile_now(call)
    kernel = _guarded(KERNELS[call.fn], call)
    if len(args) == 1:
        only = args[0]
        return lambda batch: kernel([only(batch)], call)
    if len(args) == 2:
        a, b = args
        return lambda batch: kernel([a(batch), b(batch)], call)
    return lambda batch: kernel([f(batch) for f in args], call)


def _guarded(kernel, call: Call):
    """The kernel, with Arrow's errors (e.g. integer division by zero) turned into a
    JobExecutionError that names the expression."""

    def run(args, call):
        try:
            return kernel(args, call)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise JobExecutionError(
                f"{str(exc).splitlines()[0]} while evaluating {call}; guard the input (e.g. "
                "NULLIF(divisor, 0)) or filter the rows that cause it"
            ) from None

    return run


def _compile_case(call: Call, args: list[Compiled]) -> Compiled:
    conditions = args[0:-1:2]
    values = args[1:-1:2] + [args[-1]]
    target = call.type.to_arrow()
    value_types = [e.type for e in call.args[1:-1:2]] + [call.args[-1].type]

    def evaluate(batch: pa.RecordBatch) -> Value:
        n = batch.num_rows
        conds = [pc.fill_null(broadcast(c(batch), n), False) for c in conditions]
        vals = [
            _cast_to(broadcast(v(batch), n), vt, call.type)
            for v, vt in zip(values, value_types, strict=True)
        ]
        names = [f"c{i}" for i in range(len(conds))]
        return pc.case_when(pa.StructArray.from_arrays(conds, names), *vals).cast(target)

    return evaluate


def _cast_to(value: Value, source, target) -> Value:
    if isinstance(source, NullType):
        return pa.nulls(len(value), target.to_arrow())
    if value.type == target.to_arrow():
        return value
    return cast_value(value, source, target)


def _compile_now(call: Call) -> Compiled:
    import datetime

    def now(batch: pa.RecordBatch) -> Value:
        if call.fn in ("current_timestamp", "proctime"):  # TIMESTAMP_LTZ: an instant
            return pa.scalar(datetime.datetime.now(datetime.UTC), type=call.type.to_arrow())
        t = datetime.datetime.now()
        value = {
            "current_date": t.date(),
            "current_time": t.time().replace(microsecond=0),
        }.get(call.fn, t)
        return pa.scalar(value, type=call.type.to_arrow())

    return now


def _compile_udf(expr: UdfCall, ctx: EvalContext) -> Compiled:
    args = [compile_expr(a, ctx) for a in expr.args]
    arg_types = [a.type for a in expr.args]
    udf = expr.function
    if udf.func_type == "pandas":
        batch_size = ctx.pandas_batch_size
        return lambda batch: call_pandas(
            udf, [f(batch) for f in args], arg_types, batch.num_rows, batch_size
        )
    return lambda batch: call_general(udf, [f(batch) for f in args], arg_types, batch.num_rows)


def broadcast(value: Value, n: int) -> pa.Array:
    """A full column of ``n`` rows (literals are repeated, chunked arrays combined)."""
    if isinstance(value, pa.Scalar):
        if not value.is_valid:
            return pa.nulls(n, value.type)
        return pa.array([value.as_py()], type=value.type).take(np.zeros(n, dtype=np.int64))
    if isinstance(value, pa.ChunkedArray):
        return value.combine_chunks()
    return value


def evaluate_columns(
    compiled: list[Compiled], batch: pa.RecordBatch, names: list[str], schema: pa.Schema
) -> pa.RecordBatch:
    n = batch.num_rows
    columns = []
    for f, field in zip(compiled, schema, strict=True):
        col = broadcast(f(batch), n)
        if col.type != field.type:
            col = col.cast(field.type, safe=False)
        columns.append(col)
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def evaluate_predicate(compiled: Compiled, batch: pa.RecordBatch) -> pa.Array:
    """A boolean mask where NULL counts as false (SQL's WHERE)."""
    mask = compiled(batch)
    if isinstance(mask, pa.Scalar):
        keep = bool(mask.as_py()) if mask.is_valid else False
        return pa.array(np.full(batch.num_rows, keep))
    return pc.fill_null(mask, False)
