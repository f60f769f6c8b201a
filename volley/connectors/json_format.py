"""Reading Flink's json format: one JSON object per line, fields matched by name.

The fast path is ``pyarrow.json.open_json`` with an explicit schema (missing fields read as null,
unknown fields are ignored). Types pyarrow's JSON reader lacks are read as text and converted
afterwards (DATE, TIME, base64 BYTES); a schema with a MAP column is read with Python's ``json``.
On a malformed line the exact slow path takes over from the first row not yet emitted: it parses
chunks of lines and bisects a failing chunk to find the line, then raises or skips it. A resumed
read (``skip``, a split position) parses the file again and drops the rows it emitted before.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.json as pajson

from volley.connectors.text_parse import find_failures, parse_base64, parse_time
from volley.errors import MalformedRowError
from volley.plan.types import (
    ArrayType,
    BinaryType,
    DataType,
    DateType,
    MapType,
    RowType,
    TimeType,
    VarBinaryType,
)

BLOCK_SIZE = 8 << 20
CHUNK_LINES = 65_536
JSON_OPTIONS = (
    "json.ignore-parse-errors",
    "json.fail-on-missing-field",
    "json.timestamp-format.standard",
    "json.map-null-key.mode",
    "json.map-null-key.literal",
    "json.encode.decimal-as-plain-number",
    "json.encode.ignore-null-fields",
)


def _has_map(data_type: DataType) -> bool:
    if isinstance(data_type, MapType):
        return True
    if isinstance(data_type, ArrayType):
        return _has_map(data_type.element_type)
    if isinstance(data_type, RowType):
        return any(_has_map(f.data_type) for f in data_type.fields)
    return False


def _reading_type(data_type: DataType) -> pa.DataType:
    """The Arrow type pyarrow.json reads a field as (text where it cannot convert itself)."""
    if isinstance(data_type, (DateType, TimeType, BinaryType, VarBinaryType)):
        return pa.string()
    if isinstance(data_type, ArrayType):
        return pa.list_(_reading_type(data_type.element_type))
    if isinstance(data_type, RowType):
        return pa.struct([pa.field(f.name, _reading_type(f.data_type)) for f in data_type.fields])
    return data_type.to_arrow()


def _finish(arr: pa.Array, data_type: DataType) -> pa.Array:
    target = data_type.to_arrow()
    if arr.type == target:
        return arr
    if isinstance(data_type, TimeType) and pa.types.is_string(arr.type):
        return parse_time(arr, target)
    if isinstance(data_type, (BinaryType, VarBinaryType)):
        return parse_base64(arr)
    return arr.cast(target)


class JsonReader:
    """Reads JSON-lines files into batches of ``schema``; counts skipped malformed rows."""

    def __init__(self, schema: RowType, ignore_parse_errors: bool, hint_key: str) -> None:
        self.schema = schema
        self.ignore_parse_errors = ignore_parse_errors
        self.hint_key = hint_key
        self.skipped_rows = 0
        self._arrow_schema = schema.to_arrow_schema()
        self._read_schema = pa.schema(
            [pa.field(f.name, _reading_type(f.data_type)) for f in schema.fields]
        )
        self._python_only = any(_has_map(f.data_type) for f in schema.fields)

    def read(
        self, path: str, columns: Sequence[int] | None = None, skip: int = 0
    ) -> Iterator[pa.RecordBatch]:
        for batch in self._read_all(path, skip):
            yield batch if columns is None else batch.select(list(columns))

    def _read_all(self, path: str, skip: int) -> Iterator[pa.RecordBatch]:
        if self._python_only:
            yield from self._slow(path, skip)
            return
        parsed_rows = 0  # well-formed rows the fast path got through, dropped ones included
        try:
            reader = pajson.open_json(
                path,
                read_options=pajson.ReadOptions(block_size=BLOCK_SIZE),
                parse_options=self._parse_options(),
            )
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            yield from self._slow(path, skip)
            return
        while True:
            try:
                batch = self._finish_batch(reader.read_next_batch())
            except StopIteration:
                break
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                yield from self._slow(path, max(parsed_rows, skip))
                return
            first, parsed_rows = parsed_rows, parsed_rows + batch.num_rows
            if parsed_rows <= skip:
                continue
            yield batch.slice(skip - first) if first < skip else batch

    def _parse_options(self) -> pajson.ParseOptions:
        return pajson.ParseOptions(
            explicit_schema=self._read_schema, unexpected_field_behavior="ignore"
        )

    def _finish_batch(self, batch: pa.RecordBatch | pa.Table) -> pa.RecordBatch:
        arrays = []
        for f in self.schema.fields:
            column = batch.column(f.name)
            if isinstance(column, pa.ChunkedArray):
                column = column.combine_chunks()
            arrays.append(_finish(column, f.data_type))
        return pa.RecordBatch.from_arrays(arrays, schema=self._arrow_schema)

    # -- the slow path ---------------------------------------------------------------------------
    def _parse_lines(self, lines: list[bytes]) -> pa.RecordBatch:
        if self._python_only:
            return self._parse_python(lines)
        table = pajson.read_json(pa.py_buffer(b"".join(lines)), parse_options=self._parse_options())
        return self._finish_batch(table)

    def _parse_python(self, lines: list[bytes]) -> pa.RecordBatch:
        rows = [json.loads(line) for line in lines]
        if not all(isinstance(r, dict) for r in rows):
            raise ValueError("a line is not a JSON object")
        arrays = [
            _finish(pa.array([r.get(f.name) for r in rows], _python_type(f.data_type)), f.data_type)
            for f in self.schema.fields
        ]
        return pa.RecordBatch.from_arrays(arrays, schema=self._arrow_schema)

    def _slow(self, path: str, skip_valid: int) -> Iterator[pa.RecordBatch]:
        to_skip = skip_valid
        for numbers, lines in _line_chunks(path):
            batch, to_skip = self._convert_chunk(path, numbers, lines, to_skip)
            if batch is not None and batch.num_rows:
                yield batch

    def _convert_chunk(
        self, path: str, numbers: list[int], lines: list[bytes], to_skip: int
    ) -> tuple[pa.RecordBatch | None, int]:
        def attempt(start: int, stop: int) -> None:
            self._parse_lines(lines[start:stop])

        bad = find_failures(len(lines), attempt)
        if bad and not self.ignore_parse_errors:
            self._raise(path, numbers[bad[0]], lines[bad[0]])
        self.skipped_rows += len(bad)
        keep = np.ones(len(lines), dtype=bool)
        keep[bad] = False
        valid = np.flatnonzero(keep)
        skipped = min(to_skip, len(valid))
        keep[valid[:skipped]] = False
        kept = [line for line, k in zip(lines, keep, strict=True) if k]
        return (self._parse_lines(kept) if kept else None), to_skip - skipped

    def _raise(self, path: str, line_no: int, line: bytes) -> None:
        try:
            self._parse_lines([line])
            reason = "cannot parse the line"
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError, TypeError) as e:
            reason = str(e).splitlines()[0]
        text = line.decode("utf-8", "replace").rstrip("\r\n")
        raise MalformedRowError(
            f"malformed row in {path!r} line {line_no}: {reason} in {text[:200]!r}; "
            f"fix the row or set {self.hint_key!r} = 'true' to skip malformed rows"
        )


def _python_type(data_type: DataType) -> pa.DataType:
    """The Arrow type Python values from ``json.loads`` convert to before ``_finish``."""
    if isinstance(data_type, MapType):
        return pa.map_(_python_type(data_type.key_type), _python_type(data_type.value_type))
    if isinstance(data_type, ArrayType):
        return pa.list_(_python_type(data_type.element_type))
    if isinstance(data_type, RowType):
        return pa.struct([pa.field(f.name, _python_type(f.data_type)) for f in data_type.fields])
    if data_type.is_temporal:  # json.loads leaves them as text; Arrow casts text to time
        return pa.string()
    return _reading_type(data_type)


def _line_chunks(path: str) -> Iterator[tuple[list[int], list[bytes]]]:
    numbers: list[int] = []
    lines: list[bytes] = []
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            numbers.append(number)
            lines.append(line if line.endswith(b"\n") else line + b"\n")
            if len(lines) == CHUNK_LINES:
                yield numbers, lines
                numbers, lines = [], []
    if lines:
        yield numbers, lines
