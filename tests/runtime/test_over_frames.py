"""Batch OVER aggregates (``over_table`` and its frame kernels) against a plain-Python model of
SQL window frames, and against DuckDB.

Random partitions, ORDER BY keys with ties and NULLs (ascending or descending), values with
NULLs, and random ROWS and RANGE frames (bounded or not on either side, offsets preceding and
following, empty frames): every row's COUNT/SUM/AVG/MIN/MAX must be the model's.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from volley.plan.calls import AggCall, OverFrame, SortKey
from volley.plan.types import from_arrow
from volley.runtime.over import over_table
from volley.runtime.over_frames import frame_aggregate, range_reduce
from volley.sql.binder_query import agg_result_type

SCHEMA = pa.schema([("p", pa.int64()), ("o", pa.int64()), ("i", pa.int32()),
                    ("f", pa.float64()), ("d", pa.decimal128(9, 2)), ("s", pa.string()),
                    ("t", pa.timestamp("ms"))])
P, ORDER, INT, F, D, S, T = range(7)
CALLS = [("count", None), ("count", INT), ("sum", INT), ("avg", INT), ("min", INT), ("max", INT),
         ("sum", F), ("avg", F), ("min", F), ("max", F), ("sum", D), ("avg", D), ("min", D),
         ("max", D), ("min", S), ("max", S), ("min", T), ("max", T)]
AGGS = tuple(AggCall(fn, arg, False, agg_result_type(
    fn, None if arg is None else from_arrow(SCHEMA.field(arg).type)), f"a{j}")
    for j, (fn, arg) in enumerate(CALLS))

ROWS = st.tuples(
    st.sampled_from([0, 1, 2]),
    st.one_of(st.none(), st.integers(0, 6)),
    st.one_of(st.none(), st.integers(-50, 50)),
    st.one_of(st.none(), st.integers(-20, 20).map(lambda k: k / 4)),
    st.one_of(st.none(), st.integers(-999, 999).map(lambda k: Decimal(k).scaleb(-2))),
    st.one_of(st.none(), st.sampled_from(["a", "b", "ab", ""])),
    st.one_of(st.none(), st.integers(0, 9)),
)
OFFSETS = st.one_of(st.none(), st.integers(-3, 3))


def _table(rows) -> pa.Table:
    import datetime as dt

    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in SCHEMA]
    columns[T] = [None if x is None else dt.datetime(2024, 1, 1) + dt.timedelta(seconds=x)
                  for x in columns[T]]
    return pa.Table.from_arrays([pa.array(list(c), f.type) for c, f in zip(columns, SCHEMA,
                                                                           strict=True)],
                                schema=SCHEMA)


@st.composite
def frames(draw):
    mode = draw(st.sampled_from(["rows", "range"]))
    start, end = draw(OFFSETS), draw(OFFSETS)
    if start is not None and end is not None and start > end:
        start, end = end, start
    return OverFrame(mode, start, end)


# -- the model -------------------------------------------------------------------------------------

def _sort_key(row, key: SortKey):
    value = row[key.index]
    null_rank = 0 if key.effective_nulls_first else 1
    if value is None:
        return (null_rank, 0)
    return (1 - null_rank, value if key.ascending else -value)


def _model(rows, order: SortKey, frame: OverFrame):
    """Rows sorted by (partition, order key, input position), each with its aggregates."""
    indexed = sorted(range(len(rows)), key=lambda r: (rows[r][P], _sort_key(rows[r], order), r))
    out = []
    for r in indexed:
        part = [q for q in indexed if rows[q][P] == rows[r][P]]
        me = part.index(r)
        members = [q for i, q in enumerate(part) if _in_frame(rows, part, i, me, order, frame)]
        out.append((rows[r], [_aggregate(fn, arg, [rows[q] for q in members])
                              for fn, arg in CALLS]))
    return out


def _in_frame(rows, part, i, me, order, frame) -> bool:
    if frame.mode == "rows":
        return (frame.start is None or i >= me + frame.start) and \
            (frame.end is None or i <= me + frame.end)
    mine, theirs = rows[part[me]][order.index], rows[part[i]][order.index]
    sign = 1 if order.ascending else -1

    def bound_ok(offset, side):
        if offset is None:
            return True
        if offset == 0 or mine is None:  # peers (NULLs are peers of each other)
            key_me, key_i = _sort_key(rows[part[me]], order), _sort_key(rows[part[i]], order)
            return key_i >= key_me if side == "start" else key_i <= key_me
        if theirs is None:  # NULLs sort before (NULLS FIRST) or after the others
            before = order.effective_nulls_first
            return (not before) if side == "start" else before
        delta = sign * (theirs - mine)
        return delta >= offset if side == "start" else delta <= offset

    return bound_ok(frame.start, "start") and bound_ok(frame.end, "end")


def _aggregate(fn, arg, members):
    if arg is None:
        return len(members)
    values = [m[arg] for m in members if m[arg] is not None]
    if fn == "count":
        return len(values)
    if not values:
        return None
    if fn == "min":
        return min(values)
    if fn == "max":
        return max(values)
    total = sum(values, Decimal(0) if arg == D else 0)
    if fn == "sum":
        return total
    if arg == INT:
        return int(total / len(values))  # truncates toward zero, as Java's long division
    if arg == D:
        return (total / len(values)).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
    return total / len(values)


def _equal(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(ROWS, max_size=30), frame=frames(), ascending=st.booleans())
def test_every_frame_of_every_row_is_the_models(rows, frame, ascending):
    order = SortKey(ORDER, ascending)
    table = _table(rows)
    out = pa.schema(list(SCHEMA) + [pa.field(a.name, a.type.to_arrow()) for a in AGGS])
    result = over_table(table, (P,), (order,), AGGS, frame, out).to_pylist()
    expected = _model(rows, order, frame)
    assert len(result) == len(expected)
    for got, (row, values) in zip(result, expected, strict=True):
        assert (got["p"], got["o"], got["i"]) == (row[P], row[ORDER], row[INT])
        for agg, want in zip(AGGS, values, strict=True):
            have = got[agg.name]
            if agg.arg == T and want is not None:
                have = int((have - __import__("datetime").datetime(2024, 1, 1)).total_seconds())
            assert _equal(have, want), (agg, frame, have, want)


@settings(max_examples=100, deadline=None)
@given(values=st.lists(st.integers(-100, 100), min_size=1, max_size=60), data=st.data())
def test_range_reduce_is_a_slice_reduction(values, data):
    array = np.array(values, dtype=np.int64)
    n = len(values)
    bounds = data.draw(st.lists(st.tuples(st.integers(0, n), st.integers(0, n)), max_size=20))
    lo = np.array([min(a, b) for a, b in bounds], dtype=np.int64)
    hi = np.array([max(a, b) for a, b in bounds], dtype=np.int64)
    for op, identity, py in ((np.minimum, 10**9, min), (np.maximum, -10**9, max),
                             (np.add, 0, sum)):
        got = range_reduce(array, lo, hi, op, identity)
        want = [py(values[a:b]) if b > a else identity for a, b in zip(lo, hi, strict=True)]
        assert got.tolist() == want


def test_integer_sums_wrap_like_java_and_decimal_sums_are_exact():
    big = pa.array([2**31 - 1, 1, 5], pa.int32())
    lo, hi = np.array([0, 0]), np.array([2, 3])
    assert frame_aggregate("sum", big, lo, hi, pa.int32()).to_pylist() == [-(2**31), -(2**31) + 5]
    huge = pa.array([Decimal("9" * 16 + ".99")] * 3, pa.decimal128(18, 2))
    assert frame_aggregate("sum", huge, np.array([0]), np.array([3]),
                           pa.decimal128(38, 2)).to_pylist() == [Decimal("9" * 16 + ".99") * 3]


# -- against DuckDB --------------------------------------------------------------------------------

DUCK_QUERIES = [
    "SUM(i) OVER (PARTITION BY p ORDER BY o NULLS FIRST, i NULLS FIRST ROWS BETWEEN 2 PRECEDING "
    "AND 1 FOLLOWING)",
    "MIN(s) OVER (PARTITION BY p ORDER BY o DESC NULLS LAST ROWS BETWEEN UNBOUNDED PRECEDING AND "
    "1 PRECEDING)",
    "COUNT(f) OVER (PARTITION BY p ORDER BY o NULLS FIRST RANGE BETWEEN 2 PRECEDING AND 1 "
    "FOLLOWING)",
    "MAX(d) OVER (ORDER BY t NULLS FIRST RANGE BETWEEN INTERVAL '3' SECOND PRECEDING AND "
    "CURRENT ROW)",
    "SUM(f) OVER (PARTITION BY p ORDER BY o NULLS FIRST RANGE BETWEEN CURRENT ROW AND UNBOUNDED "
    "FOLLOWING)",
]


@pytest.mark.parametrize("window", DUCK_QUERIES)
def test_volley_batch_sql_frames_match_duckdb(window):
    from volley.table import EnvironmentSettings, TableEnvironment

    rng = np.random.default_rng(7)
    rows = [(int(rng.integers(0, 3)), None if rng.random() < 0.1 else int(rng.integers(0, 8)),
             int(rng.integers(-9, 9)), float(rng.integers(-8, 8)) / 4,
             Decimal(int(rng.integers(-999, 999))).scaleb(-2), str(rng.choice(["a", "b", "c"])),
             int(rng.integers(0, 30))) for _ in range(60)]
    table = _table(rows)
    t_env = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
    t_env.create_temporary_view("w", t_env.from_arrow(table))
    sql = f"SELECT p, o, i, f, s, t, {window} AS x FROM w"
    with t_env.sql_query(sql).execute().collect() as it:
        ours = [_normal(tuple(r)) for r in it]
    con = duckdb.connect()
    con.register("w", table)
    theirs = [_normal(r) for r in con.execute(sql).fetchall()]
    assert sorted(ours, key=repr) == sorted(theirs, key=repr)


def _normal(row: tuple) -> tuple:
    *rest, x = row
    if isinstance(x, (int, float, Decimal)) and not isinstance(x, bool):
        x = round(float(x), 9)
    return (*rest, x)
