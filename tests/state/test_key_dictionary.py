"""KeyDictionary's hashed columns: once it holds many values it numbers each batch through a
hash table kept between batches (linear time for a GROUP BY over millions of string keys); the
ids and values must be those the per-batch ``index_in`` path gives."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from volley.state import key_dictionary
from volley.state.key_dictionary import KeyDictionary

VALUES = st.one_of(st.none(), st.sampled_from(["a", "b", "", "é", "a b", "zz", "b\x00"]),
                   st.text(max_size=3))
FLOATS = st.one_of(st.none(), st.sampled_from([0.0, -0.0, 1.5, float("nan")]))


def _encode_all(batches, key_type, threshold):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(key_dictionary, "INDEX_AFTER", threshold)
        d = KeyDictionary([key_type])
        ids = [d.encode([pa.array(b, key_type)]).tolist() for b in batches]
    probe = d.lookup([pa.array([v for b in batches for v in b] + ["never"], key_type)]
                     if key_type == pa.string() else
                     [pa.array([v for b in batches for v in b], key_type)])
    return ids, probe.tolist(), d.key_columns()[0].to_pylist(), d._columns[0]._index is not None


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(VALUES, max_size=12), min_size=1, max_size=8))
def test_the_kept_hash_table_numbers_as_index_in_does(batches):
    hashed = _encode_all(batches, pa.string(), threshold=-1_000_000)
    plain = _encode_all(batches, pa.string(), threshold=1 << 30)
    assert hashed[:3] == plain[:3]
    assert hashed[3] or not any(batches) or len(batches) == 1  # the table took over


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(FLOATS, max_size=10), min_size=1, max_size=6))
def test_floats_group_alike_on_both_paths(batches):
    def groups(threshold):
        ids, _, values, _ = _encode_all(batches, pa.float64(), threshold)
        flat = [i for b in ids for i in b]
        rows = [v for b in batches for v in b]
        return sorted({tuple(sorted(repr(rows[j]) for j in range(len(flat)) if flat[j] == g))
                       for g in set(flat)}), len(values)

    assert groups(-1_000_000) == groups(1 << 30)
