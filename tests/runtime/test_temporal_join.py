"""The event-time temporal join operator against a model: each left row joins the latest version
of its key at or before its time (the last to arrive among equal times), over any batch cuts,
interleavings and watermarks that leave no row late; a versioned table given as a changelog
(upserts and deletions); checkpoints and restores (also at another parallelism)."""

from __future__ import annotations

import datetime
from collections import Counter

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st
from operator_harness import OperatorHarness

from volley.common.changelog import DELETE, INSERT, ROW_KIND_COLUMN, UPDATE_AFTER, UPDATE_BEFORE
from volley.physical.job_graph import OperatorSpec
from volley.plan.expressions import Call, InputRef, Literal
from volley.plan.types import BigIntType, BooleanType
from volley.state import key_groups, subtask_of_key_groups

EPOCH = datetime.datetime(1970, 1, 1)
BASE = 1_000_000
LEFT = pa.schema([("k", pa.int64()), ("ts", pa.timestamp("ms")), ("id", pa.int64())])
RIGHT = pa.schema([("k", pa.int64()), ("ts", pa.timestamp("ms")), ("v", pa.int64())])
CHANGELOG = RIGHT.append(pa.field(ROW_KIND_COLUMN, pa.int8(), nullable=False))
OUT = pa.schema([("k", pa.int64()), ("ts", pa.timestamp("ms")), ("id", pa.int64()),
                 ("k0", pa.int64()), ("ts0", pa.timestamp("ms")), ("v", pa.int64())])
V_ABOVE_ONE = Call("gt", (InputRef(5, "v", BigIntType()), Literal(1, BigIntType())),
                   BooleanType())


def _spec(kind="inner", residual=None, changelog=False) -> OperatorSpec:
    params = {"kind": kind, "left_keys": (0,), "right_keys": (0,), "residual": residual,
              "left_time": 1, "right_time": 1}
    return OperatorSpec("temporal_join", "tj-0", "TemporalJoin", params,
                        (LEFT, CHANGELOG if changelog else RIGHT), OUT)


def _ts(values):
    return pa.array([None if t is None else BASE + t for t in values], pa.int64()) \
        .cast(pa.timestamp("ms"))


def _left_batch(rows) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays([pa.array([r[0] for r in rows], pa.int64()),
                                       _ts([r[1] for r in rows]),
                                       pa.array([r[2] for r in rows], pa.int64())], schema=LEFT)


def _right_batch(rows, changelog) -> pa.RecordBatch:
    arrays = [pa.array([r[0] for r in rows], pa.int64()), _ts([r[1] for r in rows]),
              pa.array([r[2] for r in rows], pa.int64())]
    if changelog:
        arrays.append(pa.array([r[3] for r in rows], pa.int8()))
    return pa.RecordBatch.from_arrays(arrays, schema=CHANGELOG if changelog else RIGHT)


def _ms(value):
    return None if value is None else int((value - EPOCH) / datetime.timedelta(milliseconds=1)) - BASE


def _out_rows(batches):
    return [(r["k"], _ms(r["ts"]), r["id"], r["k0"], _ms(r["ts0"]), r["v"])
            for b in batches for r in b.to_pylist()]


def _model(spec, left, versions) -> Counter:
    """``versions``: (key, time, value, kind) in arrival order; -U rows are not versions."""
    out: Counter = Counter()
    kept = [(i, v) for i, v in enumerate(versions) if v[3] != UPDATE_BEFORE]
    for row in left:
        if row[1] is None:
            if spec.params["kind"] == "left":
                out[row + (None, None, None)] += 1
            continue
        candidates = [(v[1], i, v) for i, v in kept
                      if row[0] is not None and v[0] == row[0] and v[1] <= row[1]]
        version = max(candidates)[2] if candidates else None
        joined = version is not None and version[3] != DELETE and (
            spec.params["residual"] is None or version[2] > 1)
        if joined:
            out[row + version[:3]] += 1
        elif spec.params["kind"] == "left":
            out[row + (None, None, None)] += 1
    return out


LEFT_ROW = st.tuples(st.one_of(st.none(), st.integers(0, 3)),
                     st.one_of(st.none(), st.integers(0, 40)), st.integers(0, 99))
VERSION = st.tuples(st.integers(0, 3), st.integers(0, 40), st.integers(0, 5),
                    st.sampled_from([INSERT, UPDATE_AFTER, UPDATE_BEFORE, DELETE]))


def _schedule(left, versions, sizes, order, watermarks, changelog):
    """Batches in the order ``order`` picks; a watermark never passes a row still to come."""
    pending = [list(left), list(versions)]
    events, ports, sizes, steps = [], iter(order), iter(sizes), iter(watermarks)
    while pending[0] or pending[1]:
        port = next(ports, 0 if pending[0] else 1)
        if not pending[port]:
            port = 1 - port
        size = next(sizes, 3)
        chunk, pending[port] = pending[port][:size], pending[port][size:]
        events.append(("rows", port, _left_batch(chunk) if port == 0
                       else _right_batch(chunk, changelog)))
        step = next(steps, None)
        if step is not None:
            # a watermark at t says no row at or before t is still to come
            later = [r[1] for side in pending for r in side if r[1] is not None]
            events.append(("wm", BASE + min(min(later, default=61) - 1, step)))
    return events


def _feed(harness, event):
    if event[0] == "wm":
        harness.watermark(event[1], 0)
        harness.watermark(event[1], 1)
    elif event[2].num_rows:
        harness.process(event[2], event[1])


def _run(spec, events, harness=None):
    harness = harness or OperatorHarness(spec)
    for event in events:
        _feed(harness, event)
    harness.end()
    return harness


@settings(max_examples=200, deadline=None)
@given(left=st.lists(LEFT_ROW, max_size=25), versions=st.lists(VERSION, max_size=25),
       kind=st.sampled_from(["inner", "left"]), residual=st.booleans(),
       changelog=st.booleans(), sizes=st.lists(st.integers(1, 6), max_size=12),
       order=st.lists(st.integers(0, 1)),
       watermarks=st.lists(st.one_of(st.none(), st.integers(0, 60)), max_size=12))
def test_each_row_joins_the_version_valid_at_its_time(left, versions, kind, residual, changelog,
                                                      sizes, order, watermarks):
    if not changelog:
        versions = [v[:3] + (INSERT,) for v in versions]
    # rows arrive in time order (none late); versions of equal time keep their arrival order
    left = sorted(left, key=lambda r: -1 if r[1] is None else r[1])
    versions = sorted(versions, key=lambda v: v[1])
    spec = _spec(kind, V_ABOVE_ONE if residual else None, changelog)
    harness = _run(spec, _schedule(left, versions, sizes, order, watermarks, changelog))
    assert Counter(_out_rows(harness.out.batches)) == _model(spec, left, versions)


def test_a_row_waits_for_the_watermark_and_joins_the_version_valid_then():
    harness = OperatorHarness(_spec())
    harness.process(_right_batch([(1, 0, 10), (1, 20, 11)], False), 1)
    assert harness.process(_left_batch([(1, 15, 7), (1, 25, 8)]), 0) == []
    harness.watermark(BASE + 16, 0)
    harness.watermark(BASE + 16, 1)
    assert _out_rows(harness.out.batches) == [(1, 15, 7, 1, 0, 10)]
    assert harness.out.watermarks == [BASE + 16]
    harness.watermark(BASE + 30, 0)
    harness.watermark(BASE + 30, 1)
    assert _out_rows(harness.out.batches)[1:] == [(1, 25, 8, 1, 20, 11)]
    # superseded versions are gone: one current version per key
    assert harness.operator._current.index.live_count() == 1


@settings(max_examples=80, deadline=None)
@given(left=st.lists(LEFT_ROW, max_size=20), versions=st.lists(VERSION, max_size=20),
       kind=st.sampled_from(["inner", "left"]), sizes=st.lists(st.integers(1, 6), max_size=10),
       order=st.lists(st.integers(0, 1)),
       watermarks=st.lists(st.one_of(st.none(), st.integers(0, 60)), max_size=10),
       where=st.floats(0, 1))
def test_a_restored_join_continues_the_same_output(left, versions, kind, sizes, order, watermarks,
                                                   where):
    spec = _spec(kind, changelog=True)
    events = _schedule(left, versions, sizes, order, watermarks, True)
    straight = _run(spec, events)
    cut = round(where * len(events))
    first = OperatorHarness(spec, checkpointing=True)
    for event in events[:cut]:
        _feed(first, event)
    restore = first.checkpoint(1)
    first.close()
    second = _run(spec, events[cut:], OperatorHarness(spec, restore=restore, checkpointing=True))
    assert _out_rows(first.out.batches + second.out.batches) == _out_rows(straight.out.batches)
    # and at parallelism 2, each subtask getting its keys
    subtasks = [OperatorHarness(spec, restore=restore, checkpointing=True, subtask=i,
                                parallelism=2) for i in range(2)]
    for event in events[cut:]:
        if event[0] == "wm" or not event[2].num_rows:
            for harness in subtasks:
                _feed(harness, event)
            continue
        batch = event[2]
        owners = subtask_of_key_groups(key_groups([batch.column(0)], 128), 2, 128)
        for i, harness in enumerate(subtasks):
            part = batch.filter(pa.array(owners == i))
            if part.num_rows:
                harness.process(part, event[1])
    got = Counter(_out_rows(first.out.batches))
    for harness in subtasks:
        harness.end()
        got.update(_out_rows(harness.out.batches))
    assert got == Counter(_out_rows(straight.out.batches))
