"""The interval join: ``a JOIN b ON a.k = b.k AND a.ts BETWEEN b.ts - X AND b.ts + Y``.

Flink's semantics (``TimeIntervalJoin``): a pair joins when ``lower <= left time - right time <=
upper``. Each input's rows are kept (``IntervalSide``: hashed by key and time bucket) only while
rows of the other input that could still match them may arrive; the *operator time* decides
that: the watermark for rowtime joins (0 before the first positive one, as in Flink), the clock
for proctime joins (whose rows are timestamped with the clock as they arrive). With ``lrs =
-lower`` and ``rrs = upper`` (Flink's relative sizes):

- a left row at ``t`` probes the right rows with times in ``[t - rrs, t + lrs]``, and is kept
  while the operator time is below ``t + lrs``; it expires once the operator time reaches
  ``t + lrs + 1``. Right rows mirror this.
- a row that expires (or is not kept) without having matched is emitted NULL-padded by an outer
  join on its side: the output is insert-only.
- the output watermark stays ``max(lrs, rrs)`` behind the input's, so the joined rows (which carry
  both inputs' times) are not late downstream.

The last watermark seen is operator state too: a restored join judges rows as the one that ran
through would have.
"""

from __future__ import annotations

import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from volley.plan.calls import key_types
from volley.runtime.interval_state import IntervalSide
from volley.runtime.join import _gather, _where_residual_holds
from volley.runtime.operator import Operator, OperatorContext, Output, emit_table
from volley.runtime.ops_basic import eval_context, open_functions
from volley.runtime.registry import operator_kind

MIN_WATERMARK = -(2**63)
MAX_WATERMARK = 2**63 - 1
_PER_MS = {"s": None, "ms": 1, "us": 1_000, "ns": 1_000_000}


def epoch_ms_with_nulls(column: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """A timestamp column as int64 epoch milliseconds (0 where NULL) and its validity."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    valid = column.is_valid().to_numpy(zero_copy_only=False)
    raw = pc.cast(column, pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
    per_ms = _PER_MS[column.type.unit]
    ms = raw * 1000 if per_ms is None else raw if per_ms == 1 else np.floor_divide(raw, per_ms)
    return ms.astype(np.int64, copy=False), valid


def now_ms() -> int:
    return int(time.time() * 1000)


class LastWatermark:
    """The largest watermark an operator has seen, as state that every subtask of a restored
    job gets whole (whatever the parallelism): it resumes from the smallest any subtask had."""

    def __init__(self) -> None:
        self.value = MIN_WATERMARK

    def advance(self, timestamp: int) -> int:
        self.value = max(self.value, timestamp)
        return self.value

    def snapshot(self) -> pa.Table:
        return pa.table({"watermark": pa.array([self.value], pa.int64())})

    def restore(self, tables: list[pa.Table], key_groups=None) -> None:
        values = [v for t in tables for v in t.column("watermark").to_pylist()]
        self.value = min(values) if values else MIN_WATERMARK


@operator_kind("interval_join")
class IntervalJoinOp(Operator):
    """``params``: ``kind`` (inner/left/right/full), ``left_keys``, ``right_keys``,
    ``residual``, ``time_kind`` (rowtime/proctime), ``left_time``, ``right_time`` (column
    indices), ``lower``, ``upper`` (ms: bounds of left time - right time)."""

    name = "IntervalJoin"

    def open(self, ctx: OperatorContext, out: Output) -> None:
        super().open(ctx, out)
        p = self.params
        self._kind = p["kind"]
        self._outer = (self._kind in ("left", "full"), self._kind in ("right", "full"))
        self._keys = (list(p["left_keys"]), list(p["right_keys"]))
        schemas = self.spec.input_schemas
        self._types = key_types(schemas[0], schemas[1], self._keys[0], self._keys[1])
        self._time = (p["left_time"], p["right_time"])
        self._lower, self._upper = int(p["lower"]), int(p["upper"])
        self._lrs, self._rrs = -self._lower, self._upper
        self._delay = max(self._lrs, self._rrs)
        self._proctime = p["time_kind"] == "proctime"
        bucket = self._upper - self._lower + 1
        self._sides = tuple(
            ctx.register_state(name, IntervalSide(schema, keys, self._types, bucket,
                                                  ctx.max_parallelism))
            for name, schema, keys in zip(("left", "right"), schemas, self._keys, strict=True))
        self._seq = [side.max_seq() + 1 for side in self._sides]
        self._residual = p["residual"]
        if self._residual is not None:
            open_functions(ctx, [self._residual])
        self._eval = eval_context(ctx)
        self._watermark = ctx.register_state("watermark", LastWatermark())
        self._timers = None
        self._timer_at: int | None = None
        if self._proctime:
            self._timers = ctx.timer_service([])
            self._timer_at = self._timers.next_timestamp("processing")
            self._schedule_cleanup()

    # -- time --------------------------------------------------------------------------------------
    def _operator_time(self) -> int:
        if self._proctime:
            return now_ms()
        return self._watermark.value if self._watermark.value > 0 else 0

    def _expiration(self, side: int, operator_time: int) -> int:
        """Rows of ``side`` with a time at or below this are unreachable."""
        if operator_time == MAX_WATERMARK:
            return MAX_WATERMARK
        return operator_time - (self._lrs if side == 0 else self._rrs) - 1

    # -- input -------------------------------------------------------------------------------------
    def process(self, batch: pa.RecordBatch, port: int) -> None:
        if batch.num_rows == 0:
            return
        now = self._operator_time()
        table = pa.Table.from_batches([batch])
        n = table.num_rows
        if self._proctime:
            times, valid = np.full(n, now, dtype=np.int64), np.ones(n, dtype=bool)
        else:
            times, valid = epoch_ms_with_nulls(table.column(self._time[port]))
        keys = []
        for k, t in zip(self._keys[port], self._types, strict=True):
            column = table.column(k).combine_chunks()
            column = column if column.type == t else column.cast(t)
            if column.null_count:
                valid &= column.is_valid().to_numpy(zero_copy_only=False)
            keys.append(column)
        if port == 0:
            low, high, keep_until = times - self._upper, times - self._lower, times + self._lrs
        else:
            low, high, keep_until = times + self._lower, times + self._upper, times + self._rrs
        rows = np.flatnonzero(valid)
        emitted = np.zeros(n, dtype=bool)
        if len(rows):
            other = 1 - port
            take = pa.array(rows)
            found = self._sides[other].matches([k.take(take) for k in keys], low[rows],
                                               high[rows], self._expiration(other, now))
            self._emit_matches(table, port, rows, found, emitted)
        kept = valid & (now < keep_until)
        if kept.any():
            seqs = np.arange(self._seq[port], self._seq[port] + int(kept.sum()), dtype=np.int64)
            self._seq[port] += len(seqs)
            self._sides[port].add(table.filter(pa.array(kept)), times[kept], seqs, emitted[kept])
            if self._proctime:
                self._schedule_cleanup()
        if self._outer[port]:
            unmatched = np.flatnonzero(~kept & ~emitted)
            if len(unmatched):
                emit_table(self.out, self._padded(table, unmatched, port))

    def _emit_matches(self, probe: pa.Table, port: int, rows: np.ndarray,
                      found: list[tuple[int, np.ndarray, np.ndarray]],
                      emitted: np.ndarray) -> None:
        """The joined rows of the probe rows ``rows`` and their stored partners, ordered by
        probe row and then by when the partner arrived (the same order however the stored rows
        are split into runs)."""
        other = self._sides[1 - port]
        results, probe_rows, partner_seqs = [], [], []
        for run_index, p, s in found:
            run = other.runs[run_index]
            prow = rows[p]
            if port == 0:
                li, ri = _where_residual_holds(probe, run.table, prow, s, self._residual,
                                               self._eval)
                prow, s = li, ri
                left, right = probe, run.table
            else:
                li, ri = _where_residual_holds(run.table, probe, s, prow, self._residual,
                                               self._eval)
                prow, s = ri, li
                left, right = run.table, probe
            if not len(prow):
                continue
            emitted[prow] = True
            if self._outer[1 - port]:
                run.matched[s] = True
            results.append(_gather(left, right, li, ri, self.spec.output_schema))
            probe_rows.append(prow)
            partner_seqs.append(run.seqs[s])
        if not results:
            return
        table = pa.concat_tables(results) if len(results) > 1 else results[0]
        if len(results) > 1 or len(probe_rows[0]) > 1:
            order = np.lexsort((np.concatenate(partner_seqs), np.concatenate(probe_rows)))
            table = table.take(pa.array(order))
        emit_table(self.out, table)

    def _padded(self, rows_of: pa.Table, rows: np.ndarray, port: int) -> pa.Table:
        """Rows ``rows`` of ``rows_of`` (an input of ``port``) with NULLs for the other side."""
        nulls = np.full(len(rows), -1, dtype=np.int64)
        empty = [s.empty_table() for s in self.spec.input_schemas]
        if port == 0:
            return _gather(rows_of, empty[1], rows, nulls, self.spec.output_schema)
        return _gather(empty[0], rows_of, nulls, rows, self.spec.output_schema)

    # -- expiry ------------------------------------------------------------------------------------
    def on_watermark(self, timestamp: int) -> int | None:
        if self._proctime:
            return timestamp
        self._watermark.advance(timestamp)
        self._expire(self._operator_time())
        if timestamp == MAX_WATERMARK:
            return timestamp
        return max(timestamp - self._delay, MIN_WATERMARK)

    def on_timers(self, fired: pa.Table, domain: str = "event") -> None:
        if domain != "processing":
            return
        self._timer_at = None
        self._expire(now_ms())
        self._schedule_cleanup()

    def _expire(self, operator_time: int) -> None:
        for port, side in enumerate(self._sides):
            expired = side.expire(self._expiration(port, operator_time))
            if self._outer[port]:
                pads = []
                seqs = []
                for run, rows in expired:
                    unmatched = rows[~run.matched[rows]]
                    if len(unmatched):
                        pads.append(self._padded(run.table, unmatched, port))
                        seqs.append(run.seqs[unmatched])
                if pads:
                    table = pa.concat_tables(pads)
                    emit_table(self.out, table.take(pa.array(np.argsort(np.concatenate(seqs),
                                                                        kind="stable"))))
            if expired:
                side.compact()

    def _schedule_cleanup(self) -> None:
        """Proctime: a processing-time timer for when the earliest kept row expires (rounded up
        by half the window, as Flink does, so that expiry comes in a few sweeps)."""
        assert self._timers is not None
        due = []
        for port, side in enumerate(self._sides):
            earliest = side.earliest_time()
            if earliest is not None:
                size = self._lrs if port == 0 else self._rrs
                due.append(earliest + size + 1 + max(0, (self._lrs + self._rrs) // 2))
        if not due:
            return
        at = min(due)
        if self._timer_at is None or at < self._timer_at:
            self._timers.register([], np.array([at], dtype=np.int64), "processing")
            self._timer_at = at

    def finish(self) -> None:
        """Every input ended: no row can match any more (also in a proctime join)."""
        self._expire(MAX_WATERMARK)
