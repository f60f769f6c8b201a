"""TimerService against a set of (key, timestamp) per domain."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from volley.state.key_hashing import key_group_range, key_groups
from volley.state.timers import TimerService

KEYS = st.one_of(st.none(), st.sampled_from(["a", "b", "c", ""]))
TIMERS = st.lists(st.tuples(KEYS, st.integers(0, 30)), max_size=8)
DOMAIN = st.sampled_from(["event", "processing"])
OPS = st.one_of(
    st.tuples(st.just("register"), DOMAIN, TIMERS),
    st.tuples(st.just("delete"), DOMAIN, TIMERS),
    st.tuples(st.just("advance"), DOMAIN, st.integers(-1, 35)),
    st.tuples(st.just("next"), DOMAIN, st.none()),
    st.tuples(st.just("restore"), DOMAIN, st.none()),
)


def _keys_ts(timers):
    return [pa.array([k for k, _ in timers], pa.string())], np.array([t for _, t in timers],
                                                                     dtype=np.int64)


@settings(max_examples=200, deadline=None)
@given(st.lists(OPS, max_size=40))
def test_matches_a_set(ops):
    service = TimerService([pa.string()])
    model = {"event": set(), "processing": set()}
    for op, domain, arg in ops:
        if op == "register":
            service.register(*_keys_ts(arg), domain=domain)
            model[domain] |= set(arg)
        elif op == "delete":
            service.delete(*_keys_ts(arg), domain=domain)
            model[domain] -= set(arg)
        elif op == "advance":
            fired = service.advance(arg, domain=domain)
            due = {t for t in model[domain] if t[1] <= arg}
            model[domain] -= due
            if not due:
                assert fired is None
                continue
            assert fired.column_names == ["k0", "timestamp"]
            assert fired.schema.field("timestamp").type == pa.int64()
            pairs = list(zip(fired.column("k0").to_pylist(), fired.column("timestamp").to_pylist(),
                             strict=True))
            assert len(pairs) == len(due) and set(pairs) == due
            assert [t for _, t in pairs] == sorted(t for _, t in pairs)
        elif op == "next":
            expected = min((t for _, t in model[domain]), default=None)
            assert service.next_timestamp(domain) == expected
        else:
            restored = TimerService([pa.string()])
            restored.restore([service.snapshot()])
            service = restored
        for d in model:
            assert service.pending(d) == len(model[d])


def test_snapshot_key_groups_come_from_the_key_alone():
    service = TimerService([pa.int64(), pa.string()])
    keys = [pa.array(np.arange(300) % 40), pa.array([f"u{i % 7}" for i in range(300)])]
    service.register(keys, np.arange(300) * 10)
    service.register(keys, np.arange(300), domain="processing")
    snap = service.snapshot()
    assert snap.column_names == ["k0", "k1", "timestamp", "__key_group", "__domain"]
    expected = key_groups([snap.column("k0"), snap.column("k1")], 128)
    np.testing.assert_array_equal(snap.column("__key_group").to_numpy(), expected)
    assert snap.num_rows == 600

    parts = []
    for subtask in range(3):
        part = TimerService([pa.int64(), pa.string()])
        part.restore([snap], key_group_range(subtask, 3, 128))
        parts.append(part)
    assert sum(p.pending("event") for p in parts) == 300
    fired = [p.advance(10**9) for p in parts]
    got = sorted(r for f in fired if f is not None
                 for r in zip(*[f.column(n).to_pylist() for n in f.column_names], strict=True))
    assert got == sorted(zip((np.arange(300) % 40).tolist(), [f"u{i % 7}" for i in range(300)],
                             (np.arange(300) * 10).tolist(), strict=True))


def test_advance_costs_the_fired_timers():
    service = TimerService([pa.int64()])
    n = 20_000
    rng = np.random.default_rng(3)
    for start in range(0, n, 100):  # many small registrations
        service.register([pa.array(np.arange(start, start + 100))], rng.integers(0, n, 100))
    runs = service._queues["event"].runs
    assert len(runs) <= math.log2(n) + 1
    assert service.advance(-1) is None
    fired = 0
    for watermark in range(0, n, 997):
        out = service.advance(watermark)
        fired += 0 if out is None else out.num_rows
    fired += service.advance(n).num_rows
    assert fired == n and service.pending() == 0
    table = service._queues["event"].table
    assert table.size <= n // 2 + 1  # fired timers were compacted away


def test_duplicates_collapse_and_deleted_timers_do_not_fire():
    service = TimerService([pa.string()])
    service.register([pa.array(["a", "a", "b"])], np.array([5, 5, 5]))
    service.register([pa.array(["a"])], np.array([5]))
    assert service.pending() == 2
    service.delete([pa.array(["b", "zz"])], np.array([5, 1]))
    service.register([pa.array(["b"])], np.array([7]))
    assert service.next_timestamp() == 5
    fired = service.advance(6)
    assert fired.to_pydict() == {"k0": ["a"], "timestamp": [5]}
    assert service.next_timestamp() == 7
    assert service.next_timestamp("processing") is None


def test_non_keyed_timers_and_bad_domain():
    service = TimerService([])
    service.register([], np.array([3, 1, 3]), domain="processing")
    assert service.snapshot().column("__key_group").to_pylist() == [0, 0]
    assert service.advance(10, domain="processing").to_pydict() == {"timestamp": [1, 3]}
    with pytest.raises(ValueError, match="unknown time domain 'eventtime'; expected one of"):
        service.advance(1, domain="eventtime")
