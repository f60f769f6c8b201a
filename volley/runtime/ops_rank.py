"""Streaming Top-N, deduplication and ORDER BY a time attribute.

``top_n`` and ``deduplicate`` keep their rows as keyed state (see ``stream_rank`` and
``stream_dedup``); ``temporal_sort`` holds rows until the watermark passes them and emits them in
time order (Flink's ``RowTimeSortOperator``), or, ordered by processing time, sorts each batch
by the other keys as it arrives.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from volley.runtime.keyed_rows import TimeOrderedRows
from volley.runtime.operator import Operator, OperatorContext, Output, emit_table
from volley.runtime.ops_basic import row_kind_index
from volley.runtime.ops_time import epoch_millis
from volley.runtime.registry import operator_kind
from volley.runtime.sort import sort_indices
from volley.state import OperatorState

MIN_TIME = -(2**63)
_TIME = pa.schema([("time", pa.int64())])


class _WithWatermark(Operator):
    """An operator whose lateness decisions depend on a time it keeps as operator state (the
    watermark, or the last time it emitted), so a restored one decides alike."""

    def _open_time(self, ctx: OperatorContext) -> int:
        self._time_state = ctx.register_state("time", OperatorState(_TIME))
        restored = self._time_state.get()
        return min(restored.column(0).to_pylist()) if restored.num_rows else MIN_TIME

    def _snapshot_time(self, time: int) -> None:
        self._time_state.set(pa.table({"time": pa.array([] if time == MIN_TIME else [time],
                                                        pa.int64())}))


def _emit_changes(out: Output, table: pa.Table, kinds: np.ndarray | None,
                  schema: pa.Schema) -> None:
    columns = list(table.columns)
    if kinds is not None:
        columns.append(pa.array(kinds, pa.int8()))
    emit_table(out, pa.Table.from_arrays(columns, schema=schema))


@operator_kind("top_n")
class TopNOp(Operator):
    """``params``: ``partition_keys``, ``order_keys``, ``start``, ``end`` (ranks, from 1) and
    ``output_rank``."""

    name = "Rank"

    def open(self, ctx: OperatorContext, out: Output) -> None:
        from volley.runtime.stream_rank import TopNRanking

        super().open(ctx, out)
        in_schema = self.spec.input_schemas[0]
        self._kinds = row_kind_index(in_schema)
        values = in_schema if self._kinds is None else in_schema.remove(self._kinds)
        p = self.params
        self._ranking = TopNRanking(values, p["partition_keys"], p["order_keys"], p["start"],
                                    p["end"], p["output_rank"], self._kinds is not None,
                                    ctx.max_parallelism)
        for name, state in self._ranking.states().items():
            ctx.register_state(name, state)
        self._ranking.restored()

    def process(self, batch: pa.RecordBatch, port: int) -> None:
        kinds = None
        if self._kinds is not None:
            kinds = batch.column(self._kinds).to_numpy(zero_copy_only=False)
            batch = batch.drop_columns([batch.schema.names[self._kinds]])
        result = self._ranking.update(batch, kinds)
        if result is not None:
            _emit_changes(self.out, result[0], result[1], self.spec.output_schema)


@operator_kind("deduplicate")
class DeduplicateOp(_WithWatermark):
    """``params``: ``partition_keys``, ``time_index``, ``keep_last``, ``rowtime``. Late rows (first
    row by event time) are counted in ``numLateRecordsDropped``."""

    name = "Deduplicate"

    def open(self, ctx: OperatorContext, out: Output) -> None:
        from volley.runtime.stream_dedup import Deduplication

        super().open(ctx, out)
        p = self.params
        schema = self.spec.input_schemas[0]
        keys = [schema.field(k).type for k in p["partition_keys"]] or [pa.int8()]
        waits = p["rowtime"] and not p["keep_last"]
        timers = ctx.timer_service(keys) if waits else None
        self._dedup = Deduplication(schema, p["partition_keys"], p["time_index"], p["keep_last"],
                                    p["rowtime"], ctx.max_parallelism, timers)
        ctx.register_state("partitions", self._dedup.partitions)
        self._dedup.watermark = self._open_time(ctx)
        self._late = ctx.counter("numLateRecordsDropped")

    def process(self, batch: pa.RecordBatch, port: int) -> None:
        before = self._dedup.late_rows
        result = self._dedup.update(batch)
        self._late.inc(self._dedup.late_rows - before)
        if result is not None:
            _emit_changes(self.out, result[0], result[1], self.spec.output_schema)

    def on_watermark(self, timestamp: int) -> int | None:
        self._dedup.watermark = max(self._dedup.watermark, timestamp)
        return timestamp

    def on_timers(self, fired: pa.Table, domain: str = "event") -> None:
        rows = self._dedup.fire(fired)
        if rows is not None:
            emit_table(self.out, rows)

    def prepare_snapshot(self, checkpoint_id: int) -> None:
        self._snapshot_time(self._dedup.watermark)


@operator_kind("temporal_sort")
class TemporalSortOp(_WithWatermark):
    """``params``: ``keys`` (SortKeys: the time attribute, ascending, first) and ``rowtime``.
    By event time, a row waits until the watermark passes it; one not after the last time
    emitted is late, dropped and counted in ``numLateRecordsDropped``."""

    name = "TemporalSort"

    def open(self, ctx: OperatorContext, out: Output) -> None:
        super().open(ctx, out)
        self._keys = self.params["keys"]
        self._time_index = self._keys[0].index
        schema = self.spec.input_schemas[0]
        self._pending = TimeOrderedRows([], schema, ctx.max_parallelism)
        if self.params["rowtime"]:
            ctx.register_state("pending", self._pending)
        self._last = self._open_time(ctx)
        self._late = ctx.counter("numLateRecordsDropped")

    def process(self, batch: pa.RecordBatch, port: int) -> None:
        if not batch.num_rows:
            return
        table = pa.Table.from_batches([batch])
        if not self.params["rowtime"]:
            emit_table(self.out, table.take(sort_indices(table, self._keys)))
            return
        ts = epoch_millis(batch.column(self._time_index))
        on_time = ts > self._last
        if not on_time.all():
            self._late.inc(int((~on_time).sum()))
            table = table.filter(pa.array(on_time))
            ts = ts[on_time]
        self._pending.add([], [c.combine_chunks() for c in table.columns], ts)

    def on_watermark(self, timestamp: int) -> int | None:
        due = self._pending.pop(timestamp)
        if due is not None:
            _, columns, ts = due
            table = pa.Table.from_arrays(columns, schema=self.spec.input_schemas[0])
            emit_table(self.out, table.take(sort_indices(table, self._keys)))
            self._last = max(self._last, int(ts[-1]))
        return timestamp

    def prepare_snapshot(self, checkpoint_id: int) -> None:
        self._snapshot_time(self._last)
