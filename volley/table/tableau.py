"""The tableau text that ``TableResult.print()`` shows, in PyFlink's layout."""

from __future__ import annotations

import datetime
import decimal
import unicodedata
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


#: Flink's PrintStyle.DEFAULT_MAX_COLUMN_WIDTH: longer values are cut and end in "..."
MAX_COLUMN_WIDTH = 30
_TRUNCATED = "..."


def print_tableau(row_type: RowType, batches: list[pa.RecordBatch], streaming: bool,
                  null_text: str = "<NULL>") -> None:
    """Rows as Flink's ``TableauStyle`` shows them; metadata results (DESCRIBE, SHOW) print
    NULL as an empty cell (``null_text=""``), as Flink does. A streaming result shows each
    row's kind (``op``) and sizes its columns by type, as Flink does for a result it prints
    while it arrives; a batch result sizes them by content. Either way a column is at most 30
    characters wide."""
    names = row_type.names
    width = len(names)
    rows: list[list[str]] = []
    for b in batches:
        cols = [b.column(i).to_pylist() for i in range(width)]
        kinds = b.column(width).to_pylist() if b.num_columns > width else [0] * b.num_rows
        for r in range(b.num_rows):
            cells = [format_value(cols[c][r], null_text) for c in range(width)]
            rows.append(([_KIND_TEXT[kinds[r]]] if streaming else []) + cells)
    if not rows:
        print("Empty set")
        return
    header = (["op"] if streaming else []) + names
    if streaming:
        widths = [2] + [max(len(n), _type_width(t), len(null_text) if null_text else 0)
                        for n, t in zip(names, row_type.types, strict=True)]
    else:
        widths = [min(MAX_COLUMN_WIDTH, max([_display_width(h)] + [_display_width(r[i])
                                                                    for r in rows]))
                  for i, h in enumerate(header)]
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    print(line)
    print(_tableau_row(header, widths))
    print(line)
    for cells in rows:
        print(_tableau_row(cells, widths))
    print(line)
    print(f"{len(rows)} row{'s' if len(rows) > 1 else ''} in set")


def _tableau_row(cells: list[str], widths: list[int]) -> str:
    parts = []
    for cell, width in zip(cells, widths, strict=True):
        shown = _display_width(cell)
        if shown <= width:
            parts.append(" " * (width - shown) + cell)
        else:
            parts.append(_truncate(cell, width - len(_TRUNCATED)) + _TRUNCATED)
    return "| " + " | ".join(parts) + " |"


def _type_width(t: Any) -> int:
    """Flink's ``TableauStyle.columnWidthsByType``: the widest value a type prints as."""
    name = t.type_name()
    fixed = {"TINYINT": 4, "SMALLINT": 6, "INT": 11, "BIGINT": 20, "BOOLEAN": 5, "DATE": 10}
    if name in fixed:
        return fixed[name]
    precision: int = getattr(t, "precision", 6)
    if name.startswith("DECIMAL"):
        return precision + 2
    if name.startswith("TIME("):
        return 8 if precision == 0 else precision + 9
    if name.startswith("TIMESTAMP"):
        return 19 if precision == 0 else 23 if precision <= 3 else 26 if precision <= 6 else 29
    return MAX_COLUMN_WIDTH


def _display_width(text: str) -> int:
    """Characters, East Asian wide and full-width ones counting twice (as Flink counts)."""
    return len(text) + sum(1 for ch in text if unicodedata.east_asian_width(ch) in ("F", "W"))


def _truncate(text: str, width: int) -> str:
    """The longest prefix of ``text`` at most ``width`` wide, padded on the left to it."""
    used, end = 0, 0
    for end, ch in enumerate(text):  # noqa: B007 - ``end`` is read after the loop
        used += 2 if unicodedata.east_asian_width(ch) in ("F", "W") else 1
        if used > width:
            break
    else:
        end = len(text)
    prefix = text[:end]
    return " " * max(0, width - _display_width(prefix)) + prefix
