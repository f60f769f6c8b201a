"""KeyIndex against a dict of key tuple -> id, in hashed mode, direct mode and across the switch
from one to the other, over batches of random keys."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from volley.state.key_hashing import hash_columns
from volley.state.key_index import KeyIndex

INTS = st.one_of(st.none(), st.integers(-20, 20), st.integers(-(2**62), 2**62))
TEXTS = st.one_of(st.none(), st.sampled_from(["", "a", "ab", "b", "héllo", "a\x00"]))
SHAPES = {
    "int": ([pa.int64()], st.tuples(INTS)),
    "small-int": ([pa.int16()], st.tuples(st.one_of(st.none(), st.integers(-300, 300)))),
    "text": ([pa.string()], st.tuples(TEXTS)),
    "int-text": ([pa.int32(), pa.string()], st.tuples(st.one_of(st.none(), st.integers(-3, 3)), TEXTS)),
}


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(SHAPES)), st.sampled_from([0, 8, 1 << 22]), st.data())
def test_ids_match_a_dict(shape, limit, data):
    key_types, keys = SHAPES[shape]
    index = KeyIndex(key_types, direct_range_limit=limit)
    model: dict = {}
    for _ in range(data.draw(st.integers(1, 6))):
        batch = data.draw(st.lists(keys, max_size=12))
        columns = [pa.array([k[i] for k in batch], t) for i, t in enumerate(key_types)]
        if data.draw(st.booleans()):
            looked = index.ids(columns, insert=False)
            assert looked.tolist() == [model.get(k, -1) for k in batch]
            continue
        ids = index.ids(columns)
        for k in dict.fromkeys(batch):  # new keys in order of first appearance
            model.setdefault(k, len(model))
        assert ids.tolist() == [model[k] for k in batch]
        assert index.size == len(model)
    if model:
        keys_back = index.key_columns()
        assert list(zip(*[c.to_pylist() for c in keys_back], strict=True)) == list(model)
        np.testing.assert_array_equal(index.hashes, hash_columns(keys_back))
        kept = np.array(sorted(model.values())[::2], dtype=np.int64)
        index.keep(kept)
        survivors = [k for k, v in model.items() if v in set(kept.tolist())]
        columns = [pa.array([k[i] for k in survivors], t) for i, t in enumerate(key_types)]
        assert index.ids(columns, insert=False).tolist() == list(range(len(survivors)))


def test_direct_slots_grow_geometrically_for_ascending_keys():
    index = KeyIndex([pa.int64()])
    reallocations, last = 0, None
    for start in range(0, 200_000, 1000):
        index.ids([pa.array(np.arange(start, start + 1000))])
        slots = index._direct.slots
        if slots is not last:
            reallocations, last = reallocations + 1, slots
    assert index._direct is not None and index.size == 200_000
    assert reallocations <= 10


def test_switches_from_direct_to_hashed_and_keeps_ids():
    index = KeyIndex([pa.int64()], direct_range_limit=100)
    first = index.ids([pa.array([5, 7, None, 5])])
    assert first.tolist() == [0, 1, 2, 0] and index._direct is not None
    assert index.ids([pa.array([10**12, 7])]).tolist() == [3, 1]
    assert index._direct is None
    assert index.ids([pa.array([None, 5, 10**12, 8])]).tolist() == [2, 0, 3, 4]
    assert index.ids([pa.array([-1, 10**13])], insert=False).tolist() == [-1, -1]


def test_hash_collisions_keep_keys_apart():
    """Keys whose 64-bit hashes are forced equal still get their own ids (keys are compared)."""
    import volley.state.key_index as key_index

    index = KeyIndex([pa.string()])
    real = key_index.hash_encoded
    key_index.hash_encoded = lambda encoded: np.zeros(len(real(encoded)), dtype=np.uint64)
    try:
        ids = index.ids([pa.array(["a", "b", "a", "c", "b", None])])
        assert ids.tolist() == [0, 1, 0, 2, 1, 3]
        assert index.ids([pa.array(["c", "d", "a"])]).tolist() == [2, 4, 0]
        assert index.ids([pa.array(["e", None])], insert=False).tolist() == [-1, 3]
    finally:
        key_index.hash_encoded = real


def test_extreme_integers():
    top, bottom = 2**63 - 1, -(2**63)
    for keys in ([top, top - 1], [bottom, bottom + 5, None], [bottom, top]):
        index = KeyIndex([pa.int64()])
        ids = index.ids([pa.array(keys, pa.int64())])
        assert ids.tolist() == list(range(len(keys)))
        assert index.key_columns()[0].to_pylist() == keys
        assert index.ids([pa.array(keys[::-1], pa.int64())], insert=False).tolist() == ids[::-1].tolist()
    index = KeyIndex([pa.uint64()])
    assert index.ids([pa.array([2**64 - 1, 0, 2**63], pa.uint64())]).tolist() == [0, 1, 2]
    assert index.key_columns()[0].to_pylist() == [2**64 - 1, 0, 2**63]
