"""The streaming OVER operator against batch mode, through the real task.

Random events, out of order by less than the watermark delay, cut into random batches, with the
watermark following each batch as a watermark assigner moves it: every row comes out once, in
time order, with the aggregates batch mode computes for it — whatever the frame (ROWS or RANGE,
bounded or not), the batch cuts, or a checkpoint and restore in between (also onto two subtasks,
each taking its key groups). Late rows are dropped and counted as Flink drops them.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from operator_harness import OperatorHarness

from volley.physical.job_graph import OperatorSpec
from volley.plan.calls import AggCall, OverFrame, SortKey
from volley.plan.types import from_arrow
from volley.runtime.over import over_table
from volley.sql.binder_query import agg_result_type
from volley.state.key_hashing import key_group_range, key_groups

SCHEMA = pa.schema([("k", pa.int64()), ("v", pa.int32()), ("d", pa.decimal128(9, 2)),
                    ("s", pa.string()), pa.field("ts", pa.timestamp("ms"), nullable=False)])
K, V, D, S, TS = range(5)
CALLS = [("count", None), ("count", V), ("sum", V), ("avg", V), ("min", V), ("max", S),
         ("sum", D), ("avg", D), ("max", TS)]
AGGS = tuple(AggCall(fn, arg, False, agg_result_type(
    fn, None if arg is None else from_arrow(SCHEMA.field(arg).type)), f"a{j}")
    for j, (fn, arg) in enumerate(CALLS))
OUT = pa.schema(list(SCHEMA) + [pa.field(a.name, a.type.to_arrow()) for a in AGGS])
DELAY = 5
BASE = dt.datetime(2024, 1, 1)
FRAMES = [OverFrame("rows", None, 0), OverFrame("range", None, 0), OverFrame("rows", -1, 0),
          OverFrame("rows", -3, 0), OverFrame("range", -4, 0), OverFrame("range", -10, 0)]


def _spec(frame: OverFrame, rowtime: bool = True, keys: tuple[int, ...] = (K,)) -> OperatorSpec:
    params = {"partition_keys": keys, "time_index": TS, "aggs": AGGS, "frame": frame,
              "rowtime": rowtime}
    return OperatorSpec("stream_over_aggregate", "over-1", "Over", params, (SCHEMA,), OUT)


@st.composite
def events(draw):
    """Rows whose times run ahead with jitter below DELAY (never late), in milliseconds."""
    n = draw(st.integers(0, 40))
    rows, base = [], 0
    for _ in range(n):
        base += draw(st.integers(0, 3))
        ts = base + draw(st.integers(0, DELAY - 1))
        rows.append((draw(st.integers(0, 3)), draw(st.one_of(st.none(), st.integers(-9, 9))),
                     draw(st.one_of(st.none(), st.integers(-99, 99).map(
                         lambda x: Decimal(x).scaleb(-2)))),
                     draw(st.one_of(st.none(), st.sampled_from(["x", "y", "z"]))),
                     BASE + dt.timedelta(milliseconds=ts)))
    return rows


def _batches(rows, cuts) -> list[pa.RecordBatch]:
    table = pa.Table.from_pylist([dict(zip(SCHEMA.names, r, strict=True)) for r in rows],
                                 schema=SCHEMA)
    out, start = [], 0
    for size in cuts:
        if start >= len(rows):
            break
        out.append(table.slice(start, size).combine_chunks().to_batches()[0]
                   if table.slice(start, size).num_rows else None)
        start += size
    if start < len(rows):
        out.append(table.slice(start).combine_chunks().to_batches()[0])
    return [b for b in out if b is not None]


def _millis(value: dt.datetime) -> int:
    return int((value - dt.datetime(1970, 1, 1)).total_seconds() * 1000)


def _feed(harness: OperatorHarness, batches, highest: list[int]) -> None:
    """Each batch, then the watermark a bounded-out-of-orderness assigner would emit."""
    for batch in batches:
        harness.process(batch)
        if batch.num_rows:
            highest[0] = max(highest[0], max(_millis(t) for t in batch.column(TS).to_pylist()))
            harness.watermark(highest[0] - DELAY)


def _rows(batches) -> list[tuple]:
    return [tuple(r.values()) for b in batches for r in b.to_pylist()]


def _expected(rows, frame: OverFrame) -> Counter:
    table = pa.Table.from_pylist([dict(zip(SCHEMA.names, r, strict=True)) for r in rows],
                                 schema=SCHEMA)
    result = over_table(table, (K,), (SortKey(TS),), AGGS, frame, OUT)
    return Counter(tuple(r.values()) for r in result.to_pylist())


@pytest.mark.parametrize("frame", FRAMES, ids=str)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=events(), cuts=st.lists(st.integers(1, 9), max_size=10))
def test_every_row_once_in_time_order_with_batch_modes_aggregates(frame, rows, cuts):
    harness = OperatorHarness(_spec(frame))
    _feed(harness, _batches(rows, cuts), [-(2**63)])
    harness.end()
    got = harness.rows()
    assert Counter(got) == _expected(rows, frame)
    times = [r[TS] for r in got]
    assert times == sorted(times)
    assert harness.task.counters() == {"over-1.numLateRecordsDropped": 0}


@pytest.mark.parametrize("frame", FRAMES, ids=str)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=events(), cuts=st.lists(st.integers(1, 9), max_size=10), where=st.floats(0, 1))
def test_a_restored_operator_continues_the_same_output(frame, rows, cuts, where):
    batches = _batches(rows, cuts)
    cut = round(where * len(batches))
    straight = OperatorHarness(_spec(frame), checkpointing=True)
    _feed(straight, batches, [-(2**63)])
    straight.end()
    first = OperatorHarness(_spec(frame), checkpointing=True)
    highest = [-(2**63)]
    _feed(first, batches[:cut], highest)
    restore = first.checkpoint(1)
    first.close()
    second = OperatorHarness(_spec(frame), checkpointing=True, restore=restore)
    _feed(second, batches[cut:], highest)
    second.end()
    assert first.rows() + second.rows() == straight.rows()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=events(), cuts=st.lists(st.integers(1, 9), max_size=10), where=st.floats(0, 1),
       frame=st.sampled_from(FRAMES))
def test_restored_onto_two_subtasks_each_takes_its_key_groups(rows, cuts, where, frame):
    batches = _batches(rows, cuts)
    cut = round(where * len(batches))
    first = OperatorHarness(_spec(frame), checkpointing=True)
    highest = [-(2**63)]
    _feed(first, batches[:cut], highest)
    restore = first.checkpoint(1)
    emitted = first.rows()
    for subtask in range(2):
        mine = key_group_range(subtask, 2, 128)
        part = OperatorHarness(_spec(frame), checkpointing=True, restore=restore,
                               subtask=subtask, parallelism=2)
        own = [b.filter(pa.array(mine.contains(key_groups([b.column(K)], 128))))
               for b in batches[cut:]]
        _feed(part, own, list(highest))
        part.end()
        emitted += part.rows()
    assert Counter(emitted) == _expected(rows, frame)


def test_late_rows_are_dropped_and_counted():
    """Unbounded frames drop rows not after the watermark; bounded frames rows not after the
    last time their own partition emitted (as Flink's over-aggregate functions)."""
    def batch(*rows):
        return pa.Table.from_pylist([{"k": k, "v": v, "d": None, "s": None,
                                      "ts": BASE + dt.timedelta(milliseconds=t)}
                                     for k, v, t in rows], schema=SCHEMA).to_batches()[0]

    for frame, kept in ((OverFrame("rows", None, 0), {10, 20, 40}),
                        (OverFrame("rows", -2, 0), {10, 20, 30, 40})):
        harness = OperatorHarness(_spec(frame))
        harness.process(batch((1, 10, 100), (2, 20, 50)))
        harness.watermark(_millis(BASE) + 100)  # both fire; partition 2 last emitted at 50
        harness.process(batch((2, 30, 60), (1, 35, 100), (1, 40, 150)))
        harness.end()
        assert {r[V] for r in harness.rows()} == kept
        assert harness.task.counters()["over-1.numLateRecordsDropped"] == 5 - len(kept)


def test_processing_time_rows_are_emitted_as_they_arrive():
    spec = _spec(OverFrame("rows", -1, 0), rowtime=False)
    harness = OperatorHarness(spec)
    rows = [(1, 1, None, None, BASE), (1, 2, None, None, BASE), (2, 5, None, None, BASE)]
    first = harness.process(_batches(rows, [3])[0])
    assert [r[V] for r in _rows(first)] == [1, 2, 5]
    assert [r[len(SCHEMA) + 2] for r in _rows(first)] == [1, 3, 5]  # SUM over ROWS 1 PRECEDING
    more = harness.process(_batches([(1, 4, None, None, BASE + dt.timedelta(seconds=1))], [1])[0])
    assert [r[len(SCHEMA) + 2] for r in _rows(more)] == [6]


def test_a_null_time_attribute_is_an_error_naming_the_column():
    from volley.errors import JobExecutionError

    schema = pa.schema([("k", pa.int64()), ("v", pa.int32()), ("d", pa.decimal128(9, 2)),
                        ("s", pa.string()), ("ts", pa.timestamp("ms"))])
    harness = OperatorHarness(_spec(OverFrame("rows", None, 0)))
    batch = pa.table({"k": [1], "v": [1], "d": pa.array([None], pa.decimal128(9, 2)),
                      "s": [None], "ts": pa.array([None], pa.timestamp("ms"))},
                     schema=schema).to_batches()[0]
    with pytest.raises(JobExecutionError, match="'ts'"):
        harness.process(batch)


# -- ordered by a column that is not a time attribute: an updating result ---------------------------

def _sorted_spec(frame: OverFrame) -> OperatorSpec:
    from volley.common.changelog import ROW_KIND_COLUMN

    out = pa.schema([*OUT, pa.field(ROW_KIND_COLUMN, pa.int8(), nullable=False)])
    params = {"partition_keys": (K,), "order_key": SortKey(V), "aggs": AGGS, "frame": frame}
    return OperatorSpec("sorted_over_aggregate", "sorted-1", "Over", params, (SCHEMA,), out)


@pytest.mark.parametrize("frame", FRAMES[:2], ids=str)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=events(), cuts=st.lists(st.integers(1, 9), max_size=10), where=st.floats(0, 1))
def test_a_window_ordered_by_a_non_time_column_materializes_to_batch_mode(frame, rows, cuts,
                                                                         where):
    batches = _batches(rows, cuts)
    cut = round(where * len(batches))
    first = OperatorHarness(_sorted_spec(frame), checkpointing=True)
    for batch in batches[:cut]:
        first.process(batch)
    restore = first.checkpoint(1)
    second = OperatorHarness(_sorted_spec(frame), checkpointing=True, restore=restore)
    for batch in batches[cut:]:
        second.process(batch)
    materialized: Counter = Counter()
    for *values, kind in first.rows() + second.rows():
        if kind in (0, 2):
            materialized[tuple(values)] += 1
        else:
            assert materialized[tuple(values)] > 0, "retracted a row never emitted"
            materialized[tuple(values)] -= 1
    table = pa.Table.from_pylist([dict(zip(SCHEMA.names, r, strict=True)) for r in rows],
                                 schema=SCHEMA)
    expected = over_table(table, (K,), (SortKey(V),), AGGS, frame, OUT)
    assert +materialized == Counter(tuple(r.values()) for r in expected.to_pylist())
