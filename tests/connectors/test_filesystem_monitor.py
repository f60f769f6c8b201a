"""``source.monitor-interval``: the filesystem source as an endless stream of the files appearing
in a directory — each read once, resumable from any position (also mid-file) by a new source,
a job restored from a checkpoint reading only what it had not read; and
``table.exec.source.idle-timeout`` letting event time advance past a directory that stopped
receiving files."""

from __future__ import annotations

import threading
import time

import pyarrow as pa
import pytest
from connector_helpers import make_spec

from volley.connectors import create_source
from volley.errors import ConnectorError, JobCancelledError
from volley.physical.job_graph import SourceSpec
from volley.runtime.sources import SourceReader
from volley.table import EnvironmentSettings, TableEnvironment
from volley.table.types import DataTypes as T

FIELDS = [("id", T.BIGINT()), ("name", T.STRING())]


def _source(directory, interval="10 ms", **extra):
    options = {"connector": "filesystem", "path": str(directory), "format": "csv",
               "source.monitor-interval": interval, **extra}
    return create_source(make_spec("src", FIELDS, options))


def _write(directory, name, ids):
    """Write a file whole, then move it into place (as a writer must for a monitored
    directory: a hidden file is not read)."""
    hidden = directory / f".{name}"
    hidden.write_text("".join(f"{i},n{i}\n" for i in ids))
    hidden.rename(directory / name)


def _take(elements, n):
    """The next ``n`` non-empty batches' ids, and the position after the last element read."""
    ids, position = [], None
    while len(ids) < n:
        batch, position = next(elements)
        ids += batch.column(0).to_pylist()
    return ids, position


def _finish_file(elements):
    """The empty batch that marks the end of a file, and the position after it."""
    batch, position = next(elements)
    assert batch.num_rows == 0
    return position


def test_new_files_are_read_once_as_they_appear(tmp_path):
    _write(tmp_path, "b.csv", [1, 2])
    source = _source(tmp_path)
    assert not source.bounded
    (split,) = source.splits(4)
    elements = source.read_split(split)
    assert _take(elements, 2)[0] == [1, 2]
    position = _finish_file(elements)
    assert position == {"read": ("b.csv",), "file": None, "rows": 0}
    _write(tmp_path, "a.csv", [3])  # sorts first, but is new: read next
    (tmp_path / "sub").mkdir()
    _write(tmp_path / "sub", "c.csv", [4, 5])
    (tmp_path / "b.csv").write_text("9,changed\n")  # read already: not again
    ids, _ = _take(elements, 1)
    _finish_file(elements)
    more, _ = _take(elements, 2)
    assert ids + more == [3, 4, 5]
    assert _finish_file(elements)["read"] == ("b.csv", "a.csv", "sub/c.csv")


def test_a_new_source_resumes_from_a_position_also_mid_file(tmp_path, monkeypatch):
    from volley.connectors import csv_format

    monkeypatch.setattr(csv_format, "BATCH_ROWS", 2, raising=False)
    _write(tmp_path, "a.csv", [1, 2, 3, 4, 5])
    _write(tmp_path, "b.csv", [6])
    source = _source(tmp_path)
    (split,) = source.splits(1)
    straight = source.read_split(split)
    expected, _ = _take(straight, 6)
    for stop in range(1, 6):
        elements = _source(tmp_path).read_split(split)
        first, position = _take(elements, stop)
        resumed = _source(tmp_path).read_split(split, position)
        rest, _ = _take(resumed, 6 - len(first))
        assert first + rest == expected


def test_the_reader_state_survives_a_checkpoint(tmp_path):
    _write(tmp_path, "a.csv", [1, 2])
    spec = make_spec("src", FIELDS, {"connector": "filesystem", "path": str(tmp_path),
                                     "format": "csv", "source.monitor-interval": "10 ms"})
    source_spec = SourceSpec("source-0", "src", pa.schema([("id", pa.int64()),
                                                           ("name", pa.string())]), False,
                             table=spec)
    reader = SourceReader(source_spec, 0, 1)
    elements = reader.elements()
    seen = []
    while len(seen) < 2:
        element = next(elements)
        seen += element.batch.column(0).to_pylist()
        reader.advance(element)
    reader.advance(next(elements))  # the end of a.csv
    snapshot = reader.snapshot()
    _write(tmp_path, "b.csv", [3])
    restored = SourceReader(source_spec, 0, 2)  # at another parallelism: still one split
    restored.restore([snapshot])
    element = next(restored.elements())
    assert element.batch.column(0).to_pylist() == [3]


def test_options_are_checked(tmp_path):
    with pytest.raises(ConnectorError, match="must be positive"):
        _source(tmp_path, "0 s")
    with pytest.raises(ConnectorError, match="is not a duration"):
        _source(tmp_path, "soon")
    with pytest.raises(ConnectorError, match="does not exist"):
        _source(tmp_path / "missing").splits(1)
    options = {"connector": "filesystem", "path": str(tmp_path), "format": "csv",
               "source.monitor-intervall": "1 s"}
    with pytest.raises(ConnectorError, match="did you mean 'source.monitor-interval'"):
        create_source(make_spec("src", FIELDS, options))


def _env(**config: str) -> TableEnvironment:
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    for key, value in config.items():
        t_env.get_config().set(key, value)
    return t_env


def _watchdog(result, seconds: float = 120) -> threading.Timer:
    """Cancel the job if the test has not finished by then (a hang fails, not blocks). The
    request is only flagged: the thread that runs the job ends it."""
    timer = threading.Timer(seconds, result.get_job_client()._handle.cancel_requested.set)
    timer.daemon = True
    timer.start()
    return timer


def _published(directory) -> list[int]:
    """The ids in the sink's published part files (in-progress ones are hidden)."""
    if not directory.exists():
        return []
    ids = []
    for path in sorted(directory.iterdir()):
        if not path.name.startswith((".", "_")):
            ids += [int(line) for line in path.read_text().splitlines()]
    return sorted(ids)


def _until_published(directory, wanted: set[int], result) -> None:
    while not wanted <= set(_published(directory)):
        if result.get_job_client().get_job_status().is_globally_terminal_state():
            result.wait()  # raises the job's error
            raise AssertionError("the job ended before publishing its rows")
        time.sleep(0.02)


def test_a_restored_job_reads_only_the_files_it_had_not_read(tmp_path):
    directory, out = tmp_path / "in", tmp_path / "out"
    directory.mkdir()
    _write(directory, "f1.csv", [1, 2, 3])
    config = {"execution.checkpointing.interval": "50 ms",
              "execution.checkpointing.dir": str(tmp_path / "ck")}
    ddl = [f"CREATE TABLE src (id BIGINT, name STRING) WITH ('connector' = 'filesystem', "
           f"'path' = '{directory}', 'format' = 'csv', 'source.monitor-interval' = '20 ms')",
           f"CREATE TABLE out (id BIGINT) WITH ('connector' = 'filesystem', 'path' = '{out}', "
           "'format' = 'csv')"]
    for env_config in (config, {**config, "execution.state-recovery.path": str(tmp_path / "ck")}):
        t_env = _env(**env_config)
        for statement in ddl:
            t_env.execute_sql(statement)
        result = t_env.execute_sql("INSERT INTO out SELECT id FROM src")
        timer = _watchdog(result)
        # the sink publishes a checkpoint's rows once it completes: its positions cover them
        _until_published(out, {1, 2, 3} if "execution.state-recovery.path" not in env_config
                         else {4, 5}, result)
        result.get_job_client().cancel()
        with pytest.raises(JobCancelledError):  # over, its sink's leftovers cleared, before
            result.get_job_client().wait(60)   # the next job writes into the directory
        timer.cancel()
        _write(directory, "f2.csv", [4, 5])
    assert _published(out) == [1, 2, 3, 4, 5]  # f1.csv was not read again


def test_an_idle_directory_stops_holding_event_time_back(tmp_path):
    """A LEFT interval join pads a left row once the watermark passes its window. The right
    input's directory got one file and nothing since: only the idle timeout lets the join's
    watermark follow the left input's, which keeps receiving files."""
    left, right = tmp_path / "left", tmp_path / "right"
    left.mkdir()
    right.mkdir()
    t_env = _env(**{"table.exec.source.idle-timeout": "200 ms"})
    for name, directory in (("l", left), ("r", right)):
        t_env.execute_sql(f"""CREATE TABLE {name} (id BIGINT, ts TIMESTAMP(3),
            WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector' = 'filesystem',
            'path' = '{directory}', 'format' = 'csv', 'source.monitor-interval' = '20 ms')""")
    _write_rows(right, "r.csv", [(1, 1)])
    _write_rows(left, "l.csv", [(1, 0), (2, 10), (3, 100)])
    stop = threading.Event()

    def keep_writing() -> None:  # later and later rows: the left input is never idle
        for i in range(10_000):
            if stop.wait(0.05):
                return
            _write_rows(left, f"more-{i:05}.csv", [(100 + i, 200 + i)])

    writer = threading.Thread(target=keep_writing, daemon=True)
    writer.start()
    result = t_env.execute_sql(
        "SELECT l.id, r.id AS rid FROM l LEFT JOIN r ON l.id = r.id AND "
        "l.ts BETWEEN r.ts - INTERVAL '5' SECOND AND r.ts + INTERVAL '5' SECOND")
    timer = _watchdog(result)
    seen = set()
    try:
        with result.collect() as rows:
            while not {(2, None), (3, None)} <= seen:
                seen.add(tuple(next(rows)))
    finally:
        stop.set()
        timer.cancel()
    assert (1, 1) in seen


def _write_rows(directory, name, rows):
    """``(id, seconds after 2024-01-01 00:00:00)`` rows, written whole and moved into place."""
    hidden = directory / f".{name}"
    hidden.write_text("".join(f"{i},2024-01-01 {s // 3600:02}:{s // 60 % 60:02}:{s % 60:02}\n"
                              for i, s in rows))
    hidden.rename(directory / name)
