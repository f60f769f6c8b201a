"""Driving one operator (or a chain) through the real ``Task`` in a test: batches, watermarks and
end of input in, emitted batches out; checkpoints into memory and restores from them."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from volley.physical.job_graph import OperatorSpec, Vertex
from volley.runtime.task import Task, TaskInfo


class Collector:
    """A task's writer that keeps what the task emits."""

    def __init__(self) -> None:
        self.batches: list[pa.RecordBatch] = []
        self.watermarks: list[int] = []
        self.barriers: list[int] = []
        self.ended = False

    def emit(self, batch: pa.RecordBatch) -> None:
        self.batches.append(batch)

    def emit_watermark(self, timestamp: int) -> None:
        self.watermarks.append(timestamp)

    def broadcast_barrier(self, checkpoint_id: int) -> None:
        self.barriers.append(checkpoint_id)

    def emit_idle(self, idle: bool) -> None:
        self.idle = idle

    def end(self) -> None:
        self.ended = True


class MemoryCheckpoints:
    """Checkpoint storage in a dict, and a restore from it."""

    def __init__(self) -> None:
        self.tables: dict[int, dict[tuple[str, str], list[pa.Table]]] = {}
        self.acks: list[tuple[int, int, int]] = []

    def write_state(self, checkpoint_id: int, uid: str, name: str, subtask: int,
                    table: pa.Table) -> dict:
        self.tables.setdefault(checkpoint_id, {}).setdefault((uid, name), []).append(table)
        return {"uid": uid, "name": name, "subtask": subtask}

    def acknowledge(self, checkpoint_id: int, vertex_id: int, subtask: int,
                    states: list[dict]) -> None:
        self.acks.append((checkpoint_id, vertex_id, subtask))

    def restore(self, checkpoint_id: int) -> Any:
        tables = self.tables.get(checkpoint_id, {})

        class _Restore:
            def tables(self, uid: str, name: str) -> list[pa.Table]:
                return list(tables.get((uid, name), []))

        return _Restore()


class OperatorHarness:
    """One task running ``specs`` as a chain, fed by hand."""

    def __init__(self, *specs: OperatorSpec, config: dict[str, str] | None = None,
                 job_parameters: dict[str, str] | None = None, restore: Any = None,
                 checkpoints: MemoryCheckpoints | None = None, subtask: int = 0,
                 parallelism: int = 1, max_parallelism: int = 128,
                 result_channel: Any = None, checkpointing: bool = False) -> None:
        self.out = Collector()
        self.checkpoints = checkpoints or MemoryCheckpoints()
        vertex = Vertex(0, "test", chain=tuple(specs), parallelism=parallelism)
        info = TaskInfo(subtask, parallelism, max_parallelism, config or {},
                        job_parameters or {}, checkpointing=checkpointing, restore=restore,
                        result_channel=result_channel,
                        channels_per_port=[1] * specs[0].arity)
        self.task = Task(vertex, info, self.out, self.checkpoints)
        self.task.open()

    @property
    def operator(self) -> Any:
        return self.task.operators[0]

    def process(self, batch: pa.RecordBatch, port: int = 0) -> list[pa.RecordBatch]:
        """Feed one batch; return what it made the chain emit."""
        before = len(self.out.batches)
        self.task.on_batch(port, batch)
        return self.out.batches[before:]

    def watermark(self, timestamp: int, port: int = 0) -> None:
        self.task.on_watermark(port, timestamp)

    def end(self) -> list[pa.RecordBatch]:
        before = len(self.out.batches)
        for channel in range(len(self.task.info.channels_per_port)):
            self.task.on_end(channel)
        return self.out.batches[before:]

    def checkpoint(self, checkpoint_id: int) -> Any:
        """Snapshot every registered state; return a restore of it."""
        self.task.checkpoint(checkpoint_id)
        return self.checkpoints.restore(checkpoint_id)

    def close(self) -> None:
        errors = self.task.close()
        if errors:
            raise errors[0]

    def rows(self) -> list[tuple]:
        return [tuple(r.values()) for b in self.out.batches for r in b.to_pylist()]
