"""The filesystem connector's sink: part files that become visible when a checkpoint commits.

Each subtask writes part files named as Flink names them, ``part-<uuid>-<subtask>-<n>``, into the
table's directory: ``uuid`` is random per sink object (a restored job's sink gets a new one),
``n`` counts the object's files. A part is written under the hidden name
``.part-<uuid>-<subtask>-<n>.inprogress`` (readers skip names starting with ``.``) and is
*in progress* while it takes rows, *pending* once closed (rolled at
``sink.rolling-policy.file-size``, or closed by ``prepare_commit``), and *published* when
``commit`` renames it to its final name. A committable is ``{"hidden": <hidden name>,
"final": <final name>}``, names relative to the table's directory.

``commit`` is idempotent: a committable whose hidden file is gone but whose final file exists
was committed already (by an earlier call, or by a commit that crashed half-way).

``abort(keep)`` deletes this subtask's hidden part files that ``keep`` does not name: files named
``.part-<uuid>-<subtask>-<n>.inprogress`` exactly, with this subtask's index. Only this connector
names files so, and while a job writes a directory no other writer may use it (as in Flink), so
such a file is a leftover of this subtask: in progress or pending in this or an earlier, failed
attempt. Published files, the user's files and other subtasks' files are never touched. (After a
restore at a lower parallelism, the leftovers of subtasks that no longer exist stay, hidden.)

A table declared with 1.11-era options instead gets ONE file at ``path``, as 1.11's CSV sink
wrote (the seed program ``cat``s it), written as the hidden ``.<name>.<uuid>.inprogress`` next to
it. It can be published once only, at the end of input, so it needs parallelism 1:
``prepare_commit`` before ``end_input`` flushes the file and returns ``{"hidden", "final",
"length": <bytes so far>, "complete": false}``, which ``commit`` leaves unpublished; after
``end_input`` it closes the file and returns ``"complete": true``, which ``commit`` publishes.
When a job restores, ``abort(keep)`` truncates the hidden file a kept incomplete committable
names to its checkpointed length and the sink goes on appending to it (csv and json only: a
parquet file cannot be appended to after its footer).
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Iterable
from typing import BinaryIO

import pyarrow as pa

from volley.connectors.base import TableSink, TableSpec
from volley.connectors.conform import conform_batch
from volley.connectors.file_formats import FormatWriter, make_writer
from volley.connectors.options import TableOptions
from volley.connectors.registry import LEGACY_MARKER
from volley.errors import ConnectorError

DEFAULT_ROLLING_SIZE = 128 << 20
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
#: The hidden name of a part file; group 1 is the subtask index.
HIDDEN_PART = re.compile(rf"\.part-{_UUID}-(\d+)-\d+\.inprogress")


class _OpenFile:
    """A hidden file taking rows through a format writer."""

    def __init__(self, sink: FileSystemSink, hidden: str, final: str, at: int | None = None):
        self.hidden = hidden
        self.final = final
        path = os.path.join(sink.directory, hidden)
        self.stream: BinaryIO
        if at is None:
            self.stream = open(path, "wb")  # noqa: SIM115 - closed in close()/discard()
        else:  # a restored legacy file: cut what the checkpoint did not cover, append after it
            self.stream = open(path, "r+b")  # noqa: SIM115 - closed in close()/discard()
            self.stream.truncate(at)
            self.stream.seek(at)
        self.writer: FormatWriter = make_writer(sink.fmt, self.stream, sink.spec, sink.options)

    def size(self) -> int:
        return self.stream.tell()

    def flush(self) -> None:
        """Make what was written durable (a checkpoint will name it)."""
        self.stream.flush()
        os.fsync(self.stream.fileno())

    def close(self) -> None:
        self.writer.close()  # a bulk format writes its footer here
        self.flush()
        self.stream.close()

    def discard(self) -> None:
        """Close without caring whether the content is complete (the file is being dropped)."""
        try:
            self.writer.close()
        except Exception:  # noqa: BLE001 - the writer may be broken by the failure being handled
            pass
        self.stream.close()


class FileSystemSink(TableSink):
    """Writes part files (or, for a legacy table, one file) in the table's format."""

    transactional = True

    def __init__(self, spec: TableSpec, path: str, fmt: str, options: TableOptions) -> None:
        self.spec = spec
        self.path = path
        self.fmt = fmt
        self.options = options
        self.single_file = options.get_bool(LEGACY_MARKER, False)
        self.rolling_size = _memory_size(options, "sink.rolling-policy.file-size")
        self.subtask_index = 0
        self.parallelism = 1
        self._uuid = str(uuid.uuid4())
        self._owner_tag: str | None = None  # set by open(owner=...)
        self._counter = 0
        self._target = spec.schema.to_arrow_schema()
        self._current: _OpenFile | None = None
        self._pending: list[dict] = []  # closed since the last prepare_commit
        self._opened = False
        self._ended = False
        self.published: list[str] = []
        #: INSERT OVERWRITE: the table's files when the sink opened, deleted at its commit
        self.overwrite = options.get_bool("volley.overwrite", False)
        self._replaced: list[str] | None = None

    @property
    def directory(self) -> str:
        """Where this sink's files go: the table's directory, or the legacy file's."""
        if self.single_file:
            return os.path.dirname(os.path.abspath(self.path))
        return self.path

    def open(self, subtask_index: int = 0, parallelism: int = 1,
             owner: str | None = None) -> None:
        self.subtask_index, self.parallelism = subtask_index, parallelism
        if owner is not None:
            # the uuid's first group names the sink, so that abort() leaves alone what another
            # sink writing into the same directory has pending
            tag = hashlib.sha1(owner.encode()).hexdigest()[:8]
            self._uuid = tag + self._uuid[8:]
        self._owner_tag = None if owner is None else self._uuid[:8]
        self._opened = True
        if self.single_file:
            if os.path.isdir(self.path):
                raise ConnectorError(
                    f"table {self.spec.name!r} writes one file at {self.path!r}, but that is a "
                    "directory; expected a file path; remove the directory or use the modern "
                    "'connector' = 'filesystem' options, which write part files into a directory"
                )
            if parallelism != 1:
                raise ConnectorError(
                    f"table {self.spec.name!r} writes one file at {self.path!r}, which one "
                    f"subtask only can write; expected parallelism 1, got {parallelism}; use the "
                    "modern 'connector' = 'filesystem' options, which write a part file per subtask"
                )
        elif os.path.isfile(self.path):
            raise ConnectorError(
                f"table {self.spec.name!r} writes part files into the directory "
                f"{self.path!r}, but that is a file; expected a directory path"
            )
        os.makedirs(self.directory, exist_ok=True)
        if self.overwrite and not self.single_file:
            self._replaced = _visible_files(self.directory)

    def write(self, batch: pa.RecordBatch) -> None:
        batch = conform_batch(batch, self._target, self.spec.name)
        if batch.num_rows == 0 and self._current is not None:
            return
        current = self._current or self._start()
        current.writer.write(batch)
        if not self.single_file and current.size() >= self.rolling_size:
            self._close_current()

    def end_input(self) -> None:
        self._ended = True
        if self.single_file and self._current is None:
            self._start()  # 1.11 left an empty file for an empty result

    def prepare_commit(self) -> list[dict]:
        if self.single_file:
            return self._prepare_single_file()
        self._close_current()
        committables, self._pending = self._pending, []
        return committables

    def commit(self, committables: list[dict]) -> None:
        """Publish ``committables``; INSERT OVERWRITE first deletes the files the table held when
        the sink opened (once; a file already gone is skipped, as another subtask's commit may
        have deleted it). The replaced rows stay visible until the new ones are published."""
        if self._replaced is not None:
            for path in self._replaced:
                try:
                    os.remove(path)
                except FileNotFoundError:
                    pass
            self._replaced = None
        for c in committables:
            if self.single_file and not c.get("complete", False):
                continue  # the legacy file is published at the end of input only
            hidden = os.path.join(self.directory, c["hidden"])
            final = os.path.join(self.directory, c["final"])
            try:
                os.replace(hidden, final)
            except FileNotFoundError:
                if not os.path.exists(final):
                    raise ConnectorError(
                        f"cannot commit {final!r} of table {self.spec.name!r}: neither it nor its "
                        f"in-progress file {hidden!r} exists; expected the file a checkpoint of "
                        "this sink named; it was deleted, or the table's 'path' changed"
                    ) from None
                # gone and published: an earlier commit did it
            self.published.append(final)

    def abort(self, keep: Iterable[dict] = ()) -> None:
        keep = list(keep)
        if self._current is not None:
            self._current.discard()
            self._current = None
        self._pending = []
        kept = {c["hidden"] for c in keep}
        for name in self._own_hidden_files():
            if name not in kept:
                try:
                    os.remove(os.path.join(self.directory, name))
                except FileNotFoundError:
                    pass
        if self.single_file:
            incomplete = [c for c in keep if not c.get("complete", False)]
            if incomplete:
                self._resume_single_file(incomplete[-1])

    # -- part files ------------------------------------------------------------------------------
    def _start(self) -> _OpenFile:
        if not self._opened:  # a caller that skipped open(): do it now rather than fail
            self.open()
        if self.single_file:
            name = os.path.basename(self.path)
            self._current = _OpenFile(self, f".{name}.{self._uuid}.inprogress", name)
        else:
            name = f"part-{self._uuid}-{self.subtask_index}-{self._counter}"
            self._counter += 1
            self._current = _OpenFile(self, f".{name}.inprogress", name)
        return self._current

    def _close_current(self) -> None:
        """The in-progress part becomes pending: closed, still hidden."""
        if self._current is not None:
            self._current.close()
            self._pending.append({"hidden": self._current.hidden, "final": self._current.final})
            self._current = None

    def _own_hidden_files(self) -> list[str]:
        """The hidden files this subtask of this sink may have left, in any attempt."""
        try:
            names = os.listdir(self.directory)
        except FileNotFoundError:
            return []
        if self.single_file:
            pattern = re.compile(
                rf"\.{re.escape(os.path.basename(self.path))}\.{_UUID}\.inprogress"
            )
            return [n for n in names if pattern.fullmatch(n)]
        own = str(self.subtask_index)
        tag = self._owner_tag
        return [n for n in names if (m := HIDDEN_PART.fullmatch(n)) and m.group(1) == own
                and (tag is None or n.startswith(f".part-{tag}"))]

    # -- the legacy single file ------------------------------------------------------------------
    def _prepare_single_file(self) -> list[dict]:
        current = self._current
        if current is None:
            return []
        committable = {"hidden": current.hidden, "final": current.final}
        if self._ended:
            current.close()
            self._current = None
            return [
                {
                    **committable,
                    "length": os.path.getsize(self._hidden_path(current)),
                    "complete": True,
                }
            ]
        current.flush()
        return [{**committable, "length": current.size(), "complete": False}]

    def _hidden_path(self, file: _OpenFile) -> str:
        return os.path.join(self.directory, file.hidden)

    def _resume_single_file(self, committable: dict) -> None:
        hidden, length = committable["hidden"], int(committable["length"])
        path = os.path.join(self.directory, hidden)
        size = os.path.getsize(path) if os.path.exists(path) else -1
        if size < length:
            raise ConnectorError(
                f"cannot restore table {self.spec.name!r}: its in-progress file {path!r} "
                f"should hold at least the {length} bytes the checkpoint covered, got "
                f"{'no file' if size < 0 else f'{size} bytes'}; it was changed since the checkpoint"
            )
        if self.fmt == "parquet" and length > 0:
            raise ConnectorError(
                f"cannot restore table {self.spec.name!r}: its single parquet file {path!r} "
                "cannot be appended to; expected a csv or json table; use the modern "
                "'connector' = 'filesystem' options, whose part files commit with checkpoints"
            )
        if not self._opened:
            self.open()
        self._current = _OpenFile(self, hidden, committable["final"], at=length)


def _visible_files(directory: str) -> list[str]:
    """The table's data files under ``directory``: names starting with ``.`` or ``_`` (in-progress
    parts, markers) are not data, at any depth, as readers skip them."""
    found = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = [d for d in dirs if not d.startswith((".", "_"))]
        found += [os.path.join(root, f) for f in files if not f.startswith((".", "_"))]
    return found


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
