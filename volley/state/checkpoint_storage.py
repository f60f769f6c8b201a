"""Checkpoints as Arrow IPC files on any ``pyarrow.fs`` filesystem, completed by a manifest.

Layout under the checkpoints directory::

    chk-7/
      <relative paths the runner chooses>.arrow    one Arrow IPC file per state table
      _manifest.json                               written last

A checkpoint is complete if and only if its manifest exists. The manifest is written to a
temporary name and then moved into place, so a crash at any point leaves either no manifest
(the checkpoint is ignored and later discarded) or a whole one: a rename on a local disk, and an
object store publishes an object whole. What the manifest says is the runner's business; this
module stores a JSON dict.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs

from volley.errors import CheckpointError, VolleyError  # noqa: F401 - CheckpointError re-exported

MANIFEST = "_manifest.json"
_CHECKPOINT_DIR = re.compile(r"^chk-(\d+)$")


@dataclass(frozen=True)
class StateFile:
    """A written state table: its path relative to the checkpoint directory, size and rows."""

    path: str
    bytes: int
    rows: int


def checkpoint_name(checkpoint_id: int) -> str:
    return f"chk-{checkpoint_id}"


def _filesystem(location: str) -> tuple[pafs.FileSystem, str]:
    """The filesystem and path of a URI, or the local filesystem for a plain path."""
    if "://" in location or os.path.isabs(location):
        try:
            return pafs.FileSystem.from_uri(location)
        except pa.ArrowInvalid:
            if "://" in location:
                raise
    return pafs.LocalFileSystem(), os.path.abspath(location)


def _join(base: str, *names: str) -> str:
    parts = [base.rstrip("/")] if base.rstrip("/") else []
    return "/".join(parts + [n.strip("/") for n in names])


class CheckpointStorage:
    """The checkpoints of one job under ``location`` (a local path or a ``pyarrow.fs`` URI).

    ``filesystem``: use this filesystem, ``location`` being a path in it (a
    ``SubTreeFileSystem``, an object store client configured by the caller).
    """

    def __init__(self, location: str, filesystem: pafs.FileSystem | None = None,
                 create: bool = True) -> None:
        self.location = location
        if filesystem is None:
            self.filesystem, self.base = _filesystem(location)
        else:
            self.filesystem, self.base = filesystem, location
        if create:
            self.filesystem.create_dir(self.base, recursive=True)

    @classmethod
    def _on(cls, filesystem: pafs.FileSystem, base: str, location: str) -> CheckpointStorage:
        """The storage at ``base`` in ``filesystem``, shown as ``location``; creates nothing."""
        storage = cls(base, filesystem, create=False)
        storage.location = location
        return storage

    def __repr__(self) -> str:
        return f"CheckpointStorage({self.location!r})"

    def checkpoint_dir(self, checkpoint_id: int) -> str:
        """The checkpoint's directory, as a path in ``filesystem``."""
        return _join(self.base, checkpoint_name(checkpoint_id))

    def checkpoint_location(self, checkpoint_id: int) -> str:
        """The checkpoint's directory in the form of ``location`` (to show, or to restore)."""
        sep = "" if self.location.endswith("/") else "/"
        return f"{self.location}{sep}{checkpoint_name(checkpoint_id)}"

    def _dir(self, checkpoint: int | str) -> str:
        """A checkpoint directory from an id, a ``chk-N`` name or a path in ``filesystem``."""
        if isinstance(checkpoint, int):
            return self.checkpoint_dir(checkpoint)
        if _CHECKPOINT_DIR.match(checkpoint):
            return _join(self.base, checkpoint)
        return _filesystem(checkpoint)[1] if "://" in checkpoint else checkpoint

    # -- writing ---------------------------------------------------------------------------------

    def write_table(self, checkpoint_id: int, relative_path: str, table: pa.Table) -> StateFile:
        """Write ``table`` as an Arrow IPC file at ``relative_path`` in the checkpoint."""
        parts = relative_path.split("/")
        if relative_path.startswith("/") or ".." in parts or relative_path in ("", MANIFEST):
            raise ValueError(f"invalid state file path {relative_path!r}; expected a relative "
                             f"path inside the checkpoint, other than {MANIFEST!r}")
        path = _join(self.checkpoint_dir(checkpoint_id), relative_path)
        self.filesystem.create_dir(path.rsplit("/", 1)[0], recursive=True)
        with self.filesystem.open_output_stream(path) as sink:
            with pa.ipc.new_file(sink, table.schema) as writer:
                writer.write_table(table)
            size = sink.tell()
        return StateFile(relative_path, size, table.num_rows)

    def write_manifest(self, checkpoint_id: int, manifest: dict[str, Any]) -> str:
        """Complete the checkpoint: write ``manifest`` (JSON) under a temporary name, then move
        it to ``_manifest.json``. Returns the checkpoint's location."""
        directory = self.checkpoint_dir(checkpoint_id)
        self.filesystem.create_dir(directory, recursive=True)
        data = json.dumps(manifest, indent=1, sort_keys=True).encode()
        temporary = _join(directory, f"{MANIFEST}.{uuid.uuid4().hex}.tmp")
        with self.filesystem.open_output_stream(temporary) as sink:
            sink.write(data)
        self.filesystem.move(temporary, _join(directory, MANIFEST))
        return self.checkpoint_location(checkpoint_id)

    # -- reading ---------------------------------------------------------------------------------

    def read_manifest(self, checkpoint: int | str) -> dict[str, Any]:
        """The manifest of a checkpoint (an id, a ``chk-N`` name or its directory's path)."""
        directory = self._dir(checkpoint)
        path = _join(directory, MANIFEST)
        if self.filesystem.get_file_info(path).type != pafs.FileType.File:
            raise CheckpointError(
                f"checkpoint {directory!r} is incomplete or missing: it has no {MANIFEST}; "
                f"expected a completed checkpoint; restore from the checkpoints directory to "
                f"take the latest complete one")
        with self.filesystem.open_input_stream(path) as source:
            data = source.read()
        try:
            manifest = json.loads(data)
        except ValueError as e:
            raise CheckpointError(f"checkpoint manifest {path!r} is corrupt; expected JSON, "
                                  f"got {data[:40]!r}") from e
        if not isinstance(manifest, dict):
            raise CheckpointError(f"checkpoint manifest {path!r} is corrupt; expected a JSON "
                                  f"object, got {type(manifest).__name__}")
        return manifest

    def read_table(self, checkpoint: int | str, relative_path: str) -> pa.Table:
        """A state table written by ``write_table``."""
        path = _join(self._dir(checkpoint), relative_path)
        try:
            with self.filesystem.open_input_file(path) as source:
                return pa.ipc.open_file(source).read_all()
        except FileNotFoundError as e:
            raise CheckpointError(f"state file {path!r} of the checkpoint is missing") from e
        except (pa.ArrowInvalid, OSError) as e:
            raise CheckpointError(f"state file {path!r} of the checkpoint is unreadable: "
                                  f"{e}") from e

    # -- listing and cleaning up ---------------------------------------------------------------------

    def checkpoints(self) -> list[int]:
        """The ids of every checkpoint directory, complete or not, ascending."""
        selector = pafs.FileSelector(self.base, allow_not_found=True)
        ids = []
        for info in self.filesystem.get_file_info(selector):
            match = _CHECKPOINT_DIR.match(info.base_name)
            if match and info.type == pafs.FileType.Directory:
                ids.append(int(match.group(1)))
        return sorted(ids)

    def complete_checkpoints(self) -> list[int]:
        """The ids of the checkpoints that have a manifest, ascending."""
        ids = self.checkpoints()
        infos = self.filesystem.get_file_info(
            [_join(self.checkpoint_dir(i), MANIFEST) for i in ids])
        return [i for i, info in zip(ids, infos, strict=True) if info.type == pafs.FileType.File]

    def latest_complete(self) -> int | None:
        complete = self.complete_checkpoints()
        return complete[-1] if complete else None

    def discard(self, checkpoint_id: int) -> None:
        """Delete a checkpoint's directory (complete or not); a missing one is no error."""
        directory = self.checkpoint_dir(checkpoint_id)
        if self.filesystem.get_file_info(directory).type == pafs.FileType.Directory:
            self.filesystem.delete_dir(directory)

    def retain(self, n: int) -> None:
        """Keep the ``n`` latest complete checkpoints; delete older complete ones and the
        incomplete ones older than the latest complete (newer ones may still be in progress)."""
        if n < 1:
            raise ValueError(f"retain needs a number of checkpoints >= 1; got {n!r}")
        complete = self.complete_checkpoints()
        if not complete:
            return
        keep, latest = set(complete[-n:]), complete[-1]
        for checkpoint_id in self.checkpoints():
            if checkpoint_id not in keep and checkpoint_id < latest:
                self.discard(checkpoint_id)


def resolve_restore_path(path: str, filesystem: pafs.FileSystem | None = None
                         ) -> tuple[CheckpointStorage, int] | None:
    """What to restore from ``path``: one checkpoint directory (``.../chk-7``, which must be
    complete) or a checkpoints directory (its latest complete checkpoint; None when none has
    completed yet). Returns the storage of the checkpoints directory and the checkpoint id.
    ``filesystem``: as for ``CheckpointStorage``."""
    fs, fs_path = (filesystem, path) if filesystem is not None else _filesystem(path)
    fs_path = fs_path.rstrip("/") or fs_path
    if fs.get_file_info(fs_path).type != pafs.FileType.Directory:
        raise CheckpointError(f"cannot restore from {path!r}: no such directory; expected a "
                              f"checkpoints directory or one of its chk-<id> directories")
    parent, _, name = fs_path.rpartition("/")
    match = _CHECKPOINT_DIR.match(name)
    if match:
        location = path.rstrip("/").rpartition("/")[0] or parent
        storage = CheckpointStorage._on(fs, parent, location)
        checkpoint_id = int(match.group(1))
        storage.read_manifest(checkpoint_id)  # raises when incomplete
        return storage, checkpoint_id
    storage = CheckpointStorage._on(fs, fs_path, path)
    latest = storage.latest_complete()
    return None if latest is None else (storage, latest)
