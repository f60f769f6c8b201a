"""Whole rows as keyed state: ``RowColumns`` keeps Arrow columns in a ``KeyedTable``'s value
columns, ``TimeOrderedRows`` holds rows until the watermark passes their event time.

Operators that must remember rows — an OVER window's pending and in-frame rows, a Top-N's
ranked rows, a deduplication's kept row, a sort's waiting rows — keep them in ``KeyedTable``s,
so that the rows are snapshotted with their key group and restored at any parallelism like every
other keyed state. A column is held in its numpy storage (int64 for integers and temporals,
float64, bool; Python objects for strings, decimals and nested values) plus, where the storage
has no NULL, a validity column.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from volley.state import KeyedTable, ValueColumn
from volley.state.keyed_table import numpy_dtype, to_arrow


class RowColumns:
    """The columns of ``schema`` as value columns ``<prefix><i>`` (and ``<prefix><i>?``, their
    validity) of a ``KeyedTable``."""

    def __init__(self, schema: pa.Schema, prefix: str) -> None:
        self.types = [f.type for f in schema]
        self.names = [f"{prefix}{i}" for i in range(len(self.types))]

    def value_columns(self) -> list[ValueColumn]:
        columns = []
        for name, t in zip(self.names, self.types, strict=True):
            dtype = numpy_dtype(t)
            columns.append(ValueColumn(name, t, None if dtype.kind == "O" else
                                       (np.nan if dtype.kind == "f" else 0)))
            if dtype.kind != "O":
                columns.append(ValueColumn(f"{name}?", pa.bool_(), False))
        return columns

    def write(self, table: KeyedTable, ids: np.ndarray, columns: Sequence[pa.Array]) -> None:
        for name, t, column in zip(self.names, self.types, columns, strict=True):
            if isinstance(column, pa.ChunkedArray):
                column = column.combine_chunks()
            dtype = numpy_dtype(t)
            table.column(name)[ids] = storage(column, dtype)
            if dtype.kind != "O":
                table.column(f"{name}?")[ids] = column.is_valid().to_numpy(zero_copy_only=False)

    def clear(self, table: KeyedTable, ids: np.ndarray) -> None:
        """Reset the columns of ``ids`` (a row no longer held frees its values)."""
        for column in self.value_columns():
            table.column(column.name)[ids] = column.initial

    def read(self, table: KeyedTable, ids: np.ndarray) -> list[pa.Array]:
        out = []
        for name, t in zip(self.names, self.types, strict=True):
            values = to_arrow(table.column(name)[ids], t)
            if numpy_dtype(t).kind != "O":
                values = with_validity(values, table.column(f"{name}?")[ids])
            out.append(values)
        return out


def storage(column: pa.Array, dtype: np.dtype) -> np.ndarray:
    """A column as the numpy storage ``dtype`` of its type (NULL slots hold anything)."""
    t = column.type
    if dtype.kind == "O":
        return column.to_numpy(zero_copy_only=False)
    if dtype.kind == "f":
        return column.cast(pa.float64()).to_numpy(zero_copy_only=False)
    if dtype.kind == "b":
        return column.fill_null(False).to_numpy(zero_copy_only=False)
    width = t.bit_width // 8
    signed = not pa.types.is_unsigned_integer(t)
    view = np.frombuffer(column.buffers()[1], dtype=np.dtype(f"{'i' if signed else 'u'}{width}"),
                         count=len(column), offset=column.offset * width)
    return view.astype(np.int64)


def with_validity(values: pa.Array, valid: np.ndarray) -> pa.Array:
    """``values`` with the rows where ``valid`` is False set to NULL."""
    if valid.all():
        return values
    bitmap = pa.array(valid, pa.bool_()).buffers()[1]
    return pa.Array.from_buffers(values.type, len(values), [bitmap, *values.buffers()[1:]],
                                 offset=values.offset)


class TimeOrderedRows:
    """Rows waiting for the watermark to pass their event time.

    The rows live in a ``KeyedTable`` keyed by (key columns..., arrival sequence number), with
    their time ``ts`` and their columns. An index of runs of (time, sequence, id), each sorted,
    finds the due rows without scanning the others: a batch of rows becomes a run, runs merge
    while the newer is at least as long as the older (as the timer queue keeps its timers), and
    ``pop`` cuts the due prefix of each run. The index is derived: rebuilt after a restore.
    """

    def __init__(self, key_types: Sequence[pa.DataType], schema: pa.Schema,
                 max_parallelism: int) -> None:
        self.schema = schema
        self.n_keys = len(key_types)
        self.rows = RowColumns(schema, "c")
        self.table = KeyedTable([*key_types, pa.int64()],
                                [ValueColumn("ts", pa.int64()), *self.rows.value_columns()],
                                max_parallelism, key_group_columns=len(key_types))
        self.runs: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.next_seq = 0

    def __len__(self) -> int:
        return self.table.live_count()

    def add(self, key_columns: Sequence[pa.Array], columns: Sequence[pa.Array],
            ts: np.ndarray) -> None:
        n = len(ts)
        if not n:
            return
        seq = np.arange(self.next_seq, self.next_seq + n, dtype=np.int64)
        self.next_seq += n
        ids = self.table.ids([*key_columns, pa.array(seq)])
        self.table.set_live(ids)
        self.table.column("ts")[ids] = ts
        self.rows.write(self.table, ids, columns)
        self._push(np.asarray(ts, dtype=np.int64), seq, ids)

    def _push(self, ts: np.ndarray, seq: np.ndarray, ids: np.ndarray) -> None:
        order = np.lexsort((seq, ts))
        self.runs.append((ts[order], seq[order], ids[order]))
        while len(self.runs) > 1 and len(self.runs[-2][0]) <= len(self.runs[-1][0]):
            newer, older = self.runs.pop(), self.runs.pop()
            merged = [np.concatenate([o, w]) for o, w in zip(older, newer, strict=True)]
            order = np.lexsort((merged[1], merged[0]))
            self.runs.append((merged[0][order], merged[1][order], merged[2][order]))

    def min_ts(self) -> int | None:
        heads = [int(ts[0]) for ts, _, _ in self.runs if len(ts)]
        return min(heads) if heads else None

    def pop(self, watermark: int) -> tuple[list[pa.Array], list[pa.Array], np.ndarray] | None:
        """Remove and return the rows with ``ts <= watermark``, ordered by time and arrival:
        their key columns, their columns and their times; None if none is due."""
        low = self.min_ts()
        if low is None or low > watermark:
            return None
        due, kept = [], []
        for ts, seq, ids in self.runs:
            cut = int(np.searchsorted(ts, watermark, side="right"))
            due.append((ts[:cut], seq[:cut], ids[:cut]))
            if cut < len(ts):
                kept.append((ts[cut:], seq[cut:], ids[cut:]))
        self.runs = kept
        ts, seq, ids = (np.concatenate([d[i] for d in due]) for i in range(3))
        order = np.lexsort((seq, ts))
        ts, ids = ts[order], ids[order]
        keys = self.table.key_columns(ids)[: self.n_keys]
        columns = self.rows.read(self.table, ids)
        self.table.delete(ids)
        self._compact()
        return keys, columns, ts

    def _compact(self) -> None:
        size = self.table.size
        old_of_new = self.table.compact()
        if old_of_new is None:
            return
        new_of_old = np.full(size, -1, dtype=np.int64)
        new_of_old[old_of_new] = np.arange(len(old_of_new), dtype=np.int64)
        self.runs = [(ts, seq, new_of_old[ids]) for ts, seq, ids in self.runs]

    def snapshot(self) -> pa.Table:
        return self.table.snapshot()

    def restore(self, tables: Sequence[pa.Table], key_groups=None) -> None:
        self.table.restore(tables, key_groups)
        self.runs = []
        ids = self.table.live_ids()
        if len(ids):
            seq = self.table.key_columns(ids)[-1].to_numpy(zero_copy_only=False)
            self._push(self.table.column("ts")[ids].copy(), seq, ids)
            self.next_seq = int(seq.max()) + 1


def ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``starts[i] .. starts[i] + lengths[i] - 1`` for every i, concatenated."""
    offsets = np.cumsum(lengths) - lengths
    return np.repeat(starts - offsets, lengths) + np.arange(int(lengths.sum()), dtype=np.int64)


def first_seen(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct ``ids`` in order of first appearance, and each row's index into them."""
    distinct, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))
    return distinct[order], position[inverse.reshape(-1)]


class PartitionLists:
    """Per partition key, an ordered list of rows (a Top-N's ranked rows, the rows of an OVER
    window ordered by a non-time column): ``partitions`` (keyed by the partition key) holds each
    list's ``size``, ``entries`` (keyed by partition key and slot) the row in each slot, with its
    arrival number ``seq`` and, optionally, ``extra`` columns (say, the aggregates last emitted
    for it). A batch reads the lists of the partitions it touches once and writes them once."""

    def __init__(self, key_types: Sequence[pa.DataType], schema: pa.Schema,
                 extra: pa.Schema | None, max_parallelism: int, key_group_columns: int) -> None:
        self.partitions = KeyedTable(key_types, [ValueColumn("size", pa.int64())],
                                     max_parallelism, key_group_columns=key_group_columns)
        self.rows = RowColumns(schema, "c")
        self.extra = RowColumns(extra, "x") if extra is not None else None
        values = [ValueColumn("seq", pa.int64()), *self.rows.value_columns(),
                  *(self.extra.value_columns() if self.extra is not None else [])]
        self.entries = KeyedTable([*key_types, pa.int64()], values, max_parallelism,
                                  key_group_columns=key_group_columns)

    def states(self) -> dict:
        return {"partitions": self.partitions, "entries": self.entries}

    def next_seq(self) -> int:
        """An arrival number after every stored row's (for a restored operator)."""
        ids = self.entries.live_ids()
        return int(self.entries.column("seq")[ids].max()) + 1 if len(ids) else 0

    def _keys(self, touched: np.ndarray, owners: np.ndarray, slots: np.ndarray) -> list:
        index = pa.array(owners, pa.int64())
        keys = [c.take(index) for c in self.partitions.key_columns(touched)]
        return [*keys, pa.array(slots, pa.int64())]

    def read(self, touched: np.ndarray):
        """The lists of ``touched`` (partition ids), in order: each row's index into
        ``touched``, its slot, arrival number, columns and extra columns."""
        sizes = self.partitions.column("size")[touched]
        owners = np.repeat(np.arange(len(touched), dtype=np.int64), sizes)
        slots = ranges(np.zeros(len(touched), np.int64), sizes)
        ids = self.entries.lookup(self._keys(touched, owners, slots))
        assert (ids >= 0).all(), "a row of a partition's list is missing from its state"
        extra = self.extra.read(self.entries, ids) if self.extra is not None else []
        return (owners, slots, self.entries.column("seq")[ids].copy(),
                self.rows.read(self.entries, ids), extra)

    def write(self, touched: np.ndarray, owners: np.ndarray, slots: np.ndarray, seq: np.ndarray,
              columns: Sequence[pa.Array], extra: Sequence[pa.Array] = ()) -> None:
        """Replace the lists of ``touched``: row ``i`` goes to slot ``slots[i]`` of partition
        ``touched[owners[i]]`` (slots 0..n-1 of each list)."""
        old_sizes = self.partitions.column("size")[touched]
        new_sizes = np.bincount(owners, minlength=len(touched))
        if len(owners):
            ids = self.entries.ids(self._keys(touched, owners, slots))
            self.entries.set_live(ids)
            self.entries.column("seq")[ids] = seq
            self.rows.write(self.entries, ids, columns)
            if self.extra is not None:
                self.extra.write(self.entries, ids, extra)
        shrunk = np.maximum(old_sizes - new_sizes, 0)
        if shrunk.sum():
            gone_owners = np.repeat(np.arange(len(touched), dtype=np.int64), shrunk)
            gone = ranges(new_sizes, shrunk)
            self.entries.delete(self.entries.lookup(self._keys(touched, gone_owners, gone)))
            self.entries.compact()
        self.partitions.column("size")[touched] = new_sizes
        self.partitions.set_live(touched[new_sizes > 0])
        empty = touched[new_sizes == 0]
        if len(empty):
            self.partitions.delete(empty)
