"""Flink's filesystem connector: csv, json and parquet files in a local directory or file.

Source: ``path`` is a file or a directory; a directory is read recursively, in sorted order,
skipping hidden names (``.``/``_`` prefixes, such as in-progress files and ``_SUCCESS``).

Sink: ``path`` is a directory that receives part files named as Flink names them,
``part-<uuid>-<subtask>-<n>``, rolled at ``sink.rolling-policy.file-size``. Each part is written
as a hidden ``.part-...inprogress`` file and renamed at ``finish``, so readers never see half a
file. A table declared with 1.11-era options instead gets ONE file at ``path``, as 1.11's CSV
sink wrote (the seed program ``cat``s it).
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator, Sequence

import pyarrow as pa

from volley.connectors.base import ConnectorFactory, TableSink, TableSource, TableSpec
from volley.connectors.conform import conform_batch
from volley.connectors.file_formats import (
    FormatReader,
    FormatWriter,
    check_format,
    format_options,
    make_reader,
    make_writer,
)
from volley.connectors.options import TableOptions
from volley.connectors.registry import LEGACY_MARKER
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
DEFAULT_ROLLING_SIZE = 128 << 20


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
        """Malformed rows skipped so far (with ``<format>.ignore-parse-errors``)."""
        return self._reader.skipped_rows

    def batches(self, columns: Sequence[int] | None = None) -> Iterator[pa.RecordBatch]:
        if not os.path.exists(self.path):
            raise ConnectorError(
                f"path {self.path!r} of table {self.spec.name!r} does not exist; expected a file "
                "or a directory; check the 'path' option"
            )
        for file in list_files(self.path):
            yield from self._reader.read(file, columns)

    def projected_schema(self, columns: Sequence[int]) -> RowType:
        fields: tuple[RowField, ...] = tuple(self.spec.schema.fields[i] for i in columns)
        return RowType(fields)


class _PartFile:
    """One file being written: a hidden in-progress name, published by rename."""

    def __init__(self, final_path: str, hidden_path: str) -> None:
        self.final_path = final_path
        self.hidden_path = hidden_path
        self.stream = open(hidden_path, "wb")  # noqa: SIM115 - closed in publish()

    def publish(self, writer: FormatWriter) -> None:
        writer.close()
        self.stream.close()
        os.replace(self.hidden_path, self.final_path)


class FileSystemSink(TableSink):
    """Writes part files (or, for a legacy table, one file) in the table's format."""

    def __init__(self, spec: TableSpec, path: str, fmt: str, options: TableOptions) -> None:
        self.spec = spec
        self.path = path
        self.fmt = fmt
        self.options = options
        self.single_file = options.get_bool(LEGACY_MARKER, False)
        self.rolling_size = _memory_size(options, "sink.rolling-policy.file-size")
        self.subtask_index = 0
        self._uuid = str(uuid.uuid4())
        self._counter = 0
        self._target = spec.schema.to_arrow_schema()
        self._current: tuple[_PartFile, FormatWriter] | None = None
        self._opened = False
        self.published: list[str] = []

    def open(self) -> None:
        self._opened = True
        if self.single_file:
            if os.path.isdir(self.path):
                raise ConnectorError(
                    f"table {self.spec.name!r} writes one file at {self.path!r}, but that is a "
                    "directory; expected a file path; remove the directory or use the modern "
                    "'connector' = 'filesystem' options, which write part files into a directory"
                )
            os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        else:
            if os.path.isfile(self.path):
                raise ConnectorError(
                    f"table {self.spec.name!r} writes part files into the directory "
                    f"{self.path!r}, but that is a file; expected a directory path"
                )
            os.makedirs(self.path, exist_ok=True)

    def write(self, batch: pa.RecordBatch) -> None:
        batch = conform_batch(batch, self._target, self.spec.name)
        if batch.num_rows == 0 and self._current is not None:
            return
        part, writer = self._current or self._start_part()
        writer.write(batch)
        if not self.single_file and part.stream.tell() >= self.rolling_size:
            self._publish()

    def finish(self) -> None:
        if self._current is None and self.single_file:
            self._start_part()  # 1.11 left an empty file for an empty result
        self._publish()

    def _start_part(self) -> tuple[_PartFile, FormatWriter]:
        if not self._opened:  # a caller that skipped open(): do it now rather than fail
            self.open()
        if self.single_file:
            directory, name = os.path.split(os.path.abspath(self.path))
            part = _PartFile(self.path, os.path.join(directory, f".{name}.{self._uuid}.inprogress"))
        else:
            name = f"part-{self._uuid}-{self.subtask_index}-{self._counter}"
            self._counter += 1
            part = _PartFile(
                os.path.join(self.path, name), os.path.join(self.path, f".{name}.inprogress")
            )
        writer = make_writer(self.fmt, part.stream, self.spec, self.options)
        self._current = (part, writer)
        return self._current

    def _publish(self) -> None:
        if self._current is not None:
            part, writer = self._current
            part.publish(writer)
            self.published.append(part.final_path)
            self._current = None


def _memory_size(options: TableOptions, key: str) -> int:
    """Flink memory sizes: ``128MB``, ``1 kb``, ``1048576``."""
    value = options.get_str(key)
    if value is None:
        return DEFAULT_ROLLING_SIZE
    match = re.fullmatch(r"\s*(\d+)\s*([kmgt]?)(?:i?b|bytes?)?\s*", value.lower())
    if not match:
        raise ConnectorError(
            f"option {key!r} of table {options.spec.name!r} is not a memory size; "
            f"expected e.g. '128MB' or '1024', got {value!r}"
        )
    power = " kmgt".index(match.group(2) or " ")
    return int(match.group(1)) << (10 * power)


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

    def create_sink(self, spec: TableSpec) -> FileSystemSink:
        options, path, fmt = self._prepare(spec)
        return FileSystemSink(spec, path, fmt, options)
