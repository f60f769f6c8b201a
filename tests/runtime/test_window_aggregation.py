"""WindowedAggregation (window aggregation's accumulators) against the streaming GROUP BY's model:
rows accumulate in random batches; between batches the groups of one "window" (a value of the
key column ``k1`` plays the window end) are taken out, and must equal the model's aggregate of
the rows accumulated for them since they were last taken — so a group taken and filled again
starts from nothing, COUNT DISTINCT's values included."""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_stream_aggregate import AGGS, ROWS, SCHEMA, batches, model, norm, out_schema

from volley.runtime.window_aggregation import WindowedAggregation

KEYS = (0, 1)  # k1 is the "window", k2 the group key


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(rows=st.lists(ROWS, max_size=80), sizes=st.lists(st.integers(1, 25), min_size=1,
                                                         max_size=8),
       fires=st.lists(st.sampled_from([0, 1, 2, None]), min_size=1, max_size=12))
def test_taken_windows_hold_the_aggregate_of_their_rows_since_last_taken(rows, sizes, fires):
    agg = WindowedAggregation(SCHEMA, KEYS, AGGS, out_schema(KEYS), retracting=False,
                              key_group_columns=1, expiring=True)
    pending: list[tuple] = []
    for i, (batch, _kinds) in enumerate(batches(rows, [0] * len(rows), sizes, False)):
        agg.accumulate(batch)
        pending += [tuple(r.values()) for r in batch.to_pylist()]
        window = fires[i % len(fires)]
        due = [r for r in pending if r[0] == window]
        if not due:
            continue
        keys = sorted({r[1] for r in due}, key=lambda k: (k is None, k))
        taken = agg.take([pa.array([window] * len(keys), pa.int64()),
                          pa.array(keys, pa.string())])
        got = Counter(
            (norm(window), key) + tuple(norm(column[j].as_py()) for column in taken)
            for j, key in enumerate(keys))
        assert got == model(due, KEYS)
        pending = [r for r in pending if r[0] != window]


def test_a_group_taken_and_filled_again_counts_its_distinct_values_anew():
    agg = WindowedAggregation(SCHEMA, KEYS, AGGS, out_schema(KEYS), retracting=False,
                              key_group_columns=1, expiring=True)
    row = (0, "a", 1, 0.5, 0.25, None, "x", None)
    batch = pa.record_batch([pa.array([row[c]], f.type) for c, f in enumerate(SCHEMA)],
                            schema=SCHEMA)
    keys = [pa.array([0], pa.int64()), pa.array(["a"], pa.string())]
    for _ in range(2):
        agg.accumulate(batch)
        distinct_s = agg.take(keys)[2]  # COUNT(DISTINCT s)
        assert distinct_s.to_pylist() == [1]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(-3, 3), st.integers(-2**40, 2**40)), min_size=1,
                max_size=50))
def test_packed_codes_are_equal_exactly_when_the_keys_are(pairs):
    from volley.runtime import window_aggregation

    rows = [pairs[i % len(pairs)] for i in range(window_aggregation._PACK_MIN_ROWS)]
    keys = [pa.array([r[0] for r in rows], pa.int32()),
            pa.array([r[1] for r in rows], pa.timestamp("ms"))]
    packed = window_aggregation._packed_codes(keys)
    assert packed is not None
    codes = packed[0]
    codes_of_key: dict[tuple, set[int]] = {}
    keys_of_code: dict[int, set[tuple]] = {}
    for row, code in zip(rows, codes.tolist(), strict=True):
        codes_of_key.setdefault(row, set()).add(code)
        keys_of_code.setdefault(code, set()).add(row)
    assert all(len(c) == 1 for c in codes_of_key.values())
    assert all(len(k) == 1 for k in keys_of_code.values())


def test_packed_codes_refuse_nulls_strings_and_short_batches():
    from volley.runtime import window_aggregation

    n = window_aggregation._PACK_MIN_ROWS
    assert window_aggregation._packed_codes([pa.array([1] * (n - 1))]) is None
    assert window_aggregation._packed_codes([pa.array([1, None] * n)]) is None
    assert window_aggregation._packed_codes([pa.array(["a"] * n)]) is None
    assert window_aggregation._packed_codes(
        [pa.array([0, 1, 2**61] * n), pa.array([0, 1, 3] * n)]) is None


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 50), min_size=1, max_size=200))
def test_distinct_codes_by_scratch_and_by_sort_agree(values):
    import numpy as np

    from volley.runtime.stream_aggregate import _FirstSeen
    from volley.runtime.window_aggregation import _distinct_codes

    codes = np.array(values, dtype=np.int64)
    narrow = _distinct_codes((codes, 51), _FirstSeen())
    wide = _distinct_codes((codes, 10 ** 9), _FirstSeen())
    for local, first in (narrow, wide):
        assert (codes[first][local] == codes).all()  # each row points at its own code
        assert list(codes[first]) == list(dict.fromkeys(values))  # in order of first occurrence
