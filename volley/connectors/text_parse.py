"""Text to Arrow values for the types Arrow's string cast does not cover the way Flink writes them.

Shared by the csv and json formats: TIME (``03:04:05``), base64 BYTES, and a bisection that finds
the few values in a column that fail to convert.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc


def parse_time(strings: pa.Array, target: pa.DataType) -> pa.Array:
    """``HH:mm:ss[.fff]`` text to a time32/time64 array (Arrow cannot cast text to time)."""
    stamped = pc.binary_join_element_wise("1970-01-01 ", strings, "")
    as_ts = stamped.cast(pa.timestamp("ns"))
    return as_ts.cast(pa.time64("ns")).cast(target, safe=False)


def parse_base64(strings: pa.Array) -> pa.Array:
    """Flink's csv and json formats carry BYTES as base64 text."""
    out = []
    for text in strings.to_pylist():
        if text is None:
            out.append(None)
            continue
        try:
            out.append(base64.b64decode(text, validate=True))
        except (binascii.Error, ValueError):
            raise pa.ArrowInvalid(f"invalid base64 {text!r}") from None
    return pa.array(out, pa.binary())


def find_failures(count: int, attempt: Callable[[int, int], object]) -> list[int]:
    """Indices ``i`` in ``range(count)`` where ``attempt(i, i + 1)`` fails, found by bisection:
    a handful of failing calls per bad index instead of one call per index."""
    bad: list[int] = []

    def visit(start: int, stop: int) -> None:
        try:
            attempt(start, stop)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError, TypeError):
            if stop - start == 1:
                bad.append(start)
                return
            middle = (start + stop) // 2
            visit(start, middle)
            visit(middle, stop)

    if count:
        visit(0, count)
    return bad
