"""The session window: ``SESSION(TABLE t [PARTITION BY k], DESCRIPTOR(ts), gap)``.

Rows wait in ``SessionState`` (declared state: the rows of the open sessions, by partition key)
until their session closes — the watermark (event time) or the clock (processing time) passes
its end - 1 — and then leave with ``window_start``, ``window_end`` and ``window_time``. A window
aggregation over sessions reads those bounds (``window_aggregate`` with ``assigned``). Rows
that only make a session that has closed already are late: dropped, and counted in
``numLateRecordsDropped``.
"""

from __future__ import annotations

import pyarrow as pa

from volley.plan.calls import WindowSpec
from volley.runtime.operator import Operator, OperatorContext, Output, emit_table
from volley.runtime.ops_window import WatermarkState, window_bound_columns
from volley.runtime.registry import operator_kind
from volley.runtime.sessions import SessionState
from volley.runtime.window_assign import now_millis, row_times


@operator_kind("session_window")
class SessionWindowOp(Operator):
    """``params``: ``window`` (a SESSION ``WindowSpec``)."""

    name = "SessionWindow"

    def open(self, ctx: OperatorContext, out: Output) -> None:
        super().open(ctx, out)
        self._window: WindowSpec = self.params["window"]
        in_schema = self.spec.input_schemas[0]
        self._time_name = in_schema.field(self._window.time_col).name
        self._sessions = ctx.register_state("sessions", SessionState(
            in_schema, self._window.partition_keys, self._window.gap, ctx.max_parallelism))
        self._watermark = WatermarkState(ctx)
        self._late = ctx.counter("numLateRecordsDropped")
        self.clock = now_millis
        self._timers = ctx.timer_service([]) if self._window.proctime else None
        self._schedule()

    def _schedule(self) -> None:
        """Processing time: a timer at the earliest session end (timers of a subtask without
        keys are not rescaled with the sessions, so they are set again from the sessions)."""
        if self._timers is None:
            return
        due = self._sessions.next_close()
        if due is not None:
            self._timers.register([], [due], "processing")

    def process(self, batch: pa.RecordBatch, port: int) -> None:
        if batch.num_rows == 0:
            return
        times = row_times(self._window, batch, self._time_name, self.clock)
        watermark = self._watermark.value if not self._window.proctime else -(2**63)
        late = self._sessions.add(batch, times, watermark)
        if late:
            self._late.inc(late)
        self._schedule()

    def on_watermark(self, timestamp: int) -> int | None:
        self._watermark.value = max(self._watermark.value, timestamp)
        if not self._window.proctime:
            self._close(timestamp)
        return timestamp

    def on_timers(self, fired: pa.Table, domain: str = "event") -> None:
        if domain == "processing" and self._window.proctime:
            self._close(int(fired.column("timestamp").to_numpy().max()))
            self._schedule()

    def _close(self, until: int) -> None:
        due = self._sessions.next_close()
        if due is None or due > until:
            return
        closed = self._sessions.close(until)
        if closed is None:
            return
        rows, starts, ends = closed
        columns = list(rows.columns) + window_bound_columns(starts, ends,
                                                            self.spec.output_schema)
        emit_table(self.out, pa.Table.from_arrays(columns, schema=self.spec.output_schema))

    def prepare_snapshot(self, checkpoint_id: int) -> None:
        self._watermark.prepare_snapshot()
