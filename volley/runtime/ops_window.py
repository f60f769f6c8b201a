"""Window operators: the window table function and window aggregation.

``window_table_function`` (TUMBLE, HOP, CUMULATE) is stateless: each row leaves with the bounds
of each window it falls in. ``window_aggregate`` folds rows into accumulators per (group key,
window) — the streaming GROUP BY's accumulators (``WindowedAggregation``), its groups keyed by the group key and
the window end — and emits a window's groups once, when the window closes: event-time
windows when the watermark reaches ``window_end - 1``, processing-time windows when the clock
does. Each (key, window) has a timer (keyed by the group key and the window start, at
``window_end - 1``), so firing costs the windows that close, and a restored or rescaled job
fires what the old one would have. Rows for a window that has already fired are late: they are
dropped from that window, and an input row dropped from all its windows is counted in the
``numLateRecordsDropped`` counter, as Flink's ``numLateRecordsDropped``.

A processing-time window has not closed when its input ends (the clock has not passed it), so
it never fires for a bounded input, as in Flink. SESSION windows are assigned by
``session_window`` (``ops_session``); ``window_aggregate`` then reads the bounds the rows carry.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from volley.plan.calls import WindowSpec
from volley.runtime.operator import Operator, OperatorContext, Output, emit_table
from volley.runtime.ops_time import MIN_WATERMARK, epoch_millis
from volley.runtime.registry import operator_kind
from volley.runtime.window_assign import assign, now_millis, row_times

#: a window end no window reaches: nothing is due
MAX_END = int(np.iinfo(np.int64).max)

_WATERMARK = pa.schema([("watermark", pa.int64())])


def window_bound_columns(starts: np.ndarray, ends: np.ndarray,
                         schema: pa.Schema) -> list[pa.Array]:
    """``window_start``, ``window_end`` and ``window_time`` (end - 1 ms) as the last three
    fields of ``schema`` type them."""
    types = [schema.field(i).type for i in range(len(schema) - 3, len(schema))]
    return [_timestamps(starts, types[0]), _timestamps(ends, types[1]),
            _timestamps(ends - 1, types[2])]


def _timestamps(millis: np.ndarray, arrow_type: pa.DataType) -> pa.Array:
    return pa.array(millis, pa.int64()).cast(pa.timestamp("ms", arrow_type.tz)).cast(arrow_type)


class WatermarkState:
    """The last watermark an operator saw, as its state: a restored job keeps dropping the rows
    that were late before the failure (a rescaled one takes the lowest of its old subtasks)."""

    def __init__(self, ctx: OperatorContext) -> None:
        from volley.state import OperatorState

        self._state = ctx.register_state("watermark", OperatorState(_WATERMARK))
        restored = self._state.get()
        self.value = int(restored.column(0).to_numpy().min()) if restored.num_rows \
            else MIN_WATERMARK

    def prepare_snapshot(self) -> None:
        self._state.set(pa.table({"watermark": pa.array([self.value], pa.int64())}))


@operator_kind("window_table_function")
class WindowTableFunctionOp(Operator):
    """TUMBLE/HOP/CUMULATE: each row once per window it is in, with ``window_start``,
    ``window_end`` and ``window_time`` appended. Stateless. ``params``: ``window``."""

    name = "WindowTableFunction"

    def open(self, ctx: OperatorContext, out: Output) -> None:
        super().open(ctx, out)
        self._window: WindowSpec = self.params["window"]
        self._time_name = self.spec.input_schemas[0].field(self._window.time_col).name

    def process(self, batch: pa.RecordBatch, port: int) -> None:
        if batch.num_rows == 0:
            return
        times = row_times(self._window, batch, self._time_name)
        rows, starts, ends = assign(self._window, times)
        if len(rows) != batch.num_rows:
            batch = batch.take(pa.array(rows))
        columns = list(batch.columns) + window_bound_columns(starts, ends,
                                                             self.spec.output_schema)
        self.out.emit(pa.RecordBatch.from_arrays(columns, schema=self.spec.output_schema))


@operator_kind("window_aggregate")
class WindowAggregateOp(Operator):
    """Aggregation per window; see the module docstring. ``params``: ``group_keys``, ``aggs``,
    ``window`` (its assignment; for rows that carry their window, as after a session window,
    ``assigned`` gives their start and end columns instead) and ``proctime``. Output: the keys,
    the aggregates, ``window_start``, ``window_end``, ``window_time``."""

    name = "WindowAggregate"

    def open(self, ctx: OperatorContext, out: Output) -> None:
        from volley.runtime.window_aggregation import WindowedAggregation

        super().open(ctx, out)
        in_schema = self.spec.input_schemas[0]
        self._window: WindowSpec | None = self.params.get("window")
        self._assigned: tuple[int, int] | None = self.params.get("assigned")
        self._proctime: bool = self.params["proctime"]
        self._domain = "processing" if self._proctime else "event"
        self._keys = tuple(self.params["group_keys"])
        n_keys = len(self._keys)
        # groups are (key, window start, window end): the end tells a key's windows apart
        # (also sessions, which do not overlap), the start comes along for the output
        width = len(in_schema)
        work = in_schema.append(pa.field("__window_start", pa.int64(), nullable=False)) \
            .append(pa.field("__window_end", pa.int64(), nullable=False))
        out_schema = self.spec.output_schema
        aggs = self.params["aggs"]
        # the aggregation's own output layout: its group keys, then the aggregates
        agg_out = pa.schema([out_schema.field(i) for i in range(n_keys)]
                            + [work.field(width), work.field(width + 1)]
                            + [out_schema.field(n_keys + j) for j in range(len(aggs))])
        self._aggregation = WindowedAggregation(
            work, self._keys + (width, width + 1), aggs, agg_out, retracting=False,
            max_parallelism=ctx.max_parallelism, key_group_columns=n_keys, expiring=True)
        for name, state in self._aggregation.states().items():
            ctx.register_state(name, state)
        self._aggregation.restored()
        key_types = [in_schema.field(k).type for k in self._keys]
        self._timers = ctx.timer_service([*key_types, pa.int64()], key_group_columns=n_keys)
        self._watermark = WatermarkState(ctx)
        self._late = ctx.counter("numLateRecordsDropped")
        self._time_name = in_schema.field(self._window.time_col).name if self._window else ""
        self.clock = now_millis
        #: no event-time window ends before this (a bound: a restored state is looked at once)
        self._next_end = MIN_WATERMARK

    def on_watermark(self, timestamp: int) -> int | None:
        self._watermark.value = max(self._watermark.value, timestamp)
        if not self._proctime:
            self._fire_due(timestamp)
        return timestamp

    def _fire_due(self, watermark: int) -> None:
        """Emit the event-time windows the watermark has passed, by window end then group.
        Event-time windows need no timers: every group's key holds its window end, so the
        groups due are found in one pass over the ends, made only when the earliest end is
        due."""
        if watermark < self._next_end - 1:
            return
        groups = self._aggregation.groups
        live = groups.live_ids()
        n_keys = len(self._keys)
        ends = groups.key_column(n_keys + 1, live).to_numpy(zero_copy_only=False)
        due = ends - 1 <= watermark
        rest = ends[~due]
        self._next_end = int(rest.min()) if len(rest) else MAX_END
        if not due.any():
            return
        ids, ends = live[due], ends[due]
        order = np.lexsort((ids, ends))
        self._emit_windows(ids[order])

    def _emit_windows(self, ids: np.ndarray) -> None:
        groups = self._aggregation.groups
        n_keys = len(self._keys)
        columns = groups.key_columns(ids)
        keys = columns[:n_keys]
        starts = columns[n_keys].to_numpy(zero_copy_only=False)
        ends = columns[n_keys + 1].to_numpy(zero_copy_only=False)
        self._emit(keys, self._aggregation.take_ids(ids), starts, ends)

    def _emit(self, keys: list[pa.Array], results: list[pa.Array], starts: np.ndarray,
              ends: np.ndarray) -> None:
        """The fired windows' rows: keys (in the output's types), aggregates, bounds."""
        schema = self.spec.output_schema
        keys = [k if k.type == schema.field(i).type else k.cast(schema.field(i).type)
                for i, k in enumerate(keys)]
        columns = keys + results + window_bound_columns(starts, ends, schema)
        emit_table(self.out, pa.Table.from_arrays(columns, schema=schema))

    def prepare_snapshot(self, checkpoint_id: int) -> None:
        self._watermark.prepare_snapshot()

    def process(self, batch: pa.RecordBatch, port: int) -> None:
        if batch.num_rows == 0:
            return
        if self._assigned is not None:
            rows = np.arange(batch.num_rows, dtype=np.int64)
            starts = epoch_millis(batch.column(self._assigned[0]))
            ends = epoch_millis(batch.column(self._assigned[1]))
        else:
            assert self._window is not None
            times = row_times(self._window, batch, self._time_name, self.clock)
            rows, starts, ends = assign(self._window, times)
        if not self._proctime:
            on_time = ends - 1 > self._watermark.value
            if not on_time.all():
                kept = np.bincount(rows[on_time], minlength=batch.num_rows)
                self._late.inc(int(np.count_nonzero(kept == 0)))
                rows, starts, ends = rows[on_time], starts[on_time], ends[on_time]
                if not len(rows):
                    return
        if len(rows) != batch.num_rows or not (rows[:-1] < rows[1:]).all():
            batch = batch.take(pa.array(rows))
        work = pa.RecordBatch.from_arrays(
            list(batch.columns) + [pa.array(starts, pa.int64()), pa.array(ends, pa.int64())],
            names=batch.schema.names + ["__window_start", "__window_end"])
        new = self._aggregation.accumulate(work)
        if not len(new):
            return
        if not self._proctime:
            self._next_end = min(self._next_end, int(ends[new].min()))
            return
        taken = pa.array(new)
        keys = [work.column(k).take(taken) for k in self._keys]
        self._timers.register([*keys, pa.array(starts[new], pa.int64())], ends[new] - 1,
                              self._domain)

    def on_timers(self, fired: pa.Table, domain: str = "event") -> None:
        if domain != self._domain:
            return
        n_keys = len(self._keys)
        keys = [fired.column(f"k{i}").combine_chunks() for i in range(n_keys)]
        starts = fired.column(f"k{n_keys}").to_numpy()
        ends = fired.column("timestamp").to_numpy() + 1
        results = self._aggregation.take(keys + [pa.array(starts, pa.int64()),
                                                 pa.array(ends, pa.int64())])
        self._emit(keys, results, starts, ends)
