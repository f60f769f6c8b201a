"""The streaming OVER aggregate operator (see ``stream_over`` for what it computes and keeps)."""

from __future__ import annotations

import pyarrow as pa

from volley.runtime.operator import Operator, OperatorContext, Output, emit_table
from volley.runtime.ops_basic import with_row_kinds
from volley.runtime.registry import operator_kind
from volley.runtime.stream_over import MIN_TIME, OverAggregation
from volley.state import OperatorState

_WATERMARK = pa.schema([("watermark", pa.int64())])


@operator_kind("stream_over_aggregate")
class StreamOverAggregateOp(Operator):
    """``params``: ``partition_keys``, ``time_index`` (the ORDER BY time attribute), ``aggs``,
    ``frame`` (an ``OverFrame``) and ``rowtime`` (rows wait for the watermark) or not
    (proctime: rows are emitted as they arrive). Late rows are counted in
    ``numLateRecordsDropped``."""

    name = "OverAggregate"

    def open(self, ctx: OperatorContext, out: Output) -> None:
        super().open(ctx, out)
        p = self.params
        self._over = OverAggregation(self.spec.input_schemas[0], p["partition_keys"],
                                     p["time_index"], p["aggs"], p["frame"],
                                     self.spec.output_schema, p["rowtime"], ctx.max_parallelism)
        for name, state in self._over.states().items():
            ctx.register_state(name, state)
        # the watermark decides which rows are late: a restored operator keeps deciding alike
        self._watermark = ctx.register_state("watermark", OperatorState(_WATERMARK))
        restored = self._watermark.get()
        if restored.num_rows:
            self._over.watermark = min(restored.column(0).to_pylist())
        self._late = ctx.counter("numLateRecordsDropped")

    def process(self, batch: pa.RecordBatch, port: int) -> None:
        before = self._over.late_rows
        result = self._over.add(batch)
        self._late.inc(self._over.late_rows - before)
        if result is not None:
            emit_table(self.out, result)

    def on_watermark(self, timestamp: int) -> int | None:
        result = self._over.advance(timestamp)
        if result is not None:
            emit_table(self.out, result)
        return timestamp

    def prepare_snapshot(self, checkpoint_id: int) -> None:
        watermark = self._over.watermark
        self._watermark.set(pa.table({"watermark": pa.array(
            [] if watermark == MIN_TIME else [watermark], pa.int64())}))


@operator_kind("sorted_over_aggregate")
class SortedOverAggregateOp(Operator):
    """A running OVER window on a stream ordered by a non-time column: an updating result (see
    ``stream_sorted_over``). ``params``: ``partition_keys``, ``order_key``, ``aggs``, ``frame``."""

    name = "OverAggregate"

    def open(self, ctx: OperatorContext, out: Output) -> None:
        from volley.runtime.ops_basic import row_kind_index
        from volley.runtime.stream_sorted_over import SortedOverAggregation

        super().open(ctx, out)
        p = self.params
        out_schema = self.spec.output_schema
        values = out_schema.remove(row_kind_index(out_schema))
        self._over = SortedOverAggregation(self.spec.input_schemas[0], p["partition_keys"],
                                           p["order_key"], p["aggs"], p["frame"], values,
                                           ctx.max_parallelism)
        for name, state in self._over.states().items():
            ctx.register_state(name, state)
        self._over.restored()

    def process(self, batch: pa.RecordBatch, port: int) -> None:
        result = self._over.update(batch)
        if result is None:
            return
        table, kinds = result
        kinds_array = pa.array(kinds, pa.int8())
        for part in table.to_batches():
            self.out.emit(with_row_kinds(part, kinds_array.slice(0, part.num_rows)))
            kinds_array = kinds_array.slice(part.num_rows)
