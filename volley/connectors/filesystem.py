"""Flink's filesystem connector: csv, json and parquet files in a local directory or file.

Source: ``path`` is a file or a directory; a directory is read recursively, in sorted order,
skipping hidden names (``.``/``_`` prefixes, such as in-progress files and ``_SUCCESS``). Each
file is a split, named by its path relative to ``path``; a split's position is the number of the
file's rows emitted, and a resumed read skips that many.

Sink (``filesystem_sink``): ``path`` is a directory that receives part files named as Flink names
them, ``part-<uuid>-<subtask>-<n>``, rolled at ``sink.rolling-policy.file-size``. Parts are
written hidden and published by ``commit`` when the checkpoint covering them completes, so readers
never see half a file nor one a restored job will write again. A table declared with 1.11-era
options instead gets ONE file at ``path``, as 1.11's CSV sink wrote (the seed program ``cat``s it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa

from volley.connectors.base import ConnectorFactory, SourceSplit, TableSource, TableSpec
from volley.connectors.file_formats import FormatReader, check_format, format_options, make_reader
from volley.connectors.options import TableOptions
from volley.errors import ConnectorError, UnsupportedFeatureError
from volley.plan.types import RowField, RowType

FILESYSTEM_OPTIONS = ("connector", "path", "format")
FILESYSTEM_PREFIXES = (
    "source.",
    "sink.",
    "partition.",
    "streaming-source.",
    "auto-compaction",
    "compaction.",
)


def list_files(path: str) -> list[str]:
    """Every non-hidden file at or below ``path``, in sorted order."""
    if os.path.isfile(path):
        return [path]
    found = []
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        found.extend(os.path.join(root, f) for f in files if not f.startswith((".", "_")))
    return sorted(found)


class FileSystemSource(TableSource):
    """One split per file, in sorted order; a split's position is the number of the file's rows
    already emitted (a resumed read skips that many)."""

    bounded = True

    def __init__(self, spec: TableSpec, path: str, reader: FormatReader) -> None:
        self.spec = spec
        self.path = path
        self._reader = reader

    @property
    def schema(self) -> RowType:
        return self.spec.schema

    @property
    def skipped_rows(self) -> int:
        """Malformed rows skipped so far (with ``<format>.ignore-parse-errors``), counting those
        a resumed read parses again."""
        return self._reader.skipped_rows

    def splits(self, parallelism: int = 1) -> list[SourceSplit]:
        """A split per file (the same for every parallelism); its id is the file's path relative
        to the table's 'path' (the file name when 'path' is a file)."""
        if not os.path.exists(self.path):
            raise ConnectorError(
                f"path {self.path!r} of table {self.spec.name!r} does not exist; expected a file "
                "or a directory; check the 'path' option"
            )
        if os.path.isfile(self.path):
            return [SourceSplit(os.path.basename(self.path), (self.path,))]
        return [SourceSplit(os.path.relpath(f, self.path), (f,)) for f in list_files(self.path)]

    def read_split(
        self,
        split: SourceSplit,
        position: Any | None = None,
        columns: Sequence[int] | None = None,
    ) -> Iterator[tuple[pa.RecordBatch, int]]:
        (file,) = split.info
        if not os.path.isfile(file):
            raise ConnectorError(
                f"file {file!r} of table {self.spec.name!r} is gone; expected the files of "
                f"{self.path!r} to stay while a job reads them (split {split.split_id!r})"
            )
        emitted = int(position or 0)
        for batch in self._reader.read(file, columns, emitted):
            emitted += batch.num_rows
            yield batch, emitted

    def projected_schema(self, columns: Sequence[int]) -> RowType:
        fields: tuple[RowField, ...] = tuple(self.spec.schema.fields[i] for i in columns)
        return RowType(fields)


class FileSystemFactory(ConnectorFactory):
    identifier = "filesystem"

    def _prepare(self, spec: TableSpec) -> tuple[TableOptions, str, str]:
        options = TableOptions(spec)
        path = options.require("path")
        fmt = check_format(spec, options)
        known, prefixes = format_options(fmt)
        options.check_known(FILESYSTEM_OPTIONS + known, FILESYSTEM_PREFIXES + prefixes)
        if spec.partition_keys:
            raise UnsupportedFeatureError(
                f"table {spec.name!r} is partitioned by {list(spec.partition_keys)}; the "
                "filesystem connector does not write or read partition directories yet; "
                "expected an unpartitioned table; drop PARTITIONED BY"
            )
        return options, path, fmt

    def create_source(self, spec: TableSpec) -> FileSystemSource:
        options, path, fmt = self._prepare(spec)
        return FileSystemSource(spec, path, make_reader(fmt, spec, options))

    def create_sink(self, spec: TableSpec) -> Any:
        from volley.connectors.filesystem_sink import FileSystemSink  # a reading job skips it

        options, path, fmt = self._prepare(spec)
        return FileSystemSink(spec, path, fmt, options)
