"""The slow, exact csv path: runs only after pyarrow reported a malformed row.

pyarrow.csv says *that* a block failed ("invalid value 'abc'") but not on which line. This path
re-reads the file with Python's ``csv`` module, which knows line numbers, converts each column
with the same rules as the fast path (``csv_values``), and either raises ``MalformedRowError``
naming file, line, column and value, or skips the bad rows (``csv.ignore-parse-errors``) and
counts them. It is Python-speed, which is fine for a path that runs on bad data only.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator

import numpy as np
import pyarrow as pa

from volley.connectors.csv_options import CsvSettings
from volley.connectors.csv_values import apply_nulls, find_bad_values, parse_strings
from volley.errors import MalformedRowError
from volley.plan.types import RowType

CHUNK_ROWS = 65_536


def _records(path: str, settings: CsvSettings) -> Iterator[tuple[int, list[str]]]:
    """(1-based physical line number, fields) for every record that is not a comment or blank."""
    line_no = 0

    def lines(handle) -> Iterator[str]:
        nonlocal line_no
        for line in handle:
            line_no += 1
            if line_no == 1 and settings.ignore_first_line:
                continue
            if settings.allow_comments and line.startswith("#"):
                continue
            if not line.strip("\r\n"):
                continue
            yield line

    quoting = csv.QUOTE_MINIMAL if settings.quote_char else csv.QUOTE_NONE
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(
            lines(handle),
            delimiter=settings.delimiter,
            quotechar=settings.quote_char or '"',
            escapechar=settings.escape_char,
            quoting=quoting,
            doublequote=True,
            strict=False,
        )
        for fields in reader:
            yield line_no, fields


def _hint(settings: CsvSettings) -> str:
    return f"fix the row or set {settings.ignore_errors_key!r} = 'true' to skip malformed rows"


def tolerant_batches(
    path: str,
    schema: RowType,
    settings: CsvSettings,
    skip_valid: int,
    on_skipped: Callable[[int], None],
) -> Iterator[pa.RecordBatch]:
    """Batches of the well-formed rows after the first ``skip_valid`` of them.

    Malformed rows raise, unless ``settings.ignore_parse_errors``; then they are skipped and
    reported through ``on_skipped`` (all of them, including those before ``skip_valid``).
    """
    chunk: list[tuple[int, list[str]]] = []
    to_skip = skip_valid
    for record in _records(path, settings):
        chunk.append(record)
        if len(chunk) == CHUNK_ROWS:
            batch, to_skip = _convert_chunk(path, chunk, schema, settings, to_skip, on_skipped)
            chunk = []
            if batch is not None:
                yield batch
    if chunk:
        batch, _ = _convert_chunk(path, chunk, schema, settings, to_skip, on_skipped)
        if batch is not None:
            yield batch


def _convert_chunk(
    path: str,
    chunk: list[tuple[int, list[str]]],
    schema: RowType,
    settings: CsvSettings,
    to_skip: int,
    on_skipped: Callable[[int], None],
) -> tuple[pa.RecordBatch | None, int]:
    width = len(schema.fields)
    errors: dict[int, str] = {}  # row index in chunk -> error text
    for i, (_, fields) in enumerate(chunk):
        if len(fields) != width:
            errors[i] = (
                f"expected {width} fields, got {len(fields)}: {settings.delimiter.join(fields)!r}"
            )
    rows = [fields if len(fields) == width else [""] * width for _, fields in chunk]
    columns = []
    for j, field in enumerate(schema.fields):
        strings = apply_nulls(
            pa.array([r[j] for r in rows], pa.string()), field.data_type, settings
        )
        for i in find_bad_values(strings, field.data_type, settings):
            if i not in errors:
                type_name = field.data_type.type_name()
                errors[i] = f"column {field.name!r}: cannot parse {rows[i][j]!r} as {type_name}"
        columns.append(strings)
    if errors and not settings.ignore_parse_errors:
        first = min(errors)
        separator = ", " if errors[first].startswith("column") else ": "
        raise MalformedRowError(
            f"malformed row in {path!r} line {chunk[first][0]}{separator}{errors[first]}; "
            f"{_hint(settings)}"
        )
    if errors:
        on_skipped(len(errors))
    keep = np.ones(len(chunk), dtype=bool)
    keep[list(errors)] = False
    valid_positions = np.flatnonzero(keep)
    skipped_here = min(to_skip, len(valid_positions))
    keep[valid_positions[:skipped_here]] = False
    if not keep.any():
        return None, to_skip - skipped_here
    mask = pa.array(keep)
    arrays = [
        parse_strings(col.filter(mask), f.data_type, settings)
        for col, f in zip(columns, schema.fields, strict=True)
    ]
    return pa.RecordBatch.from_arrays(
        arrays, schema=schema.to_arrow_schema()
    ), to_skip - skipped_here
