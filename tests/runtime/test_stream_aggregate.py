"""GroupAggregation (streaming GROUP BY) against a Python model of Flink's semantics.

Random insert-only inputs and random consistent changelogs (only rows present are retracted;
groups drop to zero and come back; NULL keys and values; NaN among MIN/MAX inputs), cut into random
batches: the emitted changelog must retract only rows it emitted, never pair equal -U/+U rows, and
materialize to the model's aggregate of the net input, which batch mode computes too. A run
restored from a snapshot at a random batch (also split over two subtasks by key group) must emit
what the uninterrupted run emits.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from decimal import ROUND_HALF_UP, Decimal, localcontext

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from volley.errors import UnsupportedFeatureError
from volley.plan.calls import AggCall
from volley.plan.types import BigIntType, DoubleType, from_arrow
from volley.runtime.aggregate import aggregate_table
from volley.runtime.stream_aggregate import GroupAggregation, _Members
from volley.sql.binder_query import agg_result_type
from volley.state.key_hashing import key_group_range, key_groups, subtask_of_key_groups

NAN = math.nan
SCHEMA = pa.schema([
    ("k1", pa.int64()), ("k2", pa.string()),
    ("i", pa.int16()),  # sums wrap at 16 bits, as Java's short
    ("f", pa.float64()),  # NaN among the values: MIN/MAX and COUNT DISTINCT only
    ("g", pa.float64()),  # quarters: float sums are exact whatever the order
    ("d", pa.decimal128(10, 2)),
    ("s", pa.string()),
    ("t", pa.date32()),
])
INT, F, G, D, S, T = 2, 3, 4, 5, 6, 7
CALLS = [("count", None, False), ("count", F, False), ("count", S, True), ("count", INT, True),
         ("count", F, True), ("sum", INT, False), ("avg", INT, False), ("min", INT, False),
         ("max", INT, False), ("sum", G, False), ("avg", G, False), ("min", F, False),
         ("max", F, False), ("sum", D, False), ("avg", D, False), ("min", D, False),
         ("max", D, False), ("min", S, False), ("max", S, False), ("min", T, False),
         ("max", T, False)]
AGGS = tuple(
    AggCall(fn, arg, distinct,
            agg_result_type(fn, None if arg is None else from_arrow(SCHEMA.field(arg).type)),
            f"a{j}")
    for j, (fn, arg, distinct) in enumerate(CALLS))

ROWS = st.tuples(
    st.sampled_from([0, 1, 2, None]),
    st.sampled_from(["a", "b", None]),
    st.one_of(st.none(), st.integers(-30_000, 30_000)),
    st.one_of(st.none(), st.just(NAN), st.integers(-6, 6).map(lambda k: k / 4)),
    st.one_of(st.none(), st.integers(-40, 40).map(lambda k: k / 4)),
    st.one_of(st.none(), st.integers(-10**6, 10**6).map(lambda k: Decimal(k).scaleb(-2))),
    st.one_of(st.none(), st.sampled_from(["", "x", "xy", "y", "é"])),
    st.one_of(st.none(), st.dates(dt.date(2000, 1, 1), dt.date(2000, 1, 8))),
)
GROUP_KEYS = st.sampled_from([(), (0,), (1,), (0, 1)])


def out_schema(group_keys):
    return pa.schema([SCHEMA.field(k) for k in group_keys]
                     + [pa.field(a.name, a.type.to_arrow()) for a in AGGS])


@st.composite
def changelogs(draw, retracting: bool, row_strategy=ROWS):
    """(rows, kinds, batch sizes, rows present at the end): only present rows are retracted."""
    present, rows, kinds = [], [], []
    for _ in range(draw(st.integers(0, 80))):
        if retracting and present and draw(st.integers(0, 9)) < 4:
            row = present.pop(draw(st.integers(0, len(present) - 1)))
            kinds.append(draw(st.sampled_from([1, 3])))
        else:
            row = draw(row_strategy)
            present.append(row)
            kinds.append(draw(st.sampled_from([0, 2])) if retracting else 0)
        rows.append(row)
    sizes = draw(st.lists(st.integers(1, 25), min_size=1, max_size=12))
    return rows, kinds, sizes, present


def batches(rows, kinds, sizes, retracting, schema=SCHEMA):
    out, start, i = [], 0, 0
    while start < len(rows):
        end = start + sizes[i % len(sizes)]
        chunk = rows[start:end]
        batch = pa.record_batch([pa.array([r[c] for r in chunk], f.type)
                                 for c, f in enumerate(schema)], schema=schema)
        out.append((batch, pa.array(kinds[start:end], pa.int8()) if retracting else None))
        start, i = end, i + 1
    return out


def norm(value):
    if isinstance(value, float):
        return "NaN" if value != value else value + 0.0  # -0.0 is 0.0
    return value


def rows_of(batch: pa.RecordBatch) -> list[tuple]:
    columns = [c.to_pylist() for c in batch.columns]
    return [tuple(norm(c[i]) for c in columns) for i in range(batch.num_rows)]


def run(agg, feed):
    return [agg.update(batch, kinds) for batch, kinds in feed]


def materialize(outputs) -> Counter:
    """Apply a changelog to an empty multiset, checking every retraction."""
    table: Counter = Counter()
    for out in outputs:
        if out is None:
            continue
        assert out.schema.names[-1] == "__row_kind"
        rows = rows_of(out)
        for j, row in enumerate(rows):
            kind, data = row[-1], row[:-1]
            if kind in (0, 2):
                table[data] += 1
            else:
                assert table[data] > 0, f"retracts {data} that is not there"
                table[data] -= 1
            if kind == 1:  # -U is followed by its +U, a different row
                assert j + 1 < len(rows) and rows[j + 1][-1] == 2
                assert rows[j + 1][:-1] != data
    return +table


# -- the model -------------------------------------------------------------------------------------


def wrap16(v: int) -> int:
    return (v + 2**15) % 2**16 - 2**15


def model_value(fn, arg, distinct, rows):
    if arg is None:
        return len(rows)
    values = [r[arg] for r in rows if r[arg] is not None]
    if fn == "count":
        return len({norm(v) for v in values}) if distinct else len(values)
    if not values:
        return None
    if fn in ("min", "max"):
        if arg == F:
            numbers = [v for v in values if v == v]
            return norm((min if fn == "min" else max)(numbers)) if numbers else "NaN"
        return (min if fn == "min" else max)(values)
    total = sum(values)
    if fn == "sum":
        return wrap16(total) if arg == INT else total
    if arg == INT:  # AVG of an integer truncates toward zero
        return wrap16(abs(total) // len(values) * (1 if total >= 0 else -1))
    if arg == G:
        return total / len(values)
    with localcontext() as ctx:  # DECIMAL(38, 6): mean at 7 digits, then 6, half away from 0
        ctx.prec = 80
        mean = total / len(values)
        mean = mean.quantize(Decimal("1e-7"), rounding=ROUND_HALF_UP)
        return mean.quantize(Decimal("1e-6"), rounding=ROUND_HALF_UP)


def model(rows, group_keys) -> Counter:
    groups = defaultdict(list)
    for row in rows:
        groups[tuple(row[k] for k in group_keys)].append(row)
    return Counter(tuple(norm(k) for k in key)
                   + tuple(model_value(fn, arg, distinct, members) for fn, arg, distinct in CALLS)
                   for key, members in groups.items())


def batch_mode(rows, group_keys) -> Counter:
    table = pa.Table.from_batches([b for b, _ in batches(rows, [0] * len(rows), [10**6], False)],
                                  schema=SCHEMA)
    result = aggregate_table(table, group_keys, AGGS, out_schema(group_keys))
    return Counter(rows_of(result.combine_chunks().to_batches()[0]))


SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# -- properties ------------------------------------------------------------------------------------


@SETTINGS
@given(st.booleans().flatmap(lambda r: st.tuples(st.just(r), changelogs(r))), GROUP_KEYS)
def test_changelog_materializes_to_the_model(case, group_keys):
    retracting, (rows, kinds, sizes, present) = case
    agg = GroupAggregation(SCHEMA, group_keys, AGGS, out_schema(group_keys), retracting)
    result = materialize(run(agg, batches(rows, kinds, sizes, retracting)))
    assert result == model(present, group_keys)
    if present:  # batch mode agrees (a global aggregate of nothing is a row there, not here)
        assert result == batch_mode(present, group_keys)


@SETTINGS
@given(changelogs(True), st.lists(st.integers(1, 25), min_size=1, max_size=12), GROUP_KEYS)
def test_result_does_not_depend_on_batch_cuts(log, other_sizes, group_keys):
    rows, kinds, sizes, _ = log
    results = []
    for cut in (sizes, other_sizes, [1]):
        agg = GroupAggregation(SCHEMA, group_keys, AGGS, out_schema(group_keys), True)
        results.append(materialize(run(agg, batches(rows, kinds, cut, True))))
    assert results[0] == results[1] == results[2]


def snapshot(agg) -> dict[str, pa.Table]:
    """Every state as Arrow, through IPC (what a checkpoint stores)."""
    tables = {}
    for name, state in agg.states().items():
        sink = pa.BufferOutputStream()
        table = state.snapshot()
        with pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
        tables[name] = pa.ipc.open_file(sink.getvalue()).read_all()
    return tables


def restored(group_keys, retracting, tables, key_group_range=None):
    agg = GroupAggregation(SCHEMA, group_keys, AGGS, out_schema(group_keys), retracting)
    for name, state in agg.states().items():
        state.restore([tables[name]], key_group_range)
    agg.restored()
    return agg


@SETTINGS
@given(st.booleans().flatmap(lambda r: st.tuples(st.just(r), changelogs(r))), GROUP_KEYS,
       st.integers(0, 20))
def test_restored_run_emits_what_the_uninterrupted_run_emits(case, group_keys, at):
    retracting, (rows, kinds, sizes, _) = case
    feed = batches(rows, kinds, sizes, retracting)
    at = min(at, len(feed))
    straight = GroupAggregation(SCHEMA, group_keys, AGGS, out_schema(group_keys), retracting)
    expected = run(straight, feed)
    first = GroupAggregation(SCHEMA, group_keys, AGGS, out_schema(group_keys), retracting)
    run(first, feed[:at])
    resumed = restored(group_keys, retracting, snapshot(first))
    for out, want in zip(run(resumed, feed[at:]), expected[at:], strict=True):
        assert (out is None) == (want is None)
        if out is not None:
            assert out.schema == want.schema
            assert rows_of(out) == rows_of(want)


@SETTINGS
@given(st.booleans().flatmap(lambda r: st.tuples(st.just(r), changelogs(r))), GROUP_KEYS,
       st.integers(0, 20))
def test_rescaled_restore_splits_the_output_by_key_group(case, group_keys, at):
    retracting, (rows, kinds, sizes, _) = case
    feed = batches(rows, kinds, sizes, retracting)
    at = min(at, len(feed))
    single = GroupAggregation(SCHEMA, group_keys, AGGS, out_schema(group_keys), retracting)
    run(single, feed[:at])
    tables = snapshot(single)
    subtasks = [restored(group_keys, retracting, tables, key_group_range(i, 2, 128))
                for i in range(2)]
    expected, split = Counter(), Counter()
    for batch, batch_kinds in feed[at:]:
        out = single.update(batch, batch_kinds)
        expected.update(rows_of(out) if out is not None else [])
        if group_keys:
            groups = key_groups([batch.column(k) for k in group_keys], 128)
        else:  # a global aggregate is in key group 0
            groups = np.zeros(batch.num_rows, dtype=np.int32)
        owner = subtask_of_key_groups(groups, 2, 128)
        for i, agg in enumerate(subtasks):
            mine = pa.array(owner == i)
            part = batch.filter(mine)
            if part.num_rows:
                out = agg.update(part, None if batch_kinds is None else batch_kinds.filter(mine))
                split.update(rows_of(out) if out is not None else [])
    assert split == expected


OTHER = pa.schema([
    ("k", pa.dictionary(pa.int8(), pa.string())), ("x", pa.float32()),
    ("ts", pa.timestamp("ms", tz="UTC")), ("b", pa.bool_()),
    ("w", pa.dictionary(pa.int32(), pa.large_string())), ("big", pa.decimal128(38, 0)),
    ("tm", pa.time64("us")), ("n", pa.int64()),
])
OTHER_CALLS = [("sum", 1), ("avg", 1), ("min", 1), ("max", 1), ("min", 2), ("max", 2),
               ("min", 3), ("max", 3), ("min", 4), ("max", 4), ("count", 4), ("sum", 5),
               ("avg", 5), ("min", 5), ("max", 5), ("min", 6), ("max", 6), ("sum", 7),
               ("avg", 7)]
OTHER_AGGS = tuple(AggCall(fn, arg, fn == "count",
                           agg_result_type(fn, from_arrow(OTHER.field(arg).type)), f"a{j}")
                   for j, (fn, arg) in enumerate(OTHER_CALLS))
OTHER_ROWS = st.tuples(
    st.sampled_from(["p", "q", None]),
    st.one_of(st.none(), st.integers(-20, 20).map(lambda k: k / 4)),
    st.one_of(st.none(), st.integers(0, 5).map(
        lambda k: dt.datetime(2024, 1, 1, k, tzinfo=dt.UTC))),
    st.one_of(st.none(), st.booleans()),
    st.one_of(st.none(), st.sampled_from(["u", "v", "vw"])),
    st.one_of(st.none(), st.integers(-10**29, 10**29).map(Decimal)),
    st.one_of(st.none(), st.integers(0, 4).map(lambda k: dt.time(k))),
    st.one_of(st.none(), st.integers(-2**40, 2**40)),
)


@SETTINGS
@given(st.booleans().flatmap(lambda r: st.tuples(st.just(r), changelogs(r, OTHER_ROWS))))
def test_other_types_agree_with_batch_mode(case):
    """Dictionary keys and values, float32, zoned timestamps, booleans, times, wide decimals."""
    retracting, (rows, kinds, sizes, present) = case
    out = pa.schema([pa.field("k", pa.string())]
                    + [pa.field(a.name, a.type.to_arrow()) for a in OTHER_AGGS])
    agg = GroupAggregation(OTHER, (0,), OTHER_AGGS, out, retracting)
    result = materialize(run(agg, batches(rows, kinds, sizes, retracting, OTHER)))
    decoded = pa.schema([f.with_type(f.type.value_type) if pa.types.is_dictionary(f.type) else f
                         for f in OTHER])
    table = pa.Table.from_pylist([dict(zip(decoded.names, r, strict=True)) for r in present],
                                 schema=decoded)
    expected = aggregate_table(table, (0,), OTHER_AGGS, out).combine_chunks()
    assert result == Counter(rows_of(expected.to_batches()[0]) if expected.num_rows else [])


def test_retraction_of_a_missing_group_is_ignored():
    schema = pa.schema([("k", pa.int64()), ("v", pa.int64())])
    aggs = (AggCall("min", 1, False, BigIntType(), "m"),
            AggCall("count", 1, True, BigIntType(nullable=False), "c"))
    out = pa.schema([("k", pa.int64()), ("m", pa.int64()), ("c", pa.int64())])
    agg = GroupAggregation(schema, (0,), aggs, out, retracting=True)
    batch = pa.record_batch([pa.array([1, 1]), pa.array([5, 6])], schema=schema)
    assert agg.update(batch, pa.array([3, 1], pa.int8())) is None
    assert all(s.snapshot().num_rows == 0 for s in agg.states().values())
    assert agg.update(batch.slice(0, 1), None).to_pylist() == [
        {"k": 1, "m": 5, "c": 1, "__row_kind": 0}]


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(["add", "keep", "compact"]),
                          st.lists(st.integers(0, 9), max_size=30), st.integers(0, 2**16)),
                max_size=40))
def test_members_index_keeps_each_group_s_pairs(operations):
    """The derived index behind MIN/MAX recomputation, against a dict of lists: runs that move
    as they grow, shrink to kept members, and survive pool compaction."""
    members, model, pairs = _Members(), defaultdict(list), 0
    members.reserve(10, 0)
    for operation, groups, seed in operations:
        if operation == "add":
            pids = np.arange(pairs, pairs + len(groups), dtype=np.int64)
            pairs += len(groups)
            members.reserve(10, pairs)
            members.add(np.array(groups, dtype=np.int64), pids)
            for g, p in zip(groups, pids, strict=True):
                model[g].append(int(p))
        elif operation == "keep" and groups:
            owners = np.unique(np.array(groups, dtype=np.int64))
            listed, index = members.members(owners)
            keep = np.random.default_rng(seed).random(len(listed)) < 0.5
            members.keep(owners, keep)
            for g in owners:
                model[g] = [int(p) for p, k, i in zip(listed, keep, index, strict=True)
                            if k and owners[i] == g]
        elif operation == "compact":
            members._compact()
        listed, index = members.members(np.arange(10, dtype=np.int64))
        for g in range(10):
            assert sorted(listed[index == g].tolist()) == sorted(model[g])


# -- examples --------------------------------------------------------------------------------------


def test_changelog_of_one_group_follows_flink():
    schema = pa.schema([("k", pa.string()), ("v", pa.int64())])
    aggs = (AggCall("count", None, False, BigIntType(nullable=False), "c"),
            AggCall("max", 1, False, BigIntType(), "m"))
    out = pa.schema([("k", pa.string()), ("c", pa.int64()), ("m", pa.int64())])
    agg = GroupAggregation(schema, (0,), aggs, out, retracting=True)

    def step(rows, kinds):
        batch = pa.record_batch([pa.array([r[0] for r in rows], pa.string()),
                                 pa.array([r[1] for r in rows], pa.int64())], schema=schema)
        result = agg.update(batch, pa.array(kinds, pa.int8()))
        return None if result is None else [tuple(r.values()) for r in result.to_pylist()]

    assert step([("a", 1), ("b", 5), ("a", 3)], [0, 0, 0]) == [("a", 2, 3, 0), ("b", 1, 5, 0)]
    assert step([("b", 2), ("a", 1)], [0, 3]) == [  # in order of each group's first row
        ("b", 1, 5, 1), ("b", 2, 5, 2), ("a", 2, 3, 1), ("a", 1, 3, 2)]
    assert step([("a", 3), ("a", 3)], [3, 0]) is None  # retracted and re-added: unchanged
    assert step([("c", 9), ("c", 9)], [0, 3]) is None  # born and gone within one batch
    assert step([("b", 5), ("b", 2)], [1, 3]) == [("b", 2, 5, 3)]  # b's count drops to 0: -D
    assert step([("b", 7)], [2]) == [("b", 1, 7, 0)]  # and b comes back: +I


def test_update_pairs_and_order():
    schema = pa.schema([("k", pa.int64()), ("v", pa.float64())])
    aggs = (AggCall("sum", 1, False, DoubleType(), "s"),)
    out = pa.schema([("k", pa.int64()), ("s", pa.float64())])
    agg = GroupAggregation(schema, (0,), aggs, out, retracting=False)
    first = pa.record_batch([pa.array([1, 2]), pa.array([1.0, 2.0])], schema=schema)
    assert agg.update(first, None).to_pylist() == [
        {"k": 1, "s": 1.0, "__row_kind": 0}, {"k": 2, "s": 2.0, "__row_kind": 0}]
    second = pa.record_batch([pa.array([3, 2, 1, 2]), pa.array([3.0, 1.0, 0.0, None])],
                             schema=schema)
    assert [tuple(r.values()) for r in agg.update(second, None).to_pylist()] == [
        (3, 3.0, 0), (2, 2.0, 1), (2, 3.0, 2)]  # group 1 unchanged: suppressed


def test_global_aggregate_is_one_group_that_can_go():
    schema = pa.schema([("v", pa.int64())])
    aggs = (AggCall("sum", 0, False, BigIntType(), "s"),)
    agg = GroupAggregation(schema, (), aggs, pa.schema([("s", pa.int64())]), retracting=True)
    batch = pa.record_batch([pa.array([4, 5])], schema=schema)
    assert agg.update(batch, None).to_pylist() == [{"s": 9, "__row_kind": 0}]
    assert agg.update(batch, pa.array([3, 3], pa.int8())).to_pylist() == [
        {"s": 9, "__row_kind": 3}]
    assert agg.states()["groups"].snapshot().num_rows == 0


def test_insert_only_aggregation_rejects_retractions():
    schema = pa.schema([("v", pa.int64())])
    aggs = (AggCall("count", None, False, BigIntType(nullable=False), "c"),)
    agg = GroupAggregation(schema, (), aggs, pa.schema([("c", pa.int64())]), retracting=False)
    with pytest.raises(ValueError, match="retracting=True"):
        agg.update(pa.record_batch([pa.array([1])], schema=schema), pa.array([3], pa.int8()))


@pytest.mark.parametrize(("call", "named"), [
    (AggCall("sum", INT, True, BigIntType(), "x"), "SUM(DISTINCT)"),
    (AggCall("stddev_pop", G, False, DoubleType(), "x"), "STDDEV_POP"),
    (AggCall("sum", S, False, DoubleType(), "x"), "SUM over string"),
    (AggCall("avg", T, False, DoubleType(), "x"), "AVG over date32"),
    (AggCall("count", None, False, BigIntType(), "x", udaf=object()), "COUNT"),
])
def test_unsupported_aggregates_name_the_function_and_the_alternative(call, named):
    with pytest.raises(UnsupportedFeatureError) as error:
        GroupAggregation(SCHEMA, (0,), (call,), pa.schema([("k1", pa.int64()),
                                                           ("x", pa.int64())]), True)
    message = str(error.value)
    assert named in message and "batch mode" in message and "use COUNT" in message


def test_min_max_over_a_list_column_is_unsupported():
    schema = pa.schema([("l", pa.list_(pa.int64()))])
    call = AggCall("max", 0, False, from_arrow(pa.list_(pa.int64())), "x")
    with pytest.raises(UnsupportedFeatureError, match="MAX over list"):
        GroupAggregation(schema, (), (call,), pa.schema([("x", pa.list_(pa.int64()))]), False)
