"""Window Top-N, window deduplication and window joins: a window's rows wait until the window
closes, then its result is computed from all of them at once and emitted, insert-only.

Both keep their rows in ``WindowBuckets`` (declared state) by window end. A window closes when
the watermark reaches its end - 1 (event time) or the clock does (processing time: a timer at
the earliest open end, set again from the buckets after a restore). Rows of a window that has
closed already are late: dropped, and counted in ``numLateRecordsDropped``.

* ``window_rank``: ROW_NUMBER over the window's rows per partition (which includes the window
  bounds), keeping rows numbered up to ``limit``. Ties keep arrival order; deduplication on the
  time attribute descending (keep the last row) lets the latest arrival win a tie, as Flink's
  ``RowTimeDeduplicateRecordsCombiner`` does.
* ``window_join``: each window's left and right rows joined on the keys (the window bounds among
  them) with the batch hash join; outer joins pad the unmatched rows of the window.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from volley.plan.calls import SortKey, key_types
from volley.runtime.join import BuildSide, probe_join, unmatched_build_rows
from volley.runtime.operator import Operator, OperatorContext, Output, emit_table
from volley.runtime.ops_basic import eval_context, open_functions
from volley.runtime.ops_time import epoch_millis
from volley.runtime.ops_window import WatermarkState
from volley.runtime.registry import operator_kind
from volley.runtime.sort import rank_table
from volley.runtime.window_buckets import WindowBuckets


class _WindowBufferOp(Operator):
    """Rows by window end per input port, released when their window closes."""

    def _open_buffers(self, ctx: OperatorContext, buckets: list[WindowBuckets],
                      ends: list[int], proctime: bool) -> None:
        self._buckets = [ctx.register_state(name, b) for name, b in
                         zip(("rows",) if len(buckets) == 1 else ("left", "right"), buckets,
                             strict=True)]
        self._ends, self._proctime = ends, proctime
        self._watermark = WatermarkState(ctx)
        self._late = ctx.counter("numLateRecordsDropped")
        self._timers = ctx.timer_service([]) if proctime else None
        self._schedule()

    def _schedule(self) -> None:
        if self._timers is None:
            return
        ends = [e for b in self._buckets for e in b.ends()]
        if ends:
            self._timers.register([], [min(ends) - 1], "processing")

    def process(self, batch: pa.RecordBatch, port: int) -> None:
        if batch.num_rows == 0:
            return
        ends = epoch_millis(batch.column(self._ends[port]))
        if not self._proctime:
            late = ends - 1 <= self._watermark.value
            if late.any():
                self._late.inc(int(late.sum()))
                keep = np.flatnonzero(~late)
                batch, ends = batch.take(pa.array(keep)), ends[keep]
        self._buckets[port].add(batch, ends)
        self._schedule()

    def on_watermark(self, timestamp: int) -> int | None:
        self._watermark.value = max(self._watermark.value, timestamp)
        if not self._proctime:
            self._close(timestamp)
        return timestamp

    def on_timers(self, fired: pa.Table, domain: str = "event") -> None:
        if domain == "processing" and self._proctime:
            self._close(int(fired.column("timestamp").to_numpy().max()))
            self._schedule()

    def _close(self, until: int) -> None:
        ends = sorted({e for b in self._buckets for e in b.closing(until)})
        for end in ends:
            result = self._window_result([b.pop(end) for b in self._buckets])
            emit_table(self.out, result)

    def _window_result(self, rows: list[pa.Table]) -> pa.Table:
        raise NotImplementedError

    def prepare_snapshot(self, checkpoint_id: int) -> None:
        self._watermark.prepare_snapshot()


@operator_kind("window_rank")
class WindowRankOp(_WindowBufferOp):
    """``params``: ``partition_keys`` (the window bounds among them), ``order_keys``,
    ``window_end`` (column), ``proctime``, ``limit`` (None: every row), ``keep_last`` (a
    deduplication keeping the last row: ties go to the latest arrival)."""

    name = "WindowRank"

    def open(self, ctx: OperatorContext, out: Output) -> None:
        super().open(ctx, out)
        schema = self.spec.input_schemas[0]
        p = self.params
        self._open_buffers(ctx, [WindowBuckets(schema, p["partition_keys"],
                                               ctx.max_parallelism)],
                           [p["window_end"]], p["proctime"])

    def _window_result(self, rows: list[pa.Table]) -> pa.Table:
        table = rows[0]
        p = self.params
        if p["keep_last"]:
            table = table.take(pa.array(np.arange(table.num_rows - 1, -1, -1)))
        order: tuple[SortKey, ...] = tuple(p["order_keys"])
        ranked = rank_table(table, tuple(p["partition_keys"]), order, "row_number",
                            self.spec.output_schema)
        if p["limit"] is not None:
            rank = ranked.column(ranked.num_columns - 1).to_numpy()
            ranked = ranked.filter(pa.array(rank <= p["limit"]))
        return ranked


@operator_kind("window_join")
class WindowJoinOp(_WindowBufferOp):
    """``params``: ``kind``, ``left_keys``, ``right_keys`` (the window bounds among them),
    ``residual``, ``left_end``, ``right_end`` (window end columns), ``proctime``."""

    name = "WindowJoin"

    def open(self, ctx: OperatorContext, out: Output) -> None:
        super().open(ctx, out)
        p = self.params
        left, right = self.spec.input_schemas
        self._types = key_types(left, right, list(p["left_keys"]), list(p["right_keys"]))
        self._eval = eval_context(ctx)
        if p["residual"] is not None:
            open_functions(ctx, [p["residual"]])
        self._open_buffers(ctx, [WindowBuckets(left, p["left_keys"], ctx.max_parallelism,
                                               self._types),
                                 WindowBuckets(right, p["right_keys"], ctx.max_parallelism,
                                               self._types)],
                           [p["left_end"], p["right_end"]], p["proctime"])

    def _window_result(self, rows: list[pa.Table]) -> pa.Table:
        left, right = rows
        p = self.params
        build = BuildSide(right, list(p["right_keys"]), self._types)
        out = self.spec.output_schema
        result = probe_join(build, left, p["kind"], list(p["left_keys"]), p["residual"], out,
                            self._eval)
        if p["kind"] in ("right", "full"):
            unmatched = unmatched_build_rows(build, self.spec.input_schemas[0], out)
            result = pa.concat_tables([result, unmatched])
        return result
