"""Stable key hashing and key-group assignment.

The hash decides which subtask's checkpoint holds a key, so its values are pinned: a change here
would strand every existing checkpoint's state in the wrong key groups.
"""

from __future__ import annotations

import datetime
import decimal
import os
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from volley.state.key_hashing import (
    DEFAULT_MAX_PARALLELISM,
    NULL_HASH,
    KeyGroupRange,
    hash_columns,
    key_group_range,
    key_groups,
    subtask_of_key_groups,
)

MASK = (1 << 64) - 1
NULL = int(NULL_HASH)

GOLDEN = {
    "ints": ([pa.array([0, 1, -1, 5, 2**62, None], pa.int64())],
             [0, 12994781566227106604, 7256831767414464289, 15450398106449630581,
              7301644554408135072, NULL]),
    "strings": ([pa.array(["", "a", "abc", "héllo", None])],
                [0, 12476296068999176976, 2217159767593978848, 11735446765121707767, NULL]),
    "floats": ([pa.array([0.0, 1.5, -2.25, float("nan"), float("inf"), None])],
               [0, 9826234843501278960, 14260423028425792795, 16325646915251551109,
                15387202389043422271, NULL]),
    "decimals": ([pa.array([decimal.Decimal("1.23"), decimal.Decimal("-5.00"), None],
                           pa.decimal128(10, 2))],
                 [635152908229443402, 5814198711385121324, NULL]),
    "multi": ([pa.array([1, 2, None]), pa.array(["x", None, "y"])],
              [18370221019703375041, 16585754878912678606, 713406822110035790]),
    "bools": ([pa.array([True, False, None])], [12994781566227106604, 0, NULL]),
    "lists": ([pa.array([[1, 2], [], None, [None]])],
              [17093630144150640074, 0, NULL, 14404558976250482057]),
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_hashes(name):
    columns, expected = GOLDEN[name]
    assert [int(h) for h in hash_columns(columns)] == expected


# -- the spec, in plain Python integers --------------------------------------------------------

def _fmix(h: int) -> int:
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & MASK
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & MASK
    return h ^ (h >> 33)


def _ref_int(v: int | None) -> int:
    return NULL if v is None else _fmix(v & MASK)


def _ref_bytes(b: bytes | None) -> int:
    if b is None:
        return NULL
    poly = sum(byte * pow(0x100000001B3, i, 1 << 64) for i, byte in enumerate(b)) & MASK
    return _fmix((poly + len(b) * 0x9E3779B97F4A7C15) & MASK)


def _ref_combine(h: int, nxt: int) -> int:
    return _fmix((h * 0x100000001B3 + nxt) & MASK)


@given(st.lists(st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1))),
       st.lists(st.one_of(st.none(), st.text(max_size=12))))
def test_matches_the_written_spec(ints, texts):
    assert [int(h) for h in hash_columns([pa.array(ints, pa.int64())])] == \
        [_ref_int(v) for v in ints]
    assert [int(h) for h in hash_columns([pa.array(texts, pa.string())])] == \
        [_ref_bytes(None if t is None else t.encode()) for t in texts]
    n = min(len(ints), len(texts))
    pairs = hash_columns([pa.array(ints[:n], pa.int64()), pa.array(texts[:n], pa.string())])
    assert [int(h) for h in pairs] == [
        _ref_combine(_ref_int(i), _ref_bytes(None if t is None else t.encode()))
        for i, t in zip(ints[:n], texts[:n], strict=True)]


def test_same_hash_in_a_fresh_process_with_another_hash_seed():
    script = (
        "import pyarrow as pa\n"
        "from volley.state.key_hashing import hash_columns\n"
        "cols = [pa.array(['x', 'héllo', None, '']), pa.array([1, None, -7, 2**40])]\n"
        "print(','.join(str(int(h)) for h in hash_columns(cols)))\n")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                         text=True, check=True).stdout.strip()
    here = hash_columns([pa.array(["x", "héllo", None, ""]), pa.array([1, None, -7, 2**40])])
    assert out == ",".join(str(int(h)) for h in here)


# -- normalization -----------------------------------------------------------------------------

def test_integer_widths_and_signedness_hash_alike():
    values = [0, 5, -3, 127, None]
    reference = hash_columns([pa.array(values, pa.int64())])
    for t in (pa.int8(), pa.int16(), pa.int32()):
        np.testing.assert_array_equal(hash_columns([pa.array(values, t)]), reference)
    unsigned = [0, 5, 127, None]
    for t in (pa.uint8(), pa.uint16(), pa.uint32(), pa.uint64()):
        np.testing.assert_array_equal(hash_columns([pa.array(unsigned, t)]),
                                      hash_columns([pa.array(unsigned, pa.int64())]))


def test_float_normalization():
    h = hash_columns([pa.array([0.0, -0.0, float("nan"), -float("nan"), 1.5])])
    assert h[0] == h[1]
    assert h[2] == h[3]
    np.testing.assert_array_equal(hash_columns([pa.array([1.5, float("nan")], pa.float32())]),
                                  h[[4, 2]])


def test_encodings_of_the_same_values_hash_alike():
    texts = ["a", None, "", "héllo", "a"]
    reference = hash_columns([pa.array(texts)])
    for array in (pa.array(texts, pa.large_string()), pa.array(texts).dictionary_encode(),
                  pa.array([None if t is None else t.encode() for t in texts], pa.binary()),
                  pa.array(texts, pa.string_view()), pa.chunked_array([texts[:2], texts[2:]])):
        np.testing.assert_array_equal(hash_columns([array]), reference)


def test_struct_hashes_like_its_fields_and_temporals_hash():
    struct = pa.array([{"a": 1, "b": "x"}, None, {"a": None, "b": "y"}])
    fields = hash_columns([pa.array([1, None, None]), pa.array(["x", None, "y"])])
    h = hash_columns([struct])
    assert (h[0], h[2]) == (fields[0], fields[2])
    assert h[1] == NULL_HASH
    day = datetime.date(2024, 1, 2)
    dates = hash_columns([pa.array([day, None])])
    assert dates[0] == hash_columns([pa.array([(day - datetime.date(1970, 1, 1)).days])])[0]
    assert hash_columns([pa.array([datetime.datetime(2024, 1, 2)], pa.timestamp("ms"))]).dtype \
        == np.uint64


def test_nested_lists_and_maps():
    lists = pa.array([[1, 2], [2, 1], [], None, [3]])
    h = hash_columns([lists])
    assert len(set(h.tolist())) == 5
    maps = pa.array([[("a", 1)], [("a", 2)], None], pa.map_(pa.string(), pa.int64()))
    assert len(set(hash_columns([maps]).tolist())) == 3
    np.testing.assert_array_equal(hash_columns([lists.slice(1, 3)]), h[1:4])
    fixed = pa.array([[1, 2], [3, 4], [5, 6]], pa.list_(pa.int64(), 2))
    np.testing.assert_array_equal(hash_columns([fixed]), hash_columns([pa.array([[1, 2], [3, 4], [5, 6]])]))
    np.testing.assert_array_equal(hash_columns([fixed.slice(1)]), hash_columns([fixed])[1:])


KEY_VALUES = {
    "int": (st.one_of(st.none(), st.integers(-(2**31), 2**31 - 1)), pa.int32()),
    "text": (st.one_of(st.none(), st.text(max_size=6)), pa.string()),
    "float": (st.one_of(st.none(), st.floats()), pa.float64()),
    "decimal": (st.one_of(st.none(), st.decimals(-10**6, 10**6, places=2)), pa.decimal128(12, 2)),
}


@settings(max_examples=60)
@given(st.sampled_from(sorted(KEY_VALUES)), st.data())
def test_hash_does_not_depend_on_batch_split(kind, data):
    strategy, arrow_type = KEY_VALUES[kind]
    values = data.draw(st.lists(strategy, max_size=30))
    column = pa.array(values, arrow_type)
    whole = hash_columns([column])
    cuts = sorted(data.draw(st.lists(st.integers(0, len(values)), max_size=3)))
    bounds = [0, *cuts, len(values)]
    parts = [hash_columns([column.slice(lo, hi - lo)]) for lo, hi in zip(bounds, bounds[1:], strict=False)]
    np.testing.assert_array_equal(np.concatenate(parts), whole)
    np.testing.assert_array_equal(hash_columns([pa.chunked_array(
        [column.slice(lo, hi - lo) for lo, hi in zip(bounds, bounds[1:], strict=False)], arrow_type)]), whole)


def _roughly_uniform(groups: np.ndarray, n_groups: int) -> None:
    counts = np.bincount(groups, minlength=n_groups)
    expected = len(groups) / n_groups
    assert counts.min() > 0.8 * expected and counts.max() < 1.2 * expected, counts


def test_key_groups_spread_evenly():
    n = 128 * 1000
    _roughly_uniform(key_groups([pa.array(np.arange(n))], DEFAULT_MAX_PARALLELISM), 128)
    words = pa.array([f"user-{i}" for i in range(n)])
    _roughly_uniform(key_groups([words], DEFAULT_MAX_PARALLELISM), 128)
    assert key_groups([words], 128).dtype == np.int32


# -- key-group ranges --------------------------------------------------------------------------

@pytest.mark.parametrize("max_parallelism", [1, 7, 128, 200])
def test_ranges_and_subtask_assignment_agree(max_parallelism):
    groups = np.arange(max_parallelism)
    for parallelism in range(1, max_parallelism + 1):
        owners = subtask_of_key_groups(groups, parallelism, max_parallelism)
        covered = []
        for subtask in range(parallelism):
            r = key_group_range(subtask, parallelism, max_parallelism)
            covered.extend(range(r.start, r.end))
            assert (owners[r.start : r.end] == subtask).all()
            np.testing.assert_array_equal(r.contains(groups), owners == subtask)
        assert covered == list(range(max_parallelism))


def test_flink_ranges():
    # KeyGroupRangeAssignment.computeKeyGroupRangeForOperatorIndex(128, 3, i)
    assert [key_group_range(i, 3, 128) for i in range(3)] == [
        KeyGroupRange(0, 43), KeyGroupRange(43, 86), KeyGroupRange(86, 128)]


def test_key_group_range_basics():
    r = KeyGroupRange(3, 7)
    assert len(r) == 4
    assert 3 in r and 6 in r and 7 not in r and 2 not in r
    with pytest.raises(ValueError):
        KeyGroupRange(5, 4)
    with pytest.raises(ValueError, match="subtask index out of range"):
        key_group_range(3, 3, 128)
    with pytest.raises(ValueError, match="parallelism"):
        key_group_range(0, 129, 128)
