"""``KeyIndex``: dense ids for key tuples, for keyed state that lives as long as the job.

``KeyDictionary`` (batch aggregation, join build sides) matches each batch's distinct keys
against everything it holds with Arrow's ``index_in``, which rebuilds a hash set of all keys per
call: fine for a build side, but streaming state holds up to millions of keys and sees a batch at a
time, so a batch must cost the batch, not the state. This index is an open-addressing hash table
kept between batches, in numpy, probed for a whole batch at once:

* every key has its stable hash (``key_groups``, kept per id: key groups and rebuilds need no
  rehash), and its normalized value in a per-column store (``key_store``);
* the table is a uint64 array of slots ``(hash >> 32) << 32 | (id + 1)``, 0 when empty, at most
  half full, with linear probing. One gather reads a slot's id and a 32-bit tag of its hash;
* a batch probes in rounds: all rows read their slot, rows whose tag matches compare their key
  with the stored one (exact: equal hashes never merge different keys), and the rows still
  unresolved step to the next slot. Rounds shrink fast at half load;
* new keys (one per distinct hash, in order of first appearance) get the next ids, and a row
  that collided with a different key of the same hash tries again in another round.

Ids are never reused or removed; ``keep`` renumbers a chosen subset densely (compaction).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from volley.state.growable import ensure_capacity
from volley.state.key_encoding import Bytes, Words, encode_column
from volley.state.key_groups import combine, hash_encoded
from volley.state.key_store import make_store

ABSENT = -1
_EMPTY = np.uint64(0)
_LOW = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_MIN_SLOTS = 64
_MAX_IDS = (1 << 32) - 2  # an id + 1 must fit the low 32 bits of a slot


class KeyIndex:
    """Exact, vectorized hash index from key tuples to dense ids; see the module docstring."""

    def __init__(self, key_types: Sequence[pa.DataType]) -> None:
        if not key_types:
            raise ValueError("a key index needs at least one key column; got none")
        self.key_types = list(key_types)
        self._stores = [make_store(t) for t in self.key_types]
        self.size = 0
        self._hashes = np.zeros(0, dtype=np.uint64)
        self._slots = np.zeros(_MIN_SLOTS, dtype=np.uint64)

    @property
    def hashes(self) -> np.ndarray:
        """The stable hash of every id's key (a view; ``key_groups.hash_columns`` of the key)."""
        return self._hashes[: self.size]

    def ids(self, columns: Sequence[pa.Array | pa.ChunkedArray], insert: bool = True) -> np.ndarray:
        """The id (int64) of each row's key tuple; new keys get new ids when ``insert``,
        else -1."""
        keys = self._encode(columns)
        n = len(keys[0].starts) if isinstance(keys[0], Bytes) else len(keys[0].words)
        hashes = hash_encoded(keys[0])
        for key in keys[1:]:
            hashes = combine(hashes, hash_encoded(key))
        ids = self._probe(hashes, keys, np.arange(n, dtype=np.int64))
        if insert:
            missing = np.flatnonzero(ids == ABSENT)
            if len(missing):
                self._insert(hashes, keys, missing, ids)
        return ids

    def key_columns(self, ids: np.ndarray | None = None) -> list[pa.Array]:
        """The key tuples of ``ids`` (all ids, in order, when None), one array per column."""
        if ids is None:
            ids = np.arange(self.size, dtype=np.int64)
        return [store.take(np.asarray(ids, dtype=np.int64)) for store in self._stores]

    def keep(self, ids: np.ndarray) -> None:
        """Keep the keys of ``ids`` only, renumbered so ``ids[i]`` becomes ``i``."""
        ids = np.asarray(ids, dtype=np.int64)
        for store in self._stores:
            store.keep(ids)
        self._hashes = self._hashes[ids]
        self.size = len(ids)
        self._rebuild(_capacity_for(self.size))

    # -- probing ---------------------------------------------------------------------------------

    def _encode(self, columns: Sequence[pa.Array | pa.ChunkedArray]) -> list[Words | Bytes]:
        if len(columns) != len(self._stores):
            raise ValueError(f"wrong number of key columns; expected {len(self._stores)}, "
                             f"got {len(columns)}")
        return [encode_column(c) for c in columns]

    def _equal(self, ids: np.ndarray, keys: list[Words | Bytes], rows: np.ndarray) -> np.ndarray:
        same = self._stores[0].equal(ids, keys[0], rows)
        for store, key in zip(self._stores[1:], keys[1:], strict=True):
            same &= store.equal(ids, key, rows)
        return same

    def _probe(self, hashes: np.ndarray, keys: list[Words | Bytes], rows: np.ndarray) -> np.ndarray:
        """The ids of ``rows`` (-1 for absent keys). Probing compares 32-bit tags only, one slot
        per round for all unresolved rows; the keys of tag matches are compared once at the end,
        and the rare false match (same tag, other key) resumes probing after its slot."""
        ids = np.full(len(hashes), ABSENT, dtype=np.int64)
        mask = np.uint64(len(self._slots) - 1)
        position = hashes[rows] & mask
        while len(rows):
            candidates, slots = self._first_tag_match(hashes[rows], position, mask)
            matched = np.flatnonzero(candidates != ABSENT)
            same = self._equal(candidates[matched], keys, rows[matched])
            ids[rows[matched[same]]] = candidates[matched[same]]
            retry = matched[~same]
            rows, position = rows[retry], (slots[retry] + np.uint64(1)) & mask
        return ids

    def _first_tag_match(self, hashes: np.ndarray, position: np.ndarray,
                         mask: np.uint64) -> tuple[np.ndarray, np.ndarray]:
        """From each ``position`` on, the id in the first slot whose tag is its hash's (-1
        when an empty slot comes first), and that slot."""
        found = np.full(len(hashes), ABSENT, dtype=np.int64)
        slots = position.copy()
        tags = hashes >> _S32
        active = np.arange(len(hashes), dtype=np.int64)
        while len(active):
            entry = self._slots[slots[active]]
            empty = entry == _EMPTY
            hit = ~empty & ((entry >> _S32) == tags[active])
            found[active[hit]] = (entry[hit] & _LOW).astype(np.int64) - 1
            going = ~(empty | hit)
            active = active[going]
            slots[active] = (slots[active] + np.uint64(1)) & mask
        return found, slots

    # -- inserting -------------------------------------------------------------------------------

    def _insert(self, hashes: np.ndarray, keys: list[Words | Bytes], missing: np.ndarray,
                ids: np.ndarray) -> None:
        """Give the absent keys of rows ``missing`` new ids (written into ``ids``)."""
        while len(missing):
            _, first, group = np.unique(hashes[missing], return_index=True, return_inverse=True)
            order = np.argsort(first, kind="stable")  # new ids in order of first appearance
            new_of_group = np.empty(len(first), dtype=np.int64)
            new_of_group[order] = np.arange(self.size, self.size + len(first), dtype=np.int64)
            representatives = missing[first[order]]
            self._append(hashes, keys, representatives)
            candidates = new_of_group[group.reshape(-1)]
            same = self._equal(candidates, keys, missing)
            ids[missing[same]] = candidates[same]
            missing = missing[~same]  # rows whose hash collided with a different key

    def _append(self, hashes: np.ndarray, keys: list[Words | Bytes], rows: np.ndarray) -> None:
        start, end = self.size, self.size + len(rows)
        if end > _MAX_IDS:
            raise OverflowError(f"a key index holds at most {_MAX_IDS} keys; got {end}")
        for store, key in zip(self._stores, keys, strict=True):
            store.append(key, rows)
        self._hashes = ensure_capacity(self._hashes, end)
        self._hashes[start:end] = hashes[rows]
        self.size = end
        if _capacity_for(end) > len(self._slots):
            self._rebuild(_capacity_for(end))
        else:
            self._place(self._hashes[start:end], np.arange(start, end, dtype=np.int64))

    def _rebuild(self, capacity: int) -> None:
        """A fresh slot table of ``capacity`` holding every id (after growth or ``keep``)."""
        self._slots = np.zeros(capacity, dtype=np.uint64)
        self._place(self._hashes[: self.size], np.arange(self.size, dtype=np.int64))

    def _place(self, hashes: np.ndarray, ids: np.ndarray) -> None:
        """Put ``ids`` into the slot table, each at the first free slot from its hash's home;
        rows aiming at the same free slot in a round: the first takes it, the rest go on."""
        mask = np.uint64(len(self._slots) - 1)
        entries = ((hashes >> _S32) << _S32) | (ids.astype(np.uint64) + np.uint64(1))
        position = hashes & mask
        pending = np.arange(len(ids), dtype=np.int64)
        while len(pending):
            free = np.flatnonzero(self._slots[position] == _EMPTY)
            slots, first = np.unique(position[free], return_index=True)
            self._slots[slots] = entries[pending[free[first]]]
            placed = np.zeros(len(pending), dtype=bool)
            placed[free[first]] = True
            position[~placed] = (position[~placed] + np.uint64(1)) & mask
            keep = ~placed
            pending, position = pending[keep], position[keep]


def _capacity_for(n: int) -> int:
    """The slot count (a power of two) that keeps ``n`` keys at most half full."""
    return max(_MIN_SLOTS, 1 << int(2 * n - 1).bit_length()) if n else _MIN_SLOTS
