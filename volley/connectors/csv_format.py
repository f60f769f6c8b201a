"""Reading Flink's csv format: no header, typed by the table schema, parsed by pyarrow.

The fast path is pyarrow's csv reader with the column types taken from the schema. A small file
is parsed whole; a large one a window of about ``WINDOW_BYTES`` at a time, so that it never loads
at once; a file whose values may span lines streams block by block (``open_csv``). When pyarrow
reports a malformed row, reading continues on the exact slow path (``csv_slow``) from the first
row not yet emitted, which names the line or skips the row. A resumed read (``skip``, a split
position) parses the file again and drops the rows it emitted before.
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
#: Larger files are parsed a window of about this many bytes at a time, each window whole.
WINDOW_BYTES = 32 << 20
#: A window's blocks (a batch each) hold about this many rows: a batch costs a stateful
#: operator downstream a fixed overhead, so 1 MB blocks of wide rows (5,500 Nexmark bids) made
#: q5 pay it four times as often as 4 MB ones (7.9 against 6.6 s); blocks of narrow rows stay
#: 1 MB (a streaming GROUP BY over 15-byte rows is 10% slower in 4 MB batches). Merging small
#: batches after parsing instead copied every column read (q0: +10%).
WINDOW_BLOCK_ROWS = 1 << 15
#: The bounds of a window's block size (8 MB: four blocks per window still keep two cores busy).
WINDOW_BLOCK_SIZE = (1 << 20, 8 << 20)


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
        # Only a quoted or escaped value can span lines: text without these cannot hold one.
        self._line_spanning_marks = [
            c.encode() for c in (settings.quote_char, settings.escape_char) if c
        ]

    def read(
        self, path: str, columns: Sequence[int] | None = None, skip: int = 0
    ) -> Iterator[pa.RecordBatch]:
        """Batches of the columns ``columns``; pyarrow skips converting the others. ``skip``
        (a resumed read): the first rows to leave out, parsed and dropped."""
        wanted = list(range(len(self.schema.fields))) if columns is None else list(columns)
        positions = list(dict.fromkeys(wanted))  # what is read: each column once
        reorder = None if positions == wanted else [positions.index(i) for i in wanted]

        parsed_rows = 0  # well-formed rows the fast path got through, dropped ones included
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
                first, parsed_rows = parsed_rows, parsed_rows + batch.num_rows
                if parsed_rows <= skip:
                    continue
                if first < skip:
                    batch = batch.slice(skip - first)
                yield batch if reorder is None else batch.select(reorder)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            parsed.close()  # the exact slow path takes over from the first row not yet emitted
            start = max(parsed_rows, skip)
            for batch in tolerant_batches(path, self.schema, self.settings, start, self._count):
                yield batch if columns is None else batch.select(wanted)
            return
        self.skipped_rows += skipped_fast

    def _count(self, n: int) -> None:
        self.skipped_rows += n

    def _parsed(
        self, path: str, on_invalid: Callable[[object], str] | None, positions: list[int]
    ) -> Iterator[pa.RecordBatch]:
        """pyarrow's batches of the file: parsed whole when it is small (pyarrow then parses
        its blocks in parallel), else a window at a time so that it never loads at once."""
        size = os.path.getsize(path)
        if self.settings.allow_comments:
            yield from _streamed(_CommentFilter(path), self._options(on_invalid, positions))
        elif size <= WHOLE_FILE_BYTES:
            multiline = size > 0 and self._may_hold_multiline_values(path)
            options = self._options(on_invalid, positions, multiline, WHOLE_FILE_BLOCK_SIZE)
            yield from pacsv.read_csv(path, **options).to_batches()
        else:
            yield from self._parsed_in_windows(path, size, on_invalid, positions)

    def _parsed_in_windows(
        self, path: str, size: int, on_invalid: Callable[[object], str] | None,
        positions: list[int],
    ) -> Iterator[pa.RecordBatch]:
        """A large file, a window at a time: each window ends at a line end and is parsed whole,
        its blocks on every core, where the streaming reader parses one block after another
        (10M rows, 260 MB: 0.37 against 0.70 s). A line end ends a row only if no value spans
        lines, which only a quoted or escaped value can; so from the first window holding the
        quote or escape character on, the rest of the file streams with multi-line parsing.

        pyarrow reads the windows in place from one memory map of the file (mapping each
        window anew costs a third more). Parsed windows' pages are unmapped from the process as
        it goes, so it does not count the whole file as its memory; the map itself is released
        when the last buffer pyarrow holds over it is, not closed here."""
        if size == 0:  # emptied since it was measured (and mmap cannot map nothing)
            return
        with open(path, "rb") as file:
            text = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        block_size = _block_size(text, size)
        start = 0
        while start < size:
            end = min(start + WINDOW_BYTES, size)
            if end < size:
                end = text.find(b"\n", end) + 1 or size
            first = start == 0
            if _holds_any(text, self._line_spanning_marks, start, end):
                options = self._options(on_invalid, positions, first_window=first)
                yield from _streamed(_from_offset(path, start), options)
                return
            options = self._options(on_invalid, positions, False, block_size,
                                    first_window=first)
            yield from pacsv.read_csv(_in_place(text, start, end), **options).to_batches()
            _unmap_pages(text, start, end)
            start = end

    def _may_hold_multiline_values(self, path: str) -> bool:
        """Whether a value of the file at ``path`` (not empty: mmap cannot map nothing) could
        span lines. Looking costs one scan of the mapped file (~5 ms for 25 MB), much less than
        the multi-line parse it saves."""
        if not self._line_spanning_marks:
            return False
        with open(path, "rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return _holds_any(data, self._line_spanning_marks)

    def _options(
        self, on_invalid: Callable[[object], str] | None, positions: list[int],
        multiline: bool = True, block_size: int | None = None, first_window: bool = True,
    ) -> dict[str, object]:
        """pyarrow's options; ``multiline``: whether a value may span lines (pyarrow then
        cannot split the file at any newline, which costs a third of the parse time);
        ``first_window``: whether the text parsed starts at the file's start (and so holds the
        line ``ignore-first-line`` skips)."""
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
                skip_rows=1 if s.ignore_first_line and first_window else 0,
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


def _streamed(source: object, options: dict[str, object]) -> Iterator[pa.RecordBatch]:
    """pyarrow's streaming reader over ``source``, block by block."""
    reader = pacsv.open_csv(source, **options)
    try:
        yield from reader
    finally:
        reader.close()


def _in_place(text: mmap.mmap, start: int, end: int) -> pa.BufferReader:
    """Bytes ``start:end`` of the mapped file, without a copy; the buffer keeps the map alive."""
    return pa.BufferReader(pa.py_buffer(memoryview(text)[start:end]))


def _from_offset(path: str, start: int) -> pa.NativeFile:
    """The file, read from byte ``start`` on (by reads, not mapped: a streamed rest of any
    length does not stay in the process's memory)."""
    file = pa.OSFile(path)
    file.seek(start)
    return file


def _unmap_pages(text: mmap.mmap, start: int, end: int) -> None:
    """Drop the process's mapping of ``text``'s pages in ``start:end`` (searched, now parsed):
    they stay in the page cache but no longer count as the process's memory."""
    advice = getattr(mmap, "MADV_DONTNEED", None)
    if advice is not None:
        first_page = start - start % mmap.PAGESIZE
        text.madvise(advice, first_page, end - first_page)


def _holds_any(text: mmap.mmap, marks: list[bytes], start: int = 0, end: int | None = None) -> bool:
    """Whether ``text[start:end]`` holds any of ``marks`` (a ``find`` per mark, no copy)."""
    end = len(text) if end is None else end
    return any(text.find(mark, start, end) >= 0 for mark in marks)


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


def _block_size(text: mmap.mmap, size: int) -> int:
    """The block size giving about WINDOW_BLOCK_ROWS rows a block, from the rows in the first
    64 KB of the file, within WINDOW_BLOCK_SIZE."""
    sample = min(size, 1 << 16)
    rows = max(1, text[:sample].count(b"\n"))
    low, high = WINDOW_BLOCK_SIZE
    return int(min(high, max(low, WINDOW_BLOCK_ROWS * sample // rows)))
