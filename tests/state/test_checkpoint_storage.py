"""CheckpointStorage on a local directory and on other pyarrow filesystems."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.fs as pafs
import pytest

from volley.errors import VolleyError
from volley.state import (
    KeyedTable,
    OperatorState,
    TimerService,
    ValueColumn,
    key_group_range,
    key_groups,
)
from volley.state.checkpoint_storage import (
    MANIFEST,
    CheckpointError,
    CheckpointStorage,
    StateFile,
    resolve_restore_path,
)

TABLE = pa.table({"k0": ["a", None, "c"], "total": [1, 2, 3]})


def _storages(tmp_path):
    yield "local", CheckpointStorage(str(tmp_path / "local" / "checkpoints"))
    yield "file-uri", CheckpointStorage((tmp_path / "uri").as_uri())
    subtree = pafs.SubTreeFileSystem(str(tmp_path / "sub"), pafs.LocalFileSystem())
    (tmp_path / "sub").mkdir()
    yield "subtree", CheckpointStorage("job/checkpoints", subtree)
    yield "mock", CheckpointStorage("base/dir", pafs._MockFileSystem())


@pytest.fixture(params=["local", "file-uri", "subtree", "mock"])
def storage(request, tmp_path):
    return dict(_storages(tmp_path))[request.param]


def test_round_trip(storage):
    written = storage.write_table(3, "op-1/keyed-0.arrow", TABLE)
    assert isinstance(written, StateFile)
    assert (written.path, written.rows) == ("op-1/keyed-0.arrow", 3) and written.bytes > 0
    assert storage.complete_checkpoints() == [] and storage.checkpoints() == [3]
    location = storage.write_manifest(3, {"files": [written.path], "sources": {"s": [1, 2]}})
    assert location.endswith("chk-3")
    assert storage.complete_checkpoints() == [3] and storage.latest_complete() == 3
    assert storage.read_manifest(3) == {"files": ["op-1/keyed-0.arrow"], "sources": {"s": [1, 2]}}
    assert storage.read_manifest("chk-3") == storage.read_manifest(storage.checkpoint_dir(3))
    assert storage.read_table(3, "op-1/keyed-0.arrow").equals(TABLE)
    assert storage.read_table(storage.checkpoint_dir(3), "op-1/keyed-0.arrow").equals(TABLE)


def test_missing_and_corrupt(storage):
    with pytest.raises(CheckpointError, match="incomplete or missing"):
        storage.read_manifest(9)
    with pytest.raises(CheckpointError, match="missing"):
        storage.read_table(9, "x.arrow")
    storage.write_table(1, "x.arrow", TABLE)
    with storage.filesystem.open_output_stream(storage.checkpoint_dir(1) + "/" + MANIFEST) as f:
        f.write(b"{not json")
    with pytest.raises(CheckpointError, match="corrupt"):
        storage.read_manifest(1)
    with storage.filesystem.open_output_stream(storage.checkpoint_dir(1) + "/x.arrow") as f:
        f.write(b"garbage")
    with pytest.raises(CheckpointError, match="unreadable"):
        storage.read_table(1, "x.arrow")
    assert issubclass(CheckpointError, VolleyError)
    with pytest.raises(ValueError, match="invalid state file path"):
        storage.write_table(1, "../escape.arrow", TABLE)


def test_crash_before_the_rename_leaves_no_checkpoint(storage):
    storage.write_table(4, "a.arrow", TABLE)
    temporary = storage.checkpoint_dir(4) + f"/{MANIFEST}.deadbeef.tmp"
    with storage.filesystem.open_output_stream(temporary) as f:
        f.write(b'{"half": ')  # the crash: the rename never happened
    assert storage.complete_checkpoints() == []
    assert storage.latest_complete() is None
    storage.write_manifest(4, {})
    assert storage.complete_checkpoints() == [4]


def test_retain_and_discard(storage):
    for i in (1, 2, 3, 5, 6):
        storage.write_table(i, "a.arrow", TABLE)
    for i in (1, 2, 5):
        storage.write_manifest(i, {"id": i})
    # 3: incomplete and older than the latest complete; 6: in progress
    storage.retain(2)
    assert storage.checkpoints() == [2, 5, 6]
    assert storage.complete_checkpoints() == [2, 5]
    storage.retain(1)
    assert storage.checkpoints() == [5, 6]
    storage.discard(6)
    storage.discard(42)
    assert storage.checkpoints() == [5]
    with pytest.raises(ValueError):
        storage.retain(0)


def test_resolve_restore_path_local(tmp_path):
    root = tmp_path / "checkpoints"
    storage = CheckpointStorage(str(root))
    assert resolve_restore_path(str(root)) is None
    storage.write_table(1, "a.arrow", TABLE)
    storage.write_manifest(1, {"n": 1})
    storage.write_table(2, "a.arrow", TABLE)  # incomplete
    found, checkpoint_id = resolve_restore_path(str(root))
    assert checkpoint_id == 1 and found.read_table(checkpoint_id, "a.arrow").equals(TABLE)
    found, checkpoint_id = resolve_restore_path(str(root / "chk-1") + "/")
    assert checkpoint_id == 1 and found.read_manifest(1) == {"n": 1}
    assert found.base == str(root)
    found, checkpoint_id = resolve_restore_path((root / "chk-1").as_uri())
    assert checkpoint_id == 1 and found.latest_complete() == 1
    with pytest.raises(CheckpointError, match="incomplete"):
        resolve_restore_path(str(root / "chk-2"))
    with pytest.raises(CheckpointError, match="no such directory"):
        resolve_restore_path(str(root / "chk-7"))
    with pytest.raises(CheckpointError, match="no such directory"):
        resolve_restore_path(str(tmp_path / "nowhere"))


def test_resolve_restore_path_on_another_filesystem():
    fs = pafs._MockFileSystem()
    storage = CheckpointStorage("jobs/j1", fs)
    storage.write_table(7, "a.arrow", TABLE)
    storage.write_manifest(7, {})
    found, checkpoint_id = resolve_restore_path("jobs/j1/chk-7", fs)
    assert checkpoint_id == 7 and found.read_table(7, "a.arrow").equals(TABLE)
    assert resolve_restore_path("jobs/j1", fs)[1] == 7


def test_a_relative_local_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    storage = CheckpointStorage("rel/checkpoints")
    storage.write_table(1, "a.arrow", TABLE)
    storage.write_manifest(1, {})
    assert (tmp_path / "rel" / "checkpoints" / "chk-1" / MANIFEST).exists()
    assert resolve_restore_path("rel/checkpoints/chk-1")[1] == 1


def test_state_survives_a_checkpoint_at_another_parallelism(tmp_path):
    """Two subtasks write keyed state, timers and operator state; three subtasks restore it."""
    storage = CheckpointStorage(str(tmp_path / "checkpoints"))
    values = [ValueColumn("total", pa.int64())]
    keys = pa.array([f"k{i}" for i in range(100)])
    groups = key_groups([keys], 128)
    files = []
    for subtask in range(2):  # each holds the keys a keyed exchange routes to it
        owned = keys.filter(pa.array(key_group_range(subtask, 2, 128).contains(groups)))
        table, timers = KeyedTable([pa.string()], values), TimerService([pa.string()])
        ids = table.ids([owned])
        table.column("total")[ids] = [int(k[1:]) for k in owned.to_pylist()]
        table.set_live(ids)
        timers.register([owned], np.arange(len(owned)))
        state = OperatorState(pa.schema([("split", pa.string())]), subtask, 2)
        state.set(pa.table({"split": [f"split-{subtask}"]}))
        for name, snap in (("keyed", table.snapshot()), ("timers", timers.snapshot()),
                           ("operator", state.snapshot())):
            files.append(storage.write_table(5, f"op/{name}-{subtask}.arrow", snap).path)
    storage.write_manifest(5, {"files": files})

    found, checkpoint_id = resolve_restore_path(str(tmp_path / "checkpoints"))
    read = {f: found.read_table(checkpoint_id, f)
            for f in found.read_manifest(checkpoint_id)["files"]}
    totals, fired, splits = {}, 0, []
    for subtask in range(3):
        mine = key_group_range(subtask, 3, 128)
        table, timers = KeyedTable([pa.string()], values), TimerService([pa.string()])
        table.restore([t for f, t in read.items() if "keyed" in f], mine)
        timers.restore([t for f, t in read.items() if "timers" in f], mine)
        state = OperatorState(pa.schema([("split", pa.string())]), subtask, 3)
        state.restore([t for f, t in read.items() if "operator" in f])
        snap = table.snapshot()
        assert mine.contains(snap.column("__key_group").to_numpy()).all()
        totals.update(zip(snap.column("k0").to_pylist(), snap.column("total").to_pylist(),
                          strict=True))
        out = timers.advance(10**6)
        fired += 0 if out is None else out.num_rows
        splits += state.get().column("split").to_pylist()
    assert totals == {f"k{i}": i for i in range(100)}
    assert fired == 100
    assert sorted(splits) == ["split-0", "split-1"]
