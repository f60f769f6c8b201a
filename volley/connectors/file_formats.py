"""The formats the filesystem connector reads and writes, behind one small interface.

A format gives a reader (``read(path, columns, skip) -> batches``, ``skipped_rows``) for a table and a writer
(``write(batch)``, ``close()``) for one open file. The filesystem source and sink know nothing
else about formats.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import BinaryIO, Protocol

import pyarrow as pa

from volley.connectors.base import TableSpec
from volley.connectors.options import TableOptions
from volley.errors import ConnectorError

# Each format's modules are imported by the functions below when a table uses that format: a
# Parquet job does not load the CSV and JSON readers, nor a CSV job pyarrow.parquet.

FORMATS = ("csv", "json", "parquet")


class FormatReader(Protocol):
    skipped_rows: int

    def read(
        self, path: str, columns: Sequence[int] | None = None, skip: int = 0
    ) -> Iterator[pa.RecordBatch]:
        """The file's rows after its first ``skip`` (well-formed) ones, as batches of the
        schema's columns ``columns`` (None: all of them); a format that can skip the other
        columns while decoding should."""
        ...


class FormatWriter(Protocol):
    def write(self, batch: pa.RecordBatch) -> None: ...

    def close(self) -> None: ...


def check_format(spec: TableSpec, options: TableOptions) -> str:
    fmt = options.require("format")
    if fmt not in FORMATS:
        raise ConnectorError(
            f"unknown format {fmt!r} for table {spec.name!r}; expected one of: {', '.join(FORMATS)}"
        )
    return fmt


def format_options(fmt: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(known option keys, accepted key prefixes) of a format."""
    if fmt == "csv":
        from volley.connectors.csv_options import CSV_OPTIONS

        return CSV_OPTIONS, ()
    if fmt == "json":
        from volley.connectors.json_format import JSON_OPTIONS

        return JSON_OPTIONS, ()
    return (), ("parquet.",)


def make_reader(fmt: str, spec: TableSpec, options: TableOptions) -> FormatReader:
    if fmt == "csv":
        from volley.connectors.csv_format import CsvReader
        from volley.connectors.csv_options import CsvSettings

        return CsvReader(spec.schema, CsvSettings.from_options(options))
    if fmt == "json":
        from volley.connectors.json_format import JsonReader

        ignore = options.get_bool("json.ignore-parse-errors", False)
        hint = options.shown_key("json.ignore-parse-errors")
        return JsonReader(spec.schema, ignore, hint)
    from volley.connectors.parquet_format import ParquetReader

    return ParquetReader(spec.schema)


def make_writer(fmt: str, stream: BinaryIO, spec: TableSpec, options: TableOptions) -> FormatWriter:
    if fmt == "csv":
        from volley.connectors.csv_options import CsvSettings
        from volley.connectors.csv_writer import CsvWriter

        return CsvWriter(stream, spec.schema, CsvSettings.from_options(options))
    if fmt == "json":
        from volley.connectors.json_writer import JsonWriter

        return JsonWriter(stream, spec.schema)
    from volley.connectors.parquet_format import ParquetWriter

    compression = options.get_str("parquet.compression", "snappy") or "snappy"
    return ParquetWriter(stream, spec.schema, compression.lower())
