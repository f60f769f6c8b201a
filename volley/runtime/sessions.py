"""Session windows: rows of one partition key whose times lie within ``gap`` of each other.

``SessionState`` keeps, per partition key, the rows of its open sessions and the sessions
themselves, and merges sessions as rows arrive: a row at time ``t`` is the session
``[t, t + gap)``; sessions of a key that intersect (touching counts, as in Flink's
``TimeWindow.intersects``) become one. A batch costs its rows and the open sessions of the
keys it touches:

* the batch's keys become dense ids; the open sessions live in three arrays sorted by
  (key id, start), so a key's sessions are one ``searchsorted`` range;
* the touched keys' sessions and the batch's rows are merged in one sort: a new session starts
  where a start lies after the largest end before it (a running maximum over ranks, kept from
  leaking across keys by an offset per key);
* a row whose merged session has already closed (its end - 1 is at or below the watermark) is
  late and dropped, as Flink drops an element whose merged window is late.

Closing at a watermark ``W`` takes the sessions with ``end - 1 <= W``. Sessions of a key do not
overlap, so those of a key that close are the earliest ones, and a row belongs to a closing
session exactly when its time is below the key's last closing end: one comparison per buffered
row picks the rows to emit, and a bisection within each key's closing sessions gives each its
bounds.

The declared state is the buffered rows with their times and key groups; the sessions are
derived from them (merged again on restore), so nothing else needs saving.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from volley.state import KEY_GROUP_COLUMN, KeyIndex, key_groups

_TIME = "__time"
_MIN = np.iinfo(np.int64).min


def merge_intervals(kid: np.ndarray, start: np.ndarray, end: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Merge intersecting intervals of the same key: the merged (key, start, end), sorted by
    key and start, and the merged interval each input interval went into."""
    n = len(kid)
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, empty
    order = np.lexsort((start, kid))
    k, s, e = kid[order], start[order], end[order]
    first = np.empty(n, dtype=bool)
    first[0] = True
    np.not_equal(k[1:], k[:-1], out=first[1:])
    segment = np.cumsum(first) - 1
    # ranks keep the order of every start and end; an offset per key keeps the running
    # maximum of the ends from crossing into the next key
    _, ranks = np.unique(np.concatenate([s, e]), return_inverse=True)
    rank_s, rank_e = ranks[:n].astype(np.int64), ranks[n:].astype(np.int64)
    width = 2 * n + 1
    running = np.maximum.accumulate(rank_e + segment * width)
    before = np.empty(n, dtype=np.int64)
    before[0] = -1
    before[1:] = running[:-1]
    new = first | (rank_s + segment * width > before)
    heads = np.flatnonzero(new)
    merged_end = np.maximum.reduceat(e, heads)
    into = np.empty(n, dtype=np.int64)
    into[order] = np.cumsum(new) - 1
    return k[heads], s[heads], merged_end, into


def _search_segments(values: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                     x: np.ndarray) -> np.ndarray:
    """For each query, ``lo + (how many of values[lo:hi] are <= x)``: a binary search of every
    query at once, within its own sorted range."""
    lo, hi = lo.copy(), hi.copy()
    while True:
        active = np.flatnonzero(lo < hi)
        if not len(active):
            return lo
        mid = (lo[active] + hi[active]) // 2
        right = values[mid] <= x[active]
        lo[active[right]] = mid[right] + 1
        hi[active[~right]] = mid[~right]


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    offsets = np.cumsum(lengths) - lengths
    return np.repeat(starts - offsets, lengths) + np.arange(int(lengths.sum()), dtype=np.int64)


class SessionState:
    """The open sessions of a subtask, with their rows; see the module docstring.
    ``partition_keys`` are input column indices (none: one session sequence for all rows)."""

    def __init__(self, schema: pa.Schema, partition_keys: Sequence[int], gap: int,
                 max_parallelism: int) -> None:
        self.schema = schema
        self.keys = list(partition_keys)
        self.gap = gap
        self.max_parallelism = max_parallelism
        self._reset()

    def _reset(self) -> None:
        self._index = KeyIndex([self.schema.field(k).type for k in self.keys]) \
            if self.keys else None
        self._batches: list[pa.RecordBatch] = []
        self._row_kid: list[np.ndarray] = []
        self._row_time: list[np.ndarray] = []
        empty = np.zeros(0, dtype=np.int64)
        self.s_kid, self.s_start, self.s_end = empty, empty, empty

    # -- rows in --------------------------------------------------------------------------------

    def _kids(self, batch: pa.RecordBatch | pa.Table) -> np.ndarray:
        if self._index is None:
            return np.zeros(batch.num_rows, dtype=np.int64)
        return self._index.ids([batch.column(k) for k in self.keys])

    def add(self, batch: pa.RecordBatch, times: np.ndarray, watermark: int) -> int:
        """Add a batch's rows (at ``times``), merging sessions; rows that would only make a
        session that has already closed at ``watermark`` are dropped: returns how many."""
        if batch.num_rows == 0:
            return 0
        kid = self._kids(batch)
        touched = np.unique(kid)
        lo = np.searchsorted(self.s_kid, touched, "left")
        hi = np.searchsorted(self.s_kid, touched, "right")
        existing = _ranges(lo, hi - lo)
        m_kid, m_start, m_end, into = merge_intervals(
            np.concatenate([self.s_kid[existing], kid]),
            np.concatenate([self.s_start[existing], times]),
            np.concatenate([self.s_end[existing], times + self.gap]))
        late_session = m_end - 1 <= watermark
        late = late_session[into[len(existing):]]
        keep = np.ones(len(self.s_kid), dtype=bool)
        keep[existing] = False
        m_kid, m_start, m_end = (a[~late_session] for a in (m_kid, m_start, m_end))
        rest = [a[keep] for a in (self.s_kid, self.s_start, self.s_end)]
        at = np.searchsorted(rest[0], m_kid, "left")
        self.s_kid, self.s_start, self.s_end = (
            np.insert(r, at, m) for r, m in zip(rest, (m_kid, m_start, m_end), strict=True))
        if late.any():
            on_time = np.flatnonzero(~late)
            batch = batch.take(pa.array(on_time))
            kid, times = kid[on_time], times[on_time]
        if batch.num_rows:
            self._batches.append(batch)
            self._row_kid.append(kid)
            self._row_time.append(np.asarray(times, dtype=np.int64))
        return int(late.sum())

    # -- sessions out ---------------------------------------------------------------------------

    def next_close(self) -> int | None:
        """The earliest time (watermark or clock) at which a session closes, or None."""
        return int(self.s_end.min()) - 1 if len(self.s_end) else None

    def close(self, watermark: int) -> tuple[pa.Table, np.ndarray, np.ndarray] | None:
        """Take the sessions that end at or before ``watermark + 1``: their rows (in the order
        they arrived) with each row's session start and end; None when none closes."""
        closed = self.s_end - 1 <= watermark
        if not closed.any():
            return None
        c_kid, c_start, c_end = self.s_kid[closed], self.s_start[closed], self.s_end[closed]
        self.s_kid, self.s_start, self.s_end = (a[~closed] for a in
                                                (self.s_kid, self.s_start, self.s_end))
        rows, kid, times = self._rows()
        cutoff = np.full(int(max(kid.max(initial=0), c_kid.max())) + 1, _MIN, dtype=np.int64)
        np.maximum.at(cutoff, c_kid, c_end)
        out = times < cutoff[kid]
        taken = np.flatnonzero(out)
        o_kid, o_time = kid[taken], times[taken]
        lo = np.searchsorted(c_kid, o_kid, "left")
        hi = np.searchsorted(c_kid, o_kid, "right")
        session = _search_segments(c_start, lo, hi, o_time) - 1
        result = rows.take(pa.array(taken))
        kept = np.flatnonzero(~out)
        self._set_rows(rows.take(pa.array(kept)), kid[kept], times[kept])
        self._compact()
        return result, c_start[session], c_end[session]

    def _rows(self) -> tuple[pa.Table, np.ndarray, np.ndarray]:
        table = pa.Table.from_batches(self._batches, schema=self.schema)
        kid = np.concatenate(self._row_kid) if self._row_kid else np.zeros(0, np.int64)
        times = np.concatenate(self._row_time) if self._row_time else np.zeros(0, np.int64)
        return table, kid, times

    def _set_rows(self, rows: pa.Table, kid: np.ndarray, times: np.ndarray) -> None:
        rows = rows.combine_chunks()
        self._batches = rows.to_batches() if rows.num_rows else []
        self._row_kid = [kid] if len(kid) else []
        self._row_time = [times] if len(times) else []

    def _compact(self) -> None:
        """Forget keys that hold nothing any more once they are most of the key index."""
        if self._index is None or self._index.size < 1024:
            return
        _, kid, times = self._rows()
        live = np.unique(np.concatenate([kid, self.s_kid]))
        if 2 * len(live) > self._index.size:
            return
        new_of_old = np.full(self._index.size, -1, dtype=np.int64)
        new_of_old[live] = np.arange(len(live), dtype=np.int64)
        self._index.keep(live)
        self._row_kid = [new_of_old[kid]] if len(kid) else []
        self.s_kid = new_of_old[self.s_kid]

    # -- snapshots ------------------------------------------------------------------------------

    def snapshot(self) -> pa.Table:
        """The buffered rows (columns ``c0..``), their times and key groups."""
        rows, _, times = self._rows()
        columns = {f"c{i}": rows.column(i) for i in range(rows.num_columns)}
        columns[_TIME] = pa.array(times, pa.int64())
        groups = key_groups([rows.column(k) for k in self.keys], self.max_parallelism) \
            if self.keys else np.zeros(rows.num_rows, dtype=np.int32)
        columns[KEY_GROUP_COLUMN] = pa.array(groups, pa.int32())
        return pa.table(columns)

    def restore(self, tables: Sequence[pa.Table], key_group_range=None) -> None:
        """The rows of ``tables`` in this subtask's key groups; their sessions merged anew."""
        self._reset()
        names = [f"c{i}" for i in range(len(self.schema))]
        parts = []
        for table in tables:
            if key_group_range is not None:
                mine = key_group_range.contains(table.column(KEY_GROUP_COLUMN).to_numpy())
                table = table.filter(pa.array(mine))
            parts.append(table)
        table = pa.concat_tables(parts) if parts else None
        if table is None or table.num_rows == 0:
            return
        rows = table.select(names).rename_columns(self.schema.names).cast(self.schema)
        times = table.column(_TIME).to_numpy()
        kid = self._kids(rows)
        self.s_kid, self.s_start, self.s_end, _ = merge_intervals(kid, times, times + self.gap)
        self._set_rows(rows, kid, times)
