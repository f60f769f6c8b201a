"""Event time: the watermark assigner.

A table with ``WATERMARK FOR ts AS <expr>`` is read through a ``watermark_assigner``: rows pass
unchanged, and after each batch the watermark becomes the largest value of ``<expr>`` seen so
far (a bounded-out-of-orderness watermark when ``<expr>`` is ``ts - INTERVAL ...``). It never
goes back, also across a restore: the largest value is the operator's state. Each parallel
source subtask has its own; the task downstream takes the minimum over its input channels.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from volley.runtime.evaluator import compile_expr
from volley.runtime.operator import Operator, OperatorContext, Output
from volley.runtime.ops_basic import eval_context, open_functions
from volley.runtime.registry import operator_kind

MIN_WATERMARK = -(2**63)
MAX_WATERMARK = 2**63 - 1
_STATE = pa.schema([("watermark", pa.int64())])


def epoch_millis(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Timestamps (any unit, with or without zone) as int64 milliseconds since the epoch, as
    watermarks and timers count time; NULLs are dropped."""
    values = values.drop_null() if values.null_count else values
    unit = values.type.unit
    raw = pc.cast(values, pa.int64()).to_numpy(zero_copy_only=False)
    per_ms = {"s": None, "ms": 1, "us": 1_000, "ns": 1_000_000}[unit]
    if per_ms is None:
        return raw * 1000
    return raw if per_ms == 1 else raw // per_ms


@operator_kind("watermark_assigner")
class WatermarkAssignerOp(Operator):
    """``params``: ``rowtime`` (column index), ``watermark`` (the declared expression)."""

    name = "WatermarkAssigner"

    def open(self, ctx: OperatorContext, out: Output) -> None:
        from volley.state import OperatorState

        super().open(ctx, out)
        watermark = self.params["watermark"]
        self._expr = compile_expr(watermark, eval_context(ctx))
        open_functions(ctx, [watermark])
        self._state = ctx.register_state("watermark", OperatorState(_STATE))
        restored = self._state.get()
        self._current = int(restored.column(0)[0].as_py()) if restored.num_rows else MIN_WATERMARK

    def process(self, batch: pa.RecordBatch, port: int) -> None:
        self.out.emit(batch)
        values = self._expr(batch)
        if isinstance(values, pa.Scalar):
            values = pa.array([values.as_py()], values.type)
        millis = epoch_millis(values)
        if len(millis):
            highest = int(millis.max())
            if highest > self._current:
                self._current = highest
                self.out.emit_watermark(highest)

    def on_watermark(self, timestamp: int) -> int | None:
        # the source's own watermarks are replaced by this one's; the end of its input ends
        # event time too
        return timestamp if timestamp == MAX_WATERMARK else None

    def prepare_snapshot(self, checkpoint_id: int) -> None:
        self._state.set(pa.table({"watermark": pa.array([self._current], pa.int64())}))
