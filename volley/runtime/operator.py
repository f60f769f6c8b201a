"""The operator contract every runner drives (DESIGN.md, "Runtime").

An operator is built from its ``OperatorSpec`` by the registry inside the task that runs it. The
task calls, in this order:

- ``open(ctx, out)`` once: compile expressions, open user functions, create and register state
  through ``ctx`` (state is restored as it is registered, when the task restores a checkpoint);
  rebuild derived caches from it.
- ``process(batch, port)`` per input batch; results leave through ``out.emit(batch)``.
- ``on_watermark(ts)`` when the input watermark advances; returns the watermark to forward (it may
  hold one back), or None to forward nothing. ``on_timers(fired, domain)`` with the timers the
  watermark (event time) or the clock (processing time) passed; results emitted there reach
  downstream before the watermark does.
- ``end_input(port)`` when one input has ended; ``finish()`` once all inputs ended (blocking
  operators emit their results here).
- ``prepare_snapshot(checkpoint_id)`` before the task snapshots the registered state (flush what
  is buffered into it; a sink prepares its commit); ``notify_checkpoint_complete(id)`` once the
  checkpoint is complete everywhere (a sink publishes).
- ``close()`` always, also after a failure.

An operator that registers no state is stateless by contract: nothing of it survives a restart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import pyarrow as pa

if TYPE_CHECKING:
    from volley.physical.job_graph import OperatorSpec
    from volley.state import KeyGroupRange


class Output(Protocol):
    """Where an operator's results go: the next operator of its chain, or the task's outputs."""

    def emit(self, batch: pa.RecordBatch) -> None: ...

    def emit_watermark(self, timestamp: int) -> None: ...


class StateHandle(Protocol):
    """What a registered state object offers the task: its content as Arrow data."""

    def snapshot(self) -> pa.Table: ...


S = TypeVar("S")


class OperatorContext(Protocol):
    """What ``open`` gets from the task (see ``volley.runtime.task.TaskContext``)."""

    subtask_index: int
    parallelism: int
    max_parallelism: int
    key_groups: KeyGroupRange
    job_parameters: Mapping[str, str]
    config: Mapping[str, str]

    def register_state(self, name: str, state: S) -> S: ...

    def open_function(self, function: Any) -> None: ...

    def timer_service(self, key_types: list[pa.DataType],
                      key_group_columns: int | None = None) -> Any: ...

    def counter(self, name: str) -> Any: ...


class Operator:
    """Base of runtime operators; subclasses set ``name`` and override what they need."""

    name = "Operator"

    def __init__(self, spec: OperatorSpec) -> None:
        self.spec = spec
        self.params = spec.params
        self.out: Output = _UNOPENED

    def open(self, ctx: OperatorContext, out: Output) -> None:
        self.out = out

    def process(self, batch: pa.RecordBatch, port: int) -> None:
        raise NotImplementedError

    def on_watermark(self, timestamp: int) -> int | None:
        return timestamp

    def on_timers(self, fired: pa.Table, domain: str = "event") -> None:
        """Timers this operator registered whose time has come: their keys (``k0..``) and
        ``timestamp``, ordered by time; ``domain`` is ``event`` (the watermark passed them) or
        ``processing`` (the clock did)."""

    def end_input(self, port: int) -> None:
        """Input ``port`` has ended."""

    def finish(self) -> None:
        """Every input has ended: emit what is left."""

    def prepare_snapshot(self, checkpoint_id: int) -> None:
        """The registered state is about to be snapshotted: bring it up to date."""

    def notify_checkpoint_complete(self, checkpoint_id: int) -> None:
        """Checkpoint ``checkpoint_id`` is complete in every task."""

    def close(self) -> None:
        """Release resources; called after ``finish`` and after a failure alike."""


class _Unopened:
    def emit(self, batch: pa.RecordBatch) -> None:
        raise RuntimeError("an operator emitted before open()")

    def emit_watermark(self, timestamp: int) -> None:
        raise RuntimeError("an operator emitted before open()")


_UNOPENED = _Unopened()


class BufferingOperator(Operator):
    """Collects every input batch per port; subclasses compute the result in ``finish``.

    Planned in batch mode only, where jobs are not checkpointed; still, the buffered rows are
    declared state (a snapshot holds them, with their port), as the contract asks of everyone.
    """

    def open(self, ctx: OperatorContext, out: Output) -> None:
        from volley.state import OperatorState

        super().open(ctx, out)
        self._buffers: list[list[pa.RecordBatch]] = [[] for _ in self.spec.input_schemas]
        self._checkpointed = ctx.checkpointing  # else no snapshot is ever written: skip them
        self._buffered = ctx.register_state("buffered-input", OperatorState())
        restored = self._buffered.get()
        if restored.num_rows:
            ports = restored.column(_PORT).to_numpy()
            rows = restored.drop_columns([_PORT])
            for port, schema in enumerate(self.spec.input_schemas):
                part = rows.filter(pa.array(ports == port))
                if part.num_rows:
                    columns = [f"p{port}c{i}" for i in range(len(schema))]
                    self._buffers[port] = part.select(columns).rename_columns(schema.names) \
                        .cast(schema).to_batches()

    def prepare_snapshot(self, checkpoint_id: int) -> None:
        if self._checkpointed:
            self._buffered.set(buffered_table(self._buffers, self.spec.input_schemas))

    def process(self, batch: pa.RecordBatch, port: int) -> None:
        if batch.num_rows:
            self._buffers[port].append(batch)

    def table(self, port: int = 0) -> pa.Table:
        return pa.Table.from_batches(self._buffers[port], schema=self.spec.input_schemas[port])

    def release(self) -> None:
        self._buffers = [[] for _ in self.spec.input_schemas]

    def emit_table(self, table: pa.Table, max_rows: int | None = None) -> None:
        emit_table(self.out, table, max_rows)


_PORT = "__port"


def buffered_table(buffers: list[list[pa.RecordBatch]], schemas: tuple[pa.Schema, ...]
                   ) -> pa.Table:
    """Batches buffered per port as one table: each port's columns as ``p<port>c<i>`` (ports
    may differ in schema) and the port of each row."""
    parts = []
    for port, (batches, schema) in enumerate(zip(buffers, schemas, strict=True)):
        table = pa.Table.from_batches(batches, schema=schema)
        names = [f"p{port}c{i}" for i in range(len(schema))]
        table = table.rename_columns(names)
        parts.append(table.append_column(_PORT, pa.array([port] * table.num_rows, pa.int8())))
    if not parts:
        return pa.table({})
    return pa.concat_tables(parts, promote_options="default")


def emit_table(out: Output, table: pa.Table, max_rows: int | None = None) -> None:
    """Emit ``table``'s non-empty batches."""
    for batch in table.to_batches(max_chunksize=max_rows):
        if batch.num_rows:
            out.emit(batch)

