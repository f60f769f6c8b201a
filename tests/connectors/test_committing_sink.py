"""The filesystem sink commits with checkpoints: part files stay hidden (from ``os.listdir`` and
from the filesystem source) until ``commit``, which is idempotent; ``abort`` drops this subtask's
uncommitted files but those it is told to keep."""

from __future__ import annotations

import json
import os

import pyarrow as pa
import pytest
from connector_helpers import make_spec, read_all

from volley.connectors import create_sink, create_source
from volley.errors import ConnectorError
from volley.table.types import DataTypes as T

FIELDS = [("id", T.BIGINT()), ("name", T.STRING()), ("score", T.DOUBLE())]
FORMATS = ["csv", "json", "parquet"]


def options(fmt: str, path, **extra) -> dict:
    return {"connector": "filesystem", "format": fmt, "path": str(path), **extra}


def sink_for(fmt: str, path, subtask: int = 0, parallelism: int = 1, **extra):
    sink = create_sink(make_spec("s", FIELDS, options(fmt, path, **extra)))
    sink.open(subtask, parallelism)
    return sink


def batch(first: int, n: int) -> pa.RecordBatch:
    ids = list(range(first, first + n))
    return pa.record_batch(
        {"id": ids, "name": [f"n{i}" for i in ids], "score": [i / 2 for i in ids]},
        schema=make_spec("s", FIELDS, {}).schema.to_arrow_schema(),
    )


def visible(path) -> list[str]:
    return sorted(n for n in os.listdir(path) if not n.startswith("."))


def hidden(path) -> list[str]:
    return sorted(n for n in os.listdir(path) if n.startswith("."))


def read_ids(fmt: str, path) -> list[int]:
    table = read_all(create_source(make_spec("r", FIELDS, options(fmt, path))))
    return sorted(table.column("id").to_pylist())


def through_manifest(committables: list[dict]) -> list[dict]:
    """Committables as a restored job gets them back: through JSON."""
    return json.loads(json.dumps(committables))


@pytest.mark.parametrize("fmt", FORMATS)
def test_files_are_invisible_until_commit(tmp_path, fmt):
    out = tmp_path / "out"
    sink = sink_for(fmt, out)
    assert sink.transactional
    sink.write(batch(0, 5))
    committables = sink.prepare_commit()
    sink.write(batch(5, 3))  # after the barrier: the next checkpoint's
    assert visible(out) == [] and read_ids(fmt, out) == []
    sink.commit(through_manifest(committables))
    assert len(visible(out)) == 1 and read_ids(fmt, out) == list(range(5))
    sink.end_input()
    last = sink.prepare_commit()
    assert read_ids(fmt, out) == list(range(5))
    sink.commit(last)
    assert len(visible(out)) == 2 and read_ids(fmt, out) == list(range(8))
    assert hidden(out) == []
    (name,) = [c["final"] for c in committables]
    assert name.startswith("part-") and name.endswith("-0-0")


@pytest.mark.parametrize("fmt", FORMATS)
def test_rolled_files_stay_pending_and_publish_together(tmp_path, fmt):
    out = tmp_path / "out"
    sink = sink_for(fmt, out, **{"sink.rolling-policy.file-size": "1b"})
    for i in range(4):
        sink.write(batch(10 * i, 10))
    assert visible(out) == [] and len(hidden(out)) == 4  # rolled, each a pending file
    committables = sink.prepare_commit()
    assert len(committables) == 4
    assert [c["final"].rsplit("-", 1)[1] for c in committables] == ["0", "1", "2", "3"]
    assert visible(out) == []
    sink.commit(committables)
    assert len(visible(out)) == 4 and read_ids(fmt, out) == list(range(40))


def test_prepare_commit_returns_each_file_once(tmp_path):
    sink = sink_for("csv", tmp_path / "out", **{"sink.rolling-policy.file-size": "1b"})
    sink.write(batch(0, 2))
    first = sink.prepare_commit()
    assert len(first) == 1 and sink.prepare_commit() == []
    sink.write(batch(2, 2))
    (second,) = sink.prepare_commit()
    assert second not in first


@pytest.mark.parametrize("fmt", FORMATS)
def test_commit_twice_is_idempotent(tmp_path, fmt):
    out = tmp_path / "out"
    sink = sink_for(fmt, out, **{"sink.rolling-policy.file-size": "1b"})
    sink.write(batch(0, 4))
    sink.write(batch(4, 4))
    committables = sink.prepare_commit()
    sink.commit(committables)
    listing = {n: (out / n).read_bytes() for n in visible(out)}
    sink.commit(committables)
    # and by a restored job's new sink object
    sink_for(fmt, out).commit(through_manifest(committables))
    assert {n: (out / n).read_bytes() for n in visible(out)} == listing
    assert read_ids(fmt, out) == list(range(8))


@pytest.mark.parametrize("fmt", FORMATS)
def test_commit_after_a_crash_half_way_completes(tmp_path, fmt):
    out = tmp_path / "out"
    sink = sink_for(fmt, out, **{"sink.rolling-policy.file-size": "1b"})
    for i in range(4):
        sink.write(batch(10 * i, 10))
    committables = sink.prepare_commit()
    for c in committables[:2]:  # the crashed commit renamed half the files
        os.replace(out / c["hidden"], out / c["final"])
    restored = sink_for(fmt, out, 0, 1)
    restored.abort(keep=through_manifest(committables))
    restored.commit(through_manifest(committables))
    assert visible(out) == sorted(c["final"] for c in committables)
    assert hidden(out) == []
    assert read_ids(fmt, out) == list(range(40))


def test_commit_of_a_vanished_file_names_it(tmp_path):
    out = tmp_path / "out"
    sink = sink_for("csv", out)
    sink.write(batch(0, 1))
    (c,) = sink.prepare_commit()
    os.remove(out / c["hidden"])
    with pytest.raises(ConnectorError) as e:
        sink.commit([c])
    final = os.path.join(str(out), c["final"])
    assert str(e.value) == (
        f"cannot commit {final!r} of table 's': neither it nor its in-progress file "
        f"{os.path.join(str(out), c['hidden'])!r} exists; expected the file a checkpoint of "
        "this sink named; it was deleted, or the table's 'path' changed"
    )


def test_abort_on_restore_keeps_only_the_checkpointed_files(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / ".user-file").write_text("mine")  # hidden, but not named as the sink names files
    (out / "data.csv").write_text("100,x,1.0\n")
    failed = sink_for("csv", out, 0, 2, **{"sink.rolling-policy.file-size": "1b"})
    other = sink_for("csv", out, 1, 2)
    failed.write(batch(0, 2))
    checkpointed = failed.prepare_commit()
    failed.write(batch(2, 2))  # pending after the checkpoint: lost with the failure
    failed._current = None  # the process died: nothing is closed or cleaned up
    other.write(batch(50, 1))  # subtask 1's in-progress file
    leftovers = set(hidden(out))

    restored = sink_for("csv", out, 0, 2)  # a new attempt: new uuid
    restored.abort(keep=through_manifest(checkpointed))
    (kept,) = checkpointed
    assert set(hidden(out)) == {".user-file", kept["hidden"], *other_subtasks(leftovers, 1)}
    restored.commit(through_manifest(checkpointed))
    restored.write(batch(10, 1))
    restored.end_input()
    restored.commit(restored.prepare_commit())
    other.finish()
    assert read_ids("csv", out) == [0, 1, 10, 50, 100]
    assert hidden(out) == [".user-file"]


def other_subtasks(names: set[str], subtask: int) -> list[str]:
    return [n for n in names if n.startswith(".part-") and f"-{subtask}-" in n]


@pytest.mark.parametrize("fmt", FORMATS)
def test_abort_after_failure_discards_in_progress_and_pending(tmp_path, fmt):
    out = tmp_path / "out"
    sink = sink_for(fmt, out, **{"sink.rolling-policy.file-size": "1b"})
    sink.write(batch(0, 3))
    sink.write(batch(3, 3))
    sink.abort()
    assert os.listdir(out) == []
    assert sink.prepare_commit() == []


def test_finish_publishes_for_a_runner_without_checkpoints(tmp_path):
    out = tmp_path / "out"
    sink = create_sink(make_spec("s", FIELDS, options("json", out)))
    sink.open()
    sink.write(batch(0, 3))
    sink.finish()
    assert len(visible(out)) == 1 and hidden(out) == [] and read_ids("json", out) == [0, 1, 2]


# -- the legacy single file ---------------------------------------------------------------------

LEGACY = {"connector.type": "filesystem", "format.type": "csv"}


def legacy_sink(path, parallelism: int = 1):
    sink = create_sink(make_spec("s", FIELDS, {**LEGACY, "connector.path": str(path)}))
    sink.open(0, parallelism)
    return sink


def test_legacy_single_file_is_published_by_the_final_commit_only(tmp_path):
    path = tmp_path / "output"
    sink = legacy_sink(path)
    sink.write(batch(0, 2))
    (c,) = sink.prepare_commit()
    assert not c["complete"] and c["length"] == len("0,n0,0.0\n1,n1,0.5\n")
    sink.commit([c])
    assert not path.exists()
    sink.write(batch(2, 1))
    sink.end_input()
    (last,) = sink.prepare_commit()
    assert last["complete"] and last["hidden"] == c["hidden"]
    assert not path.exists()
    sink.commit([last])
    sink.commit([last])
    assert path.read_text() == "0,n0,0.0\n1,n1,0.5\n2,n2,1.0\n"
    assert hidden(tmp_path) == []


def test_legacy_single_file_restores_to_the_checkpointed_length(tmp_path):
    path = tmp_path / "output"
    failed = legacy_sink(path)
    failed.write(batch(0, 2))
    checkpointed = through_manifest(failed.prepare_commit())
    failed.write(batch(2, 5))  # after the checkpoint: written, then lost with the failure
    failed._current.flush()  # the rows reached the file before the crash
    failed._current = None  # the process died

    restored = legacy_sink(path)
    restored.abort(keep=checkpointed)
    restored.commit(checkpointed)
    assert not path.exists()
    restored.write(batch(7, 1))
    restored.end_input()
    restored.commit(restored.prepare_commit())
    assert path.read_text() == "0,n0,0.0\n1,n1,0.5\n7,n7,3.5\n"
    assert hidden(tmp_path) == []


def test_legacy_single_file_needs_parallelism_one(tmp_path):
    with pytest.raises(ConnectorError, match="expected parallelism 1, got 2"):
        legacy_sink(tmp_path / "output", parallelism=2)


def test_legacy_empty_result_is_an_empty_file(tmp_path):
    path = tmp_path / "output"
    sink = legacy_sink(path)
    assert sink.prepare_commit() == []
    sink.end_input()
    sink.commit(sink.prepare_commit())
    assert path.read_text() == ""


# -- sinks that write through -------------------------------------------------------------------


@pytest.mark.parametrize("connector", ["print", "blackhole"])
def test_print_and_blackhole_are_not_transactional(connector, capsys):
    sink = create_sink(make_spec("p", FIELDS, {"connector": connector}))
    assert not sink.transactional
    sink.open(0, 1)
    sink.write(batch(0, 1))
    assert sink.prepare_commit() == []
    sink.commit([])
    sink.abort()
    sink.end_input()
    assert capsys.readouterr().out == ("+I[0, n0, 0.0]\n" if connector == "print" else "")


def test_abort_leaves_what_another_sink_into_the_same_directory_has_pending(tmp_path):
    """Two INSERTs of one job into one directory: restoring one of them must not discard the
    other's part files, which the same checkpoint holds for it."""
    sinks = {}
    for owner in ("sink-1", "sink-2"):
        sink = create_sink(make_spec("s", FIELDS, options("csv", tmp_path)))
        sink.open(0, 1, owner=owner)
        sink.write(batch(0 if owner == "sink-1" else 10, 3))
        sinks[owner] = sink.prepare_commit()
    restored = create_sink(make_spec("s", FIELDS, options("csv", tmp_path)))
    restored.open(0, 1, owner="sink-1")
    restored.abort(keep=sinks["sink-1"])
    other = create_sink(make_spec("s", FIELDS, options("csv", tmp_path)))
    other.open(0, 1, owner="sink-2")
    other.commit(sinks["sink-2"])
    restored.commit(sinks["sink-1"])
    assert len(visible(tmp_path)) == 2
