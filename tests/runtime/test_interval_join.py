"""The interval join operator against two models: a batch join of everything (when no row is
late, which is what a streaming interval join promises) and a row-at-a-time restatement of its
rules (Flink's ``TimeIntervalJoin``: keep a row while the operator time is below its window's
end, expire it after, pad an unmatched outer row when it expires or is not kept) for any
arrival order. Inputs are cut into batches and interleaved with watermarks in any way;
checkpoints and restores (also at another parallelism) continue the same output."""

from __future__ import annotations

import datetime
from collections import Counter

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st
from operator_harness import OperatorHarness

from volley.physical.job_graph import OperatorSpec
from volley.plan.expressions import Call, InputRef
from volley.plan.types import BigIntType, BooleanType
from volley.state import key_groups, subtask_of_key_groups

EPOCH = datetime.datetime(1970, 1, 1)
BASE = 1_000_000  # times are BASE + small offsets: the operator time is 0 before any watermark
SCHEMA = pa.schema([("k", pa.int64()), ("ts", pa.timestamp("ms")), ("v", pa.int64())])
OUT = pa.schema([("k", pa.int64()), ("ts", pa.timestamp("ms")), ("v", pa.int64()),
                 ("k0", pa.int64()), ("ts0", pa.timestamp("ms")), ("v0", pa.int64())])
LEFT_V_BELOW_RIGHT_V = Call("lt", (InputRef(2, "v", BigIntType()), InputRef(5, "v0", BigIntType())),
                            BooleanType())


def _spec(kind="inner", lower=-5, upper=3, residual=None, keys=True) -> OperatorSpec:
    params = {"kind": kind, "left_keys": (0,) if keys else (), "right_keys": (0,) if keys else (),
              "residual": residual, "time_kind": "rowtime", "left_time": 1, "right_time": 1,
              "lower": lower, "upper": upper}
    return OperatorSpec("interval_join", "join-0", "IntervalJoin", params, (SCHEMA, SCHEMA), OUT)


def _batch(rows) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(
        [pa.array([r[0] for r in rows], pa.int64()),
         pa.array([None if r[1] is None else BASE + r[1] for r in rows], pa.int64())
         .cast(pa.timestamp("ms")),
         pa.array([r[2] for r in rows], pa.int64())], schema=SCHEMA)


def _ms(value) -> int | None:
    return None if value is None else int((value - EPOCH) / datetime.timedelta(milliseconds=1)) - BASE


def _out_rows(batches) -> list[tuple]:
    rows = []
    for b in batches:
        for r in b.to_pylist():
            rows.append((r["k"], _ms(r["ts"]), r["v"], r["k0"], _ms(r["ts0"]), r["v0"]))
    return rows


# -- models ----------------------------------------------------------------------------------------

def _matches(spec, lrow, rrow) -> bool:
    p = spec.params
    if p["left_keys"] and (lrow[0] is None or lrow[0] != rrow[0]):
        return False
    if lrow[1] is None or rrow[1] is None or not p["lower"] <= lrow[1] - rrow[1] <= p["upper"]:
        return False
    return p["residual"] is None or lrow[2] < rrow[2]


def _batch_model(spec, left, right) -> Counter:
    """Every matching pair; outer joins add each row that matched nothing, padded."""
    kind = spec.params["kind"]
    out: Counter = Counter()
    for lrow in left:
        for rrow in right:
            if _matches(spec, lrow, rrow):
                out[lrow + rrow] += 1
    if kind in ("left", "full"):
        for lrow in left:
            if not any(_matches(spec, lrow, r) for r in right):
                out[lrow + (None, None, None)] += 1
    if kind in ("right", "full"):
        for rrow in right:
            if not any(_matches(spec, lrow, rrow) for lrow in left):
                out[(None, None, None) + rrow] += 1
    return out


def _row_model(spec, events) -> Counter:
    """The operator's rules one row at a time (see the module docstring)."""
    p = spec.params
    lrs, rrs = -p["lower"], p["upper"]
    outer = (p["kind"] in ("left", "full"), p["kind"] in ("right", "full"))
    caches: list[list[list]] = [[], []]  # [row, matched]
    out: Counter = Counter()
    wm = None

    def padded(port, row):
        return row + (None, None, None) if port == 0 else (None, None, None) + row

    def expire(operator_time):
        for port in (0, 1):
            limit = operator_time - (lrs if port == 0 else rrs) - 1 if operator_time is not None \
                else None
            kept = []
            for entry in caches[port]:
                if limit is None or entry[0][1] <= limit:
                    if outer[port] and not entry[1]:
                        out[padded(port, entry[0])] += 1
                else:
                    kept.append(entry)
            caches[port] = kept

    for event in events:
        if event[0] == "wm":
            wm = event[1] if wm is None else max(wm, event[1])
            expire(max(wm, -BASE))
            continue
        _, port, rows = event
        # the operator time is the watermark, 0 before a positive one (times here are - BASE)
        now = max(wm, -BASE) if wm is not None else -BASE
        for row in rows:
            valid = row[1] is not None and (row[0] is not None or not p["left_keys"])
            emitted = False
            if valid:
                other = 1 - port
                floor = now - (lrs if other == 0 else rrs) - 1
                for entry in caches[other]:
                    if entry[0][1] <= floor:
                        continue
                    pair = (row, entry[0]) if port == 0 else (entry[0], row)
                    if _matches(spec, *pair):
                        out[pair[0] + pair[1]] += 1
                        emitted = True
                        entry[1] = True
            keep = valid and now < row[1] + (lrs if port == 0 else rrs)
            if keep:
                caches[port].append([row, emitted])
            elif outer[port] and not emitted:
                out[padded(port, row)] += 1
    expire(None)
    return out


# -- inputs ----------------------------------------------------------------------------------------

ROW = st.tuples(st.one_of(st.none(), st.integers(0, 3)), st.integers(0, 40), st.integers(0, 5))
KINDS = st.sampled_from(["inner", "left", "right", "full"])
BOUNDS = st.tuples(st.integers(-8, 4), st.integers(0, 8)).map(lambda b: (b[0], b[0] + b[1]))


def _schedule(left, right, sizes, order, watermarks, punctual):
    """Batches of both inputs in the order ``order`` picks, with watermarks between them. With
    ``punctual`` a watermark never passes a row still to come (no row is late)."""
    pending = [list(left), list(right)]
    events = []
    ports = iter(order)
    sizes = iter(sizes)
    wm_choices = iter(watermarks)
    while pending[0] or pending[1]:
        port = next(ports, 0 if pending[0] else 1)
        if not pending[port]:
            port = 1 - port
        size = next(sizes, 3)
        chunk, pending[port] = pending[port][:size], pending[port][size:]
        events.append(("rows", port, chunk))
        step = next(wm_choices, None)
        if step is not None:
            if punctual:
                # a watermark at t says no row at or before t is still to come
                later = [r[1] for side in pending for r in side if r[1] is not None]
                limit = min(later) - 1 if later else 60
                events.append(("wm", BASE + min(limit, step)))
            else:
                events.append(("wm", BASE + step))
    return events


def _run(spec, events, harness=None):
    harness = harness or OperatorHarness(spec)
    for event in events:
        if event[0] == "wm":
            harness.watermark(event[1], 0)
            harness.watermark(event[1], 1)
        elif event[2]:
            harness.process(_batch(event[2]), event[1])
    harness.end()
    return harness


def _model_events(events):
    """The events in the models' terms (watermarks relative to BASE)."""
    return [("wm", e[1] - BASE) if e[0] == "wm" else e for e in events]


@settings(max_examples=150, deadline=None)
@given(left=st.lists(ROW, max_size=25), right=st.lists(ROW, max_size=25), kind=KINDS,
       bounds=BOUNDS, residual=st.booleans(), keys=st.booleans(),
       sizes=st.lists(st.integers(1, 6), max_size=12), order=st.lists(st.integers(0, 1)),
       watermarks=st.lists(st.one_of(st.none(), st.integers(0, 60)), max_size=12))
def test_without_late_rows_the_result_is_the_batch_join(left, right, kind, bounds, residual,
                                                        keys, sizes, order, watermarks):
    left = sorted(left, key=lambda r: r[1])
    right = sorted(right, key=lambda r: r[1])
    spec = _spec(kind, *bounds, LEFT_V_BELOW_RIGHT_V if residual else None, keys)
    harness = _run(spec, _schedule(left, right, sizes, order, watermarks, punctual=True))
    assert Counter(_out_rows(harness.out.batches)) == _batch_model(spec, left, right)


@settings(max_examples=150, deadline=None)
@given(left=st.lists(ROW, max_size=25), right=st.lists(ROW, max_size=25), kind=KINDS,
       bounds=BOUNDS, residual=st.booleans(), sizes=st.lists(st.integers(1, 6), max_size=12),
       order=st.lists(st.integers(0, 1)),
       watermarks=st.lists(st.one_of(st.none(), st.integers(0, 60)), max_size=12))
def test_late_rows_follow_the_rules_row_by_row(left, right, kind, bounds, residual, sizes, order,
                                               watermarks):
    spec = _spec(kind, *bounds, LEFT_V_BELOW_RIGHT_V if residual else None)
    events = _schedule(left, right, sizes, order, watermarks, punctual=False)
    harness = _run(spec, events)
    assert Counter(_out_rows(harness.out.batches)) == _row_model(spec, _model_events(events))


def test_the_output_watermark_lags_by_the_longest_wait():
    harness = OperatorHarness(_spec("inner", lower=-5, upper=3))
    harness.watermark(BASE + 100, 0)
    harness.watermark(BASE + 100, 1)
    assert harness.out.watermarks == [BASE + 100 - 5]
    harness.end()
    assert harness.out.watermarks[-1] == 2**63 - 1


def test_rows_expire_as_the_watermark_passes_and_outer_rows_come_out_then():
    harness = OperatorHarness(_spec("full", lower=-5, upper=3))
    harness.process(_batch([(1, 10, 0), (2, 30, 0)]), 0)
    harness.process(_batch([(1, 12, 0), (3, 31, 0)]), 1)
    left, right = harness.operator._sides
    assert (left.live_count(), right.live_count()) == (2, 2)
    # left rows live until operator time t + 5 + 1, right rows until t + 3 + 1
    harness.watermark(BASE + 16, 0)
    harness.watermark(BASE + 16, 1)
    assert (left.live_count(), right.live_count()) == (1, 1)
    assert _out_rows(harness.out.batches) == [(1, 10, 0, 1, 12, 0)]  # matched: nothing padded
    harness.watermark(BASE + 40, 0)
    harness.watermark(BASE + 40, 1)
    assert (left.live_count(), right.live_count()) == (0, 0)
    assert sorted(_out_rows(harness.out.batches[1:]), key=str) == [
        (2, 30, 0, None, None, None), (None, None, None, 3, 31, 0)]


def test_a_row_too_late_to_be_kept_is_joined_with_what_is_kept_and_padded_at_once():
    harness = OperatorHarness(_spec("left", lower=-5, upper=3))
    harness.process(_batch([(1, 46, 0)]), 1)
    harness.watermark(BASE + 48, 0)
    harness.watermark(BASE + 48, 1)
    # 42 + 5 <= 48: no right row still to come can match, so the row is not kept; it joins the
    # kept right row (46 > 48 - 3 - 1) now
    emitted = harness.process(_batch([(1, 42, 0), (2, 40, 0)]), 0)
    assert _out_rows(emitted) == [(1, 42, 0, 1, 46, 0), (2, 40, 0, None, None, None)]
    assert harness.operator._sides[0].live_count() == 0


def test_state_stays_in_logarithmically_many_runs_and_expires_in_time_order():
    harness = OperatorHarness(_spec("inner", lower=-2, upper=2))
    side = harness.operator._sides[0]
    for t in range(400):
        harness.process(_batch([(t % 5, t, 0)]), 0)
        assert len(side.runs) <= np.log2(t + 1) + 2
        if t % 50 == 49:
            harness.watermark(BASE + t - 10, 0)
            harness.watermark(BASE + t - 10, 1)
            # rows with t + 2 + 1 <= watermark are gone; the rest stay
            assert side.live_count() == t + 1 - (t - 10 - 2)


def test_the_index_forgets_keys_whose_rows_all_expired(monkeypatch):
    from volley.runtime import interval_state

    monkeypatch.setattr(interval_state, "FORGET_AT_LEAST", 8)
    spec = _spec("full", lower=-3, upper=2)
    rng = np.random.default_rng(1)
    left = [(int(k), t, 0) for t, k in enumerate(rng.integers(0, 50, 600))]
    right = [(int(k), t, 0) for t, k in enumerate(rng.integers(0, 50, 600))]
    events = []
    for i in range(0, 600, 20):
        events += [("rows", 0, left[i:i + 20]), ("rows", 1, right[i:i + 20]),
                   ("wm", BASE + i + 19)]
    harness = OperatorHarness(spec)
    sizes = []
    for event in events:
        _feed(harness, event)
        sizes.append(max(side._index.size for side in harness.operator._sides))
    harness.end()
    # (key, bucket) ids of expired rows are forgotten: the index stays near the live rows
    assert max(sizes) < 200
    assert Counter(_out_rows(harness.out.batches)) == _batch_model(spec, left, right)


# -- checkpoints -----------------------------------------------------------------------------------

def _events_strategy():
    return st.tuples(st.lists(ROW, max_size=20), st.lists(ROW, max_size=20),
                     st.lists(st.integers(1, 6), max_size=10), st.lists(st.integers(0, 1)),
                     st.lists(st.one_of(st.none(), st.integers(0, 60)), max_size=10))


@settings(max_examples=80, deadline=None)
@given(data=_events_strategy(), kind=KINDS, bounds=BOUNDS, where=st.floats(0, 1))
def test_a_restored_join_continues_the_same_output(data, kind, bounds, where):
    spec = _spec(kind, *bounds)
    events = _schedule(*data, punctual=False)
    straight = _run(spec, events)
    cut = round(where * len(events))
    first = OperatorHarness(spec, checkpointing=True)
    for event in events[:cut]:
        _feed(first, event)
    restore = first.checkpoint(1)
    first.close()
    second = _run(spec, events[cut:], OperatorHarness(spec, restore=restore, checkpointing=True))
    assert _out_rows(first.out.batches + second.out.batches) == _out_rows(straight.out.batches)


def _feed(harness, event):
    if event[0] == "wm":
        harness.watermark(event[1], 0)
        harness.watermark(event[1], 1)
    elif event[2]:
        harness.process(_batch(event[2]), event[1])


@settings(max_examples=50, deadline=None)
@given(data=_events_strategy(), kind=KINDS, bounds=BOUNDS, where=st.floats(0, 1))
def test_a_join_restored_at_parallelism_2_gives_the_same_rows(data, kind, bounds, where):
    spec = _spec(kind, *bounds)
    events = _schedule(*data, punctual=False)
    expected = Counter(_out_rows(_run(spec, events).out.batches))
    cut = round(where * len(events))
    first = OperatorHarness(spec, checkpointing=True)
    for event in events[:cut]:
        _feed(first, event)
    restore = first.checkpoint(1)
    first.close()
    subtasks = [OperatorHarness(spec, restore=restore, checkpointing=True, subtask=i,
                                parallelism=2) for i in range(2)]
    for event in events[cut:]:
        if event[0] == "wm" or not event[2]:
            for harness in subtasks:
                _feed(harness, event)
            continue
        batch = _batch(event[2])
        owners = subtask_of_key_groups(key_groups([batch.column(0)], 128), 2, 128)
        for i, harness in enumerate(subtasks):
            part = batch.filter(pa.array(owners == i))
            if part.num_rows:
                harness.process(part, event[1])
    for harness in subtasks:
        harness.end()
    got = Counter(_out_rows(first.out.batches))
    for harness in subtasks:
        got.update(_out_rows(harness.out.batches))
    assert got == expected
