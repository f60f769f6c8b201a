"""The ends of a job: a connector sink that commits with checkpoints, and the collect sink that
hands results to ``TableResult.collect()``.

Both follow one protocol. Output since the last checkpoint is *pending*: ``prepare_snapshot``
closes it (a filesystem sink's part files, the rows collected so far) and records it in the
operator's declared state under the checkpoint's id; ``notify_checkpoint_complete`` publishes
every pending entry up to that id. A task restored from a checkpoint publishes what that
checkpoint still held pending (it is complete, so its output is due) and discards anything else
a failed attempt left behind. A job without checkpoints gets one final "checkpoint" after its
input ended, so its output appears at the end, all at once — never half of it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pyarrow as pa

from volley.runtime.operator import Operator, OperatorContext, Output
from volley.runtime.registry import operator_kind

_PENDING_SCHEMA = pa.schema([("checkpoint_id", pa.int64()), ("committables", pa.string())])


class PendingCommits:
    """Committables by checkpoint id, as the operator state a sink declares."""

    def __init__(self) -> None:
        from volley.state import OperatorState

        self.state = OperatorState()
        self.pending: dict[int, list[Any]] = {}

    def load(self) -> list[Any]:
        """Everything the restored state held, in checkpoint order (cleared)."""
        table = self.state.get()
        if table.num_rows == 0:
            return []
        restored = []
        for row in sorted(table.to_pylist(), key=lambda r: r["checkpoint_id"]):
            restored.extend(json.loads(row["committables"]))
        return restored

    def add(self, checkpoint_id: int, committables: list[Any]) -> None:
        if committables:
            self.pending[checkpoint_id] = committables
        rows = [{"checkpoint_id": cid, "committables": json.dumps(c)}
                for cid, c in sorted(self.pending.items())]
        self.state.set(pa.Table.from_pylist(rows, schema=_PENDING_SCHEMA))

    def take_until(self, checkpoint_id: int) -> list[Any]:
        due = [cid for cid in sorted(self.pending) if cid <= checkpoint_id]
        return [c for cid in due for c in self.pending.pop(cid)]

    def all(self) -> list[Any]:
        return [c for cid in sorted(self.pending) for c in self.pending[cid]]


@operator_kind("sink")
class SinkOp(Operator):
    """Writes batches into a connector table. ``params``: ``table`` (the ``TableSpec``),
    ``overwrite``. Its pending committables are its state."""

    name = "Sink"

    def open(self, ctx: OperatorContext, out: Output) -> None:
        from volley.connectors import create_sink

        super().open(ctx, out)
        spec = self.params["table"]
        if self.params.get("overwrite"):
            spec = replace(spec, options={**spec.options, "volley.overwrite": "true"})
        self._sink = create_sink(spec)
        self._sink.open(ctx.subtask_index, ctx.parallelism, owner=self.spec.uid)
        self._commits = PendingCommits()
        ctx.register_state("pending-commits", self._commits.state)
        if ctx.restoring:
            self._sink.commit(self._commits.load())
            self._sink.abort(())
        self.rows_written = 0

    def process(self, batch: pa.RecordBatch, port: int) -> None:
        self.rows_written += batch.num_rows
        self._sink.write(batch)

    def finish(self) -> None:
        self._sink.end_input()

    def prepare_snapshot(self, checkpoint_id: int) -> None:
        self._commits.add(checkpoint_id, self._sink.prepare_commit())

    def notify_checkpoint_complete(self, checkpoint_id: int) -> None:
        due = self._commits.take_until(checkpoint_id)
        if due or self.params.get("overwrite"):  # an empty overwrite still empties the table
            self._sink.commit(due)

    def close(self) -> None:
        # Pending entries belong to checkpoints that may yet complete (a restore commits them);
        # whatever else this attempt wrote is discarded.
        self._sink.abort(self._commits.all())


class ResultChannel:
    """Where collect sinks put published result batches, for the job's handle to hand out.
    The runner that owns the job decides what ``put`` does (a list, a pipe to the client).

    ``put_checkpoint(source, checkpoint_id, batches)`` publishes the rows one collect subtask
    (``source``) held for a checkpoint; the client drops a checkpoint's rows it has already
    shown (a subtask restored from that checkpoint offers them again, not knowing whether they
    got out before the failure)."""

    def __init__(self, put: Callable[[pa.RecordBatch], None],
                 put_checkpoint: Callable[[str, int, list[pa.RecordBatch]], None] | None = None
                 ) -> None:
        self.put = put
        self.put_checkpoint = put_checkpoint or (
            lambda source, checkpoint_id, batches: [put(b) for b in batches] and None)


@operator_kind("collect")
class CollectOp(Operator):
    """Hands result batches to the client through the task's result channel. With
    checkpointing, rows are published when the checkpoint covering them completes (a restarted
    job never shows a row twice); without, at once. Pending rows are its state."""

    name = "Collect"

    def open(self, ctx: OperatorContext, out: Output) -> None:
        from volley.state import OperatorState

        super().open(ctx, out)
        self._channel: ResultChannel = ctx.result_channel
        self._exactly_once = ctx.checkpointing
        self._buffer: list[pa.RecordBatch] = []
        self._pending: dict[int, list[pa.RecordBatch]] = {}
        self._source = f"{self.spec.uid}/{ctx.subtask_index}"
        self._schema = self.spec.output_schema
        self._state = ctx.register_state("pending-results", OperatorState())
        restored = self._state.get()
        if ctx.restoring and restored.num_rows:
            ids = restored.column("__checkpoint_id").to_numpy()
            rows = restored.drop_columns(["__checkpoint_id"])
            for cid in sorted(set(ids.tolist())):
                part = rows.filter(pa.array(ids == cid)).cast(self._schema)
                self._channel.put_checkpoint(self._source, int(cid), part.to_batches())

    def process(self, batch: pa.RecordBatch, port: int) -> None:
        if not batch.num_rows:
            return
        batch = _conform(batch, self._schema)
        if self._exactly_once:
            self._buffer.append(batch)
        else:
            self._channel.put(batch)

    def prepare_snapshot(self, checkpoint_id: int) -> None:
        if self._buffer:
            self._pending[checkpoint_id], self._buffer = self._buffer, []
        tables = [pa.Table.from_batches(batches, schema=self._schema)
                  .append_column("__checkpoint_id", pa.array([cid] * sum(b.num_rows for b in
                                                                          batches), pa.int64()))
                  for cid, batches in sorted(self._pending.items())]
        self._state.set(pa.concat_tables(tables) if tables else pa.table({}))

    def notify_checkpoint_complete(self, checkpoint_id: int) -> None:
        for cid in sorted(self._pending):
            if cid <= checkpoint_id:
                self._channel.put_checkpoint(self._source, cid, self._pending.pop(cid))


def _conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """Cast to ``schema``'s types (a row kind column rides along by name)."""
    if batch.schema.equals(schema):
        return batch
    columns = [c if c.type == f.type else c.cast(f.type, safe=False)
               for c, f in zip(batch.columns, schema, strict=True)]
    return pa.RecordBatch.from_arrays(columns, schema=schema)
