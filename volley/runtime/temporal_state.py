"""State of an event-time temporal join: rows waiting for the watermark, and the version of each
key that the watermark has made current.

``PendingRows`` holds rows (left rows to join, right rows that are versions) until the watermark
passes their time. They sit in runs sorted by time, merged like a binary counter (a batch is a
run; a run merges into the one before it while that one is at most twice its size), so popping
the rows up to a watermark takes a binary search and a slice per run: its cost is the rows it
pops.

``CurrentVersions`` keeps, per key, the latest version at or before the watermark: its row, time,
arrival number and whether it is a deletion. Rows live in an append-only store that is rebuilt
from the live versions when superseded ones dominate.

Both snapshot their rows as Arrow with ``__time``, ``__seq`` and the key group of their key (and
``__deleted`` for versions), and restore only the key groups a subtask owns.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from volley.state.key_hashing import key_groups

TIME = "__time"
SEQ = "__seq"
DELETED = "__deleted"
KEY_GROUP = "__key_group"


def key_columns(table: pa.Table, keys: Sequence[int], types: Sequence[pa.DataType]
                ) -> list[pa.Array]:
    out = []
    for k, t in zip(keys, types, strict=True):
        column = table.column(k).combine_chunks()
        out.append(column if column.type == t else column.cast(t))
    return out


def _groups(table: pa.Table, keys: Sequence[int], types: Sequence[pa.DataType],
            max_parallelism: int) -> np.ndarray:
    if not keys or table.num_rows == 0:
        return np.zeros(table.num_rows, dtype=np.int32)
    return key_groups(key_columns(table, keys, types), max_parallelism)


def _restorable(tables: Sequence[pa.Table], key_group_range) -> pa.Table | None:
    parts = []
    for table in tables:
        if key_group_range is not None:
            table = table.filter(pa.array(key_group_range.contains(
                table.column(KEY_GROUP).to_numpy())))
        if table.num_rows:
            parts.append(table)
    if not parts:
        return None
    rows = pa.concat_tables(parts)
    return rows.take(pa.array(np.argsort(rows.column(SEQ).to_numpy(), kind="stable")))


class PendingRows:
    """Rows of ``schema`` waiting for the watermark to pass their time; see the module doc."""

    def __init__(self, schema: pa.Schema, keys: Sequence[int], types: Sequence[pa.DataType],
                 max_parallelism: int) -> None:
        self.schema = schema
        self.keys, self.types = list(keys), list(types)
        self.max_parallelism = max_parallelism
        self.runs: list[tuple[pa.Table, np.ndarray, np.ndarray]] = []  # (rows, times, seqs)

    def add(self, table: pa.Table, times: np.ndarray, seqs: np.ndarray) -> None:
        if table.num_rows == 0:
            return
        order = np.argsort(times, kind="stable")
        self.runs.append((table.take(pa.array(order)), times[order], seqs[order]))
        while len(self.runs) > 1 and len(self.runs[-2][1]) <= 2 * len(self.runs[-1][1]):
            (t2, ts2, s2), (t1, ts1, s1) = self.runs.pop(), self.runs.pop()
            times = np.concatenate([ts1, ts2])
            order = np.argsort(times, kind="stable")
            self.runs.append((pa.concat_tables([t1, t2]).take(pa.array(order)), times[order],
                              np.concatenate([s1, s2])[order]))

    def pop(self, watermark: int) -> tuple[pa.Table, np.ndarray, np.ndarray] | None:
        """Remove and return the rows with time <= ``watermark`` (rows, times, arrival numbers;
        ordered by arrival), or None."""
        taken, kept = [], []
        for table, times, seqs in self.runs:
            cut = int(np.searchsorted(times, watermark, side="right"))
            if cut:
                taken.append((table.slice(0, cut), times[:cut], seqs[:cut]))
            if cut < len(times):
                kept.append((table.slice(cut), times[cut:], seqs[cut:]))
        if not taken:
            return None
        self.runs = kept
        table = pa.concat_tables([t for t, _, _ in taken])
        times = np.concatenate([ts for _, ts, _ in taken])
        seqs = np.concatenate([s for _, _, s in taken])
        order = np.argsort(seqs, kind="stable")
        return table.take(pa.array(order)).combine_chunks(), times[order], seqs[order]

    def max_seq(self) -> int:
        return max((int(s.max()) for _, _, s in self.runs if len(s)), default=-1)

    def __len__(self) -> int:
        return sum(len(ts) for _, ts, _ in self.runs)

    def snapshot(self) -> pa.Table:
        if self.runs:
            table = pa.concat_tables([t for t, _, _ in self.runs])
            times = np.concatenate([ts for _, ts, _ in self.runs])
            seqs = np.concatenate([s for _, _, s in self.runs])
        else:
            table, times, seqs = self.schema.empty_table(), np.empty(0, np.int64), \
                np.empty(0, np.int64)
        return (table.append_column(TIME, pa.array(times, pa.int64()))
                .append_column(SEQ, pa.array(seqs, pa.int64()))
                .append_column(KEY_GROUP, pa.array(_groups(table, self.keys, self.types,
                                                           self.max_parallelism), pa.int32())))

    def restore(self, tables: Sequence[pa.Table], key_group_range=None) -> None:
        self.runs = []
        rows = _restorable(tables, key_group_range)
        if rows is not None:
            self.add(rows.select(self.schema.names).cast(self.schema),
                     rows.column(TIME).to_numpy(), rows.column(SEQ).to_numpy())


class CurrentVersions:
    """The latest version per key at or before the watermark; see the module docstring."""

    def __init__(self, schema: pa.Schema, keys: Sequence[int], types: Sequence[pa.DataType],
                 max_parallelism: int) -> None:
        from volley.state import KeyedTable, ValueColumn

        self.schema = schema
        self.keys, self.types = list(keys), list(types)
        self.max_parallelism = max_parallelism
        self.index = KeyedTable(self.types, [
            ValueColumn("time", pa.int64()), ValueColumn("seq", pa.int64()),
            ValueColumn("slot", pa.int64(), -1), ValueColumn("deleted", pa.bool_(), False)],
            max_parallelism)
        self._chunks: list[pa.Table] = []
        self._rows: pa.Table | None = schema.empty_table()
        self._stored = 0

    def _store(self) -> pa.Table:
        if self._rows is None:
            self._rows = pa.concat_tables(self._chunks).combine_chunks()
            self._chunks = [self._rows]
        return self._rows

    def lookup(self, keys: Sequence[pa.Array]) -> np.ndarray:
        """The id of each row's key in the index (-1: no version; NULL keys never match)."""
        return self.index.lookup(keys, null_matches=False)

    def rows(self, ids: np.ndarray) -> pa.Table:
        """The version rows of the (live) key ids ``ids``."""
        return self._store().take(pa.array(self.index.column("slot")[ids]))

    def update(self, table: pa.Table, times: np.ndarray, seqs: np.ndarray,
               deleted: np.ndarray) -> None:
        """Versions (rows ordered by arrival, with their times and whether they delete their
        key) that the watermark has passed: each key keeps the newest by (time, arrival)."""
        if table.num_rows == 0:
            return
        ids = self.index.ids(key_columns(table, self.keys, self.types))
        order = np.lexsort((seqs, times, ids))  # by key, then time, then arrival
        last = np.ones(len(order), dtype=bool)
        last[:-1] = ids[order][1:] != ids[order][:-1]
        newest = order[last]
        k = ids[newest]
        live = self.index.live[k]
        cur_time, cur_seq = self.index.column("time")[k], self.index.column("seq")[k]
        newer = ~live | (times[newest] > cur_time) | (
            (times[newest] == cur_time) & (seqs[newest] > cur_seq))
        newest, k = newest[newer], k[newer]
        if not len(k):
            return
        self._chunks.append(table.take(pa.array(newest)))
        self._rows = None
        slots = np.arange(self._stored, self._stored + len(k), dtype=np.int64)
        self._stored += len(k)
        self.index.column("time")[k] = times[newest]
        self.index.column("seq")[k] = seqs[newest]
        self.index.column("deleted")[k] = deleted[newest]
        self.index.column("slot")[k] = slots
        self.index.set_live(k)
        if self._stored > 2 * self.index.live_count() + 1024:
            self._compact()

    def _compact(self) -> None:
        ids = self.index.live_ids()
        slots = self.index.column("slot")[ids]
        self._rows = self._store().take(pa.array(slots)).combine_chunks()
        self._chunks = [self._rows]
        self.index.column("slot")[ids] = np.arange(len(ids), dtype=np.int64)
        self._stored = len(ids)

    def max_seq(self) -> int:
        ids = self.index.live_ids()
        return int(self.index.column("seq")[ids].max()) if len(ids) else -1

    def snapshot(self) -> pa.Table:
        ids = self.index.live_ids()
        seqs = self.index.column("seq")[ids]
        ids = ids[np.argsort(seqs, kind="stable")]
        table = self.rows(ids) if len(ids) else self.schema.empty_table()
        return (table.append_column(TIME, pa.array(self.index.column("time")[ids], pa.int64()))
                .append_column(SEQ, pa.array(self.index.column("seq")[ids], pa.int64()))
                .append_column(DELETED, pa.array(self.index.column("deleted")[ids], pa.bool_()))
                .append_column(KEY_GROUP, pa.array(_groups(table, self.keys, self.types,
                                                           self.max_parallelism), pa.int32())))

    def restore(self, tables: Sequence[pa.Table], key_group_range=None) -> None:
        self.__init__(self.schema, self.keys, self.types, self.max_parallelism)  # type: ignore[misc]
        rows = _restorable(tables, key_group_range)
        if rows is not None:
            self.update(rows.select(self.schema.names).cast(self.schema),
                        rows.column(TIME).to_numpy(), rows.column(SEQ).to_numpy(),
                        rows.column(DELETED).to_numpy(zero_copy_only=False))
