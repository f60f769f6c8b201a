"""``KeyedTable``: keyed columnar state, one slot per key, updated a batch at a time.

An operator keeps its keyed state (a group's accumulators, a window's contents, a timer) as value
columns indexed by the key's dense id: a batch's keys become ids (``ids``), and the operator reads
and writes the value columns with numpy fancy indexing at those ids. So a batch costs the batch,
whatever the number of keys held: ids come from a ``KeyIndex`` kept between batches, and value
arrays grow by doubling.

A slot is *live* while its key exists in state. Deleting a key (a retracted group, a fired
window, an expired entry) resets its values to their initial value and marks it dead, but keeps
its id: the index cannot remove keys, and the same key coming back reuses the slot. When dead
slots dominate, ``compact`` renumbers the live keys densely.

Snapshots hold the live rows only, as Arrow: the key columns ``k0..kN-1``, the value columns by
name and each key's ``__key_group``, so a restore can take just the key groups a subtask owns,
from the snapshots of any earlier parallelism.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from volley.state.growable import ensure_capacity
from volley.state.key_hashing import (
    DEFAULT_MAX_PARALLELISM,
    KeyGroupRange,
    hash_columns,
    key_groups_of_hashes,
)
from volley.state.key_index import ABSENT, KeyIndex

KEY_GROUP_COLUMN = "__key_group"


def key_column_name(i: int) -> str:
    return f"k{i}"


def numpy_dtype(arrow_type: pa.DataType) -> np.dtype:
    """How a value column of ``arrow_type`` is held: int64 for integers and temporals (their
    int64 value), float64 for floats, bool, and object (Python values) for anything else."""
    if pa.types.is_integer(arrow_type) or pa.types.is_temporal(arrow_type) \
            and not pa.types.is_interval(arrow_type):
        return np.dtype(np.int64)
    if pa.types.is_floating(arrow_type):
        return np.dtype(np.float64)
    if pa.types.is_boolean(arrow_type):
        return np.dtype(bool)
    return np.dtype(object)


@dataclass(frozen=True)
class ValueColumn:
    """A value per key: its name, its Arrow type (what snapshots hold) and the value of a fresh
    or deleted slot (0, ``np.nan``, None, ...)."""

    name: str
    type: pa.DataType
    initial: Any = 0

    @property
    def dtype(self) -> np.dtype:
        return numpy_dtype(self.type)


class KeyedTable:
    """Keyed columnar state; see the module docstring.

    ``column(name)`` is a view of the value array; a call that adds keys (``ids``, ``restore``)
    or renumbers them (``compact``) may reallocate it, so fetch views again after one.
    """

    def __init__(self, key_types: Sequence[pa.DataType], values: Sequence[ValueColumn],
                 max_parallelism: int = DEFAULT_MAX_PARALLELISM,
                 key_group_columns: int | None = None) -> None:
        """``key_group_columns``: how many leading key columns decide a key's key group (all
        by default). Timers keyed by (key, timestamp) belong to the key's group, say; with 0,
        every key is in key group 0."""
        names = [v.name for v in values]
        clashes = {n for n in names if names.count(n) > 1 or n == KEY_GROUP_COLUMN
                   or n in {key_column_name(i) for i in range(len(key_types))}}
        if clashes:
            raise ValueError(f"value column names must be unique and differ from the key "
                             f"columns k0..k{len(key_types) - 1} and {KEY_GROUP_COLUMN!r}; "
                             f"got {sorted(clashes)!r}")
        self.key_types = list(key_types)
        self.values = list(values)
        self.max_parallelism = max_parallelism
        self.key_group_columns = len(key_types) if key_group_columns is None else key_group_columns
        self._reset()

    def _reset(self) -> None:
        self._index = KeyIndex(self.key_types)
        self._live = np.zeros(0, dtype=bool)
        self._columns = {v.name: np.zeros(0, dtype=v.dtype) for v in self.values}
        self._live_count = 0

    # -- ids -------------------------------------------------------------------------------------

    @property
    def size(self) -> int:
        """Ids allocated so far, live or not."""
        return self._index.size

    @property
    def live(self) -> np.ndarray:
        """Whether each id's key currently exists in state (a read-only view, ``len == size``)."""
        view = self._live[: self.size]
        view.flags.writeable = False
        return view

    def ids(self, key_columns: Sequence[pa.Array | pa.ChunkedArray]) -> np.ndarray:
        """The id (int64) of each row's key, adding unknown keys; new ids are not live until
        ``set_live``."""
        ids = self._index.ids(key_columns)
        self._grow(self._index.size)
        return ids

    def lookup(self, key_columns: Sequence[pa.Array | pa.ChunkedArray],
               null_matches: bool = True) -> np.ndarray:
        """The id of each row's key, -1 where the key is absent or not live; never adds keys.
        With ``null_matches=False`` a key with a NULL column is never found (join semantics)."""
        ids = self._index.ids(key_columns, insert=False)
        found = np.flatnonzero(ids != ABSENT)
        ids[found[~self._live[ids[found]]]] = ABSENT
        if not null_matches:
            for column in key_columns:
                if column.null_count:
                    ids[column.is_null().to_numpy(zero_copy_only=False)] = ABSENT
        return ids

    def column(self, name: str) -> np.ndarray:
        """The value array ``name``, a writable view of ``len == size``."""
        try:
            return self._columns[name][: self.size]
        except KeyError:
            raise KeyError(f"unknown value column {name!r}; expected one of "
                           f"{[v.name for v in self.values]!r}") from None

    def set_live(self, ids: np.ndarray) -> None:
        """Mark the keys of ``ids`` as existing in state."""
        ids = np.asarray(ids, dtype=np.int64)
        fresh = ids[~self._live[ids]]
        if len(fresh):
            self._live[fresh] = True
            self._live_count += distinct_count(fresh)

    def delete(self, ids: np.ndarray) -> None:
        """Remove the keys of ``ids`` from state: not live, values back to their initial."""
        ids = np.asarray(ids, dtype=np.int64)
        if not len(ids):
            return
        gone = ids[self._live[ids]]
        self._live[ids] = False
        for v in self.values:
            self._columns[v.name][ids] = v.initial
        self._live_count -= distinct_count(gone)

    def live_count(self) -> int:
        return self._live_count

    def live_ids(self) -> np.ndarray:
        """The ids of every live key, ascending."""
        return np.flatnonzero(self._live[: self.size])

    def key_columns(self, ids: np.ndarray | None = None) -> list[pa.Array]:
        """The keys of ``ids`` (all ids, live or not, when None), one array per key column."""
        return self._index.key_columns(ids)

    def key_column(self, column: int, ids: np.ndarray) -> pa.Array:
        """Key column ``column`` of ``ids``: reading one column of the keys costs that column."""
        return self._index.key_column(column, ids)

    def expire(self, time_column: str, before: int) -> np.ndarray:
        """Delete the live keys whose ``time_column`` value is < ``before`` and return their ids
        (windows that closed, entries past their TTL). One vectorized pass over the slots."""
        times = self.column(time_column)
        expired = np.flatnonzero(self._live[: self.size] & (times < before))
        self.delete(expired)
        return expired

    # -- growth and compaction -------------------------------------------------------------------

    def _grow(self, size: int) -> None:
        self._live = ensure_capacity(self._live, size, False)
        for v in self.values:
            self._columns[v.name] = ensure_capacity(self._columns[v.name], size, v.initial)

    def compact(self, min_dead_fraction: float = 0.5) -> np.ndarray | None:
        """When at least ``min_dead_fraction`` of the ids are dead, renumber the live keys
        densely (in id order) and return the old id of each new id; else None. Ids held by the
        caller are void after a compaction that happened."""
        dead = self.size - self._live_count
        if dead == 0 or dead < min_dead_fraction * self.size:
            return None
        old_of_new = self.live_ids()
        self._index.keep(old_of_new)
        n = len(old_of_new)
        self._live = ensure_capacity(np.ones(n, dtype=bool), n, False)
        for v in self.values:
            self._columns[v.name] = ensure_capacity(self._columns[v.name][old_of_new], n,
                                                    v.initial)
        return old_of_new

    # -- snapshots -------------------------------------------------------------------------------

    def key_groups(self, ids: np.ndarray) -> np.ndarray:
        """The key group (int32) of each of ``ids``."""
        if self.key_group_columns == 0:
            return np.zeros(len(ids), dtype=np.int32)
        if self.key_group_columns == len(self.key_types):
            hashes = self._index.hashes[ids]
        else:
            hashes = hash_columns(self._index.key_columns(ids)[: self.key_group_columns])
        return key_groups_of_hashes(hashes, self.max_parallelism)

    def snapshot(self) -> pa.Table:
        """The live rows as Arrow: ``k0..kN-1``, the value columns, ``__key_group`` (int32)."""
        ids = self.live_ids()
        columns: dict[str, pa.Array] = {
            key_column_name(i): c for i, c in enumerate(self._index.key_columns(ids))}
        for v in self.values:
            columns[v.name] = to_arrow(self._columns[v.name][ids], v.type)
        columns[KEY_GROUP_COLUMN] = pa.array(self.key_groups(ids), type=pa.int32())
        return pa.table(columns)

    def restore(self, tables: Sequence[pa.Table], key_groups: KeyGroupRange | None = None) -> None:
        """Replace the content by the rows of ``tables`` (snapshots, possibly of several subtasks
        of a run with another parallelism) whose ``__key_group`` is in ``key_groups`` (all
        rows when None)."""
        self._reset()
        for table in tables:
            if key_groups is not None:
                groups = table.column(KEY_GROUP_COLUMN).to_numpy()
                table = table.filter(pa.array(key_groups.contains(groups)))
            if table.num_rows:
                self._restore_rows(table)

    def _restore_rows(self, table: pa.Table) -> None:
        keys = [table.column(key_column_name(i)) for i in range(len(self.key_types))]
        ids = self.ids(keys)
        for v in self.values:
            self._columns[v.name][ids] = from_arrow(table.column(v.name), v.dtype)
        self.set_live(ids)


def distinct_count(ids: np.ndarray) -> int:
    """How many distinct values ``ids`` holds (a sort: cheaper than ``np.unique``)."""
    if len(ids) < 2:
        return len(ids)
    ordered = np.sort(ids)
    return 1 + int(np.count_nonzero(ordered[1:] != ordered[:-1]))


def to_arrow(values: np.ndarray, arrow_type: pa.DataType) -> pa.Array:
    """A value column as Arrow of ``arrow_type`` (the inverse of ``from_arrow``)."""
    if values.dtype == np.int64 and not pa.types.is_int64(arrow_type):
        width = arrow_type.bit_width
        signed = not pa.types.is_unsigned_integer(arrow_type)
        data = values.astype(np.dtype(f"{'i' if signed else 'u'}{width // 8}"))
        return pa.Array.from_buffers(arrow_type, len(data), [None, pa.py_buffer(data)])
    if values.dtype == np.float64 and not pa.types.is_float64(arrow_type):
        return pa.array(values, type=pa.float64()).cast(arrow_type)
    return pa.array(values, type=arrow_type)


def from_arrow(column: pa.Array | pa.ChunkedArray, dtype: np.dtype) -> np.ndarray:
    """A snapshot's value column as numpy of the state's ``dtype``."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if dtype == np.int64 and not pa.types.is_int64(column.type):
        width = column.type.bit_width
        signed = not pa.types.is_unsigned_integer(column.type)
        view = np.frombuffer(column.buffers()[1], np.dtype(f"{'i' if signed else 'u'}{width // 8}"),
                             count=len(column), offset=column.offset * width // 8)
        return view.astype(np.int64)
    if dtype.kind == "O":
        return np.fromiter(column.to_pylist(), dtype=object, count=len(column))
    return column.to_numpy(zero_copy_only=False).astype(dtype, copy=False)
