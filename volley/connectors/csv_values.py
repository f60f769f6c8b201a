"""Text fields to typed Arrow arrays, with Flink's csv rules for nulls, booleans and arrays.

pyarrow.csv converts most types itself; the few it cannot (TIMESTAMP_LTZ with or without an
offset, ARRAY split on ``csv.array-element-delimiter``, base64 BYTES) are read as strings and
converted here. The slow path that hunts for malformed rows converts every column here, so both
paths agree on what a bad value is.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from volley.connectors.csv_options import CsvSettings
from volley.connectors.text_parse import find_failures, parse_base64, parse_time
from volley.errors import UnsupportedFeatureError
from volley.plan.types import (
    ArrayType,
    BinaryType,
    BooleanType,
    DataType,
    LocalZonedTimestampType,
    MapType,
    RowType,
    TimeType,
    VarBinaryType,
)

TRUE_VALUES = ["true", "True", "TRUE"]
FALSE_VALUES = ["false", "False", "FALSE"]


def read_as_string(data_type: DataType) -> bool:
    """Whether pyarrow.csv reads this column as text for ``parse_strings`` to finish."""
    return data_type.is_string or isinstance(
        data_type, (LocalZonedTimestampType, ArrayType, BinaryType, VarBinaryType)
    )


def check_supported(name: str, data_type: DataType) -> None:
    nested = (MapType, RowType, ArrayType)
    element = data_type.element_type if isinstance(data_type, ArrayType) else None
    if isinstance(data_type, (MapType, RowType)) or isinstance(element, nested):
        raise UnsupportedFeatureError(
            f"the csv format cannot hold column {name!r} of type {data_type}; expected scalar "
            "columns or ARRAY of scalars; use 'format' = 'json' or 'parquet' for nested data"
        )


def parse_strings(strings: pa.Array, data_type: DataType, settings: CsvSettings) -> pa.Array:
    """Convert a text column (nulls already applied) to ``data_type``; raise ArrowInvalid on a
    value that does not parse."""
    target = data_type.to_arrow()
    if data_type.is_string:
        return strings.cast(target)
    if isinstance(data_type, BooleanType):
        return _parse_bool(strings)
    if isinstance(data_type, LocalZonedTimestampType):
        return _parse_ltz(strings, target)
    if isinstance(data_type, (BinaryType, VarBinaryType)):
        return parse_base64(strings)
    if isinstance(data_type, ArrayType):
        parts = pc.split_pattern(strings, settings.array_delimiter)
        element = data_type.element_type
        if element.is_string or isinstance(element, BooleanType):
            flat = parse_strings(pc.list_flatten(parts), element, settings)
            return pa.ListArray.from_arrays(_offsets(parts), flat, mask=pc.is_null(parts))
        return parts.cast(target)
    if isinstance(data_type, TimeType):
        return parse_time(strings, target)
    return strings.cast(target)


def _offsets(lists: pa.Array) -> pa.Array:
    lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy(zero_copy_only=False)
    return pa.array(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32))


def _parse_bool(strings: pa.Array) -> pa.Array:
    is_true = pc.is_in(strings, pa.array(TRUE_VALUES))
    is_false = pc.is_in(strings, pa.array(FALSE_VALUES))
    known = pc.or_(is_true, is_false)
    if not pc.all(pc.or_(known, pc.is_null(strings))).as_py():
        bad = strings.filter(pc.invert(pc.fill_null(known, True)))[0].as_py()
        raise pa.ArrowInvalid(f"invalid boolean {bad!r}")
    return pc.if_else(pc.is_null(strings), pa.scalar(None, pa.bool_()), is_true)


def _parse_ltz(strings: pa.Array, target: pa.DataType) -> pa.Array:
    """Flink writes TIMESTAMP_LTZ with a ``Z``; plain local text is read as UTC, as Flink does
    when the session time zone is UTC."""
    has_zone = pc.fill_null(pc.match_substring_regex(strings, r"(Z|[+-]\d\d:?\d\d)$"), False)
    naive_type = pa.timestamp(target.unit)
    zoned = pc.if_else(has_zone, strings, None).cast(target)
    naive = pc.if_else(has_zone, None, strings).cast(naive_type).cast(target)
    return pc.if_else(has_zone, zoned, naive)


def apply_nulls(strings: pa.Array, data_type: DataType, settings: CsvSettings) -> pa.Array:
    """Null out the fields Flink reads as NULL: an empty field of a non-string column, and
    ``csv.null-literal`` anywhere."""
    literal = settings.null_literal
    if data_type.is_string:
        if literal is None:
            return strings
        return pc.if_else(pc.equal(strings, literal), None, strings)
    mask = pc.equal(strings, "")
    if literal is not None:
        mask = pc.or_(mask, pc.equal(strings, literal))
    return pc.if_else(mask, None, strings)


def find_bad_values(strings: pa.Array, data_type: DataType, settings: CsvSettings) -> list[int]:
    """Indices of the values of ``strings`` that do not parse as ``data_type``."""

    def attempt(start: int, stop: int) -> None:
        parse_strings(strings.slice(start, stop - start), data_type, settings)

    return find_failures(len(strings), attempt)
