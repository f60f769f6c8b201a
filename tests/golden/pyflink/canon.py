"""Canonical, JSON-able form of result cells (stdlib only).

Used both when recording golden outputs from real PyFlink and when comparing
Volley's results against them, so both sides go through the exact same
normalisation.  Must not import pyflink or volley.
"""

from __future__ import annotations

import datetime
import decimal
import json
import math
from typing import Any

__all__ = ["canon", "canon_row", "sort_rows", "row_sort_key"]


def _canon_float(v: float) -> Any:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    r = float(f"{v:.10g}")
    if r == 0.0:
        # -0.0 and 0.0 compare equal; keep a single canonical spelling.
        r = 0.0
    return r


def _is_row_like(v: Any) -> bool:
    if isinstance(v, (str, bytes, bytearray, dict)):
        return False
    return hasattr(v, "_fields") or hasattr(v, "as_dict")


def canon(value: Any) -> Any:
    """Turn one result cell (or nested value) into a canonical JSON-able value.

    None -> None; bool -> bool; int -> int; float -> float rounded to 10
    significant digits (NaN/Infinity/-Infinity as strings, -0.0 as 0.0);
    Decimal -> str (keeps the scale, e.g. "3.50"); str -> str;
    bytes -> "0x" + hex; datetime/date/time -> isoformat();
    timedelta -> total milliseconds (int); list/tuple/Row -> list of canon;
    dict -> {str(k): canon(v)} with sorted keys.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return _canon_float(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "0x" + bytes(value).hex()
    # datetime.datetime is a subclass of datetime.date: both use isoformat().
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.days * 86_400_000 + value.seconds * 1000 + value.microseconds // 1000
    if isinstance(value, dict):
        return {str(k): canon(value[k]) for k in sorted(value, key=lambda k: str(k))}
    if _is_row_like(value):
        return [canon(v) for v in list(value)]
    if isinstance(value, (list, tuple)):
        return [canon(v) for v in value]
    # numpy scalars and similar: use their Python equivalent when available.
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return canon(item())
        except Exception:  # pragma: no cover - defensive
            pass
    if hasattr(value, "__iter__"):
        return [canon(v) for v in value]
    raise TypeError(f"canon: unsupported value {value!r} of type {type(value).__name__}")


def canon_row(row: Any) -> list:
    """Canonical form of one result row (a Row, tuple or list) as a list."""
    if _is_row_like(row) or isinstance(row, (list, tuple)):
        return [canon(v) for v in list(row)]
    return [canon(row)]


def row_sort_key(row: Any) -> str:
    return json.dumps(row, sort_keys=True)


def sort_rows(rows: list) -> list:
    """Sort canonical rows by their JSON spelling (order-insensitive compare)."""
    return sorted(rows, key=row_sort_key)
