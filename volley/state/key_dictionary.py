"""Dense ids for key tuples: the hash table behind batch aggregation and hash joins.

A ``KeyDictionary`` gives every distinct key tuple it sees an id 0, 1, 2, ... batch after batch
(within a batch: new non-NULL keys ascending on the direct path below, in order of first
appearance on the hashed one, in dictionary order for a dictionary-encoded column, then a new
NULL key), and can look keys up without inserting them (the probe side of a join). Ids are what
the numpy accumulators of an aggregation and the row lists of a join's build side are indexed
by, so both stay vectorized: no Python per row.

Two representations, chosen per key column:

* **direct** — an integer column whose values span a small range maps ``value - base`` through a
  slot array: one numpy gather per batch (DuckDB calls this a perfect hash);
* **hashed** — any other column: Arrow hashes the batch (``dictionary_encode``) and its few
  distinct values are matched against the dictionary so far: with ``index_in`` while it is
  small, then through a ``KeyIndex`` kept between batches (see ``INDEX_AFTER``).

Several key columns are folded pairwise: the ids of (k1..kn-1) and of kn form one int64 code,
which a further dictionary numbers. NULL is a key like any other here (SQL GROUP BY puts NULLs in
one group); a join asks ``lookup(..., null_matches=False)`` so NULL keys never match.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: The largest value range a direct (slot array) column may span: 4M slots of int64, 32 MB.
DIRECT_RANGE_LIMIT = 1 << 22
ABSENT = -1
#: A hashed column matches each batch's distinct values against all it holds with ``index_in``
#: (a hash set built per call: cheap for a join's build side, encoded once) until it holds more
#: than this many values beyond four times a batch's; then a hash table kept between batches
#: takes over, so that a GROUP BY over millions of string keys stays linear.
INDEX_AFTER = 1 << 16


def _distinct_offsets(offsets: np.ndarray, bound: int) -> np.ndarray:
    """The distinct values of ``offsets`` (all in ``[0, bound)``), ascending: a presence mask
    when the range is small next to the values (no sort), else ``np.unique``."""
    if bound <= 4 * len(offsets):
        present = np.zeros(bound, dtype=bool)
        present[offsets] = True
        return np.flatnonzero(present)
    return np.unique(offsets)


def _same_array(a: pa.Array, b: pa.Array) -> bool:
    """Whether ``a`` and ``b`` view the same memory (``a`` is held, so it cannot be reused)."""
    return (len(a) == len(b) and a.offset == b.offset
            and [x.address if x else 0 for x in a.buffers()]
            == [x.address if x else 0 for x in b.buffers()])


class _ColumnDictionary:
    """Ids for the values of one key column (NULL included, as its own id)."""

    def __init__(self, arrow_type: pa.DataType, direct_range_limit: int) -> None:
        self.type = arrow_type
        self._range_limit = direct_range_limit
        self.size = 0
        self._null_id = ABSENT
        self._direct = pa.types.is_integer(arrow_type)
        # direct: slots[value - base] = id, and the value of every id (for output)
        self._base = 0
        self._slots = np.empty(0, dtype=np.int64)
        self._values = np.empty(0, dtype=np.int64)
        self._offsets_checked: tuple[int, int] | None = None  # see _slots_are_offsets
        self._offsets_are_ids = False
        # hashed: the distinct non-null values in order of discovery (chunks, joined when
        # read), the id of each, and a hash table kept between batches that numbers them
        # (None for a type it cannot key: then each batch is matched against them all)
        self._unique_chunks: list[pa.Array] = []
        self._unique_ids = np.empty(0, dtype=np.int64)
        self._index = None
        self._indexable = _indexable(arrow_type)
        # the last dictionary seen on a dictionary-encoded input, and its positions' ids
        self._dictionary: tuple[pa.Array, np.ndarray] | None = None

    # -- encoding --------------------------------------------------------------------------------

    def encode(self, column: pa.Array, insert: bool = True) -> np.ndarray:
        """Ids of ``column``'s values (int64); new values get new ids when ``insert``, else -1."""
        if self._direct:
            ids = self._encode_direct(column, insert)
            if ids is not None:
                return ids
            self._to_hashed()
        return self._encode_hashed(column, insert)

    def _null_key_id(self, insert: bool) -> int:
        """The id of the NULL key (made when first seen and inserting; -1 if unknown)."""
        if self._null_id == ABSENT and insert:
            self._null_id = int(self._new_ids(1)[0])
            if self._direct:
                self._values = np.append(self._values, 0)  # a placeholder; values() masks it
        return self._null_id

    def _new_ids(self, n: int) -> np.ndarray:
        ids = np.arange(self.size, self.size + n, dtype=np.int64)
        self.size += n
        return ids

    def _encode_direct(self, column: pa.Array, insert: bool) -> np.ndarray | None:
        """Slot-array ids, or None when the values' range is too wide for slots."""
        has_nulls = column.null_count > 0
        values = column.fill_null(0) if has_nulls else column
        values = values.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
        if len(values) == 0:
            return np.empty(0, dtype=np.int64)
        lo, hi = int(values.min()), int(values.max())
        if not self._ensure_slots(lo, hi, insert):
            if insert:
                return None
            ids = np.full(len(values), ABSENT, dtype=np.int64)
            inside = (values >= self._base) & (values < self._base + len(self._slots))
            ids[inside] = self._slots[values[inside] - self._base]
        else:  # every value falls inside the slots
            offsets = values - self._base if self._base else values
            if self._slots_are_offsets():
                ids = offsets  # the id of every value is its offset: nothing to look up
            else:
                ids = np.take(self._slots, offsets)
            if insert and not self._slots_full():
                unseen = ids == ABSENT
                if has_nulls:
                    unseen &= column.is_valid().to_numpy(zero_copy_only=False)
                if unseen.any():
                    fresh = _distinct_offsets(offsets[unseen], len(self._slots))
                    new = self._new_ids(len(fresh))
                    self._slots[fresh] = new
                    self._values = np.concatenate([self._values, fresh + self._base])
                    ids = np.take(self._slots, offsets)
        if has_nulls:
            nulls = column.is_null().to_numpy(zero_copy_only=False)
            ids = np.where(nulls, self._null_key_id(insert), ids)
        return ids

    def _slots_full(self) -> bool:
        """Whether every slot has its id (a dense key range seen whole): no value can be new."""
        return len(self._slots) == self.size - (self._null_id != ABSENT)

    def _slots_are_offsets(self) -> bool:
        """Whether every slot's id is its own offset (``slots == arange``): a dense key range
        seen whole in its first batch, as small integer keys (categories, dimension ids) usually
        are. Then a value's id is ``value - base`` and encoding needs no gather. Checked once
        per slot layout; slots only change while they are not full."""
        layout = (len(self._slots), self.size)
        if self._offsets_checked != layout:
            self._offsets_checked = layout
            self._offsets_are_ids = self._slots_full() and bool(
                np.array_equal(self._slots, np.arange(len(self._slots))))
        return self._offsets_are_ids

    def renumber_as_offsets(self) -> np.ndarray | None:
        """Renumber a dense key range seen whole so that every value's id is its offset (and
        the NULL key, if any, comes last); returns the old id of each new id, for the caller
        to reorder what it indexes by id, or None when there is nothing to do.

        A key range revealed over several batches gets its ids in order of discovery; once it
        is complete, this one reordering makes every later batch's encoding gather-free.
        """
        if not self._direct or not self._slots_full() or self._slots_are_offsets():
            return None
        old_of_new = self._slots
        if self._null_id != ABSENT:
            old_of_new = np.append(old_of_new, self._null_id)
            self._null_id = len(self._slots)
        self._slots = np.arange(len(self._slots), dtype=np.int64)
        self._values = np.append(self._slots + self._base, 0)[: self.size]
        self._offsets_are_ids = True
        return old_of_new

    def _ensure_slots(self, lo: int, hi: int, insert: bool) -> bool:
        """Make the slot array cover [lo, hi]; False when that range is too wide."""
        if len(self._slots) == 0:
            if hi - lo >= self._range_limit or not insert:
                return False
            self._base, self._slots = lo, np.full(hi - lo + 1, ABSENT, dtype=np.int64)
            return True
        end = self._base + len(self._slots)
        if lo >= self._base and hi < end:
            return True
        new_lo, new_hi = min(lo, self._base), max(hi, end - 1)
        if new_hi - new_lo >= self._range_limit or not insert:
            return False
        slots = np.full(new_hi - new_lo + 1, ABSENT, dtype=np.int64)
        slots[self._base - new_lo : self._base - new_lo + len(self._slots)] = self._slots
        self._base, self._slots = new_lo, slots
        return True

    def _to_hashed(self) -> None:
        """Leave slot arrays for hashing (the key range grew too wide); ids are kept."""
        valid = np.ones(self.size, dtype=bool)
        if self._null_id != ABSENT:
            valid[self._null_id] = False
        self._unique_ids = np.nonzero(valid)[0].astype(np.int64)
        self._unique_chunks = [pa.array(self._values[valid]).cast(self.type)]
        self._direct = False
        self._slots = np.empty(0, dtype=np.int64)

    def _encode_hashed(self, column: pa.Array, insert: bool) -> np.ndarray:
        if pa.types.is_dictionary(column.type):
            return self._encode_dictionary(column, insert)
        return self._encode_plain(column, insert)

    def _encode_dictionary(self, column: pa.DictionaryArray, insert: bool) -> np.ndarray:
        """A dictionary-encoded column (a join's build-side column, say): its dictionary
        positions are mapped to ids once and remembered while later batches share the same
        dictionary, so a batch costs one gather instead of hashing its values."""
        dictionary = column.dictionary
        if self._dictionary is None or not _same_array(self._dictionary[0], dictionary):
            self._dictionary = (dictionary, np.full(len(dictionary), ABSENT, dtype=np.int64))
        mapping = self._dictionary[1]
        indices = column.indices
        has_nulls = indices.null_count > 0
        positions = (indices.fill_null(0) if has_nulls else indices).to_numpy(zero_copy_only=False)
        ids = mapping[positions]
        unseen = ids == ABSENT
        if has_nulls:
            unseen &= indices.is_valid().to_numpy(zero_copy_only=False)
        if unseen.any():
            fresh = _distinct_offsets(positions[unseen], len(dictionary))
            mapping[fresh] = self._encode_plain(dictionary.take(pa.array(fresh)), insert)
            ids = mapping[positions]
        if has_nulls:
            ids[indices.is_null().to_numpy(zero_copy_only=False)] = self._null_key_id(insert)
        return ids

    def _encode_plain(self, column: pa.Array, insert: bool) -> np.ndarray:
        if pa.types.is_floating(column.type):  # -0.0 is 0.0's key, on both paths (as KeyIndex)
            column = pc.if_else(pc.equal(column, 0), pa.scalar(0, column.type), column)
        encoded = pc.dictionary_encode(column)  # NULLs become null indices
        batch_values = encoded.dictionary
        if self._index is None and self._indexable and \
                len(self._unique_ids) > INDEX_AFTER + 4 * len(batch_values):
            self._build_index()
        if self._index is not None:
            mapping = self._map_indexed(batch_values, insert)
        else:
            mapping = self._map_by_index_in(batch_values, insert)
        indices = encoded.indices
        if not indices.null_count:
            return mapping[indices.to_numpy(zero_copy_only=False)]
        ids = np.append(mapping, ABSENT)[indices.fill_null(len(mapping)).to_numpy(zero_copy_only=False)]
        ids[indices.is_null().to_numpy(zero_copy_only=False)] = self._null_key_id(insert)
        return ids

    def _build_index(self) -> None:
        """Number the values seen so far in a hash table kept from now on (its id ``i`` is
        the ``i``-th value, so ``_unique_ids`` maps its ids as they are)."""
        from volley.state.key_index import KeyIndex

        self._index = KeyIndex([self.type], direct_range_limit=0)
        self._index.ids([self._uniques()])

    def _map_indexed(self, batch_values: pa.Array, insert: bool) -> np.ndarray:
        """Ids of a batch's distinct values through the persistent hash table: a batch costs
        its own distinct values, however many the dictionary holds (``index_in`` against all
        of them made a GROUP BY over many string keys quadratic)."""
        before = self._index.size
        positions = self._index.ids([batch_values], insert=insert)
        added = self._index.size - before
        if added:  # positions before..size-1, in order of first appearance in the batch
            new = self._new_ids(added)
            self._unique_ids = np.concatenate([self._unique_ids, new])
            fresh = np.flatnonzero(positions >= before)
            # one value per new id (values the index keys as equal, 0.0 and -0.0, share one)
            _, first = np.unique(positions[fresh], return_index=True)
            self._unique_chunks.append(batch_values.take(pa.array(fresh[first])))
        mapping = np.full(len(batch_values), ABSENT, dtype=np.int64)
        known = positions >= 0
        mapping[known] = self._unique_ids[positions[known]]
        return mapping

    def _map_by_index_in(self, batch_values: pa.Array, insert: bool) -> np.ndarray:
        uniques = self._uniques()
        found = pc.index_in(batch_values, value_set=uniques)
        mapping = np.full(len(batch_values), ABSENT, dtype=np.int64)
        known = found.is_valid()
        if found.null_count < len(found):
            positions = found.filter(known).to_numpy(zero_copy_only=False)
            mapping[known.to_numpy(zero_copy_only=False)] = self._unique_ids[positions]
        missing = mapping == ABSENT
        if insert and missing.any():
            new = self._new_ids(int(missing.sum()))
            mapping[missing] = new
            self._unique_chunks.append(batch_values.filter(pa.array(missing)))
            self._unique_ids = np.concatenate([self._unique_ids, new])
        return mapping

    def _uniques(self) -> pa.Array:
        """The distinct non-null values in discovery order, as one array."""
        if not self._unique_chunks:
            return pa.array([], type=self.type)
        if len(self._unique_chunks) > 1:
            self._unique_chunks = [pa.concat_arrays(self._unique_chunks)]
        return self._unique_chunks[0]

    # -- output ----------------------------------------------------------------------------------

    def values(self) -> pa.Array:
        """The key value of every id, in id order (NULL for the null id)."""
        if self._direct:
            values = pa.array(self._values)
            if self._null_id != ABSENT:
                mask = np.zeros(self.size, dtype=bool)
                mask[self._null_id] = True
                values = pa.array(self._values, mask=mask)
            return values.cast(self.type)
        positions = np.full(self.size, -1, dtype=np.int64)
        positions[self._unique_ids] = np.arange(len(self._unique_ids))
        uniques = self._uniques()
        if len(uniques) == 0:
            return pa.nulls(self.size, self.type)
        missing = positions < 0  # the NULL key's id
        indices = pa.array(np.maximum(positions, 0), mask=missing if missing.any() else None)
        return uniques.take(indices)


def _indexable(arrow_type: pa.DataType) -> bool:
    """Whether a ``KeyIndex`` can key values of ``arrow_type`` (not nested types)."""
    from volley.state.key_encoding import is_bytes_type, is_words_type, value_type

    t = value_type(arrow_type)
    return is_bytes_type(t) or is_words_type(t)


class KeyDictionary:
    """Dense ids for the distinct tuples of one or more key columns; see the module docstring."""

    def __init__(self, key_types: list[pa.DataType], direct_range_limit: int | None = None) -> None:
        """``direct_range_limit``: the widest value range a column is numbered through a slot
        array (default ``DIRECT_RANGE_LIMIT``). The array costs its range once, which a
        dictionary for a whole stream soon repays; one for a few rows may want it smaller."""
        limit = DIRECT_RANGE_LIMIT if direct_range_limit is None else direct_range_limit
        self._columns = [_ColumnDictionary(t, limit) for t in key_types]
        # folding: a dictionary over (ids of the columns so far << 32 | the next column's id)
        self._folds = [_ColumnDictionary(pa.int64(), limit) for _ in key_types[1:]]

    @property
    def size(self) -> int:
        return (self._folds[-1] if self._folds else self._columns[0]).size

    def encode(self, columns: list[pa.Array], insert: bool = True) -> np.ndarray:
        """Ids (int64) of the key tuples in ``columns``; -1 for unseen keys when not inserting.

        The array may be a read-only view of the key column itself (see ``_slots_are_offsets``):
        callers compute new arrays from it rather than writing into it."""
        ids = self._columns[0].encode(columns[0], insert)
        for i, column in enumerate(columns[1:]):
            nxt = self._columns[i + 1].encode(column, insert)
            absent = (ids == ABSENT) | (nxt == ABSENT)
            codes = (np.maximum(ids, 0) << 32) | np.maximum(nxt, 0)
            ids = self._folds[i].encode(pa.array(codes), insert)
            if absent.any():
                ids = np.where(absent, ABSENT, ids)
        return ids

    def renumber_as_offsets(self) -> np.ndarray | None:
        """See ``_ColumnDictionary.renumber_as_offsets``; one key column only (None for more)."""
        return None if self._folds else self._columns[0].renumber_as_offsets()

    def lookup(self, columns: list[pa.Array], null_matches: bool = True) -> np.ndarray:
        """Ids of known key tuples, -1 for the rest (and for any NULL key unless it matches)."""
        ids = self.encode(columns, insert=False)
        if not null_matches:
            for column in columns:
                if column.null_count:
                    ids = np.where(column.is_null().to_numpy(zero_copy_only=False), ABSENT, ids)
        return ids

    def key_columns(self) -> list[pa.Array]:
        """The key values of every id, one array per key column, in id order."""
        if not self._folds:
            return [self._columns[0].values()]
        ids = np.arange(self.size, dtype=np.int64)
        per_column: list[np.ndarray] = []
        for i in range(len(self._folds) - 1, -1, -1):
            codes = self._folds[i].values().to_numpy(zero_copy_only=False)[ids]
            per_column.append(codes & 0xFFFFFFFF)
            ids = codes >> 32
        per_column.append(ids)
        per_column.reverse()
        return [col.values().take(pa.array(i)) for col, i in zip(self._columns, per_column, strict=True)]
