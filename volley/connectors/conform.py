"""Bringing a batch a sink receives into the sink table's schema.

The planner hands a sink the query's output: columns in the table's order but possibly of other,
compatible types (BIGINT literals into an INT column) and other names. Flink matches by position
and casts; so does this, and an impossible cast names the column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pyarrow as pa
import pyarrow.compute as pc

from volley.common.changelog import SHORT_STRINGS, split_row_kind
from volley.errors import ConnectorError


def conform_batch(batch: pa.RecordBatch, target: pa.Schema, table: str) -> pa.RecordBatch:
    """``batch`` as ``target`` (cast by position); an insert-only sink rejects updates."""
    batch, kinds = split_row_kind(batch)
    if kinds is not None and len(kinds) and pc.max(kinds).as_py() > 0:
        bad = SHORT_STRINGS[pc.max(kinds).as_py()]
        raise ConnectorError(
            f"table {table!r} accepts inserts only; expected +I rows, got {bad} rows; "
            "write the updating result to a sink that accepts updates (e.g. 'print')"
        )
    if batch.num_columns != len(target):
        raise ConnectorError(
            f"cannot write to table {table!r}; expected {len(target)} columns "
            f"{target.names}, got {batch.num_columns} columns {batch.schema.names}; "
            "select exactly the sink's columns"
        )
    if batch.schema.equals(target):
        return batch
    return cast_columns(
        batch,
        target,
        lambda field, got, e: (
            f"column {field.name!r} of table {table!r} cannot take the query's values; "
            f"expected {field.type}, got {got}: {e}; cast the value in the query"
        ),
    )


def cast_columns(
    batch: pa.RecordBatch,
    target: pa.Schema,
    failure: Callable[[pa.Field, pa.DataType, Exception], str],
) -> pa.RecordBatch:
    """``batch`` (columns in ``target`` order) cast column by column to ``target``; an impossible
    cast raises ConnectorError with the message ``failure(field, source_type, error)``."""
    arrays = []
    for column, field in zip(batch.columns, target, strict=True):
        if column.type != field.type:
            try:
                column = column.cast(field.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
                raise ConnectorError(failure(field, column.type, e)) from e
        arrays.append(column)
    return pa.RecordBatch.from_arrays(arrays, schema=target)


def drop_rows(batches: Iterator[pa.RecordBatch], n: int) -> Iterator[pa.RecordBatch]:
    """``batches`` without their first ``n`` rows (a resumed read re-parses, then drops)."""
    for batch in batches:
        if n >= batch.num_rows:
            n -= batch.num_rows
            continue
        yield batch.slice(n) if n else batch
        n = 0
