"""One input's rows of an interval join, indexed by (join key, time bucket) and expired in time
order.

A row of one input can only ever match rows of the other whose time lies in a window around its
own (``IntervalJoinOp``), so rows are found by their key *and* their time bucket: a probe looks
at the one or two buckets its window spans, not at every row of its key. Buckets are
``bucket_ms`` wide, at least the window's width.

Every (key, bucket) gets a dense id from one ``KeyIndex`` kept for the side (an open-addressing
hash table in numpy: a batch costs the batch), hashed once when its row arrives. Rows sit in
runs, as in ``GrowingBuildSide``: each batch is a run of its own, merged with the run before it
while that one is at most twice its size, so a probe visits O(log n) runs; a run keeps its rows
sorted by id (a probe finds a key's rows with a binary search) and by time. Merging runs is a
concatenation and a sort, never a rehash.

Expiring the rows the watermark has made unreachable pops a prefix of each run's time order: the
cost is the rows that expire, never the rows that stay. A run that is more than half expired is
rebuilt from its live rows (paid for by the rows that died), one that is all expired is dropped,
and the index forgets the ids without live rows once they outnumber the live rows.

Each row carries its time (epoch milliseconds), an arrival sequence number (so results come out
in one order however the rows are split into runs) and whether it has been matched (an outer
join pads the unmatched ones when they expire). A snapshot is the live rows with those three and
their key group; a restore keeps the key groups a subtask owns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from volley.state import KeyIndex
from volley.state.growable import ensure_capacity

TIME = "__time"
SEQ = "__seq"
MATCHED = "__matched"
KEY_GROUP = "__key_group"
#: the index forgets dead ids once there are more of them than this and than live rows
FORGET_AT_LEAST = 1024


@dataclass
class Run:
    """Rows added together (or merged): their (key, bucket) ids, sorted, and their time order."""

    table: pa.Table
    times: np.ndarray
    seqs: np.ndarray
    matched: np.ndarray
    alive: np.ndarray
    ids: np.ndarray  # (key, bucket) id of each row (-1 without join keys)
    by_id: np.ndarray  # row numbers sorted by id (stable)
    sorted_ids: np.ndarray  # ids[by_id]
    order: np.ndarray  # row numbers by time (stable)
    expired: int = 0  # how many rows of ``order`` have expired
    dead: int = 0

    @property
    def size(self) -> int:
        return len(self.times)

    @property
    def live(self) -> int:
        return self.size - self.dead


class IntervalSide:
    """See the module docstring. ``keys`` index the join key columns of ``schema`` and
    ``key_types`` are the types both inputs' keys are compared in."""

    def __init__(self, schema: pa.Schema, keys: Sequence[int], key_types: Sequence[pa.DataType],
                 bucket_ms: int, max_parallelism: int) -> None:
        self.schema = schema
        self.keys = list(keys)
        self.key_types = list(key_types)
        self.bucket_ms = max(1, int(bucket_ms))
        self.max_parallelism = max_parallelism
        self._reset()

    def _reset(self) -> None:
        self.runs: list[Run] = []
        self._index = KeyIndex([*self.key_types, pa.int64()]) if self.keys else None
        self._live_per_id = np.zeros(0, dtype=np.int64)
        self._dead_ids = 0

    # -- adding ------------------------------------------------------------------------------------
    def add(self, table: pa.Table, times: np.ndarray, seqs: np.ndarray,
            matched: np.ndarray) -> None:
        """Remember ``table``'s rows (none of them with a NULL key) with their times, arrival
        numbers and matched flags."""
        if table.num_rows == 0:
            return
        times = np.asarray(times, np.int64)
        ids = np.full(len(times), -1, dtype=np.int64)
        if self._index is not None:
            known = self._index.size
            ids = self._index.ids(self._key_columns(table, times))
            self._live_per_id = ensure_capacity(self._live_per_id, self._index.size, 0)
            old = ids[ids < known]  # ids that had no live row are alive again
            self._dead_ids -= len(np.unique(old[self._live_per_id[old] == 0]))
            np.add.at(self._live_per_id, ids, 1)
        self.runs.append(_run(table.combine_chunks(), times, np.asarray(seqs, np.int64),
                              np.asarray(matched, bool).copy(), ids))
        while len(self.runs) > 1 and self.runs[-2].live <= 2 * self.runs[-1].live:
            newer, older = self.runs.pop(), self.runs.pop()
            self.runs.append(_merged(older, newer))

    def _key_columns(self, table: pa.Table, times: np.ndarray) -> list[pa.Array]:
        columns = [_column(table, k, t) for k, t in zip(self.keys, self.key_types, strict=True)]
        columns.append(pa.array(np.floor_divide(times, self.bucket_ms), pa.int64()))
        return columns

    # -- probing -----------------------------------------------------------------------------------
    def matches(self, keys: Sequence[pa.Array], low: np.ndarray, high: np.ndarray,
                floor: int) -> list[tuple[int, np.ndarray, np.ndarray]]:
        """For each run, the (probe row, run row) pairs where the probe row's key (``keys``,
        already in ``key_types``; no NULLs) equals the stored row's and the stored time lies in
        ``[low, high]`` of the probe row and above ``floor`` (rows at or below it have
        expired)."""
        if not self.runs or not len(low):
            return []
        found: list[tuple[int, np.ndarray, np.ndarray]] = []
        if self._index is None:  # no join key: the rows whose time lies in the window
            for r, run in enumerate(self.runs):
                p, s = _in_windows(run, low, high)
                _keep(found, r, run, p, s, low, high, floor)
            return found
        first, last = np.floor_divide(low, self.bucket_ms), np.floor_divide(high, self.bucket_ms)
        probes, buckets = [], []
        step = 0
        while True:  # each probe row once per bucket its window spans (one or two)
            rows = np.flatnonzero(first + step <= last)
            if not len(rows):
                break
            probes.append(rows)
            buckets.append(first[rows] + step)
            step += 1
        probe_rows = np.concatenate(probes)
        take = pa.array(probe_rows)
        ids = self._index.ids([k.take(take) for k in keys] + [pa.array(np.concatenate(buckets))],
                              insert=False)
        known = ids >= 0
        probe_rows, ids = probe_rows[known], ids[known]
        for r, run in enumerate(self.runs):
            starts = np.searchsorted(run.sorted_ids, ids, side="left")
            counts = np.searchsorted(run.sorted_ids, ids, side="right") - starts
            p, s = _expand(probe_rows, starts, counts, run.by_id)
            _keep(found, r, run, p, s, low, high, floor)
        return found

    # -- expiring ----------------------------------------------------------------------------------
    def expire(self, threshold: int) -> list[tuple[Run, np.ndarray]]:
        """Forget every row with time <= ``threshold``; return, per run, the rows that expired
        (row numbers in the run, which stays readable until ``compact``)."""
        expired = []
        for run in self.runs:
            times_sorted = run.times[run.order[run.expired:]]
            cut = int(np.searchsorted(times_sorted, threshold, side="right"))
            if not cut:
                continue
            rows = run.order[run.expired: run.expired + cut]
            run.expired += cut
            rows = rows[run.alive[rows]]
            run.alive[rows] = False
            run.dead += len(rows)
            if len(rows):
                expired.append((run, rows))
                if self._index is not None:
                    ids = run.ids[rows]
                    np.subtract.at(self._live_per_id, ids, 1)
                    self._dead_ids += int(np.count_nonzero(self._live_per_id[np.unique(ids)] == 0))
        return expired

    def compact(self) -> None:
        """Drop runs that are all expired, rebuild those more than half expired, and let the
        index forget the ids without live rows once they outnumber the live rows."""
        forget = self._index is not None and self._dead_ids > max(self.live_count(), FORGET_AT_LEAST)
        runs = []
        for run in self.runs:
            if run.live == 0:
                continue
            if run.dead > run.size // 2 or (forget and run.dead):
                run = _run(*_live_part(run))
            runs.append(run)
        self.runs = runs
        if forget:
            self._forget_dead_ids()

    def _forget_dead_ids(self) -> None:
        assert self._index is not None
        size = self._index.size
        live_ids = np.flatnonzero(self._live_per_id[:size] > 0)
        self._index.keep(live_ids)
        new_of_old = np.full(size, -1, dtype=np.int64)
        new_of_old[live_ids] = np.arange(len(live_ids), dtype=np.int64)
        self._live_per_id = self._live_per_id[live_ids].copy()
        self._dead_ids = 0
        for run in self.runs:  # all rows live now; renumbering keeps the id order
            run.ids = new_of_old[run.ids]
            run.sorted_ids = new_of_old[run.sorted_ids]

    def earliest_time(self) -> int | None:
        """The smallest time of a live row, or None."""
        best = None
        for run in self.runs:
            pending = run.order[run.expired:]
            alive = pending[run.alive[pending]]
            if len(alive):
                t = int(run.times[alive[0]])
                best = t if best is None else min(best, t)
        return best

    def live_count(self) -> int:
        return sum(r.live for r in self.runs)

    # -- snapshots ---------------------------------------------------------------------------------
    def snapshot(self) -> pa.Table:
        parts = [_live_part(r) for r in self.runs]
        if parts:
            table = pa.concat_tables([p[0] for p in parts])
            times, seqs, matched = (np.concatenate([p[i] for p in parts]) for i in (1, 2, 3))
        else:
            table = self.schema.empty_table()
            times = seqs = np.empty(0, np.int64)
            matched = np.empty(0, bool)
        order = np.argsort(seqs, kind="stable")
        table = table.take(pa.array(order))
        groups = self._key_groups(table)
        return (table.append_column(TIME, pa.array(times[order], pa.int64()))
                .append_column(SEQ, pa.array(seqs[order], pa.int64()))
                .append_column(MATCHED, pa.array(matched[order], pa.bool_()))
                .append_column(KEY_GROUP, pa.array(groups, pa.int32())))

    def _key_groups(self, table: pa.Table) -> np.ndarray:
        from volley.state import key_groups

        if not self.keys or table.num_rows == 0:
            return np.zeros(table.num_rows, dtype=np.int32)
        columns = [_column(table, k, t) for k, t in zip(self.keys, self.key_types, strict=True)]
        return key_groups(columns, self.max_parallelism)

    def restore(self, tables: Sequence[pa.Table], key_group_range=None) -> None:
        self._reset()
        parts = []
        for table in tables:
            if key_group_range is not None:
                mask = key_group_range.contains(table.column(KEY_GROUP).to_numpy())
                table = table.filter(pa.array(mask))
            if table.num_rows:
                parts.append(table)
        if not parts:
            return
        rows = pa.concat_tables(parts)
        rows = rows.take(pa.array(np.argsort(rows.column(SEQ).to_numpy(), kind="stable")))
        values = rows.select(self.schema.names).cast(self.schema)
        self.add(values, rows.column(TIME).to_numpy(), rows.column(SEQ).to_numpy(),
                 rows.column(MATCHED).to_numpy(zero_copy_only=False))

    def max_seq(self) -> int:
        return max((int(r.seqs.max()) for r in self.runs if r.size), default=-1)


def _run(table: pa.Table, times: np.ndarray, seqs: np.ndarray, matched: np.ndarray,
         ids: np.ndarray) -> Run:
    by_id = np.argsort(ids, kind="stable")
    return Run(table, times, seqs, matched, np.ones(len(times), dtype=bool), ids, by_id,
               ids[by_id], np.argsort(times, kind="stable"))


def _merged(older: Run, newer: Run) -> Run:
    parts = [_live_part(r) for r in (older, newer)]
    table = pa.concat_tables([p[0] for p in parts])
    return _run(table, *(np.concatenate([p[i] for p in parts]) for i in (1, 2, 3, 4)))


def _expand(probe_rows: np.ndarray, starts: np.ndarray, counts: np.ndarray,
            by_id: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    total = int(counts.sum())
    within = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    return np.repeat(probe_rows, counts), by_id[np.repeat(starts, counts) + within]


def _in_windows(run: Run, low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(probe row, run row) for every run row whose time lies in a probe row's window."""
    ordered = run.times[run.order]
    starts = np.searchsorted(ordered, low, side="left")
    counts = np.maximum(np.searchsorted(ordered, high, side="right") - starts, 0)
    return _expand(np.arange(len(low), dtype=np.int64), starts, counts, run.order)


def _keep(found: list, r: int, run: Run, p: np.ndarray, s: np.ndarray, low: np.ndarray,
          high: np.ndarray, floor: int) -> None:
    t = run.times[s]
    ok = run.alive[s] & (t >= low[p]) & (t <= high[p]) & (t > floor)
    if ok.any():
        found.append((r, p[ok], s[ok]))


def _column(table: pa.Table, index: int, arrow_type: pa.DataType) -> pa.Array:
    column = table.column(index)
    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    return column if column.type == arrow_type else column.cast(arrow_type)


def _live_part(run: Run) -> tuple[pa.Table, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    if run.dead == 0:
        return run.table, run.times, run.seqs, run.matched, run.ids
    keep = run.alive
    return (run.table.filter(pa.array(keep)), run.times[keep], run.seqs[keep],
            run.matched[keep], run.ids[keep])
