"""Group aggregation: the batch operator (one result at the end) and the streaming one (a
changelog of the groups each batch touched).

Batch mode folds COUNT/SUM/AVG/MIN/MAX over numeric columns into per-group numpy accumulators
as batches arrive (``IncrementalAggregate``: memory per group, not per row); other aggregates
buffer the input and run one Acero hash aggregate at the end. A batch job is not checkpointed
(it restarts from the beginning), so neither keeps declared state.
"""

from __future__ import annotations

import pyarrow as pa

from volley.plan.calls import can_accumulate
from volley.runtime.operator import BufferingOperator, Operator, OperatorContext, Output
from volley.runtime.ops_basic import row_kind_index
from volley.runtime.registry import operator_kind
from volley.state import OperatorState


@operator_kind("aggregate")
class AggregateOp(BufferingOperator):
    """Batch mode. ``params``: ``group_keys``, ``aggs``."""

    name = "HashAggregate"

    def open(self, ctx: OperatorContext, out: Output) -> None:
        from volley.runtime.incremental_aggregate import IncrementalAggregate

        super().open(ctx, out)
        in_schema = self.spec.input_schemas[0]
        keys, aggs = self.params["group_keys"], self.params["aggs"]
        self._incremental = (
            IncrementalAggregate(in_schema, keys, aggs, self.spec.output_schema)
            if can_accumulate(in_schema, aggs) else None
        )
        if self._incremental is not None:
            self._accumulators = ctx.register_state("accumulators", OperatorState())
            restored = self._accumulators.get()
            if restored.num_columns:
                self._incremental.restore(restored)

    def prepare_snapshot(self, checkpoint_id: int) -> None:
        if self._incremental is None:
            super().prepare_snapshot(checkpoint_id)
        elif self._checkpointed:
            self._accumulators.set(self._incremental.snapshot())

    def process(self, batch: pa.RecordBatch, port: int) -> None:
        if self._incremental is None:
            super().process(batch, port)
        else:
            self._incremental.add(batch)

    def finish(self) -> None:
        if self._incremental is not None:
            result = self._incremental.result()
            self._incremental = None
        else:
            from volley.runtime.aggregate import aggregate_table

            result = aggregate_table(self.table(), self.params["group_keys"], self.params["aggs"],
                                     self.spec.output_schema)
            self.release()
        self.emit_table(result)


@operator_kind("group_aggregate")
class GroupAggregateOp(Operator):
    """Streaming group aggregation: for every group a batch touched, ``+I`` (new group),
    ``-U``/``+U`` (old and new result) or ``-D`` (its last row was retracted). Its
    accumulators are declared keyed state. ``params``: ``group_keys``, ``aggs``,
    ``update_before`` (False for an upsert consumer: a changed result is a lone ``+U``)."""

    name = "GroupAggregate"

    def open(self, ctx: OperatorContext, out: Output) -> None:
        from volley.runtime.stream_aggregate import GroupAggregation

        super().open(ctx, out)
        in_schema = self.spec.input_schemas[0]
        out_schema = self.spec.output_schema
        self._kinds = row_kind_index(in_schema)
        if self._kinds is not None:
            in_schema = in_schema.remove(self._kinds)
        out_values = out_schema.remove(row_kind_index(out_schema))
        self._aggregation = GroupAggregation(in_schema, self.params["group_keys"],
                                             self.params["aggs"], out_values,
                                             retracting=self._kinds is not None,
                                             max_parallelism=ctx.max_parallelism,
                                             update_before=self.params.get("update_before", True))
        for name, state in self._aggregation.states().items():
            ctx.register_state(name, state)
        self._aggregation.restored()

    def process(self, batch: pa.RecordBatch, port: int) -> None:
        kinds = None
        if self._kinds is not None:
            kinds = batch.column(self._kinds)
            batch = batch.drop_columns([batch.schema.names[self._kinds]])
        result = self._aggregation.update(batch, kinds)
        if result is not None and result.num_rows:
            self.out.emit(result)

