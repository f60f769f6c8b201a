"""Flink's filesystem connector: csv, json and parquet files in a local directory or file.

Source: ``path`` is a file or a directory; a directory is read recursively, in sorted order,
skipping hidden names (``.``/``_`` prefixes, such as in-progress files and ``_SUCCESS``). Each
file is a split, named by its path relative to ``path``; a split's position is the number of the
file's rows emitted, and a resumed read skips that many.

With ``source.monitor-interval`` (Flink's continuous file monitoring) the source never ends: it
lists ``path`` again every interval and reads each file it has not read yet, once, in sorted
order of discovery (a file is known by its path; files that change after they were read are not
read again). It is one split whatever the parallelism; its position is the set of files read so
far plus the file being read and the rows of it emitted, so a restored job reads neither a file
nor a row twice.

Sink (``filesystem_sink``): ``path`` is a directory that receives part files named as Flink names
them, ``part-<uuid>-<subtask>-<n>``, rolled at ``sink.rolling-policy.file-size``. Parts are
written hidden and published by ``commit`` when the checkpoint covering them completes, so readers
never see half a file nor one a restored job will write again. A table declared with 1.11-era
options instead gets ONE file at ``path``, as 1.11's CSV sink wrote (the seed program ``cat``s it).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa

from volley.connectors.base import ConnectorFactory, SourceSplit, TableSource, TableSpec
from volley.connectors.file_formats import FormatReader, check_format, format_options, make_reader
from volley.connectors.options import TableOptions
from volley.errors import ConnectorError, UnsupportedFeatureError
from volley.plan.types import RowField, RowType

MONITOR_INTERVAL = "source.monitor-interval"
#: ``source.report-statistics`` only feeds Flink's cost-based optimizer, which Volley has not
FILESYSTEM_OPTIONS = ("connector", "path", "format", MONITOR_INTERVAL, "source.report-statistics")
FILESYSTEM_PREFIXES = (
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


class MonitoredFileSystemSource(FileSystemSource):
    """``source.monitor-interval``: an unbounded source of the files appearing under ``path``
    (see the module docstring). Its one split's position is ``{"read": [paths...], "file":
    path or None, "rows": rows of it emitted}`` (paths relative to ``path``)."""

    bounded = False

    def __init__(self, spec: TableSpec, path: str, reader: FormatReader,
                 interval_ms: int) -> None:
        super().__init__(spec, path, reader)
        self.interval_ms = interval_ms

    def splits(self, parallelism: int = 1) -> list[SourceSplit]:
        """One split: which files are new is known only where the directory is listed."""
        if not os.path.exists(self.path):
            raise ConnectorError(
                f"path {self.path!r} of table {self.spec.name!r} does not exist; expected a "
                f"directory to monitor for new files ({MONITOR_INTERVAL!r}); create it first"
            )
        return [SourceSplit(f"monitor:{os.path.basename(os.path.normpath(self.path))}",
                            (self.path,))]

    def _listing(self) -> list[str]:
        """The files under ``path`` now, relative to it (none while it does not exist)."""
        if os.path.isfile(self.path):
            return [os.path.basename(self.path)]
        if not os.path.isdir(self.path):
            return []
        return [os.path.relpath(f, self.path) for f in list_files(self.path)]

    def _file(self, name: str) -> str:
        return self.path if os.path.isfile(self.path) else os.path.join(self.path, name)

    def read_split(
        self,
        split: SourceSplit,
        position: Any | None = None,
        columns: Sequence[int] | None = None,
    ) -> Iterator[tuple[pa.RecordBatch, Any]]:
        """Endless: the files not read yet, each once, then a pause of the monitor interval
        before the next listing. An empty batch marks each finished file (its position)."""
        position = position or {}
        read: tuple[str, ...] = tuple(position.get("read", ()))
        seen = set(read)
        current, rows = position.get("file"), int(position.get("rows", 0))
        empty = pa.RecordBatch.from_pylist([], schema=self._schema(columns))
        while True:
            todo = [current] if current is not None else []
            todo += [f for f in self._listing() if f not in seen and f != current]
            for name in todo:
                emitted = rows if name == current else 0
                for batch in self._reader.read(self._file(name), columns, emitted):
                    emitted += batch.num_rows
                    yield batch, {"read": read, "file": name, "rows": emitted}
                read = (*read, name)
                seen.add(name)
                current, rows = None, 0
                yield empty, {"read": read, "file": None, "rows": 0}
            time.sleep(self.interval_ms / 1000)

    def _schema(self, columns: Sequence[int] | None) -> pa.Schema:
        schema = self.spec.schema.to_arrow_schema()
        return schema if columns is None else pa.schema([schema.field(i) for i in columns])


def _interval_ms(spec: TableSpec, options: TableOptions, text: str) -> int:
    from volley.common.durations import parse_duration_ms
    from volley.errors import ConfigurationError

    key = options.shown_key(MONITOR_INTERVAL)
    try:
        interval = parse_duration_ms(text, key)
    except ConfigurationError as error:
        raise ConnectorError(f"{error} (table {spec.name!r})") from None
    if interval <= 0:
        raise ConnectorError(
            f"option {key!r} of table {spec.name!r} must be positive; expected e.g. '10 s', got "
            f"{text!r}; leave it out to read the files once"
        )
    return interval


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
        interval = options.get_str(MONITOR_INTERVAL)
        if interval is not None:
            return MonitoredFileSystemSource(spec, path, make_reader(fmt, spec, options),
                                             _interval_ms(spec, options, interval))
        return FileSystemSource(spec, path, make_reader(fmt, spec, options))

    def create_sink(self, spec: TableSpec) -> Any:
        from volley.connectors.filesystem_sink import FileSystemSink  # a reading job skips it

        options, path, fmt = self._prepare(spec)
        return FileSystemSink(spec, path, fmt, options)
