"""pandas <-> Arrow conversion for from_pandas / to_pandas, with PyFlink's type mapping."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from volley.common.nan_to_null import float_array_without_nan
from volley.errors import PlanError
from volley.plan.types import DataType, RowField, RowType, from_arrow


def pandas_to_arrow(pdf: Any, schema: Any = None) -> tuple[pa.Table, RowType]:
    """A DataFrame as an Arrow table and its row type; ``schema`` may be names, types or a ROW."""
    import pandas as pd  # imported on use: from_elements shares this module's helpers

    if not isinstance(pdf, pd.DataFrame):
        raise PlanError(f"from_pandas() takes a pandas.DataFrame; got {type(pdf).__name__}")
    names, types = split_schema(schema, "from_pandas")
    if names is not None and len(names) != len(pdf.columns):
        raise PlanError(
            f"from_pandas() got {len(names)} names for a DataFrame with {len(pdf.columns)} "
            f"columns ({', '.join(map(str, pdf.columns))})"
        )
    columns = [str(c) for c in pdf.columns] if names is None else names
    arrays = []
    for i in range(len(pdf.columns)):
        target = types[i].to_arrow() if types is not None else None
        try:
            arrays.append(_column_to_arrow(pdf.iloc[:, i], target))
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise PlanError(f"column {columns[i]!r} of the DataFrame cannot be converted: {exc}") from None
    if types is None:
        types = [from_arrow(a.type) for a in arrays]
        arrays = [a.cast(t.to_arrow()) if a.type != t.to_arrow() else a for a, t in zip(arrays, types, strict=True)]
    row_type = RowType(tuple(RowField(n, t) for n, t in zip(columns, types, strict=True)))
    table = pa.Table.from_arrays(arrays, schema=row_type.to_arrow_schema())
    return table, row_type


def _column_to_arrow(series: Any, target: pa.DataType | None) -> pa.Array:
    """One DataFrame column as Arrow, NaN becoming NULL as in PyFlink. A float column without
    NaN (most) is wrapped without a copy; Arrow's own NaN-aware conversion takes about 13x as
    long (2 ms per 1M values)."""
    if isinstance(series.dtype, np.dtype):  # a numpy column: to_numpy is a view
        wrapped = float_array_without_nan(series.to_numpy(copy=False), target)
        if wrapped is not None:
            return wrapped
    return pa.Array.from_pandas(series, type=target)


def split_schema(schema: Any, caller: str) -> tuple[list[str] | None, list[DataType] | None]:
    """PyFlink's ``schema`` argument (a ROW, column names, or DataTypes) as (names, types)."""
    if schema is None or (isinstance(schema, (list, tuple)) and not schema):
        return None, None
    if isinstance(schema, RowType):
        return schema.names, schema.types
    if isinstance(schema, (list, tuple)):
        if all(isinstance(s, str) for s in schema):
            return list(schema), None
        if all(isinstance(s, DataType) for s in schema):
            return None, list(schema)
    raise PlanError(
        f"{caller}() schema must be a DataTypes.ROW, a list of column names or a list of "
        f"DataTypes; got {schema!r}"
    )


def arrow_to_pandas(table: pa.Table) -> Any:
    """``split_blocks`` lets columns without NULLs become DataFrame columns without a copy."""
    return table.to_pandas(split_blocks=True)
