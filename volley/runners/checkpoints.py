"""Checkpoint coordination, shared by every runner.

The coordinator numbers checkpoints, collects each task's acknowledgement (the state files it
wrote), and when every task has acknowledged writes the manifest — last, so a checkpoint exists
only once all of it does — then keeps the configured number of newest checkpoints. It also turns
a checkpoint back into what tasks restore from (``CheckpointRestore``).

The manifest lists, per operator uid and state name, the files every subtask wrote; a restore at
another parallelism reads them all and keeps what its key groups or splits own. A *final*
checkpoint is taken after the job's input ended; restoring one only publishes what it holds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from volley.errors import CheckpointError
from volley.physical.job_graph import JobGraph

FORMAT_VERSION = 1


@dataclass
class _InFlight:
    expected: set[tuple[int, int]]
    final: bool
    started: float
    states: list[dict] = field(default_factory=list)
    acked: set[tuple[int, int]] = field(default_factory=set)


def write_state_file(storage: Any, checkpoint_id: int, uid: str, name: str, subtask: int,
                     table: pa.Table) -> dict:
    """Write one subtask's table of one declared state; return its entry in the manifest."""
    written = storage.write_table(checkpoint_id, f"{uid}/{name}-{subtask}.arrow", table)
    return {"uid": uid, "name": name, "subtask": subtask, "path": written.path,
            "bytes": written.bytes, "rows": written.rows}


class CheckpointCoordinator:
    """Checkpoints of one job into ``storage`` (a ``volley.state.CheckpointStorage``)."""

    def __init__(self, graph: JobGraph, storage: Any, retained: int = 1,
                 first_id: int = 1) -> None:
        self.graph = graph
        self.storage = storage
        self.retained = retained
        self.next_id = first_id
        self.in_flight: dict[int, _InFlight] = {}
        self.completed: list[int] = []
        self.stats: list[dict] = []

    def tasks(self) -> set[tuple[int, int]]:
        return {(v.id, s) for v in self.graph.vertices for s in range(v.parallelism)}

    def begin(self, final: bool = False) -> int:
        checkpoint_id = self.next_id
        self.next_id += 1
        self.in_flight[checkpoint_id] = _InFlight(self.tasks(), final, time.monotonic())
        return checkpoint_id

    def write_state(self, checkpoint_id: int, uid: str, name: str, subtask: int,
                    table: pa.Table) -> dict:
        return write_state_file(self.storage, checkpoint_id, uid, name, subtask, table)

    def acknowledge(self, checkpoint_id: int, vertex_id: int, subtask: int,
                    states: list[dict]) -> bool:
        """Record a task's acknowledgement; True when this completed the checkpoint (its
        manifest is written: the runner then notifies every task)."""
        flight = self.in_flight.get(checkpoint_id)
        if flight is None:
            return False
        flight.acked.add((vertex_id, subtask))
        flight.states.extend(states)
        if flight.acked >= flight.expected:
            self._complete(checkpoint_id, flight)
            return True
        return False

    def _complete(self, checkpoint_id: int, flight: _InFlight) -> None:
        del self.in_flight[checkpoint_id]
        manifest = {
            "format": FORMAT_VERSION,
            "checkpoint_id": checkpoint_id,
            "job": self.graph.name,
            "final": flight.final,
            "parallelism": {str(v.id): v.parallelism for v in self.graph.vertices},
            "operators": sorted({uid for v in self.graph.vertices for uid in v.uids}),
            "states": sorted(flight.states, key=lambda s: (s["uid"], s["name"], s["subtask"])),
            "created": time.time(),
        }
        self.storage.write_manifest(checkpoint_id, manifest)
        self.completed.append(checkpoint_id)
        self.stats.append({
            "checkpoint_id": checkpoint_id,
            "duration_s": time.monotonic() - flight.started,
            "bytes": sum(s["bytes"] for s in flight.states),
            "final": flight.final,
        })
        self.storage.retain(self.retained)

    def abort_in_flight(self) -> None:
        for checkpoint_id in list(self.in_flight):
            del self.in_flight[checkpoint_id]
            self.storage.discard(checkpoint_id)


class CheckpointRestore:
    """A complete checkpoint, as tasks restore from it: state tables by operator and name."""

    def __init__(self, storage: Any, checkpoint_id: int) -> None:
        self.storage = storage
        self.checkpoint_id = checkpoint_id
        self.manifest = storage.read_manifest(checkpoint_id)
        self._files: dict[tuple[str, str], list[str]] = {}
        for state in self.manifest["states"]:
            self._files.setdefault((state["uid"], state["name"]), []).append(state["path"])

    @property
    def final(self) -> bool:
        return bool(self.manifest.get("final"))

    def tables(self, uid: str, name: str) -> list[pa.Table]:
        return [self.storage.read_table(self.checkpoint_id, path)
                for path in self._files.get((uid, name), [])]

    def check_fits(self, graph: JobGraph) -> None:
        """The checkpoint's operators must be this job's: a restore into another query would
        silently start its state from nothing."""
        ours = {uid for v in graph.vertices for uid in v.uids}
        stateful = {s["uid"] for s in self.manifest["states"]}
        missing = sorted(stateful - ours)
        if missing:
            raise CheckpointError(
                f"checkpoint {self.checkpoint_id} holds state of operators this job does not "
                f"have ({', '.join(missing)}); expected a checkpoint of the same query; restore "
                "it with the program that wrote it"
            )
