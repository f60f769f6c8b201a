"""The tableau text that ``TableResult.print()`` shows, in PyFlink's layout."""

from __future__ import annotations

import datetime
import decimal
from typing import Any

import pyarrow as pa

from volley.plan.types import RowType

_KIND_TEXT = ("+I", "-U", "+U", "-D")


def format_value(value: Any, null_text: str = "<NULL>") -> str:
    if value is None:
        return null_text
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        from volley.runtime.casts import java_float_strings  # Java's Double.toString

        return java_float_strings(pa.array([value], pa.float64()))[0].as_py()
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return "x'" + value.hex() + "'"
    if isinstance(value, list):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{format_value(k)}={format_value(v)}" for k, v in value.items()) + "}"
    return str(value)


def print_tableau(row_type: RowType, batches: list[pa.RecordBatch], streaming: bool,
                  null_text: str = "<NULL>") -> None:
    """Rows as Flink's tableau print style shows them; metadata results (DESCRIBE, SHOW) print
    NULL as an empty cell (``null_text=""``), as Flink does."""
    names = row_type.names
    width = len(names)
    rows: list[list[str]] = []
    for b in batches:
        cols = [b.column(i).to_pylist() for i in range(width)]
        kinds = b.column(width).to_pylist() if b.num_columns > width else [0] * b.num_rows
        for r in range(b.num_rows):
            cells = [format_value(cols[c][r], null_text) for c in range(width)]
            rows.append(([_KIND_TEXT[kinds[r]]] if streaming else []) + cells)
    header = (["op"] if streaming else []) + names
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    print(line)
    print("| " + " | ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print(line)
    for r in rows:
        print("| " + " | ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) + " |")
    if rows:
        print(line)
    if streaming:
        print(f"Received a total of {len(rows)} row{'s' if len(rows) != 1 else ''}")
    else:
        print(f"{len(rows)} row{'s' if len(rows) != 1 else ''} in set" if rows else "Empty set")
