"""The operator contract every runner drives.

Operators are push-based and see only ``pyarrow.RecordBatch``:
``process(batch, port)`` returns the batches to emit downstream; ``on_watermark(ts)`` lets
event-time operators fire; ``end_input(port)`` says one input ended; ``finish()`` is called once
all inputs ended and returns the last batches (blocking operators emit everything here);
``snapshot()``/``restore()`` carry state as Arrow-friendly data for checkpoints.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

Batches = list[pa.RecordBatch]


class Operator:
    name = "Operator"
    #: number of input ports (1 for most, 2 for joins and set operations)
    arity = 1

    def open(self, context: Any) -> None:
        """Called once before the first element."""

    def process(self, batch: pa.RecordBatch, port: int = 0) -> Batches:
        raise NotImplementedError

    def on_watermark(self, timestamp: int) -> Batches:
        return []

    def end_input(self, port: int = 0) -> Batches:
        return []

    def finish(self) -> Batches:
        return []

    def close(self) -> None:
        """Release resources; called after finish or on failure."""

    def snapshot(self) -> dict[str, Any]:
        return {}

    def restore(self, state: dict[str, Any]) -> None:
        if state:
            raise NotImplementedError(f"{self.name} keeps no state to restore")


class BufferingOperator(Operator):
    """Collects every input batch per port; subclasses compute the result in ``finish``."""

    def __init__(self, schemas: list[pa.Schema]) -> None:
        self._schemas = schemas
        self._buffers: list[list[pa.RecordBatch]] = [[] for _ in schemas]

    def process(self, batch: pa.RecordBatch, port: int = 0) -> Batches:
        if batch.num_rows:
            self._buffers[port].append(batch)
        return []

    def table(self, port: int = 0) -> pa.Table:
        return pa.Table.from_batches(self._buffers[port], schema=self._schemas[port])

    def release(self) -> None:
        self._buffers = [[] for _ in self._schemas]


def to_batches(table: pa.Table, max_rows: int | None = None) -> Batches:
    return [b for b in table.to_batches(max_chunksize=max_rows) if b.num_rows]
