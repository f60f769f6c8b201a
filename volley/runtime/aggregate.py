"""Grouped and global aggregation over Arrow tables (Acero's hash aggregate).

Aggregates follow Flink's result types: SUM/MIN/MAX keep the input type, AVG of an integer
column is an integer (truncated), COUNT is BIGINT, SUM over no non-null values is NULL.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from volley.errors import UnsupportedFeatureError
from volley.plan.calls import AggCall
from volley.runtime.sort import positional  # noqa: F401 - re-exported for callers

_ONLY_VALID = pc.CountOptions(mode="only_valid")
_MIN_COUNT_1 = pc.ScalarAggregateOptions(skip_nulls=True, min_count=1)


def _acero_spec(agg: AggCall) -> tuple:
    col = [] if agg.arg is None else f"c{agg.arg}"
    if agg.fn == "count" and agg.arg is None:
        return ([], "count_all")
    if agg.fn == "count":
        return (col, "count_distinct" if agg.distinct else "count", _ONLY_VALID)
    fn = {"sum": "sum", "avg": "mean", "min": "min", "max": "max",
          "stddev_pop": "stddev", "stddev_samp": "stddev", "var_pop": "variance",
          "var_samp": "variance", "first_value": "first", "last_value": "last",
          "bool_and": "all", "bool_or": "any"}.get(agg.fn)
    if fn is None:
        raise UnsupportedFeatureError(f"aggregate function {agg.fn.upper()} is not supported")
    if agg.fn in ("stddev_samp", "var_samp"):
        return (col, fn, pc.VarianceOptions(ddof=1, min_count=1))
    if agg.fn in ("stddev_pop", "var_pop"):
        return (col, fn, pc.VarianceOptions(ddof=0, min_count=1))
    if fn in ("first", "last", "all", "any"):
        return (col, fn, pc.ScalarAggregateOptions(skip_nulls=True, min_count=1))
    return (col, fn, _MIN_COUNT_1)


def finalize(values: pa.Array | pa.ChunkedArray, agg: AggCall) -> pa.Array | pa.ChunkedArray:
    """Cast an Acero result to the Flink result type (AVG of INT truncates)."""
    target = agg.type.to_arrow()
    if values.type == target:
        return values
    if agg.fn == "avg" and agg.type.is_integral:
        return pc.cast(pc.trunc(values), target, safe=False)
    if agg.fn == "avg" and pa.types.is_decimal(target):
        rounded = pc.round(values, target.scale, round_mode="half_towards_infinity")
        return pc.cast(rounded, target, safe=False)
    return pc.cast(values, target, safe=False)


def _widen_decimal_averages(data: pa.Table, aggs: tuple[AggCall, ...]) -> pa.Table:
    """AVG of a DECIMAL keeps Flink's result scale: average at one more digit, then round."""
    for agg in aggs:
        if agg.fn == "avg" and agg.arg is not None and pa.types.is_decimal(agg.type.to_arrow()):
            name = f"c{agg.arg}"
            column = data.column(name)
            scale = agg.type.to_arrow().scale + 1
            data = data.set_column(agg.arg, name, column.cast(pa.decimal128(38, scale)))
    return data


def aggregate_table(
    table: pa.Table, group_keys: tuple[int, ...], aggs: tuple[AggCall, ...], out: pa.Schema
) -> pa.Table:
    data = _widen_decimal_averages(positional(table), aggs)
    if not group_keys:
        return _global_aggregate(data, aggs, out)
    keys = [f"c{k}" for k in group_keys]
    plain = [a for a in aggs if not _needs_dedup(a)]
    specs = [_acero_spec(a) for a in plain] or [([], "count_all")]
    # use_threads=False keeps groups in order of first appearance: deterministic output.
    result = data.group_by(keys, use_threads=False).aggregate(specs)
    key_cols, plain_cols = split_grouped(result, len(keys), len(specs))
    by_agg = dict(zip([id(a) for a in plain], plain_cols, strict=False))
    for a in aggs:
        if _needs_dedup(a):
            by_agg[id(a)] = _distinct_aggregate(data, keys, a, key_cols)
    agg_cols = [by_agg[id(a)] for a in aggs]
    columns = [c.cast(out.field(i).type) for i, c in enumerate(key_cols)]
    columns += [finalize(c, a) for c, a in zip(agg_cols, aggs, strict=True)]
    return pa.Table.from_arrays(columns, schema=out)


def split_grouped(result: pa.Table, n_keys: int, n_aggs: int) -> tuple[list, list]:
    """Key and aggregate columns of an Acero group-by result.

    pyarrow has put the keys first in some versions and last in others; keys are named ``c<i>``.
    """
    names = result.column_names
    if n_keys and names[0].startswith("c") and names[0][1:].isdigit():
        return result.columns[:n_keys], result.columns[n_keys:]
    return result.columns[n_aggs:], result.columns[:n_aggs]


def _needs_dedup(agg: AggCall) -> bool:
    """DISTINCT aggregates other than COUNT (Acero has count_distinct, not sum_distinct)."""
    return agg.distinct and agg.fn not in ("count", "min", "max")


def _distinct_aggregate(data: pa.Table, keys: list[str], agg: AggCall, key_cols: list) -> pa.Array:
    """``agg`` over the distinct (keys, value) pairs, aligned to the groups in ``key_cols``."""
    from volley.runtime.sort import _with_null_flags, distinct_table

    column = f"c{agg.arg}"
    pairs = distinct_table(data.select(keys + [column]))
    plain = AggCall(agg.fn, agg.arg, False, agg.type, agg.name)
    grouped = pairs.group_by(keys, use_threads=False).aggregate([_acero_spec(plain)])
    g_keys, g_vals = split_grouped(grouped, len(keys), 1)
    left, _ = _with_null_flags(pa.table(dict(zip(keys, key_cols, strict=True))))
    right, _ = _with_null_flags(pa.table(dict(zip(keys, g_keys, strict=True))))
    left = left.append_column("__l", pa.array(range(left.num_rows), pa.int64()))
    right = right.append_column("__r", pa.array(range(right.num_rows), pa.int64()))
    joined = left.join(right, keys=[c for c in left.column_names if c != "__l"],
                       join_type="left outer", use_threads=False)
    order = pc.sort_indices(joined.column("__l"))
    index = joined.column("__r").take(order)
    return g_vals[0].take(index)


def _global_aggregate(data: pa.Table, aggs: tuple[AggCall, ...], out: pa.Schema) -> pa.Table:
    columns = []
    for agg in aggs:
        value = _scalar_aggregate(data, agg)
        arr = pa.array([value.as_py() if isinstance(value, pa.Scalar) else value], type=value.type
                       if isinstance(value, pa.Scalar) else None)
        columns.append(finalize(arr, agg))
    return pa.Table.from_arrays(columns, schema=out)


def _scalar_aggregate(data: pa.Table, agg: AggCall) -> pa.Scalar:
    if agg.fn == "count" and agg.arg is None:
        return pa.scalar(data.num_rows, pa.int64())
    column = data.column(f"c{agg.arg}")
    if agg.fn == "count":
        if agg.distinct:
            return pc.count_distinct(column, mode="only_valid")
        return pc.count(column, mode="only_valid")
    if _needs_dedup(agg):
        column = pc.unique(column)
    spec = _acero_spec(agg)
    fn = spec[1]
    options = spec[2] if len(spec) > 2 else None
    if fn in ("first", "last"):
        valid = column.drop_null()
        if len(valid) == 0:
            return pa.scalar(None, column.type)
        return valid[0] if fn == "first" else valid[len(valid) - 1]
    return getattr(pc, fn)(column, options=options)
