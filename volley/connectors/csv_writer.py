"""Writing Flink's csv format: what Flink's csv sink (Jackson's CsvEncoder) would print.

No header; NULL is an empty field; floats as Java prints them (``98.0``); booleans ``true``;
timestamps ``2024-01-02 03:04:05.123``; strings quoted only when needed, where Jackson's rule
for "needed" is any character below ``-`` (space, comma, quote, ...) or the delimiter. A legacy
(1.11) table gets 1.11's CsvTableSink instead: no quoting at all, timestamps with ``.0``.
Rows are assembled a column at a time with Arrow string kernels.
"""

from __future__ import annotations

import base64
from typing import BinaryIO

import pyarrow as pa
import pyarrow.compute as pc

from volley.connectors.csv_options import CsvSettings
from volley.connectors.java_text import java_float_strings, sql_timestamp_strings, time_strings
from volley.plan.types import (
    ArrayType,
    BinaryType,
    DataType,
    DoubleType,
    FloatType,
    LocalZonedTimestampType,
    RowType,
    TimestampType,
    TimeType,
    VarBinaryType,
)


class CsvWriter:
    """Writes batches of ``schema`` to one open binary file."""

    def __init__(self, stream: BinaryIO, schema: RowType, settings: CsvSettings) -> None:
        self._stream = stream
        self._schema = schema
        self._settings = settings
        self._needs_quotes = _quote_pattern(settings)

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        columns = [
            self._field_text(batch.column(i), f.data_type)
            for i, f in enumerate(self._schema.fields)
        ]
        line_end = self._settings.line_delimiter
        if len(columns) == 1:
            rows = pc.fill_null(columns[0], "")
        else:
            rows = pc.binary_join_element_wise(
                *columns, self._settings.delimiter, null_handling="replace", null_replacement=""
            )
        text = pc.binary_join(
            pa.ListArray.from_arrays(pa.array([0, len(rows)], pa.int32()), rows), line_end
        )
        self._stream.write(text[0].as_buffer())
        self._stream.write(line_end.encode())

    def close(self) -> None:
        """Nothing is buffered: each ``write`` went straight to the stream."""

    def _field_text(self, arr: pa.Array, data_type: DataType) -> pa.Array:
        if data_type.is_string:
            return self._quote(arr.cast(pa.string()))
        if isinstance(data_type, ArrayType):
            return self._quote(_array_text(arr, data_type, self))
        return scalar_text(arr, data_type, legacy=self._settings.legacy)

    def _quote(self, strings: pa.Array) -> pa.Array:
        quote = self._settings.quote_char
        if quote is None or self._settings.legacy:
            return strings
        doubled = pc.replace_substring(strings, quote, quote + quote)
        quoted = pc.binary_join_element_wise(quote, doubled, quote, "")
        needs = pc.match_substring_regex(strings, self._needs_quotes)
        return pc.if_else(needs, quoted, strings)


def _quote_pattern(settings: CsvSettings) -> str:
    specials = {settings.delimiter, settings.quote_char or '"', "\n", "\r"}
    escaped = "".join("\\" + c if c in "\\]^-[" else c for c in sorted(specials))
    # Jackson's "loose" check: any char below '-' (0x2D), plus '#' first (a comment line)
    return rf"[\x00-\x2c{escaped}]"


def scalar_text(arr: pa.Array, data_type: DataType, legacy: bool = False) -> pa.Array:
    """One non-string column as Flink's csv text (nulls stay null)."""
    if isinstance(data_type, (FloatType, DoubleType)):
        return java_float_strings(arr)
    if isinstance(data_type, (TimestampType, LocalZonedTimestampType)):
        return sql_timestamp_strings(arr, zero_fraction=".0" if legacy else "")
    if isinstance(data_type, TimeType):
        return time_strings(arr, iso=False)
    if isinstance(data_type, (BinaryType, VarBinaryType)):
        values = [None if b is None else base64.b64encode(b).decode() for b in arr.to_pylist()]
        return pa.array(values, pa.string())
    return pc.cast(arr, pa.string())


def _array_text(arr: pa.Array, data_type: ArrayType, writer: CsvWriter) -> pa.Array:
    """ARRAY columns: elements joined by ``csv.array-element-delimiter``."""
    element = data_type.element_type
    flat = pc.list_flatten(arr)
    texts = flat.cast(pa.string()) if element.is_string else scalar_text(flat, element)
    lengths = pc.fill_null(pc.list_value_length(arr), 0)
    offsets = pa.array([0, *pc.cumulative_sum(lengths).to_pylist()], pa.int32())
    lists = pa.ListArray.from_arrays(offsets, pc.fill_null(texts, ""), mask=pc.is_null(arr))
    return pc.binary_join(lists, writer._settings.array_delimiter)
