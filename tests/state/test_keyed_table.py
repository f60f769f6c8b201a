"""KeyedTable against a dict: random inserts, updates, deletes, expiries, compactions and
snapshot/restore cycles must leave the same content; snapshots split by key group must
partition the keys."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from volley.state.key_hashing import KeyGroupRange, key_group_range, key_groups
from volley.state.keyed_table import KEY_GROUP_COLUMN, KeyedTable, ValueColumn

VALUES = [
    ValueColumn("total", pa.int64()),
    ValueColumn("half", pa.float64(), np.nan),
    ValueColumn("time", pa.timestamp("ms"), -1),
    ValueColumn("label", pa.string(), None),
]

KEY_SHAPES = {
    "int": ([pa.int64()], st.tuples(st.one_of(st.none(), st.integers(-3, 12)))),
    "wide-int": ([pa.int64()], st.tuples(st.sampled_from([-(2**60), 0, 7, 2**40, None]))),
    "string": ([pa.string()], st.tuples(st.one_of(st.none(), st.sampled_from(["", "a", "bb", "héllo", "a\x00"])))),
    "pair": ([pa.int32(), pa.large_string()],
             st.tuples(st.one_of(st.none(), st.integers(0, 3)),
                       st.one_of(st.none(), st.sampled_from(["x", "y", ""])))),
    "float-decimal": ([pa.float64(), pa.decimal128(6, 1)],
                      st.tuples(st.sampled_from([0.5, -1.0, None]),
                                st.sampled_from([None, 1, 2]))),
}


def _columns(key_types, keys):
    return [pa.array([k[i] for k in keys], t) for i, t in enumerate(key_types)]


def _content(table: KeyedTable) -> dict:
    """The live rows as {key tuple: (total, half, time, label)}, read from a snapshot."""
    snap = table.snapshot()
    n_keys = len(table.key_types)
    keys = zip(*[snap.column(f"k{i}").to_pylist() for i in range(n_keys)], strict=True)
    times = snap.column("time").cast(pa.int64()).to_pylist()
    rows = zip(snap.column("total").to_pylist(), snap.column("half").to_pylist(), times,
               snap.column("label").to_pylist(), strict=True)
    content = {}
    for key, row in zip(keys, rows, strict=True):
        assert key not in content
        content[tuple(float(k) if hasattr(k, "as_tuple") else k for k in key)] = row
    return content


def _normal(key):
    return tuple(float(k) if hasattr(k, "as_tuple") else k for k in key)


OPS = st.one_of(
    st.tuples(st.just("upsert"), st.lists(st.tuples(st.integers(0, 9), st.integers(0, 50)),
                                          min_size=1, max_size=8)),
    st.tuples(st.just("delete"), st.lists(st.integers(0, 9), max_size=4)),
    st.tuples(st.just("expire"), st.integers(0, 60)),
    st.tuples(st.just("compact"), st.sampled_from([0.0, 0.3, 0.9])),
    st.tuples(st.just("restore"), st.none()),
)


@settings(max_examples=250, deadline=None)
@given(st.sampled_from(sorted(KEY_SHAPES)), st.data())
def test_matches_a_dict(shape, data):
    key_types, key_strategy = KEY_SHAPES[shape]
    universe = data.draw(st.lists(key_strategy, min_size=10, max_size=10))
    ops = data.draw(st.lists(OPS, max_size=25))
    table = KeyedTable(key_types, VALUES)
    model: dict = {}
    for op, arg in ops:
        if op == "upsert":
            keys = [universe[i] for i, _ in arg]
            times = np.array([t for _, t in arg])
            ids = table.ids(_columns(key_types, keys))
            total = table.column("total")
            np.add.at(total, ids, times + 1)
            np.maximum.at(table.column("time"), ids, times)
            table.column("half")[ids] = total[ids] * 0.5
            table.column("label")[ids] = [f"n{v}" for v in total[ids]]
            table.set_live(ids)
            for key, t in zip(keys, times.tolist(), strict=True):
                old_total, _, old_time, _ = model.get(_normal(key), (0, None, -1, None))
                model[_normal(key)] = (old_total + t + 1, None, max(old_time, t), None)
            model = {k: (a, a * 0.5, t, f"n{a}") for k, (a, _, t, _) in model.items()}
        elif op == "delete":
            ids = table.lookup(_columns(key_types, [universe[i] for i in arg]))
            table.delete(ids[ids >= 0])
            for i in arg:
                model.pop(_normal(universe[i]), None)
        elif op == "expire":
            gone = table.expire("time", arg)
            expected = {k for k, v in model.items() if v[2] < arg}
            gone_keys = set(zip(*[c.to_pylist() for c in table.key_columns(gone)], strict=True))
            assert {_normal(k) for k in gone_keys} == expected
            model = {k: v for k, v in model.items() if k not in expected}
        elif op == "compact":
            table.compact(arg)
        else:
            restored = KeyedTable(key_types, VALUES)
            restored.restore([table.snapshot()])
            table = restored
        assert _content(table) == model
        assert table.live_count() == len(model)
        assert table.live.sum() == len(model)
        found = table.lookup(_columns(key_types, universe))
        assert [f >= 0 for f in found] == [_normal(k) in model for k in universe]


def _filled(n: int) -> KeyedTable:
    key_type = pa.int64()
    table = KeyedTable([key_type, pa.string()], VALUES[:2])
    ids = table.ids([pa.array(np.arange(n) % 97, key_type),
                     pa.array([f"s{i % 13}" if i % 11 else None for i in range(n)])])
    np.add.at(table.column("total"), ids, 1)
    table.column("half")[ids] = ids * 0.5
    table.set_live(ids)
    return table


def _rows(snapshot: pa.Table) -> set:
    return set(zip(*[snapshot.column(n).to_pylist() for n in ("k0", "k1", "total", "half")],
                   strict=True))


def test_snapshot_key_groups_are_the_key_hash():
    table = _filled(500)
    snap = table.snapshot()
    assert snap.schema.names == ["k0", "k1", "total", "half", KEY_GROUP_COLUMN]
    assert snap.schema.field(KEY_GROUP_COLUMN).type == pa.int32()
    expected = key_groups([snap.column("k0"), snap.column("k1")], 128)
    np.testing.assert_array_equal(snap.column(KEY_GROUP_COLUMN).to_numpy(), expected)


@pytest.mark.parametrize("parallelism", [2, 3])
def test_restore_by_key_group_partitions_the_keys(parallelism):
    table = _filled(1000)
    snap = table.snapshot()
    parts = []
    for subtask in range(parallelism):
        part = KeyedTable(table.key_types, table.values)
        part.restore([snap], key_group_range(subtask, parallelism, 128))
        parts.append(_rows(part.snapshot()))
        groups = part.snapshot().column(KEY_GROUP_COLUMN).to_numpy()
        assert key_group_range(subtask, parallelism, 128).contains(groups).all()
    assert set().union(*parts) == _rows(snap)
    assert sum(len(p) for p in parts) == len(_rows(snap)) == snap.num_rows


def test_restore_merges_the_snapshots_of_several_subtasks():
    table = _filled(1000)
    snap = table.snapshot()
    old = []  # as if written by two subtasks of a run with parallelism 2
    for subtask in range(2):
        part = KeyedTable(table.key_types, table.values)
        part.restore([snap], key_group_range(subtask, 2, 128))
        old.append(part.snapshot())
    merged = KeyedTable(table.key_types, table.values)
    merged.restore(old)
    assert _rows(merged.snapshot()) == _rows(snap)
    three = KeyedTable(table.key_types, table.values)
    three.restore(old, key_group_range(1, 3, 128))
    assert _rows(three.snapshot()) == {r for r, g in zip(
        _rows_in_order(snap), snap.column(KEY_GROUP_COLUMN).to_pylist(), strict=True)
        if g in key_group_range(1, 3, 128)}


def _rows_in_order(snapshot):
    return list(zip(*[snapshot.column(n).to_pylist() for n in ("k0", "k1", "total", "half")],
                    strict=True))


def test_compact_renumbers_live_keys_and_keeps_content():
    table = _filled(1000)
    before = _rows(table.snapshot())
    assert table.compact() is None  # nothing dead
    ids = table.lookup([pa.array(np.arange(60)), pa.array([f"s{i % 13}" for i in range(60)])])
    doomed = np.unique(ids[ids >= 0])
    table.delete(doomed)
    survivors = {r for r in before if not any(r[0] == i and r[1] == f"s{i % 13}" for i in range(60))}
    old_size = table.size
    old_of_new = table.compact(min_dead_fraction=0.0)
    assert old_of_new is not None and len(old_of_new) == table.size == table.live_count()
    assert table.size == old_size - len(doomed)
    assert _rows(table.snapshot()) == survivors
    assert table.compact(min_dead_fraction=0.0) is None
    again = table.ids([pa.array([0]), pa.array(["s0"])])  # a deleted key comes back
    assert again[0] == table.size - 1 and not table.live[again[0]]


def test_deleted_key_reuses_its_slot_with_initial_values():
    table = KeyedTable([pa.string()], VALUES)
    ids = table.ids([pa.array(["a", "b"])])
    table.column("total")[ids] = [5, 6]
    table.column("label")[ids] = ["x", "y"]
    table.set_live(ids)
    table.delete(ids[:1])
    assert table.lookup([pa.array(["a", "b"])]).tolist() == [-1, ids[1]]
    nulls = table.ids([pa.array([None])])
    table.set_live(nulls)
    assert table.lookup([pa.array([None, "b"])]).tolist() == [nulls[0], ids[1]]
    assert table.lookup([pa.array([None, "b"])], null_matches=False).tolist() == [-1, ids[1]]
    again = table.ids([pa.array(["a"])])
    assert again.tolist() == [ids[0]]
    assert table.column("total")[again[0]] == 0
    assert math.isnan(table.column("half")[again[0]])
    assert table.column("label")[again[0]] is None
    assert table.size == 3


def test_value_types_survive_a_snapshot():
    values = [ValueColumn("i32", pa.int32()), ValueColumn("f32", pa.float32(), np.nan),
              ValueColumn("flag", pa.bool_(), False), ValueColumn("day", pa.date32()),
              ValueColumn("dec", pa.decimal128(5, 2), None)]
    table = KeyedTable([pa.int64()], values)
    ids = table.ids([pa.array([1, 2])])
    table.column("i32")[ids] = [-5, 7]
    table.column("f32")[ids] = [1.5, np.nan]
    table.column("flag")[ids] = [True, False]
    table.column("day")[ids] = [19000, 1]
    table.set_live(ids)
    snap = table.snapshot()
    assert [snap.schema.field(v.name).type for v in values] == [v.type for v in values]
    restored = KeyedTable([pa.int64()], values)
    restored.restore([snap])
    again = restored.snapshot()
    for v in values:
        assert again.column(v.name).to_pylist() == snap.column(v.name).to_pylist() or v.name == "f32"
    assert again.column("f32").to_pylist()[0] == 1.5 and math.isnan(again.column("f32").to_pylist()[1])


def test_key_types_round_trip():
    import datetime
    import decimal
    columns = [
        pa.array([1, None, 3], pa.int8()), pa.array([0.5, -0.0, None], pa.float32()),
        pa.array([True, None, False]), pa.array([datetime.date(2020, 1, 1), None, None]),
        pa.array([decimal.Decimal("1.5"), None, decimal.Decimal("-2")], pa.decimal128(4, 1)),
        pa.array([b"ab", None, b"cd"], pa.binary(2)), pa.array(["x", "y", None]).dictionary_encode(),
        pa.array([None, None, None]), pa.array(["p", None, "q"], pa.string_view()),
    ]
    types = [c.type for c in columns]
    table = KeyedTable(types, [])
    ids = table.ids(columns)
    assert ids.tolist() == [0, 1, 2]
    keys = table.key_columns()
    for got, column in zip(keys, columns, strict=True):
        expected = column.dictionary_decode() if pa.types.is_dictionary(column.type) else column
        assert got.to_pylist() == expected.to_pylist()
    assert table.ids(columns).tolist() == [0, 1, 2]


def test_unknown_value_column_and_clashing_names():
    table = KeyedTable([pa.int64()], VALUES)
    with pytest.raises(KeyError, match="unknown value column 'nope'; expected one of"):
        table.column("nope")
    with pytest.raises(ValueError, match="must be unique"):
        KeyedTable([pa.int64()], [ValueColumn("k0", pa.int64())])
    with pytest.raises(ValueError):
        KeyGroupRange(2, 1)


def test_many_keys_grow_the_index_and_the_columns():
    rng = np.random.default_rng(1)
    table = KeyedTable([pa.string()], VALUES[:1])
    expected: dict = {}
    for _ in range(20):
        keys = rng.integers(0, 5000, 700)
        ids = table.ids([pa.array([f"key{k}" for k in keys])])
        np.add.at(table.column("total"), ids, 1)
        table.set_live(ids)
        for k in keys.tolist():
            expected[f"key{k}"] = expected.get(f"key{k}", 0) + 1
    snap = table.snapshot()
    assert dict(zip(snap.column("k0").to_pylist(), snap.column("total").to_pylist(),
                    strict=True)) == expected
