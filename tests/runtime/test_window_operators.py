"""The window operators with watermarks and the clock: when windows fire, late rows, processing
time, and restores (also at another parallelism) in the middle of event time.

Specs come from planning real queries over ``e(k, v, s, ts)``, whose time attribute is in
milliseconds: windows are 10 ms wide.
"""

from __future__ import annotations

import datetime
import random
from collections import Counter

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from operator_harness import OperatorHarness

from volley.physical.job_graph import OperatorSpec
from volley.runtime.ops_time import MAX_WATERMARK
from volley.state import key_groups, subtask_of_key_groups
from volley.table import EnvironmentSettings, TableEnvironment

TUMBLE = "TABLE(TUMBLE(TABLE e, DESCRIPTOR(ts), INTERVAL '0.010' SECOND))"
QUERIES = {
    "tumble": f"SELECT k, window_start, window_end, COUNT(*) AS c, SUM(v) AS sv, "
              f"COUNT(DISTINCT s) AS ds FROM {TUMBLE} GROUP BY k, window_start, window_end",
    "hop": "SELECT k, window_start, window_end, COUNT(*) AS c, MAX(v) AS mv FROM "
           "TABLE(HOP(TABLE e, DESCRIPTOR(ts), INTERVAL '0.005' SECOND, INTERVAL '0.010' SECOND)) "
           "GROUP BY k, window_start, window_end",
    "cumulate": "SELECT k, window_start, window_end, SUM(v) AS sv FROM TABLE(CUMULATE(TABLE e, "
                "DESCRIPTOR(ts), INTERVAL '0.005' SECOND, INTERVAL '0.020' SECOND)) "
                "GROUP BY k, window_start, window_end",
    "session": "SELECT * FROM TABLE(SESSION(TABLE e PARTITION BY k, DESCRIPTOR(ts), "
               "INTERVAL '0.004' SECOND))",
    "rank": f"SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end, "
            f"k ORDER BY v DESC) AS rn FROM {TUMBLE}) WHERE rn <= 2",
    "join": f"SELECT l.k, l.v, r.v AS rv FROM (SELECT * FROM {TUMBLE}) l FULL JOIN "
            f"(SELECT * FROM {TUMBLE}) r ON l.window_start = r.window_start AND "
            f"l.window_end = r.window_end AND l.k = r.k AND l.v < r.v",
    "proctime": "SELECT k, window_start, COUNT(*) AS c FROM TABLE(TUMBLE(TABLE p, DESCRIPTOR(pt), "
                "INTERVAL '0.010' SECOND)) GROUP BY k, window_start, window_end",
    "proctime_rank": "SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, "
                     "window_end ORDER BY v DESC) AS rn FROM TABLE(TUMBLE(TABLE p, "
                     "DESCRIPTOR(pt), INTERVAL '0.010' SECOND))) WHERE rn <= 1",
    "proctime_session": "SELECT * FROM TABLE(SESSION(TABLE p PARTITION BY k, DESCRIPTOR(pt), "
                        "INTERVAL '0.004' SECOND))",
}
KINDS = {"tumble": "window_aggregate", "hop": "window_aggregate", "cumulate": "window_aggregate",
         "session": "session_window", "rank": "window_rank", "join": "window_join",
         "proctime": "window_aggregate", "proctime_rank": "window_rank",
         "proctime_session": "session_window"}


def _spec(name: str) -> OperatorSpec:
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    for table, extra in (("e", "WATERMARK FOR ts AS ts"), ("p", "pt AS PROCTIME()")):
        t_env.execute_sql(f"CREATE TABLE {table} (k BIGINT, v BIGINT, s STRING, "
                          f"ts TIMESTAMP(3) NOT NULL, {extra}) WITH ('connector' = "
                          "'filesystem', 'path' = '/nonexistent', 'format' = 'csv')")
    planner = t_env._planner(t_env._job_settings())
    planner.add_collect(t_env._optimize(t_env.sql_query(QUERIES[name])._plan))
    graph = planner.build(name)
    return next(s for v in graph.vertices for s in v.chain if s.kind == KINDS[name])


SPECS = {name: _spec(name) for name in QUERIES}


def _rows(rng: random.Random, n: int, start: int, spread: int) -> list[tuple]:
    return [(rng.randint(0, 3), rng.randint(0, 9), rng.choice(["a", "b", None]),
             start + rng.randint(0, spread)) for _ in range(n)]


def _batch(spec: OperatorSpec, rows: list[tuple], port: int = 0) -> pa.RecordBatch:
    """Rows (k, v, s, ts in ms) as the spec's input ``port`` (with the window bounds of a
    10 ms tumbling window where the input carries them)."""
    schema = spec.input_schemas[port]
    columns = {"k": [r[0] for r in rows], "v": [r[1] for r in rows], "s": [r[2] for r in rows],
               "ts": [r[3] for r in rows]}
    starts = [r[3] - r[3] % 10 for r in rows]
    columns.update(window_start=starts, window_end=[s + 10 for s in starts],
                   window_time=[s + 9 for s in starts])
    arrays = []
    for field in schema:
        name = field.name if field.name in columns else {"$k0": "k", "$time": "ts"}.get(
            field.name, field.name)
        values = columns.get(name)
        if values is None:  # the aggregate's argument columns: $a0, $a1, ... over k, v, s
            values = _argument(spec, field.name, columns)
        arrays.append(pa.array(values, pa.int64()).cast(field.type)
                      if pa.types.is_timestamp(field.type) else pa.array(values, field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _argument(spec: OperatorSpec, name: str, columns: dict) -> list:
    schema = spec.input_schemas[0]
    t = schema.field(name).type
    return columns["s"] if pa.types.is_string(t) else columns["v"]


def _events(rng: random.Random, spec: OperatorSpec, bound: int) -> list[tuple]:
    """Batches of rows at most ``bound`` ms out of order, each followed by a watermark of the
    largest time so far minus ``bound`` (a bounded-out-of-orderness watermark)."""
    events: list[tuple] = []
    high = 0
    for _ in range(rng.randint(1, 8)):
        rows = _rows(rng, rng.randint(1, 6), max(0, high - bound), bound + 6)
        port = rng.randint(0, spec.arity - 1)
        events.append(("batch", port, rows))
        high = max(high, *(r[3] for r in rows))
        events.append(("watermark", high - bound))
    return events


def _feed(harness: OperatorHarness, spec: OperatorSpec, events: list[tuple]) -> None:
    for event in events:
        if event[0] == "batch":
            harness.process(_batch(spec, event[2], event[1]), event[1])
        else:
            for port in range(spec.arity):
                harness.watermark(event[1], port)


def _output(batches: list[pa.RecordBatch]) -> list[tuple]:
    return [tuple(r.values()) for b in batches for r in b.to_pylist()]


def _run(spec: OperatorSpec, events: list[tuple]) -> list[tuple]:
    harness = OperatorHarness(spec, checkpointing=True)
    _feed(harness, spec, events)
    harness.end()
    harness.close()
    return _output(harness.out.batches)


EVENT_TIME = [n for n in QUERIES if not n.startswith("proctime")]


@pytest.mark.parametrize("name", EVENT_TIME)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32), where=st.floats(0, 1))
def test_a_restore_between_watermarks_continues_the_same_output(name, seed, where):
    spec = SPECS[name]
    events = _events(random.Random(seed), spec, bound=3)
    cut = round(where * len(events))
    expected = _run(spec, events)
    first = OperatorHarness(spec, checkpointing=True)
    _feed(first, spec, events[:cut])
    restore = first.checkpoint(1)
    first.close()
    second = OperatorHarness(spec, checkpointing=True, restore=restore)
    _feed(second, spec, events[cut:])
    second.end()
    second.close()
    assert _output(first.out.batches + second.out.batches) == expected


@pytest.mark.parametrize("name", EVENT_TIME)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32))
def test_state_of_two_subtasks_restores_into_one(name, seed):
    """Rows hash-partitioned over two subtasks as the job would; both checkpoint mid-stream;
    one subtask restored from both finishes: the windows are those of one subtask alone."""
    spec = SPECS[name]
    rng = random.Random(seed)
    events = _events(rng, spec, bound=3)
    cut = rng.randint(0, len(events))
    expected = Counter(_run(spec, events))
    checkpoints = None
    emitted: list[pa.RecordBatch] = []
    parts = []
    from operator_harness import MemoryCheckpoints

    checkpoints = MemoryCheckpoints()
    for subtask in range(2):
        harness = OperatorHarness(spec, checkpointing=True, checkpoints=checkpoints,
                                  subtask=subtask, parallelism=2)
        _feed(harness, spec, _owned(spec, events[:cut], subtask))
        harness.checkpoint(1)
        harness.close()
        emitted += harness.out.batches
        parts.append(harness)
    restored = OperatorHarness(spec, checkpointing=True, restore=checkpoints.restore(1))
    _feed(restored, spec, events[cut:])
    restored.end()
    restored.close()
    assert Counter(_output(emitted + restored.out.batches)) == expected


def _owned(spec: OperatorSpec, events: list[tuple], subtask: int) -> list[tuple]:
    """The events subtask ``subtask`` of two sees: its key groups' rows, every watermark."""
    from volley.physical.windows import requirements

    out = []
    for event in events:
        if event[0] != "batch":
            out.append(event)
            continue
        batch = _batch(spec, event[2], event[1])
        hashing = requirements(spec)[event[1]]
        keys = [batch.column(k) for k in hashing.keys]
        if hashing.types:
            keys = [c.cast(t) for c, t in zip(keys, hashing.types, strict=True)]
        owners = subtask_of_key_groups(key_groups(keys, 128), 2, 128)
        mine = [row for row, owner in zip(event[2], owners, strict=True) if owner == subtask]
        out.append(("batch", event[1], mine))
    return out


@pytest.mark.parametrize("name", ["tumble", "hop", "cumulate"])
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_out_of_order_rows_within_the_bound_give_the_windows_of_ordered_rows(name, seed):
    spec = SPECS[name]
    rng = random.Random(seed)
    rows = _rows(rng, 30, 0, 60)
    shuffled = sorted(rows, key=lambda r: r[3] + rng.randint(0, 4))  # at most 4 ms late
    ordered = sorted(rows, key=lambda r: r[3])

    def run(sequence):
        harness = OperatorHarness(spec)
        high = 0
        for i in range(0, len(sequence), 3):
            chunk = sequence[i:i + 3]
            harness.process(_batch(spec, chunk))
            high = max(high, *(r[3] for r in chunk))
            harness.watermark(high - 5)
        harness.end()
        harness.close()
        return Counter(_output(harness.out.batches)), harness.task.counters()

    (got, counters), (expected, _) = run(shuffled), run(ordered)
    assert got == expected
    assert sum(counters.values()) == 0


def test_a_window_fires_once_the_watermark_reaches_its_end_and_late_rows_are_counted():
    spec = SPECS["tumble"]
    harness = OperatorHarness(spec)
    harness.process(_batch(spec, [(1, 5, "a", 3), (1, 7, "b", 12)]))
    harness.watermark(8)
    assert harness.out.batches == []
    harness.watermark(9)  # window [0, 10) ends at 10: it fires at 9
    # the operator's layout: keys, aggregates, window_start, window_end, window_time
    assert _output(harness.out.batches) == [(1, 1, 5, 1, _ts(0), _ts(10), _ts(9))]
    harness.process(_batch(spec, [(1, 100, "c", 4), (1, 1, "a", 15)]))  # the first is late
    harness.end()
    assert _output(harness.out.batches)[1:] == [(1, 2, 8, 2, _ts(10), _ts(20), _ts(19))]
    assert list(harness.task.counters().values()) == [1]


def test_a_late_row_still_counts_in_the_hopping_windows_that_have_not_fired():
    spec = SPECS["hop"]  # 10 ms windows every 5 ms: a row at 7 is in [0, 10) and [5, 15)
    harness = OperatorHarness(spec)
    harness.process(_batch(spec, [(1, 1, "a", 1)]))
    harness.watermark(9)  # [-5, 5) and [0, 10) fire
    harness.process(_batch(spec, [(1, 9, "a", 7)]))  # late for [0, 10), not for [5, 15)
    harness.end()
    assert sorted(r[:5] for r in _output(harness.out.batches)) == [
        (1, 1, 1, _ts(-5), _ts(5)), (1, 1, 1, _ts(0), _ts(10)), (1, 1, 9, _ts(5), _ts(15))]
    assert list(harness.task.counters().values()) == [0]  # not dropped from every window


def test_processing_time_windows_fire_on_the_clock_and_not_at_end_of_input():
    spec = SPECS["proctime"]
    harness = OperatorHarness(spec)
    now = [1_000_003]
    harness.operator.clock = lambda: now[0]
    harness.process(_batch(spec, [(1, 5, "a", 0), (2, 6, "b", 0)]))
    harness.task.advance_processing_time(1_000_008)
    assert harness.out.batches == []
    harness.task.advance_processing_time(1_000_009)  # [1_000_000, 1_000_010) closes
    assert sorted(r[:3] for r in _output(harness.out.batches)) == [
        (1, 1, _ts(1_000_000)), (2, 1, _ts(1_000_000))]
    now[0] = 1_000_015
    harness.process(_batch(spec, [(1, 7, "c", 0)]))
    harness.end()
    harness.close()
    assert len(_output(harness.out.batches)) == 2  # its window never closed


def test_a_session_closes_when_the_watermark_passes_its_last_row_plus_the_gap():
    spec = SPECS["session"]  # gap 4 ms, by k
    harness = OperatorHarness(spec)
    harness.process(_batch(spec, [(1, 1, "a", 10), (1, 2, "b", 20), (2, 3, "c", 11)]))
    harness.process(_batch(spec, [(1, 4, "d", 13)]))  # joins the session of 10
    harness.watermark(16)  # [10, 17) of key 1 is open until 16: it closes; key 2's too
    got = _output(harness.out.batches)
    assert sorted((r[0], r[1], r[4], r[5]) for r in got) == [
        (1, 1, _ts(10), _ts(17)), (1, 4, _ts(10), _ts(17)), (2, 3, _ts(11), _ts(15))]
    harness.process(_batch(spec, [(1, 9, "e", 12)]))  # late: its session has closed
    harness.end()
    assert [r[1] for r in _output(harness.out.batches)[3:]] == [2]
    assert list(harness.task.counters().values()) == [1]


def test_a_row_bridging_two_open_sessions_merges_them():
    spec = SPECS["session"]
    harness = OperatorHarness(spec)
    harness.process(_batch(spec, [(1, 1, "a", 10), (1, 2, "b", 20)]))
    harness.process(_batch(spec, [(1, 3, "c", 16)]))  # [16, 20) touches [10, 14)? no: 14 < 16
    harness.process(_batch(spec, [(1, 4, "d", 13)]))  # [13, 17) bridges [10, 14) and [16, 24)
    harness.end()
    bounds = {(r[4], r[5]) for r in _output(harness.out.batches)}
    assert bounds == {(_ts(10), _ts(24))}


def _ts(ms: int) -> datetime.datetime:
    return datetime.datetime(1970, 1, 1) + datetime.timedelta(milliseconds=ms)


def test_end_of_input_closes_every_event_time_window():
    spec = SPECS["rank"]
    harness = OperatorHarness(spec)
    harness.process(_batch(spec, [(1, v, "a", 5) for v in (3, 9, 4)]))
    harness.end()
    assert [(r[1], r[-1]) for r in _output(harness.out.batches)] == [(9, 1), (4, 2)]
    assert harness.out.watermarks[-1] == MAX_WATERMARK


@pytest.mark.parametrize("name", EVENT_TIME)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32), cuts=st.lists(st.integers(1, 7), min_size=1, max_size=10))
def test_results_do_not_depend_on_how_rows_are_cut_into_batches(name, seed, cuts):
    """The same rows (out of order within the watermark bound) cut two ways, a bounded-out-of-
    orderness watermark after every batch: the same windows."""
    spec = SPECS[name]
    rng = random.Random(seed)
    rows = sorted(_rows(rng, 24, 0, 80), key=lambda r: r[3] + rng.randint(0, 3))
    ports = [rng.randint(0, spec.arity - 1) for _ in rows]

    def run(sizes):
        harness = OperatorHarness(spec)
        high, start = 0, 0
        while start < len(rows):
            size = sizes[0] if sizes else len(rows)
            sizes = sizes[1:]
            for port in range(spec.arity):
                chunk = [r for r, p in zip(rows[start:start + size], ports[start:start + size],
                                           strict=True) if p == port]
                if chunk:
                    harness.process(_batch(spec, chunk, port), port)
            high = max(high, *(r[3] for r in rows[start:start + size]))
            start += size
            # rows arrive up to 3 ms out of order; one more millisecond of delay because a
            # session touching another's end merges with it (Flink's intersects is inclusive):
            # at high - 4, session [11, 18) fired at watermark 17 before a row at 18, still on
            # time, arrived after one at 21
            for port in range(spec.arity):
                harness.watermark(high - 5, port)
        harness.end()
        harness.close()
        return Counter(_output(harness.out.batches))

    assert run(list(cuts)) == run([1]) == run([])


def test_processing_time_rankings_and_sessions_close_on_the_clock():
    rank = OperatorHarness(SPECS["proctime_rank"])
    # rows of the window [1_000_000, 1_000_010) the clock put them in upstream
    rank.process(_batch(SPECS["proctime_rank"], [(1, 5, "a", 1_000_003), (2, 6, "b", 1_000_004)]))
    rank.task.advance_processing_time(1_000_008)
    assert rank.out.batches == []
    rank.task.advance_processing_time(1_000_009)
    assert [r[1] for r in _output(rank.out.batches)] == [6]

    session = OperatorHarness(SPECS["proctime_session"])  # gap 4 ms, on the clock
    now = [2_000_000]
    session.operator.clock = lambda: now[0]
    session.process(_batch(SPECS["proctime_session"], [(1, 1, "a", 0)]))
    now[0] = 2_000_002
    session.process(_batch(SPECS["proctime_session"], [(1, 2, "b", 0)]))
    session.task.advance_processing_time(2_000_004)  # the first row's session grew: open
    assert session.out.batches == []
    session.task.advance_processing_time(2_000_005)
    assert [(r[1], r[5], r[6]) for r in _output(session.out.batches)] == [
        (1, _ts(2_000_000), _ts(2_000_006)), (2, _ts(2_000_000), _ts(2_000_006))]
    session.end()
    session.close()
