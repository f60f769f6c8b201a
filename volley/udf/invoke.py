"""Calling user-defined scalar functions over Arrow batches.

A general UDF is the one place the engine loops over rows in Python: arguments are turned into
Python values column by column, the function is mapped over them, and the results are built back
into one Arrow array. A pandas UDF is called once per slice of at most ``batch_size`` rows.
Any exception from the user's code becomes a ``UdfError`` naming the function and where it is
defined, with the user's exception chained so the traceback ends at the user's own line.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from volley.common.nan_to_null import float_array_without_nan
from volley.common.row import Row
from volley.errors import UdfError
from volley.plan.types import DataType, MapType, RowType

Value = pa.Array | pa.Scalar


def _python_values(value: Value, t: DataType, n: int) -> list[Any]:
    """Column -> list of the Python values PyFlink hands a UDF (Row for ROW, dict for MAP)."""
    if isinstance(value, pa.Scalar):
        values = [_convert(value.as_py(), t)] * n
        return values
    values = value.to_pylist()
    if isinstance(t, (RowType, MapType)):
        values = [_convert(v, t) for v in values]
    return values


def _convert(v: Any, t: DataType) -> Any:
    if v is None:
        return None
    if isinstance(t, RowType):
        return Row(**{f.name: _convert(v[f.name], f.data_type) for f in t.fields})
    if isinstance(t, MapType):
        return dict(v)
    return v


def _failure(udf: Any, exc: BaseException, row_args: tuple | None = None) -> UdfError:
    where = f" (defined at {udf.source_location})"
    detail = f" on arguments {row_args!r}" if row_args is not None else ""
    return UdfError(
        f"user-defined function {udf.name!r}{where} raised {type(exc).__name__}: {exc}"
        f"{detail}; see the chained exception above for your traceback"
    )


def call_general(udf: Any, args: list[Value], arg_types: list[DataType], n: int) -> pa.Array:
    fn = udf.callable
    columns = [_python_values(a, t, n) for a, t in zip(args, arg_types, strict=True)]
    try:
        if len(columns) == 1:
            results = list(map(fn, columns[0]))
        elif not columns:
            results = [fn() for _ in range(n)]
        else:
            results = list(map(fn, *columns))
    except Exception as exc:
        # Find the failing row for the message: only on the error path.
        bad = _first_failing_row(fn, columns)
        raise _failure(udf, exc, bad) from exc
    return _to_arrow(udf, results)


def _first_failing_row(fn: Any, columns: list[list[Any]]) -> tuple | None:
    for row in zip(*columns, strict=True):
        try:
            fn(*row)
        except Exception:
            return row
    return None


def _to_arrow(udf: Any, results: list[Any]) -> pa.Array:
    t = udf.result_type
    arrow_type = t.to_arrow()
    if isinstance(t, RowType):
        results = [_row_to_dict(r, t) for r in results]
    try:
        return pa.array(results, type=arrow_type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError) as exc:
        bad = next(
            (r for r in results if r is not None and not _fits(r, arrow_type)), results[0]
        )
        raise UdfError(
            f"user-defined function {udf.name!r} (defined at {udf.source_location}) returned "
            f"{bad!r} of type {type(bad).__name__}, which does not fit its result_type {t}; "
            "return a matching value or change result_type"
        ) from exc


def _row_to_dict(r: Any, t: RowType) -> Any:
    if r is None or isinstance(r, dict):
        return r
    values = list(r)
    return {f.name: v for f, v in zip(t.fields, values, strict=False)}


def _fits(value: Any, arrow_type: pa.DataType) -> bool:
    try:
        pa.array([value], type=arrow_type)
        return True
    except Exception:
        return False


def call_pandas(
    udf: Any, args: list[Value], arg_types: list[DataType], n: int, batch_size: int
) -> pa.Array:
    fn = udf.callable
    if n == 0:
        return pa.array([], type=udf.result_type.to_arrow())
    full = [
        a if not isinstance(a, pa.Scalar) else pa.array([a.as_py()] * n, type=a.type)
        for a in args
    ]
    pieces = []
    for start in range(0, n, batch_size):
        length = min(batch_size, n - start)
        series = [_to_series(a.slice(start, length)) for a in full]
        try:
            result = fn(*series)
        except Exception as exc:
            raise _failure(udf, exc) from exc
        pieces.append(_pandas_result(udf, result, length))
    return pieces[0] if len(pieces) == 1 else pa.concat_arrays(pieces)


def _to_series(array: pa.Array):
    # Nullable ints stay numeric (float with NaN) as in PyFlink; strings become objects.
    return array.to_pandas()


def _pandas_result(udf: Any, result: Any, length: int) -> pa.Array:
    import pandas as pd  # only pandas UDFs need it; keeps `import volley` light
    t = udf.result_type
    arrow_type = t.to_arrow()
    if isinstance(result, (pd.Series, pd.Index)):
        values = result.to_numpy() if not isinstance(result.dtype, pd.ArrowDtype) else result
    elif isinstance(result, pd.DataFrame):
        if isinstance(t, RowType):
            return pa.StructArray.from_arrays(
                [pa.Array.from_pandas(result.iloc[:, i], type=f.data_type.to_arrow())
                 for i, f in enumerate(t.fields)],
                fields=list(arrow_type),
            )
        raise UdfError(
            f"pandas UDF {udf.name!r} (defined at {udf.source_location}) returned a DataFrame; "
            "return a pandas.Series, or declare a ROW result_type"
        )
    else:
        values = result
    try:
        size = len(values)
    except TypeError:
        raise UdfError(
            f"pandas UDF {udf.name!r} (defined at {udf.source_location}) returned "
            f"{type(result).__name__}; a pandas UDF must return a pandas.Series (or array) with "
            f"one value per input row ({length})"
        ) from None
    if size != length:
        raise UdfError(
            f"pandas UDF {udf.name!r} (defined at {udf.source_location}) returned {size} values "
            f"for {length} input rows; a pandas UDF must return one value per row"
        )
    wrapped = float_array_without_nan(values, arrow_type)
    if wrapped is not None:
        return wrapped
    try:
        if isinstance(values, pa.Array):
            return values.cast(arrow_type)
        return pa.array(values, type=arrow_type, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError) as exc:
        try:
            return pa.array(values, from_pandas=True).cast(arrow_type)
        except Exception:
            pass
        raise UdfError(
            f"pandas UDF {udf.name!r} (defined at {udf.source_location}) returned values that do "
            f"not fit its result_type {t}: {exc}"
        ) from exc
