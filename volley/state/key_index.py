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
* a batch probes in rounds: all unresolved rows read their slot and stop at an empty one or a
  matching tag, the others step to the next slot (rounds shrink fast at half load). Then the
  keys of the tag matches are compared with the stored ones, all at once: exact, so equal
  hashes never merge different keys; a false match resumes probing;
* new keys (one per distinct hash, in order of first appearance) get the next ids, and a row
  that collided with a different key of the same hash tries again in another round.

A single integer-like key column is numbered through ``DirectSlots`` instead (an array indexed
by ``value - base``: one gather per batch) while its range stays narrow enough; the hashes are
kept all the same, so turning to the hash table when the range outgrows the slots is a rebuild.

Ids are never reused or removed; ``keep`` renumbers a chosen subset densely (compaction).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from volley.state.direct_slots import DIRECT_RANGE_LIMIT, DirectSlots
from volley.state.growable import ensure_capacity
from volley.state.key_encoding import Bytes, Words, encode_column, is_bytes_type, value_type
from volley.state.key_hashing import combine, hash_encoded
from volley.state.key_store import WordStore, make_store

ABSENT = -1
_EMPTY = np.uint64(0)
_LOW = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_MIN_SLOTS = 64
_MAX_IDS = (1 << 32) - 2  # an id + 1 must fit the low 32 bits of a slot


class KeyIndex:
    """Exact, vectorized hash index from key tuples to dense ids; see the module docstring."""

    def __init__(self, key_types: Sequence[pa.DataType],
                 direct_range_limit: int = DIRECT_RANGE_LIMIT) -> None:
        """``direct_range_limit``: the widest value range a single integer key column is
        numbered through ``DirectSlots`` before the index turns to hashing (0: never)."""
        if not key_types:
            raise ValueError("a key index needs at least one key column; got none")
        self.key_types = list(key_types)
        self._stores = [make_store(t) for t in self.key_types]
        self.size = 0
        self._hashes = np.zeros(0, dtype=np.uint64)
        self._slots = np.zeros(_MIN_SLOTS, dtype=np.uint64)
        self._direct = DirectSlots(direct_range_limit) \
            if direct_range_limit > 0 and _integer_like(self.key_types) else None

    @property
    def hashes(self) -> np.ndarray:
        """The stable hash of every id's key (a view; ``key_groups.hash_columns`` of the key)."""
        return self._hashes[: self.size]

    def ids(self, columns: Sequence[pa.Array | pa.ChunkedArray], insert: bool = True) -> np.ndarray:
        """The id (int64) of each row's key tuple; new keys get new ids (in order of first
        appearance) when ``insert``, else -1."""
        keys = self._encode(columns)
        if self._direct is not None:
            assert isinstance(keys[0], Words)
            ids = self._direct_ids(self._direct, keys[0], insert)
            if ids is not None:
                return ids
            self._direct = None  # the key range outgrew the slots: hash from now on
            self._rebuild(_capacity_for(self.size))
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

    def key_column(self, column: int, ids: np.ndarray) -> pa.Array:
        """Key column ``column`` of ``ids`` (one column of ``key_columns``)."""
        return self._stores[column].take(np.asarray(ids, dtype=np.int64))

    def keep(self, ids: np.ndarray) -> None:
        """Keep the keys of ``ids`` only, renumbered so ``ids[i]`` becomes ``i``."""
        ids = np.asarray(ids, dtype=np.int64)
        for store in self._stores:
            store.keep(ids)
        self._hashes = self._hashes[ids]
        self.size = len(ids)
        if self._direct is None:
            self._rebuild(_capacity_for(self.size))
            return
        self._direct.clear()
        store = self._stores[0]
        assert isinstance(store, WordStore)
        words, nulls = store.values()
        valid = np.flatnonzero(~nulls)
        self._direct.assign(words[valid, 0].view(np.int64), valid)
        if len(valid) < self.size:
            self._direct.null_id = int(np.flatnonzero(nulls)[0])

    # -- direct slots ----------------------------------------------------------------------------

    def _direct_ids(self, direct: DirectSlots, key: Words, insert: bool) -> np.ndarray | None:
        """Ids through the direct slots; None when inserting needs a range too wide for them."""
        values, nulls = key.words[:, 0].view(np.int64), key.nulls
        present = values if nulls is None else values[~nulls]
        if len(present) == 0:  # no rows, or all NULL
            ids = np.full(len(values), direct.null_id, dtype=np.int64)
        else:
            lo, hi = int(present.min()), int(present.max())
            if insert and not direct.covers(lo, hi) and not direct.extend(lo, hi):
                return None
            if nulls is not None:
                values = np.where(nulls, lo, values)  # a NULL's value must not index the slots
            ids = direct.ids(values, nulls, lo, hi)
        if insert:
            missing = np.flatnonzero(ids == ABSENT)
            if len(missing):
                self._insert_direct(direct, key, values, missing, ids)
        return ids

    def _insert_direct(self, direct: DirectSlots, key: Words, values: np.ndarray,
                       missing: np.ndarray, ids: np.ndarray) -> None:
        """New ids for the unseen keys of rows ``missing``, in order of first appearance."""
        is_null = key.nulls[missing] if key.nulls is not None else np.zeros(len(missing), bool)
        present = np.flatnonzero(~is_null)
        is_first = np.zeros(len(missing), dtype=bool)
        if len(present):
            is_first[present[np.unique(values[missing[present]], return_index=True)[1]]] = True
        if is_null.any():  # only unseen while the NULL key has no id
            is_first[np.flatnonzero(is_null)[0]] = True
        representatives = missing[is_first]
        new = np.arange(self.size, self.size + len(representatives), dtype=np.int64)
        null_first = is_null[is_first]
        direct.assign(values[representatives[~null_first]], new[~null_first])
        if null_first.any():
            direct.null_id = int(new[null_first][0])
        self._append(_hash_rows(key, representatives), [key], representatives)
        rows = missing[present]
        ids[rows] = direct.slots[values[rows] - direct.base]
        ids[missing[is_null]] = direct.null_id

    # -- probing ---------------------------------------------------------------------------------

    def _encode(self, columns: Sequence[pa.Array | pa.ChunkedArray]) -> list[Words | Bytes]:
        if len(columns) != len(self._stores):
            raise ValueError(f"wrong number of key columns; expected {len(self._stores)}, "
                             f"got {len(columns)}")
        keys = []
        for column, key_type in zip(columns, self.key_types, strict=True):
            if pa.types.is_null(column.type):  # an all-NULL column of no particular type
                column = column.cast(value_type(key_type))
            key = encode_column(column)
            if isinstance(key, Bytes) != is_bytes_type(value_type(key_type)):
                raise TypeError(f"key column of type {column.type} does not match the "
                                f"index's key type; expected {key_type}, got {column.type}")
            keys.append(key)
        return keys

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
            # new ids in order of first appearance: a group's rank among the first rows
            is_first = np.zeros(len(missing), dtype=bool)
            is_first[first] = True
            rank = np.cumsum(is_first) - 1
            new_of_group = self.size + rank[first]
            representatives = missing[is_first]
            self._append(hashes[representatives], keys, representatives)
            candidates = new_of_group[group.reshape(-1)]
            same = self._equal(candidates, keys, missing)
            ids[missing[same]] = candidates[same]
            missing = missing[~same]  # rows whose hash collided with a different key

    def _append(self, row_hashes: np.ndarray, keys: list[Words | Bytes], rows: np.ndarray) -> None:
        """New ids for the keys of ``rows`` (whose hashes are ``row_hashes``)."""
        start, end = self.size, self.size + len(rows)
        if end > _MAX_IDS:
            raise OverflowError(f"a key index holds at most {_MAX_IDS} keys; got {end}")
        for store, key in zip(self._stores, keys, strict=True):
            store.append(key, rows)
        self._hashes = ensure_capacity(self._hashes, end)
        self._hashes[start:end] = row_hashes
        self.size = end
        if self._direct is not None:
            return
        if _capacity_for(end) > len(self._slots):
            self._rebuild(_capacity_for(end))
        else:
            self._place(self._hashes[start:end], np.arange(start, end, dtype=np.int64))

    def _rebuild(self, capacity: int) -> None:
        """A fresh slot table of ``capacity`` holding every id (after growth or ``keep``)."""
        self._slots = np.zeros(capacity, dtype=np.uint64)
        self._place(self._hashes[: self.size], np.arange(self.size, dtype=np.int64))

    def _place(self, hashes: np.ndarray, ids: np.ndarray) -> None:
        """Put ``ids`` into the slot table, each at the first free slot from its hash's home.
        Rows aiming at the same free slot in a round all write it; the one whose entry stayed
        (entries are unique: they hold the id) has it, the others go on to the next slot."""
        mask = np.uint64(len(self._slots) - 1)
        entries = ((hashes >> _S32) << _S32) | (ids.astype(np.uint64) + np.uint64(1))
        position = hashes & mask
        while len(entries):
            free = self._slots[position] == _EMPTY
            self._slots[position[free]] = entries[free]
            placed = free & (self._slots[position] == entries)
            going = ~placed
            entries, position = entries[going], (position[going] + np.uint64(1)) & mask


def _integer_like(key_types: list[pa.DataType]) -> bool:
    """Whether the keys are one integer-like column, which ``DirectSlots`` can number."""
    if len(key_types) != 1:
        return False
    t = value_type(key_types[0])
    return (pa.types.is_integer(t) or pa.types.is_boolean(t)
            or pa.types.is_temporal(t) and not pa.types.is_interval(t))


def _hash_rows(key: Words, rows: np.ndarray) -> np.ndarray:
    return hash_encoded(Words(key.words[rows], None if key.nulls is None else key.nulls[rows]))


def _capacity_for(n: int) -> int:
    """The slot count (a power of two) that keeps ``n`` keys at most half full."""
    return max(_MIN_SLOTS, 1 << int(2 * n - 1).bit_length()) if n else _MIN_SLOTS
