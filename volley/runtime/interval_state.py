"""One input's rows of an interval join, hashed by (join key, time bucket) and expired in time
order.

A row of one input can only ever match rows of the other whose time lies in a window around its
own (``IntervalJoinOp``), so rows are hashed by their key *and* their time bucket: a probe looks
at the one or two buckets its window spans, not at every row of its key. Buckets are
``bucket_ms`` wide, at least the window's width.

Rows sit in runs, as in ``GrowingBuildSide``: each batch is a run of its own, merged with the run
before it while that one is at most twice its size, so a probe visits O(log n) runs and a row is
hashed again O(log n) times. Each run also keeps its rows' order by time, so expiring the rows
the watermark has made unreachable pops a prefix of each run's order: the cost is the rows that
expire, never the rows that stay. A run that is more than half expired is rebuilt from its live
rows (paid for by the rows that died), and a run that is all expired is dropped.

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

from volley.runtime.join import RUN_MIN_SLOTS, BuildSide
from volley.state import key_dictionary

TIME = "__time"
SEQ = "__seq"
MATCHED = "__matched"
KEY_GROUP = "__key_group"


@dataclass
class Run:
    """Rows added together (or merged), with their hash index and their order by time."""

    table: pa.Table
    times: np.ndarray
    seqs: np.ndarray
    matched: np.ndarray
    alive: np.ndarray
    index: BuildSide | None
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
        self.runs: list[Run] = []

    # -- adding ------------------------------------------------------------------------------------
    def add(self, table: pa.Table, times: np.ndarray, seqs: np.ndarray,
            matched: np.ndarray) -> None:
        """Remember ``table``'s rows (none of them with a NULL key) with their times, arrival
        numbers and matched flags."""
        if table.num_rows == 0:
            return
        self.runs.append(self._run(table.combine_chunks(), times, seqs, matched))
        while len(self.runs) > 1 and self.runs[-2].live <= 2 * self.runs[-1].live:
            newer, older = self.runs.pop(), self.runs.pop()
            self.runs.append(self._merged(older, newer))

    def _run(self, table: pa.Table, times: np.ndarray, seqs: np.ndarray,
             matched: np.ndarray) -> Run:
        n = table.num_rows
        index = None
        if self.keys:
            limit = min(key_dictionary.DIRECT_RANGE_LIMIT, max(RUN_MIN_SLOTS, 8 * n))
            index = BuildSide(self._key_table(table, times), list(range(len(self.keys) + 1)),
                              [*self.key_types, pa.int64()], limit)
        order = np.argsort(times, kind="stable")
        return Run(table, np.asarray(times, np.int64), np.asarray(seqs, np.int64),
                   np.asarray(matched, bool).copy(), np.ones(n, dtype=bool), index, order)

    def _key_table(self, table: pa.Table, times: np.ndarray) -> pa.Table:
        columns = [_column(table, k, t) for k, t in zip(self.keys, self.key_types, strict=True)]
        columns.append(pa.array(np.floor_divide(times, self.bucket_ms), pa.int64()))
        return pa.Table.from_arrays(columns, names=[f"k{i}" for i in range(len(columns))])

    def _merged(self, older: Run, newer: Run) -> Run:
        parts = [_live_part(r) for r in (older, newer)]
        table = pa.concat_tables([p[0] for p in parts])
        return self._run(table, *(np.concatenate([p[i] for p in parts]) for i in (1, 2, 3)))

    # -- probing -----------------------------------------------------------------------------------
    def matches(self, keys: Sequence[pa.Array], low: np.ndarray, high: np.ndarray,
                floor: int) -> list[tuple[int, np.ndarray, np.ndarray]]:
        """For each run, the (probe row, run row) pairs where the probe row's key (``keys``,
        already in ``key_types``; no NULLs) equals the stored row's and the stored time lies in
        ``[low, high]`` of the probe row and above ``floor`` (rows at or below it have
        expired)."""
        if not self.runs or not len(low):
            return []
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
        probe_keys = None
        if self.keys:
            take = pa.array(probe_rows)
            columns = [k.take(take) for k in keys] + [pa.array(np.concatenate(buckets))]
            probe_keys = pa.Table.from_arrays(
                columns, names=[f"k{i}" for i in range(len(columns))])
        found = []
        for r, run in enumerate(self.runs):
            if run.index is not None:
                p, s = run.index.pairs(probe_keys, list(range(len(self.keys) + 1)))
                p = probe_rows[p]
            else:  # no join key: the rows whose time lies in the window, by binary search
                p, s = _in_windows(run, low, high)
            t = run.times[s]
            ok = run.alive[s] & (t >= low[p]) & (t <= high[p]) & (t > floor)
            if ok.any():
                found.append((r, p[ok], s[ok]))
        return found

    # -- expiring ----------------------------------------------------------------------------------
    def expire(self, threshold: int) -> list[tuple[Run, np.ndarray]]:
        """Forget every row with time <= ``threshold``; return, per run, the rows that expired
        (row numbers in the run, which is still readable until the next change)."""
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
        return expired

    def compact(self) -> None:
        """Drop runs that are all expired and rebuild those more than half expired."""
        runs = []
        for run in self.runs:
            if run.live == 0:
                continue
            if run.dead > run.size // 2:
                table, times, seqs, matched = _live_part(run)
                run = self._run(table, times, seqs, matched)
            runs.append(run)
        self.runs = runs

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
        self.runs = []
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


def _in_windows(run: Run, low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(probe row, run row) for every run row whose time lies in a probe row's window."""
    ordered = run.times[run.order]
    starts = np.searchsorted(ordered, low, side="left")
    counts = np.maximum(np.searchsorted(ordered, high, side="right") - starts, 0)
    total = int(counts.sum())
    p = np.repeat(np.arange(len(low), dtype=np.int64), counts)
    within = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    return p, run.order[np.repeat(starts, counts) + within]


def _column(table: pa.Table, index: int, arrow_type: pa.DataType) -> pa.Array:
    column = table.column(index)
    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    return column if column.type == arrow_type else column.cast(arrow_type)


def _live_part(run: Run) -> tuple[pa.Table, np.ndarray, np.ndarray, np.ndarray]:
    if run.dead == 0:
        return run.table, run.times, run.seqs, run.matched
    keep = run.alive
    return (run.table.filter(pa.array(keep)), run.times[keep], run.seqs[keep],
            run.matched[keep])
