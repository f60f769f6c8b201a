"""Values as Flink (that is, Java) prints them, computed a column at a time.

Flink's csv format and print connector print floats with Java's ``Double.toString`` (``98.0``,
``1.0E7``, ``NaN``), timestamps with ``java.time`` formatters and booleans as ``true``. Python
and Arrow print ``98``, ``1e+07`` and ``nan``; golden outputs recorded from PyFlink would differ.
Each function here maps an Arrow array to a string array (nulls stay null) without a per-row loop,
except for the rare floats that need scientific notation.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_NANOS_PER_UNIT = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}


def java_float_strings(arr: pa.Array) -> pa.Array:
    """``Float.toString``/``Double.toString`` of every value: ``98.0``, ``0.1``, ``1.0E7``."""
    text = pc.cast(arr, pa.string())
    if len(arr) == 0:
        return text
    absolute = pc.abs(arr)
    finite = pc.fill_null(pc.is_finite(arr), False)
    small = pc.and_(pc.less(absolute, 1e-3), pc.not_equal(absolute, 0.0))
    large = pc.greater_equal(absolute, 1e7)
    scientific = pc.fill_null(pc.and_(finite, pc.or_(large, small)), False)
    whole = pc.binary_join_element_wise(text, ".0", "")
    plain = pc.if_else(pc.match_substring(text, "."), text, whole)
    text = pc.if_else(finite, plain, _non_finite(arr))
    if pc.any(scientific).as_py():
        text = _patch_scientific(arr, text, scientific)
    return text


def _non_finite(arr: pa.Array) -> pa.Array:
    # a null condition gives a null result, so nulls stay null
    infinity = pc.if_else(pc.less(arr, 0.0), "-Infinity", "Infinity")
    return pc.if_else(pc.is_nan(arr), "NaN", infinity)


def _patch_scientific(arr: pa.Array, text: pa.Array, mask: pa.Array) -> pa.Array:
    values = text.to_pylist()
    numbers = arr.to_numpy(zero_copy_only=False)
    for i in np.flatnonzero(mask.to_numpy(zero_copy_only=False)):
        values[i] = java_scientific(numbers[i])
    return pa.array(values, pa.string())


def java_scientific(value: float | np.floating) -> str:
    """Java's computerized scientific notation: ``1.2345678E7``, ``1.0E-4``."""
    digits = np.format_float_scientific(value, unique=True, trim="-")
    mantissa, exponent = digits.split("e")
    if "." not in mantissa:
        mantissa += ".0"
    return f"{mantissa}E{int(exponent)}"


def _split_timestamp(arr: pa.Array) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """Seconds (as a timestamp[s] array), the nanosecond fraction, and the validity mask."""
    unit = arr.type.unit
    raw = pc.cast(arr.cast(pa.timestamp(unit)), pa.int64()).to_numpy(zero_copy_only=False)
    valid = ~np.asarray(pc.is_null(arr).to_numpy(zero_copy_only=False))
    raw = np.where(valid, np.nan_to_num(raw, nan=0).astype("int64", copy=False), 0)
    per_second = _NANOS_PER_UNIT["s"] // _NANOS_PER_UNIT[unit]
    seconds, fraction = np.divmod(raw, per_second)
    nanos = fraction * _NANOS_PER_UNIT[unit]
    secs = pa.array(seconds, pa.timestamp("s"), mask=~valid)
    return secs, nanos, valid


def _fraction_text(nanos: np.ndarray, grouped: bool) -> pa.Array:
    """``.123`` style fractions; ``grouped`` pads to 3, 6 or 9 digits as ``java.time`` does."""
    padded = pc.utf8_lpad(pa.array(nanos).cast(pa.string()), 9, "0")
    if grouped:
        three = pc.utf8_slice_codeunits(padded, 0, 3)
        six = pc.utf8_slice_codeunits(padded, 0, 6)
        nine_or_six = pc.if_else(pa.array(nanos % 1000 == 0), six, padded)
        digits = pc.if_else(pa.array(nanos % 1_000_000 == 0), three, nine_or_six)
    else:
        digits = pc.utf8_rtrim(padded, "0")
    dotted = pc.binary_join_element_wise(".", digits, "")
    return pc.if_else(pa.array(nanos == 0), "", dotted)


def sql_timestamp_strings(arr: pa.Array, zero_fraction: str = "") -> pa.Array:
    """Flink csv/json's ``yyyy-MM-dd HH:mm:ss[.fff]``; a TIMESTAMP_LTZ gets a ``Z`` suffix.

    ``zero_fraction`` is printed when the fraction is zero (``.0`` for 1.11's
    ``java.sql.Timestamp.toString``).
    """
    secs, nanos, _ = _split_timestamp(arr)
    base = pc.strftime(secs, "%Y-%m-%d %H:%M:%S")
    fraction = _fraction_text(nanos, grouped=False)
    if zero_fraction:
        fraction = pc.if_else(pa.array(nanos == 0), zero_fraction, fraction)
    suffix = "Z" if arr.type.tz is not None else ""
    return pc.binary_join_element_wise(base, fraction, suffix, "")


def iso_timestamp_strings(arr: pa.Array) -> pa.Array:
    """``LocalDateTime.toString`` (``2024-01-02T03:04:05``, ``03:04`` when the seconds are zero)
    or, for TIMESTAMP_LTZ, ``Instant.toString`` (``2024-01-02T03:04:05Z``)."""
    secs, nanos, _ = _split_timestamp(arr)
    fraction = _fraction_text(nanos, grouped=True)
    if arr.type.tz is not None:
        whole = pc.strftime(secs, "%Y-%m-%dT%H:%M:%S")
        return pc.binary_join_element_wise(whole, fraction, "Z", "")
    minutes = pc.strftime(secs, "%Y-%m-%dT%H:%M")
    seconds = pc.binary_join_element_wise(":", pc.strftime(secs, "%S"), fraction, "")
    on_the_minute = pc.and_(pc.equal(pc.second(secs), 0), pa.array(nanos == 0))
    return pc.binary_join_element_wise(minutes, pc.if_else(on_the_minute, "", seconds), "")


def time_strings(arr: pa.Array, iso: bool) -> pa.Array:
    """TIME values: ``HH:mm:ss`` (csv) or ``LocalTime.toString`` (print: ``03:04`` when whole)."""
    as_ts = pc.cast(pc.cast(arr, pa.time64("ns")).cast(pa.int64()), pa.timestamp("ns"))
    if iso:
        full = iso_timestamp_strings(as_ts)
    else:
        full = pc.strftime(as_ts.cast(pa.timestamp("s"), safe=False), "%Y-%m-%d %H:%M:%S")
    return pc.utf8_slice_codeunits(full, 11, 64)
