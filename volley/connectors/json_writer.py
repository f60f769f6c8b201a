"""Writing Flink's json format: one compact JSON object per row, as Flink's Jackson writes it.

``{"id":1,"name":"Alice","t":98.0}``: no spaces, NULL as ``null``, floats as Java prints them,
timestamps ``2024-01-02 03:04:05.123`` (SQL standard), BYTES as base64, nested ROW/ARRAY/MAP as
objects and arrays. Every value is rendered a column at a time; rows are joined with Arrow kernels.
"""

from __future__ import annotations

import json
from typing import BinaryIO

import pyarrow as pa
import pyarrow.compute as pc

from volley.connectors.csv_writer import scalar_text
from volley.connectors.java_text import java_float_strings
from volley.connectors.nested_text import join_lists, join_map
from volley.plan.types import (
    ArrayType,
    BooleanType,
    DataType,
    DecimalType,
    DoubleType,
    FloatType,
    MapType,
    RowType,
)

_ESCAPES = (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"))


def json_strings(strings: pa.Array) -> pa.Array:
    """JSON string literals for a text column (nulls stay null)."""
    text = strings.cast(pa.string())
    for raw, escaped in _ESCAPES:
        text = pc.replace_substring(text, raw, escaped)
    if pc.any(pc.match_substring_regex(text, r"[\x00-\x1f]")).as_py():
        values = strings.to_pylist()
        return pa.array([None if s is None else json.dumps(s, ensure_ascii=False) for s in values])
    return pc.binary_join_element_wise('"', text, '"', "")


def json_values(arr: pa.Array, data_type: DataType) -> pa.Array:
    """JSON text of every value; NULL renders as ``null``."""
    return pc.fill_null(_json_values(arr, data_type), "null")


def _json_values(arr: pa.Array, data_type: DataType) -> pa.Array:
    if data_type.is_string:
        return json_strings(arr)
    if isinstance(data_type, (FloatType, DoubleType)):
        text = java_float_strings(arr)
        finite = pc.is_finite(arr)
        return pc.if_else(finite, text, pc.binary_join_element_wise('"', text, '"', ""))
    if data_type.is_numeric or isinstance(data_type, (BooleanType, DecimalType)):
        return pc.cast(arr, pa.string())
    if isinstance(data_type, ArrayType):
        element = data_type.element_type
        return join_lists(arr, lambda a: json_values(a, element), ",", "[", "]")
    if isinstance(data_type, MapType):
        return join_map(
            arr,
            lambda k: json_strings(_as_text(k, data_type.key_type)),
            lambda v: json_values(v, data_type.value_type),
            ":",
            ",",
            "{",
            "}",
        )
    if isinstance(data_type, RowType):
        return json_objects(arr.flatten(), data_type, row_validity=arr)
    return json_strings(scalar_text(arr, data_type))


def _as_text(arr: pa.Array, data_type: DataType) -> pa.Array:
    return arr.cast(pa.string()) if data_type.is_string else scalar_text(arr, data_type)


def json_objects(
    columns: list[pa.Array], row_type: RowType, row_validity: pa.Array | None = None
) -> pa.Array:
    """``{"a":1,"b":"x"}`` per row from the columns of a ROW."""
    parts: list[pa.Array | str] = []
    for i, (column, f) in enumerate(zip(columns, row_type.fields, strict=True)):
        prefix = ("{" if i == 0 else ",") + json.dumps(f.name) + ":"
        parts.extend([prefix, json_values(column, f.data_type)])
    if not parts:
        return pa.array(["{}"] * (len(row_validity) if row_validity is not None else 0))
    objects = pc.binary_join_element_wise(*parts, "}", "")
    if row_validity is not None:
        objects = pc.if_else(pc.is_null(row_validity), pa.scalar(None, pa.string()), objects)
    return objects


class JsonWriter:
    """Writes batches of ``schema`` as JSON lines to one open binary file."""

    def __init__(self, stream: BinaryIO, schema: RowType) -> None:
        self._stream = stream
        self._schema = schema

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        rows = json_objects(list(batch.columns), self._schema)
        offsets = pa.array([0, len(rows)], pa.int32())
        text = pc.binary_join(pa.ListArray.from_arrays(offsets, rows), "\n")
        self._stream.write(text[0].as_buffer())
        self._stream.write(b"\n")

    def close(self) -> None:
        """Nothing is buffered: each ``write`` went straight to the stream."""
