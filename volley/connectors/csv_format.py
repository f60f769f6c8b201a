"""Reading Flink's csv format: no header, typed by the table schema, streamed in blocks.

The fast path is ``pyarrow.csv.open_csv`` with the column types taken from the schema, so a
10M-row file streams in blocks of ``BLOCK_SIZE`` bytes and never loads at once. When pyarrow
reports a malformed row, reading continues on the exact slow path (``csv_slow``) from the first
row not yet emitted, which names the line or skips the row.
"""

from __future__ import annotations

import io
import mmap
import os
from collections.abc import Callable, Iterator, Sequence

import pyarrow as pa
import pyarrow.csv as pacsv

from volley.connectors.csv_options import CsvSettings
from volley.connectors.csv_slow import tolerant_batches
from volley.connectors.csv_values import (
    FALSE_VALUES,
    TRUE_VALUES,
    apply_nulls,
    check_supported,
    parse_strings,
    read_as_string,
)
from volley.plan.types import RowType

BLOCK_SIZE = 8 << 20
#: Files up to this size are parsed whole (``read_csv``, blocks in parallel); larger ones stream.
WHOLE_FILE_BYTES = 64 << 20
#: A file parsed whole is cut into blocks this size for pyarrow's threads: with 8 MB blocks a
#: 25 MB file has too few to keep two cores busy (1 MB: 0.037 s where 8 MB take 0.052 s).
WHOLE_FILE_BLOCK_SIZE = 1 << 20


class CsvReader:
    """Reads csv files into batches of ``schema``; counts skipped malformed rows."""

    def __init__(self, schema: RowType, settings: CsvSettings) -> None:
        for f in schema.fields:
            check_supported(f.name, f.data_type)
        self.schema = schema
        self.settings = settings
        self.skipped_rows = 0
        self._arrow_schema = schema.to_arrow_schema()
        self._text_columns = [i for i, f in enumerate(schema.fields) if _needs_finish(f, settings)]

    def read(self, path: str, columns: Sequence[int] | None = None) -> Iterator[pa.RecordBatch]:
        """Batches of the columns ``columns``; pyarrow skips converting the others."""
        wanted = list(range(len(self.schema.fields))) if columns is None else list(columns)
        positions = list(dict.fromkeys(wanted))  # what is read: each column once
        reorder = None if positions == wanted else [positions.index(i) for i in wanted]

        emitted = 0
        skipped_fast = 0

        def on_invalid(_row: object) -> str:
            nonlocal skipped_fast
            skipped_fast += 1
            return "skip"

        handler = on_invalid if self.settings.ignore_parse_errors else None
        parsed = self._parsed(path, handler, positions)
        try:
            for batch in parsed:
                batch = self._finish(batch, positions)
                emitted += batch.num_rows
                yield batch if reorder is None else batch.select(reorder)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            parsed.close()  # the exact slow path takes over from the first row not yet emitted
            for batch in tolerant_batches(path, self.schema, self.settings, emitted, self._count):
                yield batch if columns is None else batch.select(wanted)
            return
        self.skipped_rows += skipped_fast

    def _count(self, n: int) -> None:
        self.skipped_rows += n

    def _parsed(
        self, path: str, on_invalid: Callable[[object], str] | None, positions: list[int]
    ) -> Iterator[pa.RecordBatch]:
        """pyarrow's batches of the file: parsed whole when it is small (pyarrow then parses
        its blocks in parallel), else streamed block by block so that it never loads at once."""
        size = os.path.getsize(path)
        if not self.settings.allow_comments and size <= WHOLE_FILE_BYTES:
            multiline = size > 0 and _may_hold_multiline_values(path, self.settings)
            options = self._options(on_invalid, positions, multiline, WHOLE_FILE_BLOCK_SIZE)
            yield from pacsv.read_csv(path, **options).to_batches()
            return
        options = self._options(on_invalid, positions)
        source = _CommentFilter(path) if self.settings.allow_comments else path
        reader = pacsv.open_csv(source, **options)
        try:
            yield from reader
        finally:
            reader.close()

    def _options(
        self, on_invalid: Callable[[object], str] | None, positions: list[int],
        multiline: bool = True, block_size: int | None = None,
    ) -> dict[str, object]:
        """pyarrow's options; ``multiline``: whether a value may span lines (pyarrow then
        cannot split the file at any newline, which costs a third of the parse time)."""
        s = self.settings
        types = {
            f.name: pa.string() if read_as_string(f.data_type) else f.data_type.to_arrow()
            for f in self.schema.fields
        }
        null_values = [""] if s.null_literal is None else sorted({"", s.null_literal})
        return dict(
            read_options=pacsv.ReadOptions(
                column_names=self.schema.names,
                autogenerate_column_names=False,
                block_size=block_size or BLOCK_SIZE,
                skip_rows=1 if s.ignore_first_line else 0,
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=s.delimiter,
                quote_char=s.quote_char or False,
                escape_char=s.escape_char or False,
                double_quote=True,
                newlines_in_values=multiline,
                ignore_empty_lines=True,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=types,
                null_values=null_values,
                true_values=TRUE_VALUES,
                false_values=FALSE_VALUES,
                strings_can_be_null=s.null_literal == "",
                quoted_strings_can_be_null=False,
                include_columns=[self.schema.names[i] for i in positions],
            ),
        )

    def _finish(self, batch: pa.RecordBatch, positions: list[int]) -> pa.RecordBatch:
        """Convert the columns pyarrow read as text; raises ArrowInvalid on a bad value.

        ``batch`` holds the schema's columns ``positions``, in that order."""
        text = [(j, i) for j, i in enumerate(positions) if i in self._text_columns]
        if not text:
            return batch
        arrays = list(batch.columns)
        for j, i in text:
            data_type = self.schema.fields[i].data_type
            strings = apply_nulls(arrays[j], data_type, self.settings)
            arrays[j] = parse_strings(strings, data_type, self.settings)
        schema = pa.schema([self._arrow_schema.field(i) for i in positions])
        return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _may_hold_multiline_values(path: str, settings: CsvSettings) -> bool:
    """Whether a value of the file at ``path`` (not empty: mmap cannot map nothing) could span
    lines: only a quoted or escaped one can, so a file without the quote and escape characters
    cannot. Looking costs one scan of the mapped file (~5 ms for 25 MB), much less than the
    multi-line parse it saves."""
    marks = [c.encode() for c in (settings.quote_char, settings.escape_char) if c]
    if not marks:
        return False
    with open(path, "rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return any(data.find(mark) >= 0 for mark in marks)


def _needs_finish(field, settings: CsvSettings) -> bool:
    if field.data_type.is_string:
        # pyarrow nulls '' itself when the literal is ''; any other literal is replaced here
        return settings.null_literal not in (None, "")
    return read_as_string(field.data_type)


class _CommentFilter(io.RawIOBase):
    """A file without its ``#`` comment lines (pyarrow.csv has no comment support)."""

    def __init__(self, path: str) -> None:
        self._file = open(path, "rb")  # noqa: SIM115 - closed in close()
        self._pending = b""
        self._tail = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        while not self._pending:
            chunk = self._file.read(1 << 20)
            if not chunk:
                self._pending, self._tail = self._tail, b""
                if self._pending.startswith(b"#"):
                    self._pending = b""
                break
            data = self._tail + chunk
            cut = data.rfind(b"\n") + 1
            self._tail = data[cut:]
            lines = data[:cut].splitlines(keepends=True)
            self._pending = b"".join(line for line in lines if not line.startswith(b"#"))
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def close(self) -> None:
        self._file.close()
        super().close()
