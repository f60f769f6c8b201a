"""CAST between logical types with Flink's semantics, over Arrow arrays.

Arrow's cast covers most pairs; the differences from Flink are handled here: doubles print as
Java does (``1.0``, ``1.0E10``), DOUBLE->INT truncates, strings parse after trimming, booleans
parse ``true``/``false`` case-insensitively, and a failed cast is an error naming the value
(or NULL for TRY_CAST).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from volley.errors import JobExecutionError
from volley.plan.types import (
    BooleanType,
    CharType,
    DataType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    LocalZonedTimestampType,
    TimestampType,
    TimeType,
    VarCharType,
)

Value = pa.Array | pa.ChunkedArray | pa.Scalar


def java_float_strings(values: Value) -> Value:
    """Floats as Java's ``Double.toString`` prints them (``1.0``, ``1.0E10``), for any value."""
    from volley.connectors.java_text import java_float_strings as format_array

    if isinstance(values, pa.Scalar):
        return format_array(pa.array([values.as_py()], values.type))[0]
    if isinstance(values, pa.ChunkedArray):
        return pa.chunked_array([format_array(c) for c in values.chunks], pa.string())
    return format_array(values)


def cast_value(value: Value, source: DataType, target: DataType, safe: bool = False) -> Value:
    """Cast ``value`` of logical type ``source`` to ``target``."""
    arrow_target = target.to_arrow()
    try:
        return _cast(value, source, target, arrow_target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as exc:
        if safe:
            return _cast_per_value_safe(value, source, target)
        raise JobExecutionError(
            f"cannot CAST a {source} value to {target}: {exc}; use TRY_CAST to get NULL for "
            "values that do not convert"
        ) from None


def _cast(value: Value, source: DataType, target: DataType, arrow_target: pa.DataType) -> Value:
    if isinstance(target, (VarCharType, CharType)):
        if isinstance(source, (FloatType, DoubleType)):
            return java_float_strings(value)
        if isinstance(source, BooleanType):
            return pc.if_else(value, "true", "false") if not isinstance(value, pa.Scalar) else (
                pa.scalar(None if not value.is_valid else ("true" if value.as_py() else "false"))
            )
        if isinstance(source, (TimestampType, LocalZonedTimestampType)):
            return _timestamp_strings(value, source.precision)
        if isinstance(source, TimeType) and source.precision == 0:
            return pc.utf8_slice_codeunits(pc.cast(value, pa.string()), 0, 8)
        return pc.cast(value, pa.string())
    if source.is_string:
        value = pc.utf8_trim_whitespace(value)
        if isinstance(target, BooleanType):
            lowered = pc.utf8_lower(value)
            ok = pc.is_in(lowered, value_set=pa.array(["true", "false"]))
            if not _all_true_or_null(ok):
                bad = pc.filter(value, pc.invert(ok)) if not isinstance(value, pa.Scalar) else value
                raise ValueError(f"{_first(bad)!r} is not a BOOLEAN")
            return pc.equal(lowered, "true")
        if isinstance(target, (TimestampType, LocalZonedTimestampType)):
            return pc.cast(pc.cast(value, pa.timestamp("ns")), arrow_target)
        if isinstance(target, DateType):
            return pc.cast(pc.cast(value, pa.timestamp("s")), pa.date32()) if _has_time(value) else (
                pc.cast(value, pa.date32())
            )
        if target.is_integral and not isinstance(value, pa.Scalar):
            return pc.cast(value, arrow_target)
        if isinstance(target, DecimalType):
            # parse at a generous scale, then round HALF_UP to the target scale as Flink does
            wide = pc.cast(value, pa.decimal128(38, min(38 - (target.precision - target.scale),
                                                        target.scale + 10)))
            rounded = pc.round(wide, target.scale, round_mode="half_towards_infinity")
            return pc.cast(rounded, arrow_target)
    if source.is_numeric and target.is_integral and isinstance(source, (FloatType, DoubleType)):
        return pc.cast(pc.trunc(value), arrow_target, safe=False)
    if isinstance(source, DecimalType) and target.is_integral:
        return pc.cast(pc.trunc(pc.cast(value, pa.float64())), arrow_target, safe=False) if (
            source.precision > 18
        ) else pc.cast(_trunc_decimal(value, source), arrow_target, safe=False)
    if source.is_numeric and isinstance(target, BooleanType):
        return pc.not_equal(value, 0)
    if isinstance(source, BooleanType) and target.is_numeric:
        return pc.cast(pc.cast(value, pa.int8()), arrow_target)
    if isinstance(target, DecimalType) and isinstance(source, (FloatType, DoubleType)):
        # Flink goes through the double's decimal text (12.345, not 12.3449999...): snap to 15
        # significant digits' worth of scale first, then round half-up.
        snapped = pc.round(value, min(15, target.scale + 8))
        rounded = pc.round(snapped, target.scale, round_mode="half_towards_infinity")
        return pc.cast(rounded, arrow_target, safe=False)
    if isinstance(target, DecimalType) and isinstance(source, DecimalType):
        if target.scale < source.scale:
            value = pc.round(value, target.scale, round_mode="half_towards_infinity")
        return pc.cast(value, arrow_target, safe=False)
    if isinstance(source, (TimestampType, LocalZonedTimestampType)) and isinstance(target, DateType):
        return pc.cast(pc.floor_temporal(value, unit="day"), pa.date32(), safe=False)
    return pc.cast(value, arrow_target, safe=not target.is_numeric or source.is_integral)


def _trunc_decimal(value: Value, source: DecimalType) -> Value:
    return pc.round(value, 0, round_mode="towards_zero") if source.scale else value


def _timestamp_strings(value: Value, precision: int) -> Value:
    fmt = "%Y-%m-%d %H:%M:%S"
    if isinstance(value, pa.Scalar):
        v = value.as_py()
        return pa.scalar(None if v is None else _format_ts(v, precision), pa.string())
    base = pc.strftime(pc.cast(value, pa.timestamp("s", tz=value.type.tz), safe=False), format=fmt)
    if precision <= 0:
        return base
    # Flink prints the fraction to the column's precision: 2024-01-02 03:04:05.120
    micros = pc.cast(pc.microsecond(value), pa.int64())
    millis = pc.add(pc.multiply(pc.cast(pc.millisecond(value), pa.int64()), 1000), micros)
    frac = pc.utf8_lpad(pc.cast(millis, pa.string()), 6, "0")
    frac = pc.utf8_slice_codeunits(frac, 0, min(precision, 6))
    return pc.binary_join_element_wise(base, frac, ".")


def _format_ts(v, precision: int) -> str:
    s = v.strftime("%Y-%m-%d %H:%M:%S")
    if precision > 0:
        s += "." + f"{v.microsecond:06d}"[: min(precision, 6)]
    return s


def _has_time(value: Value) -> bool:
    sample = value if isinstance(value, pa.Scalar) else (value[0] if len(value) else None)
    return sample is not None and sample.is_valid and " " in str(sample.as_py())


def _all_true_or_null(mask: Value) -> bool:
    if isinstance(mask, pa.Scalar):
        return not mask.is_valid or bool(mask.as_py())
    return pc.all(mask, skip_nulls=True).as_py() in (True, None)


def _first(values: Value):
    if isinstance(values, pa.Scalar):
        return values.as_py()
    return values[0].as_py() if len(values) else None


def _cast_per_value_safe(value: Value, source: DataType, target: DataType) -> Value:
    """TRY_CAST fallback: cast value by value, NULL where a value does not convert.

    Only reached when a vectorized cast failed on some value, so the common path stays columnar.
    """
    arrow_target = target.to_arrow()
    if isinstance(value, pa.Scalar):
        try:
            return _cast(value, source, target, arrow_target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
            return pa.scalar(None, arrow_target)
    out = []
    for item in value:
        try:
            out.append(_cast(item, source, target, arrow_target).as_py())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
            out.append(None)
    return pa.array(out, arrow_target)
