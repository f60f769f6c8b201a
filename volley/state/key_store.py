"""The key values of a key index, one store per key column, addressed by dense id.

The index needs three things of the keys it holds, all for a batch of ids at once: append new
keys, compare stored keys with a batch's keys (to confirm a hash match), and give keys back as
Arrow (for output and snapshots). Stores hold keys in their normalized form (``key_encoding``)
in arrays that grow by doubling, so appending a batch costs the batch, never the store.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from volley.state.growable import ensure_capacity
from volley.state.key_encoding import (
    Bytes,
    Words,
    gather_runs,
    is_bytes_type,
    value_type,
    word_count,
)


def make_store(key_type: pa.DataType) -> WordStore | BytesStore:
    """The store for a key column of ``key_type`` (a dictionary type stores its values)."""
    t = value_type(key_type)
    return BytesStore(t) if is_bytes_type(t) else WordStore(t)


def _validity(nulls: np.ndarray | None) -> pa.Buffer | None:
    """An Arrow validity bitmap for a NULL mask."""
    if nulls is None or not nulls.any():
        return None
    return pa.array(~nulls).buffers()[1]


def _nulls_equal(a: np.ndarray, b: np.ndarray | None, rows: np.ndarray) -> np.ndarray:
    return a == (b[rows] if b is not None else False)


class WordStore:
    """Fixed-width keys as uint64 words (see ``key_encoding.Words``)."""

    def __init__(self, key_type: pa.DataType) -> None:
        self.type = key_type
        self.size = 0
        self._words = np.zeros((0, word_count(key_type)), dtype=np.uint64)
        self._nulls = np.zeros(0, dtype=bool)

    def append(self, keys: Words | Bytes, rows: np.ndarray) -> None:
        assert isinstance(keys, Words)
        end = self.size + len(rows)
        self._words = ensure_capacity(self._words, end)
        self._nulls = ensure_capacity(self._nulls, end, False)
        self._words[self.size : end] = keys.words[rows]
        self._nulls[self.size : end] = keys.nulls[rows] if keys.nulls is not None else False
        self.size = end

    def values(self) -> tuple[np.ndarray, np.ndarray]:
        """Every id's words and NULL flag (views)."""
        return self._words[: self.size], self._nulls[: self.size]

    def equal(self, ids: np.ndarray, keys: Words | Bytes, rows: np.ndarray) -> np.ndarray:
        """Whether the key of ``ids[i]`` equals row ``rows[i]`` of ``keys`` (NULL equals NULL)."""
        assert isinstance(keys, Words)
        same = _nulls_equal(self._nulls[ids], keys.nulls, rows)
        stored, given = self._words[ids], keys.words[rows]
        for j in range(stored.shape[1]):
            same &= stored[:, j] == given[:, j]
        return same

    def take(self, ids: np.ndarray) -> pa.Array:
        """The keys of ``ids`` as an Arrow array of the store's type."""
        t, n = self.type, len(ids)
        nulls = self._nulls[ids]
        if pa.types.is_null(t):
            return pa.nulls(n)
        words = self._words[ids]
        if pa.types.is_boolean(t):
            return pa.array(words[:, 0] != 0, mask=nulls if nulls.any() else None)
        if pa.types.is_floating(t):
            data = words[:, 0].view(np.float64).astype(np.dtype(f"f{t.bit_width // 8}"))
        elif words.shape[1] > 1:
            data = np.ascontiguousarray(words)
        else:
            signed = not pa.types.is_unsigned_integer(t)
            data = words[:, 0].view(np.int64).astype(np.dtype(f"{'i' if signed else 'u'}{t.bit_width // 8}"))
        return pa.Array.from_buffers(t, n, [_validity(nulls), pa.py_buffer(data)])

    def keep(self, ids: np.ndarray) -> None:
        """Keep only the keys of ``ids``, renumbered ``0..len(ids)-1`` (compaction)."""
        self._words, self._nulls, self.size = self._words[ids], self._nulls[ids], len(ids)


class BytesStore:
    """Strings and binaries: all bytes in one growing buffer, a start and length per id."""

    def __init__(self, key_type: pa.DataType) -> None:
        self.type = key_type
        self.size = 0
        self._used = 0  # bytes of _data in use
        self._data = np.zeros(0, dtype=np.uint8)
        self._starts = np.zeros(0, dtype=np.int64)
        self._lengths = np.zeros(0, dtype=np.int64)
        self._nulls = np.zeros(0, dtype=bool)

    def append(self, keys: Words | Bytes, rows: np.ndarray) -> None:
        assert isinstance(keys, Bytes)
        lengths = keys.lengths[rows]
        data, packed = gather_runs(keys.data, keys.starts[rows], lengths)
        end, used = self.size + len(rows), self._used + len(data)
        self._data = ensure_capacity(self._data, used)
        self._data[self._used : used] = data
        self._starts = ensure_capacity(self._starts, end)
        self._lengths = ensure_capacity(self._lengths, end)
        self._nulls = ensure_capacity(self._nulls, end, False)
        self._starts[self.size : end] = packed + self._used
        self._lengths[self.size : end] = lengths
        self._nulls[self.size : end] = keys.nulls[rows] if keys.nulls is not None else False
        self.size, self._used = end, used

    def equal(self, ids: np.ndarray, keys: Words | Bytes, rows: np.ndarray) -> np.ndarray:
        """Whether the key of ``ids[i]`` equals row ``rows[i]`` of ``keys``: lengths first,
        then the bytes of the pairs whose lengths agree, compared all at once."""
        assert isinstance(keys, Bytes)
        lengths = self._lengths[ids]
        same = (lengths == keys.lengths[rows]) & _nulls_equal(self._nulls[ids], keys.nulls, rows)
        pairs = np.flatnonzero(same & (lengths > 0))
        if len(pairs):
            n = lengths[pairs]
            stored, _ = gather_runs(self._data, self._starts[ids[pairs]], n)
            given, _ = gather_runs(keys.data, keys.starts[rows[pairs]], n)
            # every run is non-empty, so reduceat's segments are exactly the pairs
            differing = np.logical_or.reduceat(stored != given, np.cumsum(n) - n)
            same[pairs[differing]] = False
        return same

    def take(self, ids: np.ndarray) -> pa.Array:
        """The keys of ``ids`` as an Arrow array of the store's type."""
        lengths = self._lengths[ids]
        data, packed = gather_runs(self._data, self._starts[ids], lengths)
        offsets = np.concatenate([packed, [packed[-1] + lengths[-1] if len(ids) else 0]])
        t = self.type
        textual = pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)
        large = pa.large_string() if textual else pa.large_binary()
        nulls = self._nulls[ids]
        array = pa.Array.from_buffers(large, len(ids), [
            _validity(nulls), pa.py_buffer(offsets.astype(np.int64)), pa.py_buffer(data)])
        return array if t == large else array.cast(t)

    def keep(self, ids: np.ndarray) -> None:
        """Keep only the keys of ``ids``, renumbered ``0..len(ids)-1`` (compaction)."""
        lengths = self._lengths[ids]
        self._data, self._starts = gather_runs(self._data, self._starts[ids], lengths)
        self._used = len(self._data)
        self._lengths, self._nulls, self.size = lengths, self._nulls[ids], len(ids)

