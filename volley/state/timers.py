"""``TimerService``: event-time and processing-time timers per key, kept as keyed state.

A timer is a (key, timestamp) pair; registering the same pair twice keeps one timer, as in
Flink. Per time domain the timers live in a ``KeyedTable`` keyed by (key..., timestamp), which
gives duplicate collapsing, deletion by key, snapshots by key group (the key's group: the
timestamp does not take part) and restore at another parallelism for free.

Firing must not scan every timer per watermark, so each domain also keeps its pending timers in
a few runs of (timestamp, id) sorted by timestamp, like a log-structured merge tree: a batch of
registrations becomes a run, and runs merge while the newer is at least as long as the one
before it (a binary counter: O(log n) runs, each timer merged O(log n) times). Advancing the
watermark compares it with the runs' first timestamps (the cheap check) and pops the due prefix
of each run with a binary search, so it costs the timers it fires. Deleted timers stay in the
runs until they come due and are skipped then: the table says which ids are live.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from volley.state.key_hashing import DEFAULT_MAX_PARALLELISM, KeyGroupRange
from volley.state.keyed_table import KeyedTable, key_column_name

DOMAINS = ("event", "processing")
DOMAIN_COLUMN = "__domain"
TIMESTAMP_COLUMN = "timestamp"


class _TimerQueue:
    """The timers of one time domain; see the module docstring."""

    def __init__(self, key_types: Sequence[pa.DataType], max_parallelism: int,
                 key_group_columns: int | None = None) -> None:
        self.n_keys = len(key_types)
        self.table = KeyedTable([*key_types, pa.int64()], [], max_parallelism,
                                key_group_columns=len(key_types) if key_group_columns is None
                                else key_group_columns)
        self.runs: list[tuple[np.ndarray, np.ndarray]] = []  # (timestamps, ids), ascending

    def _key_columns(self, key_columns: Sequence[pa.Array], timestamps) -> list[pa.Array]:
        if len(key_columns) != self.n_keys:
            raise ValueError(f"wrong number of timer key columns; expected {self.n_keys}, "
                             f"got {len(key_columns)}")
        return [*key_columns, pa.array(np.asarray(timestamps, dtype=np.int64))]

    def register(self, key_columns: Sequence[pa.Array], timestamps) -> None:
        ids = self.table.ids(self._key_columns(key_columns, timestamps))
        fresh = np.unique(ids[~self.table.live[ids]])
        if not len(fresh):
            return
        self.table.set_live(fresh)
        self._push(self._timestamps(fresh), fresh)

    def delete(self, key_columns: Sequence[pa.Array], timestamps) -> None:
        ids = self.table.lookup(self._key_columns(key_columns, timestamps))
        self.table.delete(np.unique(ids[ids >= 0]))

    def _timestamps(self, ids: np.ndarray) -> np.ndarray:
        return self.table.key_columns(ids)[-1].to_numpy(zero_copy_only=False)

    def _push(self, timestamps: np.ndarray, ids: np.ndarray) -> None:
        order = np.argsort(timestamps, kind="stable")
        self.runs.append((timestamps[order], ids[order]))
        while len(self.runs) > 1 and len(self.runs[-2][0]) <= len(self.runs[-1][0]):
            (t1, i1), (t2, i2) = self.runs.pop(), self.runs.pop()
            ts, ids = np.concatenate([t2, t1]), np.concatenate([i2, i1])
            order = np.argsort(ts, kind="stable")
            self.runs.append((ts[order], ids[order]))

    def advance(self, watermark: int) -> tuple[list[pa.Array], np.ndarray] | None:
        """Pop and return the live timers due at ``watermark`` (keys and timestamps, ordered
        by timestamp, then by id), or None."""
        if not self.runs or min(int(ts[0]) for ts, _ in self.runs) > watermark:
            return None
        due_ts, due_ids, kept = [], [], []
        for ts, ids in self.runs:
            cut = int(np.searchsorted(ts, watermark, side="right"))
            due_ts.append(ts[:cut])
            due_ids.append(ids[:cut])
            if cut < len(ts):
                kept.append((ts[cut:], ids[cut:]))
        self.runs = kept
        ts, ids = np.concatenate(due_ts), np.concatenate(due_ids)
        alive = self.table.live[ids]
        ts, ids = ts[alive], ids[alive]
        ids, first = np.unique(ids, return_index=True)  # a deleted, re-registered timer: once
        ts = ts[first]
        order = np.lexsort((ids, ts))
        ts, ids = ts[order], ids[order]
        if not len(ids):
            return None
        keys = self.table.key_columns(ids)[: self.n_keys]
        self.table.delete(ids)
        self._compact()
        return keys, ts

    def _compact(self) -> None:
        """Drop fired and deleted timers from the table once they are half of it, and renumber
        the runs' ids (amortized: at least half the table died since the last compaction)."""
        size = self.table.size
        old_of_new = self.table.compact()
        if old_of_new is None:
            return
        new_of_old = np.full(size, -1, dtype=np.int64)
        new_of_old[old_of_new] = np.arange(len(old_of_new), dtype=np.int64)
        runs = []
        for ts, ids in self.runs:
            renumbered = new_of_old[ids]
            kept = renumbered >= 0
            if kept.any():
                runs.append((ts[kept], renumbered[kept]))
        self.runs = runs

    def next_timestamp(self) -> int | None:
        """The earliest live timer's timestamp; skips (and drops) deleted timers at the runs'
        heads, in growing steps so that the cost stays proportional to what is dropped."""
        best = None
        live = self.table.live
        for r, (ts, ids) in enumerate(self.runs):
            start, step = 0, 64
            while start < len(ids):
                alive = np.flatnonzero(live[ids[start : start + step]])
                if len(alive):
                    start += int(alive[0])
                    break
                start, step = start + step, 2 * step
            self.runs[r] = (ts[start:], ids[start:])
            if start < len(ts) and (best is None or ts[start] < best):
                best = int(ts[start])
        self.runs = [run for run in self.runs if len(run[0])]
        return best

    def snapshot(self) -> pa.Table:
        snap = self.table.snapshot()
        return snap.rename_columns([TIMESTAMP_COLUMN if n == key_column_name(self.n_keys) else n
                                    for n in snap.column_names])

    def restore(self, tables: Sequence[pa.Table], key_groups: KeyGroupRange | None) -> None:
        ts_name = key_column_name(self.n_keys)
        self.table.restore([t.rename_columns([ts_name if n == TIMESTAMP_COLUMN else n
                                              for n in t.column_names]) for t in tables],
                           key_groups)
        self.runs = []
        ids = self.table.live_ids()
        if len(ids):
            self._push(self._timestamps(ids), ids)


class TimerService:
    """Timers per key in two domains, ``"event"`` (fired by watermarks) and ``"processing"``
    (fired by the wall clock); see the module docstring.

    A timer service without key columns (``key_types=[]``) serves a non-keyed operator: its
    timers belong to key group 0. ``key_group_columns``: how many leading key columns decide a
    timer's key group (all by default), so that a timer can carry more than the key of the
    state it belongs to (a window aggregation's timer: the group key and the window start).
    """

    def __init__(self, key_types: Sequence[pa.DataType],
                 max_parallelism: int = DEFAULT_MAX_PARALLELISM,
                 key_group_columns: int | None = None) -> None:
        self.key_types = list(key_types)
        self._queues = {d: _TimerQueue(self.key_types, max_parallelism, key_group_columns)
                        for d in DOMAINS}

    def _queue(self, domain: str) -> _TimerQueue:
        try:
            return self._queues[domain]
        except KeyError:
            raise ValueError(f"unknown time domain {domain!r}; expected one of "
                             f"{list(DOMAINS)!r}") from None

    def register(self, key_columns: Sequence[pa.Array], timestamps: np.ndarray,
                 domain: str = "event") -> None:
        """Register a timer at ``timestamps[i]`` for the key of row ``i``; a (key, timestamp)
        already registered stays one timer."""
        self._queue(domain).register(key_columns, timestamps)

    def delete(self, key_columns: Sequence[pa.Array], timestamps: np.ndarray,
               domain: str = "event") -> None:
        """Delete the timers (key of row ``i``, ``timestamps[i]``); unknown ones are ignored."""
        self._queue(domain).delete(key_columns, timestamps)

    def advance(self, watermark: int, domain: str = "event") -> pa.Table | None:
        """Remove and return every timer with timestamp <= ``watermark``: a table of the key
        columns ``k0..`` and ``timestamp`` (int64), ordered by timestamp; None if none is due."""
        fired = self._queue(domain).advance(watermark)
        if fired is None:
            return None
        keys, ts = fired
        columns = {key_column_name(i): c for i, c in enumerate(keys)}
        columns[TIMESTAMP_COLUMN] = pa.array(ts, type=pa.int64())
        return pa.table(columns)

    def next_timestamp(self, domain: str = "event") -> int | None:
        """The earliest pending timer's timestamp in ``domain``, or None."""
        return self._queue(domain).next_timestamp()

    def pending(self, domain: str = "event") -> int:
        """How many timers are registered in ``domain``."""
        return self._queue(domain).table.live_count()

    def snapshot(self) -> pa.Table:
        """All timers as Arrow: ``k0..``, ``timestamp``, ``__key_group`` (of the key alone) and
        ``__domain``."""
        parts = []
        for domain, queue in self._queues.items():
            snap = queue.snapshot()
            parts.append(snap.append_column(DOMAIN_COLUMN, pa.array([domain] * snap.num_rows,
                                                                     pa.string())))
        return pa.concat_tables(parts)

    def restore(self, tables: Sequence[pa.Table], key_groups: KeyGroupRange | None = None) -> None:
        """Replace all timers by those of ``tables`` (snapshots, possibly of several subtasks)
        whose key group is in ``key_groups`` (all when None)."""
        for domain, queue in self._queues.items():
            parts = []
            for table in tables:
                mine = table.filter(pc.equal(table.column(DOMAIN_COLUMN), domain))
                parts.append(mine.drop_columns([DOMAIN_COLUMN]))
            queue.restore(parts, key_groups)

