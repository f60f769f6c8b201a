"""Streaming deduplication: Flink's Deduplicate operator, a batch at a time.

``ROW_NUMBER() OVER (PARTITION BY k ORDER BY <time attribute> ASC|DESC) = 1`` keeps one row per
key; the key's state is one ``KeyedTable`` row (``partitions``):

* first row, processing time: the first row of a new key is emitted (``+I``) and the key
  remembered; later rows are dropped. Insert-only.
* last row (processing or event time): each row replaces the key's row — with event time only
  when its time is not before the kept row's — and the change is emitted (``+I`` for a new key,
  ``-U`` old / ``+U`` new after). Updating.
* first row, event time: the earliest row of a key is held until the watermark passes its time
  (an event-time timer per key), then emitted, once, and later rows of the key are dropped; rows
  behind the watermark are late, dropped and counted. Insert-only (Flink's
  ``RowTimeDeduplicateKeepFirstRowFunction``).

Within a batch the rows of a key are folded into one change (the last row wins, the first-row
variants keep the first): a batch of one row gives Flink's changelog exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from volley.common.changelog import INSERT, UPDATE_AFTER, UPDATE_BEFORE
from volley.runtime.keyed_rows import RowColumns
from volley.runtime.ops_time import epoch_millis
from volley.state import KeyedTable, ValueColumn

_GLOBAL_KEY_TYPE = pa.int8()
MIN_TIME = -(2**63)


def _firsts(groups: np.ndarray, order_key: np.ndarray | None, last: bool) -> np.ndarray:
    """Per distinct group, the row that wins: the smallest ``order_key`` (first arrival among
    ties), or with ``last`` the largest (last arrival); rows in arrival order when no key."""
    n = len(groups)
    if not n:
        return np.zeros(0, np.int64)
    position = np.arange(n)
    keys = (position, groups) if order_key is None else (position, order_key, groups)
    order = np.lexsort(keys)
    g = groups[order]
    if last:
        pick = np.flatnonzero(np.append(g[1:] != g[:-1], True))
    else:
        pick = np.flatnonzero(np.concatenate([[True], g[1:] != g[:-1]]))
    return np.sort(order[pick])


class Deduplication:
    """See the module docstring. ``schema`` is the input's; ``timers`` (event-time first row
    only) is the operator's ``TimerService``, keyed like ``partitions``."""

    def __init__(self, schema: pa.Schema, partition_keys: tuple[int, ...], time_index: int,
                 keep_last: bool, rowtime: bool, max_parallelism: int,
                 timers: Any = None) -> None:
        self.schema, self.partition_keys, self.time_index = schema, partition_keys, time_index
        self.keep_last, self.rowtime = keep_last, rowtime
        self.key_types = [schema.field(k).type for k in partition_keys] or [_GLOBAL_KEY_TYPE]
        self.waits = rowtime and not keep_last  # first row by event time: held for the watermark
        self.rows = RowColumns(schema, "c")
        values: list[ValueColumn] = []
        if keep_last or self.waits:
            values = [ValueColumn("ts", pa.int64(), MIN_TIME), *self.rows.value_columns()]
        if self.waits:
            values += [ValueColumn("held", pa.bool_(), False),
                       ValueColumn("emitted", pa.bool_(), False)]
        self.partitions = KeyedTable(self.key_types, values, max_parallelism,
                                     key_group_columns=len(partition_keys))
        self.timers = timers
        self.watermark = MIN_TIME
        self.late_rows = 0

    def keys(self, columns: list[pa.Array], n: int) -> list[pa.Array]:
        if not self.partition_keys:
            return [pa.array(np.zeros(n, dtype=np.int8))]
        return [columns[k] for k in self.partition_keys]

    def update(self, batch: pa.RecordBatch) -> tuple[pa.Table, np.ndarray | None] | None:
        """Fold a batch in: the rows to emit and their kinds (None: insert-only)."""
        if not batch.num_rows:
            return None
        columns = list(batch.columns)
        keys = self.keys(columns, batch.num_rows)
        if self.waits:
            self._hold(keys, columns)
            return None
        pids = self.partitions.ids(keys)
        if not self.keep_last:
            new = ~self.partitions.live[pids]
            rows = np.flatnonzero(new)[_firsts(pids[new], None, last=False)]
            if not len(rows):
                return None
            self.partitions.set_live(pids[rows])
            return pa.Table.from_batches([batch]).take(pa.array(rows, pa.int64())), None
        ts = epoch_millis(batch.column(self.time_index)) if self.rowtime else None
        rows = _firsts(pids, ts, last=True)
        winners = pids[rows]
        existed = self.partitions.live[winners].copy()
        if self.rowtime:
            assert ts is not None
            replaces = ~existed | (self.partitions.column("ts")[winners] <= ts[rows])
            rows, winners, existed = rows[replaces], winners[replaces], existed[replaces]
        old = self.rows.read(self.partitions, winners[existed])
        new = [c.take(pa.array(rows, pa.int64())) for c in columns]
        self.rows.write(self.partitions, winners, new)
        if ts is not None:
            self.partitions.column("ts")[winners] = ts[rows]
        self.partitions.set_live(winners)
        return _updates(old, new, existed, self.schema)

    # -- first row by event time ---------------------------------------------------------------

    def _hold(self, keys: list[pa.Array], columns: list[pa.Array]) -> None:
        ts = epoch_millis(columns[self.time_index])
        on_time = ts >= self.watermark
        self.late_rows += int((~on_time).sum())
        pids = self.partitions.ids(keys)
        emitted = self.partitions.column("emitted")[pids]
        candidates = np.flatnonzero(on_time & ~emitted)
        if not len(candidates):
            return
        rows = candidates[_firsts(pids[candidates], ts[candidates], last=False)]
        winners = pids[rows]
        held = self.partitions.column("held")[winners]
        held_ts = self.partitions.column("ts")[winners]
        better = ~held | (ts[rows] < held_ts)
        rows, winners, held, held_ts = rows[better], winners[better], held[better], held_ts[better]
        if not len(rows):
            return
        index = pa.array(rows, pa.int64())
        if held.any():
            replaced = np.flatnonzero(held)
            self.timers.delete([k.take(pa.array(rows[replaced], pa.int64())) for k in keys],
                               held_ts[replaced])
        self.timers.register([k.take(index) for k in keys], ts[rows])
        self.rows.write(self.partitions, winners, [c.take(index) for c in columns])
        self.partitions.column("ts")[winners] = ts[rows]
        self.partitions.column("held")[winners] = True
        self.partitions.set_live(winners)

    def fire(self, fired: pa.Table) -> pa.Table | None:
        """Emit the held rows whose timers ``fired`` (key columns ``k0..``, ``timestamp``)."""
        keys = [fired.column(i) for i in range(len(self.key_types))]
        pids = self.partitions.lookup(keys)
        found = pids >= 0
        pids = pids[found]
        pids = pids[self.partitions.column("held")[pids]]
        if not len(pids):
            return None
        rows = self.rows.read(self.partitions, pids)
        self.partitions.column("held")[pids] = False
        self.partitions.column("emitted")[pids] = True
        self.rows.clear(self.partitions, pids)
        return pa.Table.from_arrays(rows, schema=self.schema)


def _updates(old: list[pa.Array], new: list[pa.Array], existed: np.ndarray,
             schema: pa.Schema) -> tuple[pa.Table, np.ndarray] | None:
    """``+I`` new for keys that had no row, ``-U`` old then ``+U`` new for the others."""
    n = len(existed)
    if not n:
        return None
    replaced = np.flatnonzero(existed)
    # each replaced key gives two rows: its old row, then its new row; a new key one row
    slots = np.arange(n) + np.cumsum(existed) - existed
    total = n + len(replaced)
    old_at = slots[replaced]
    new_at = slots + existed
    order = np.empty(total, np.int64)
    order[old_at] = np.arange(len(replaced))
    order[new_at] = len(replaced) + np.arange(n)
    kinds = np.empty(total, np.int8)
    kinds[old_at] = UPDATE_BEFORE
    kinds[new_at] = np.where(existed, UPDATE_AFTER, INSERT)
    both = [pa.concat_arrays([o, w]).take(pa.array(order)) for o, w in zip(old, new, strict=True)]
    return pa.Table.from_arrays(both, schema=schema), kinds
