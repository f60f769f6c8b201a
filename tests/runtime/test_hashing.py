"""Properties of the vectorized hash structures: KeyDictionary ids, the incremental aggregate
against the buffering (Acero) aggregate, and the build/probe join against a nested-loop join.

Each is checked with the direct (slot array) representation, the hashed one, and a switch from
one to the other mid-stream (a tiny ``DIRECT_RANGE_LIMIT``), over batches split at random.
"""

from __future__ import annotations

import math
from unittest import mock

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from volley.plan.calls import key_types
from volley.plan.nodes import AggCall
from volley.plan.types import BigIntType, DoubleType
from volley.runtime.aggregate import aggregate_table
from volley.runtime.evaluator import EvalContext
from volley.runtime.incremental_aggregate import IncrementalAggregate, can_accumulate
from volley.runtime.join import BuildSide, probe_join, unmatched_build_rows
from volley.state import key_dictionary
from volley.state.key_dictionary import KeyDictionary

INT_KEYS = st.one_of(st.none(), st.integers(-5, 5), st.integers(-(2**40), 2**40))
STR_KEYS = st.one_of(st.none(), st.sampled_from(["a", "b", "c", ""]))
KEY_ROWS = st.lists(st.tuples(INT_KEYS, STR_KEYS), min_size=0, max_size=60)
CUTS = st.lists(st.integers(0, 60), max_size=4)
RANGE_LIMITS = st.sampled_from([8, key_dictionary.DIRECT_RANGE_LIMIT])


def _batches(table: pa.Table, cuts: list[int]) -> list[pa.RecordBatch]:
    n = table.num_rows
    bounds = sorted({0, n, *[c % (n + 1) for c in cuts]})
    return [b for lo, hi in zip(bounds, bounds[1:], strict=False)
            for b in table.slice(lo, hi - lo).to_batches()]


def range_limit(limit: int):
    """Slot arrays only up to ``limit`` values wide (small limits force the hashed path)."""
    return mock.patch.object(key_dictionary, "DIRECT_RANGE_LIMIT", limit)


@settings(max_examples=150, deadline=None)
@given(rows=KEY_ROWS, cuts=CUTS, limit=RANGE_LIMITS, two_keys=st.booleans(),
       encoded=st.booleans())
def test_key_dictionary_numbers_each_distinct_tuple_once(rows, cuts, limit, two_keys,
                                                         encoded) -> None:
    with range_limit(limit):
        _check_key_dictionary(rows, cuts, two_keys, encoded)


def _check_key_dictionary(rows, cuts, two_keys, encoded) -> None:
    """``encoded``: the string keys arrive dictionary-encoded over one shared dictionary (all
    the rows' strings, duplicates included), as a join hands over a build-side column."""
    table = pa.table({"i": pa.array([r[0] for r in rows], pa.int64()),
                      "s": pa.array([r[1] for r in rows], pa.string())})
    names = ["i", "s"] if two_keys else ["i"]
    dictionary = KeyDictionary([table.schema.field(n).type for n in names])
    shared = table.column("s").combine_chunks()
    ids: list[int] = []
    start = 0
    for batch in _batches(table, cuts):
        columns = [batch.column(n) for n in names]
        if encoded and two_keys:
            rows_here = pa.array(range(start, start + batch.num_rows), pa.int32())
            columns[1] = pa.DictionaryArray.from_arrays(rows_here, shared)
        start += batch.num_rows
        ids += dictionary.encode(columns).tolist()
    tuples = [tuple(r[: len(names)]) for r in rows]
    by_tuple: dict[tuple, int] = {}
    for t, i in zip(tuples, ids, strict=True):
        assert by_tuple.setdefault(t, i) == i, "one tuple got two ids"
    assert len(set(by_tuple.values())) == len(by_tuple), "two tuples share an id"
    assert sorted(by_tuple.values()) == list(range(dictionary.size))
    columns = [c.to_pylist() for c in dictionary.key_columns()]
    for t, i in by_tuple.items():
        assert tuple(c[i] for c in columns) == t
    probe = [(3, "a"), (None, "b"), (2**41, "z")]
    found = dictionary.lookup(
        [pa.array([p[0] for p in probe], pa.int64()), pa.array([p[1] for p in probe])][: len(names)],
        null_matches=False,
    ).tolist()
    for p, got in zip(probe, found, strict=True):
        key = tuple(p[: len(names)])
        expected = -1 if None in key or key not in by_tuple else by_tuple[key]
        assert got == expected


def test_dense_keys_seen_whole_are_their_own_ids() -> None:
    """Keys 10..14 all in the first batch get ids 0..4, and later batches are encoded without
    a lookup (the ids are a view of the keys minus the base), NULLs and unknown probes included."""
    dictionary = KeyDictionary([pa.int64()])
    assert dictionary.encode([pa.array([14, 10, 12, 11, 13])]).tolist() == [4, 0, 2, 1, 3]
    assert dictionary.encode([pa.array([13, 10, 10])]).tolist() == [3, 0, 0]
    assert dictionary.encode([pa.array([12, None, 11])]).tolist() == [2, 5, 1]
    probe = [pa.array([11, None, 14])]
    assert dictionary.lookup(probe, null_matches=False).tolist() == [1, -1, 4]
    assert dictionary.lookup(probe, null_matches=True).tolist() == [1, 5, 4]
    pair = KeyDictionary([pa.int64(), pa.int64()])
    pair.encode([pa.array([0, 1, 2]), pa.array([0, 1, 2])])
    assert pair.lookup([pa.array([1, 2]), pa.array([1, 0])]).tolist() == [1, -1]


def test_aggregate_renumbers_a_key_range_completed_over_batches() -> None:
    """Keys 0..3 arrive over three batches (ids in order of discovery); once the range is
    complete the groups are renumbered to the keys' offsets, and the sums follow them."""
    schema = pa.schema([("k", pa.int64()), ("x", pa.float64())])
    aggs = (AggCall("count", None, False, BigIntType(nullable=False), "n"),
            AggCall("sum", 1, False, DoubleType(), "total"))
    out = pa.schema([("k", pa.int64()), ("n", pa.int64()), ("total", pa.float64())])
    incremental = IncrementalAggregate(schema, (0,), aggs, out)
    for keys, xs in [([3, None], [1.0, 2.0]), ([1], [4.0]), ([0, 2], [8.0, 16.0]),
                     ([3, 0, None], [32.0, 64.0, 128.0])]:
        incremental.add(pa.record_batch([pa.array(keys, pa.int64()), pa.array(xs)],
                                        schema=schema))
    assert sorted(incremental.result().to_pylist(), key=lambda r: (r["k"] is None, r["k"])) == [
        {"k": 0, "n": 2, "total": 72.0}, {"k": 1, "n": 1, "total": 4.0},
        {"k": 2, "n": 1, "total": 16.0}, {"k": 3, "n": 2, "total": 33.0},
        {"k": None, "n": 2, "total": 130.0}]
    dictionary = KeyDictionary([pa.int64()])
    dictionary.encode([pa.array([2, 0])])
    dictionary.encode([pa.array([1, None])])
    assert dictionary.renumber_as_offsets().tolist() == [0, 2, 1, 3]  # 0, 2 first; then 1, NULL
    assert dictionary.encode([pa.array([0, 1, 2, None])]).tolist() == [0, 1, 2, 3]
    assert dictionary.key_columns()[0].to_pylist() == [0, 1, 2, None]
    assert dictionary.renumber_as_offsets() is None


def test_min_max_skip_rows_that_cannot_change_a_group() -> None:
    """Once every group has a value, MIN/MAX fold only rows beyond the bound of all groups;
    rows inside it, NaN and an all-NaN group still come out right."""
    schema = pa.schema([("k", pa.int64()), ("x", pa.float64())])
    aggs = (AggCall("min", 1, False, DoubleType(), "lo"),
            AggCall("max", 1, False, DoubleType(), "hi"))
    out = pa.schema([("k", pa.int64()), ("lo", pa.float64()), ("hi", pa.float64())])
    incremental = IncrementalAggregate(schema, (0,), aggs, out)
    for keys, xs in [([0, 1], [5.0, 7.0]), ([0, 1, 0, 1], [6.0, 1.0, math.nan, 9.0]),
                     ([1, 0], [2.0, 4.0]), ([2, 2], [math.nan, math.nan]), ([2], [3.0])]:
        incremental.add(pa.record_batch([pa.array(keys), pa.array(xs)], schema=schema))
    assert incremental.result().to_pylist() == [
        {"k": 0, "lo": 4.0, "hi": 6.0}, {"k": 1, "lo": 1.0, "hi": 9.0},
        {"k": 2, "lo": 3.0, "hi": 3.0}]


AGG_ROWS = st.lists(
    st.tuples(INT_KEYS, STR_KEYS, st.one_of(st.none(), st.integers(-1000, 1000)),
              st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False),
                        st.sampled_from([math.nan, math.inf, -math.inf]))),
    min_size=0, max_size=60,
)
AGG_SCHEMA = pa.schema([("i", pa.int64()), ("s", pa.string()), ("n", pa.int64()),
                        ("x", pa.float64())])
AGGS = (
    AggCall("count", None, False, BigIntType(nullable=False), "cnt"),
    AggCall("count", 1, False, BigIntType(nullable=False), "cnt_s"),
    AggCall("sum", 2, False, BigIntType(), "sum_n"),
    AggCall("avg", 2, False, BigIntType(), "avg_n"),
    AggCall("min", 2, False, BigIntType(), "min_n"),
    AggCall("max", 3, False, DoubleType(), "max_x"),
    AggCall("sum", 3, False, DoubleType(), "sum_x"),
    AggCall("avg", 3, False, DoubleType(), "avg_x"),
    AggCall("min", 3, False, DoubleType(), "min_x"),
)


def _same(a: list[tuple], b: list[tuple]) -> None:
    assert len(a) == len(b)
    for ra, rb in zip(a, b, strict=True):
        for va, vb in zip(ra, rb, strict=True):
            if isinstance(va, float) and isinstance(vb, float):
                assert (math.isnan(va) and math.isnan(vb)) or math.isclose(
                    va, vb, rel_tol=1e-9, abs_tol=1e-6), (ra, rb)
            else:
                assert va == vb, (ra, rb)


def _sorted_rows(table: pa.Table) -> list[tuple]:
    rows = list(zip(*table.to_pydict().values(), strict=True)) if table.num_columns else []
    return sorted(rows, key=lambda r: [(v is None, str(v)) for v in r])


@settings(max_examples=150, deadline=None)
@given(rows=AGG_ROWS, cuts=CUTS, limit=RANGE_LIMITS,
       keys=st.sampled_from([(0,), (1,), (0, 1), ()]))
def test_incremental_aggregate_matches_buffered_aggregate(rows, cuts, limit, keys) -> None:
    with range_limit(limit):
        _check_aggregate(rows, cuts, keys)


def _check_aggregate(rows, cuts, keys) -> None:
    table = pa.Table.from_pylist([dict(zip(AGG_SCHEMA.names, r, strict=True)) for r in rows],
                                 schema=AGG_SCHEMA)
    out = pa.schema([AGG_SCHEMA.field(k) for k in keys]
                    + [pa.field(a.name, a.type.to_arrow()) for a in AGGS])
    assert can_accumulate(AGG_SCHEMA, AGGS)
    incremental = IncrementalAggregate(AGG_SCHEMA, keys, AGGS, out)
    for batch in _batches(table, cuts):
        incremental.add(batch)
    expected = aggregate_table(table, keys, AGGS, out)
    _same(_sorted_rows(incremental.result()), _sorted_rows(expected))


JOIN_SIDE = st.lists(st.tuples(st.one_of(st.none(), st.integers(0, 6)), st.integers(0, 99)),
                     max_size=25)


def _nested_loop(left: list[tuple], right: list[tuple], kind: str) -> list[tuple]:
    out = []
    matched_right = set()
    for lrow in left:
        hits = [j for j, rrow in enumerate(right) if lrow[0] is not None and lrow[0] == rrow[0]]
        matched_right.update(hits)
        if kind == "semi":
            out += [lrow] if hits else []
        elif kind == "anti":
            out += [] if hits else [lrow]
        else:
            out += [lrow + right[j] for j in hits]
            if not hits and kind in ("left", "full"):
                out.append(lrow + (None, None))
    if kind in ("right", "full"):
        out += [(None, None) + r for j, r in enumerate(right) if j not in matched_right]
    return out


@settings(max_examples=150, deadline=None)
@given(left=JOIN_SIDE, right=JOIN_SIDE, limit=RANGE_LIMITS,
       kind=st.sampled_from(["inner", "left", "right", "full", "semi", "anti"]))
def test_hash_join_matches_nested_loop_join(left, right, limit, kind) -> None:
    with range_limit(limit):
        _check_join(left, right, kind)


def _join_tables(left: pa.Table, right: pa.Table, kind: str, out: pa.Schema) -> pa.Table:
    """The whole join of two tables on their first columns, as the batch HashJoin runs it:
    build on ``right``, probe with ``left``, then RIGHT/FULL's unmatched build rows."""
    build = BuildSide(right, [0], key_types(left.schema, right.schema, [0], [0]))
    result = probe_join(build, left, kind, [0], None, out, EvalContext())
    if kind in ("right", "full"):
        result = pa.concat_tables([result, unmatched_build_rows(build, left.schema, out)])
    return result


def _check_join(left, right, kind) -> None:
    schema = pa.schema([("k", pa.int64()), ("v", pa.int64())])
    lt = pa.Table.from_pylist([{"k": k, "v": v} for k, v in left], schema=schema)
    rt = pa.Table.from_pylist([{"k": k, "v": v} for k, v in right], schema=schema)
    names = ["k", "v"] if kind in ("semi", "anti") else ["k", "v", "k0", "v0"]
    out = pa.schema([pa.field(n, pa.int64()) for n in names])
    result = _join_tables(lt, rt, kind, out)
    assert _sorted_rows(result) == sorted(
        _nested_loop(left, right, kind), key=lambda r: [(v is None, str(v)) for v in r]
    )
