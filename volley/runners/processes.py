"""Parallel subtasks on one machine: one worker process per subtask.

At parallelism above 1 every subtask of every vertex runs the same ``Task`` as at parallelism
1, in a process of its own, so Python code (a general UDF holds the GIL) runs on every core. The
job thread of the client process is the coordinator: it starts the workers, triggers
checkpoints, writes their manifests, hands out collected results and watches for failures.

Channels are pipes. An upstream subtask's writer partitions each batch as its edge says (by the
key group of a stable key hash, round-robin, broadcast, to subtask 0) and sends it as Arrow IPC;
watermarks, barriers and end of input go to every channel. A write blocks when the reader is
behind: that is the backpressure, and since every task reads whichever of its channels has data
(barrier alignment holds elements back in memory, never a channel), a job graph — a DAG — cannot
deadlock. Each worker also has a control pipe to the coordinator.

Workers are forked (on Linux) from the job thread: they inherit the job graph and the user's
functions without shipping them, and start in milliseconds.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection as mpc
import os
import pickle
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from volley.errors import JobCancelledError, JobExecutionError
from volley.physical.job_graph import Broadcast, Edge, Forward, Hash, JobGraph, Rebalance, Single
from volley.runners.attempt import JobRun
from volley.runners.checkpoints import CheckpointCoordinator, CheckpointRestore, write_state_file

FINAL_WITHOUT_CHECKPOINTING = 2**62

# data channel messages: a tag padded to 8 bytes (so the Arrow buffers after it stay aligned),
# then the payload
_TAG = 8
_BATCH, _WATERMARK, _BARRIER, _END, _IDLE = (
    t.ljust(_TAG, b"\0") for t in (b"B", b"W", b"C", b"E", b"I"))


def _context() -> Any:
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    return multiprocessing.get_context(method)


def encode_batch(batch: pa.RecordBatch) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    return _BATCH + sink.getvalue().to_pybytes()


def decode_batch(payload: bytes) -> pa.RecordBatch:
    return pa.ipc.open_stream(pa.py_buffer(payload)[_TAG:]).read_next_batch()


# -- the worker side ------------------------------------------------------------------------------


class ChannelSender:
    """Sends one channel's messages from a thread of its own, up to ``budget_bytes`` ahead of
    the reader: a task does not stop while one of its readers is busy (with one batch in
    flight per channel, a round-robin over busy readers ran them in lockstep), and a reader
    that stays behind still stops it once the budget is spent — that is the backpressure."""

    BUDGET_BYTES = 8 << 20

    def __init__(self, conn: mpc.Connection, budget_bytes: int = BUDGET_BYTES) -> None:
        self.conn = conn
        self.queued_bytes = 0
        self._budget = budget_bytes
        self._queue: deque[bytes | None] = deque()
        self._changed = threading.Condition()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name="volley-channel-sender")
        self._thread.start()

    def send(self, message: bytes) -> None:
        with self._changed:
            while self._queue and self.queued_bytes + len(message) > self._budget \
                    and self._error is None:
                self._changed.wait()
            if self._error is not None:
                raise self._error
            self._queue.append(message)
            self.queued_bytes += len(message)
            self._changed.notify_all()

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._queue:
                    self._changed.wait()
                message = self._queue[0]
            if message is None:
                return
            try:
                self.conn.send_bytes(message)
            except BaseException as error:  # noqa: BLE001 - raised in the task's thread
                with self._changed:
                    self._error = error
                    self._changed.notify_all()
                return
            with self._changed:
                self._queue.popleft()
                self.queued_bytes -= len(message)
                self._changed.notify_all()

    def close(self) -> None:
        """Send what is queued, then stop."""
        with self._changed:
            self._queue.append(None)
            self._changed.notify_all()
        self._thread.join()
        if self._error is not None:
            raise self._error


class ChannelWriter:
    """A task's output in a worker: every out-edge, partitioned as it says."""

    def __init__(self, routes: list[tuple[Edge, list[mpc.Connection]]],
                 max_parallelism: int) -> None:
        self._senders = {id(c): ChannelSender(c) for _, conns in routes for c in conns}
        self._routes = routes
        self._max_parallelism = max_parallelism
        self._next = 0  # round-robin position for rebalance, among the least loaded

    def _send(self, conn: mpc.Connection, message: bytes) -> None:
        self._senders[id(conn)].send(message)

    def _least_loaded(self, conns: list[mpc.Connection]) -> mpc.Connection:
        self._next += 1
        order = conns[self._next % len(conns):] + conns[:self._next % len(conns)]
        return min(order, key=lambda c: self._senders[id(c)].queued_bytes)

    def close(self) -> None:
        for sender in self._senders.values():
            sender.close()

    def emit(self, batch: pa.RecordBatch) -> None:
        message: bytes | None = None
        for edge, conns in self._routes:
            partitioning = edge.partitioning
            if isinstance(partitioning, Hash) and len(conns) > 1:
                for subtask, part in self._by_key_group(batch, partitioning, len(conns)):
                    self._send(conns[subtask], encode_batch(part))
                continue
            if message is None:
                message = encode_batch(batch)
            if isinstance(partitioning, Broadcast):
                for conn in conns:
                    self._send(conn, message)
            elif isinstance(partitioning, Rebalance) and len(conns) > 1:
                self._send(self._least_loaded(conns), message)
            else:  # forward, single, or one target
                self._send(conns[0], message)

    def _by_key_group(self, batch: pa.RecordBatch, hash_: Hash,
                      parallelism: int) -> Iterator[tuple[int, pa.RecordBatch]]:
        from volley.state import key_groups, subtask_of_key_groups

        columns = [batch.column(k) for k in hash_.keys]
        if hash_.types:
            columns = [c if c.type == t else c.cast(t) for c, t in zip(columns, hash_.types,
                                                                        strict=True)]
        groups = key_groups(columns, self._max_parallelism)
        owners = subtask_of_key_groups(groups, parallelism, self._max_parallelism)
        order = np.argsort(owners, kind="stable")
        counts = np.bincount(owners, minlength=parallelism)
        ordered = batch.take(pa.array(order))
        start = 0
        for subtask, count in enumerate(counts):
            if count:
                yield subtask, ordered.slice(start, count)
            start += count

    def _broadcast(self, message: bytes) -> None:
        for _, conns in self._routes:
            for conn in conns:
                self._send(conn, message)

    def emit_watermark(self, timestamp: int) -> None:
        self._broadcast(_WATERMARK + timestamp.to_bytes(8, "little", signed=True))

    def broadcast_barrier(self, checkpoint_id: int) -> None:
        self._broadcast(_BARRIER + checkpoint_id.to_bytes(8, "little", signed=True))

    def emit_idle(self, idle: bool) -> None:
        self._broadcast(_IDLE + (b"\1" if idle else b"\0"))

    def end(self) -> None:
        self._broadcast(_END)


class RemoteCheckpoints:
    """A worker's side of checkpointing: write state files itself, acknowledge to the
    coordinator through the control pipe."""

    def __init__(self, storage: Any, control: mpc.Connection) -> None:
        self._storage, self._control = storage, control

    def write_state(self, checkpoint_id: int, uid: str, name: str, subtask: int,
                    table: pa.Table) -> dict:
        return write_state_file(self._storage, checkpoint_id, uid, name, subtask, table)

    def acknowledge(self, checkpoint_id: int, vertex_id: int, subtask: int,
                    states: list[dict]) -> None:
        self._control.send(("ack", checkpoint_id, vertex_id, subtask, states))


class RemoteResults:
    def __init__(self, control: mpc.Connection) -> None:
        self._control = control

    def put(self, batch: pa.RecordBatch) -> None:
        self._control.send_bytes(encode_batch(batch))

    def put_checkpoint(self, source: str, checkpoint_id: int,
                       batches: list[pa.RecordBatch]) -> None:
        self._control.send(("results", source, checkpoint_id,
                            [encode_batch(b) for b in batches]))


@dataclass
class WorkerPlan:
    """Everything one worker needs (inherited through fork, or pickled for spawn)."""

    graph: JobGraph
    vertex_id: int
    subtask: int
    config: dict[str, str]
    job_parameters: dict[str, str]
    checkpointing: bool
    checkpoint_dir: str | None
    restore: tuple[str, int] | None
    inputs: list[mpc.Connection]  # one per channel, numbered as the task numbers them
    channels_per_port: list[int]
    outputs: list[tuple[Edge, list[mpc.Connection]]]
    control: mpc.Connection
    others: list[mpc.Connection] = field(default_factory=list)  # pipe ends to close


def worker_main(plan: WorkerPlan) -> None:
    """A worker process: run one subtask until the coordinator says it is done."""
    for conn in plan.others:
        conn.close()
    control = plan.control
    task = None
    try:
        task = _build_task(plan, control)
        task.open()
        _serve(task, plan, control)
        task.writer.close()  # everything sent reaches the readers before this worker ends
        counters = task.counters()
        errors = task.close()
        task = None
        if errors:
            raise errors[0]
        control.send(("closed", counters))
    except BaseException as error:  # noqa: BLE001 - reported to the coordinator
        if task is not None:
            task.close()
        _report(control, error)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def _report(control: mpc.Connection, error: BaseException) -> None:
    text = "".join(traceback.format_exception(error))
    try:
        payload = pickle.dumps(error)
    except Exception:  # noqa: BLE001 - not every exception pickles
        payload = None
    try:
        control.send(("error", payload, text))
    except (OSError, ValueError):
        pass


def _build_task(plan: WorkerPlan, control: mpc.Connection) -> Any:
    from volley.runtime.task import Task, TaskInfo

    vertex = plan.graph.vertex(plan.vertex_id)
    storage = None
    if plan.checkpoint_dir is not None:
        from volley.state import CheckpointStorage

        storage = CheckpointStorage(plan.checkpoint_dir)
    restore = None
    if plan.restore is not None:
        from volley.state import CheckpointStorage

        location, checkpoint_id = plan.restore
        restore = CheckpointRestore(CheckpointStorage(location), checkpoint_id)
    info = TaskInfo(plan.subtask, vertex.parallelism, plan.graph.max_parallelism, plan.config,
                    plan.job_parameters, checkpointing=plan.checkpointing, restore=restore,
                    result_channel=RemoteResults(control),
                    channels_per_port=plan.channels_per_port)
    writer = ChannelWriter(plan.outputs, plan.graph.max_parallelism)
    checkpoints = RemoteCheckpoints(storage, control) if storage is not None else None
    return Task(vertex, info, writer, checkpoints)


def _serve(task: Any, plan: WorkerPlan, control: mpc.Connection) -> None:
    """The task loop of a worker: source elements or input channels, and control messages."""
    announced: set[int] = set()

    def checkpoint_if_finished() -> None:
        """A finished task snapshots the checkpoints announced to it: no barrier will come."""
        if task.finished:
            for checkpoint_id in sorted(announced - task.acknowledged):
                task.checkpoint(checkpoint_id)

    def on_control(message: tuple) -> bool:
        """Handle one control message; False when the worker should stop serving."""
        kind = message[0]
        if kind == "trigger":  # a source starts a checkpoint
            if task.finished:
                announced.add(message[1])
                checkpoint_if_finished()
            else:
                task.trigger_checkpoint(message[1])
        elif kind == "announce":
            announced.add(message[1])
            checkpoint_if_finished()
        elif kind == "complete":
            task.notify_checkpoint_complete(message[1])
        elif kind == "prepare":  # the end of a job without checkpointing
            task.checkpoint(message[1], persist=False)
            control.send(("prepared", plan.vertex_id, plan.subtask))
        elif kind == "cancel":
            raise JobCancelledError("the job was cancelled")
        elif kind == "shutdown":
            return False
        return True

    reported_finished = False
    if plan.restore is not None and task.info.restore.final:  # type: ignore[union-attr]
        task.finished = True
    reader = None
    if task.reader is not None and not task.finished:
        from volley.runners.prefetch import InlineSource, SourcePrefetcher

        elements = task.reader.elements()
        reader = InlineSource(elements) if task.vertex.source.in_memory \
            else SourcePrefetcher(elements, task.vertex.name)
    channels = {conn: i for i, conn in enumerate(plan.inputs)}
    from volley.runners.prefetch import NOTHING
    from volley.runners.settings import idle_timeout_ms

    idle_after = idle_timeout_ms(plan.config) / 1000
    last_read = time.monotonic()
    while True:
        if task.finished and not reported_finished:
            control.send(("finished", plan.vertex_id, plan.subtask))
            reported_finished = True
        task.advance_processing_time(int(time.time() * 1000))
        if reader is not None and not task.finished:
            while control.poll():
                if not on_control(control.recv()):
                    reader.close()
                    return
            element = reader.next(0.02)
            if element is NOTHING:
                if idle_after and time.monotonic() - last_read >= idle_after:
                    task.mark_idle(True)
            elif element is None:
                task.end_of_source()
                checkpoint_if_finished()
            else:
                task.source_element(element)
                last_read = time.monotonic()
            continue
        ready = mpc.wait(list(channels) + [control], timeout=0.05)
        for conn in ready:
            if conn is control:
                if not on_control(control.recv()):
                    return
                continue
            try:
                message = conn.recv_bytes()
            except EOFError:  # an upstream worker died: the coordinator will see it
                del channels[conn]
                continue
            _dispatch(task, channels[conn], message)
            if task.finished:
                checkpoint_if_finished()


def _dispatch(task: Any, channel: int, message: bytes) -> None:
    tag = message[:_TAG]
    if tag == _BATCH:
        task.on_batch(channel, decode_batch(message))
    elif tag == _WATERMARK:
        task.on_watermark(channel, int.from_bytes(message[_TAG:], "little", signed=True))
    elif tag == _BARRIER:
        task.on_barrier(channel, int.from_bytes(message[_TAG:], "little", signed=True))
    elif tag == _IDLE:
        task.on_idle(channel, message[_TAG:] == b"\1")
    else:
        task.on_end(channel)


# -- the coordinator side -------------------------------------------------------------------------


def _targets(edge: Edge, up: int, downstream_parallelism: int) -> list[int]:
    """The downstream subtasks subtask ``up`` of the edge's source sends to."""
    if isinstance(edge.partitioning, Forward):
        return [up]
    if isinstance(edge.partitioning, Single):
        return [0]
    return list(range(downstream_parallelism))


class ProcessAttempt:
    """One attempt of a job with parallel subtasks (see the module docstring)."""

    def __init__(self, run: JobRun, restore: CheckpointRestore | None) -> None:
        self.graph, self.settings, self.config = run.graph, run.settings, run.config
        self.job_parameters, self.handle = run.job_parameters, run.handle
        self.coordinator, self.restore = run.coordinator, restore
        self.processes: dict[tuple[int, int], Any] = {}
        self.controls: dict[tuple[int, int], mpc.Connection] = {}
        self._cancelled = False

    def cancel(self) -> None:
        self._cancelled = True

    # -- wiring -----------------------------------------------------------------------------------
    def _plans(self) -> list[WorkerPlan]:
        graph = self.graph
        ctx = _context()
        inputs: dict[tuple[int, int], list[mpc.Connection]] = {}
        ports: dict[tuple[int, int], list[int]] = {}
        outputs: dict[tuple[int, int], list[tuple[Edge, list[mpc.Connection]]]] = {}
        every_end: list[mpc.Connection] = []
        for v in graph.vertices:
            for s in range(v.parallelism):
                inputs[(v.id, s)] = []
                ports[(v.id, s)] = []
                outputs[(v.id, s)] = []
        for v in graph.vertices:
            for edge in graph.inputs_of(v.id):
                up = graph.vertex(edge.source)
                for s in range(v.parallelism):
                    while len(ports[(v.id, s)]) <= edge.port:
                        ports[(v.id, s)].append(0)
                sends: dict[int, list[mpc.Connection]] = {u: [] for u in range(up.parallelism)}
                for u in range(up.parallelism):
                    for d in _targets(edge, u, v.parallelism):
                        reader, writer = ctx.Pipe(duplex=False)
                        every_end += [reader, writer]
                        sends[u].append(writer)
                        inputs[(v.id, d)].append(reader)
                        ports[(v.id, d)][edge.port] += 1
                for u in range(up.parallelism):
                    outputs[(up.id, u)].append((edge, sends[u]))
        restore = None
        if self.restore is not None:
            restore = (self.restore.storage.location, self.restore.checkpoint_id)
        plans = []
        for v in graph.vertices:
            for s in range(v.parallelism):
                mine, theirs = ctx.Pipe(duplex=True)
                every_end += [theirs]
                self.controls[(v.id, s)] = mine
                plans.append(WorkerPlan(
                    graph, v.id, s, self.config, self.job_parameters,
                    self.settings.checkpointing, self.settings.checkpoint_dir
                    if self.settings.checkpointing else None, restore,
                    inputs[(v.id, s)], ports[(v.id, s)], outputs[(v.id, s)], theirs))
        for plan in plans:
            own = set(map(id, plan.inputs)) | {id(plan.control)} | {
                id(c) for _, conns in plan.outputs for c in conns}
            # the coordinator's control ends too: a worker holding one would keep its own
            # control pipe open, and so miss the coordinator's death
            plan.others = [c for c in every_end if id(c) not in own] + list(self.controls.values())
        self._every_end = every_end
        return plans

    def _start(self) -> None:
        from volley.runtime.registry import load_kinds

        ctx = _context()
        plans = self._plans()
        # A forked worker inherits the import locks other threads of this process hold: one
        # that imports a module another thread is importing at the fork waits forever. So the
        # operator modules are imported here first (waiting out any import in progress).
        load_kinds({spec.kind for vertex in self.graph.vertices for spec in vertex.chain})
        sys.stdout.flush()
        sys.stderr.flush()
        for plan in plans:
            process = ctx.Process(target=worker_main, args=(plan,),
                                  name=f"volley-{plan.vertex_id}-{plan.subtask}", daemon=True)
            process.start()
            self.processes[(plan.vertex_id, plan.subtask)] = process
        for conn in self._every_end:  # the workers hold their ends now
            conn.close()

    # -- running ----------------------------------------------------------------------------------
    def steps(self) -> Iterator[None]:
        self.run()
        yield

    def run(self) -> None:
        try:
            self._start()
            self._coordinate()
        finally:
            self._stop()

    def _send(self, task: tuple[int, int], message: tuple) -> None:
        try:
            self.controls[task].send(message)
        except (OSError, ValueError):
            pass  # the worker is gone; its sentinel reports it

    def _coordinate(self) -> None:
        graph, coordinator = self.graph, self.coordinator
        sources = {(v.id, s) for v in graph.vertices if v.is_source
                   for s in range(v.parallelism)}
        finished: set[tuple[int, int]] = set()
        closed: set[tuple[int, int]] = set()
        prepared: set[tuple[int, int]] = set()
        interval = self.settings.checkpoint_interval_ms if coordinator is not None else None
        next_checkpoint = time.monotonic() + interval / 1000 if interval else None
        final_id: int | None = None
        conn_task = {conn: task for task, conn in self.controls.items()}
        sentinels = {p.sentinel: task for task, p in self.processes.items()}
        while len(closed) < len(self.processes):
            if self._cancelled or self.handle.cancel_requested.is_set():
                raise JobCancelledError(f"job {graph.name!r} was cancelled")
            timeout = 0.02 if self.handle.checkpoint_requested.is_set() else 0.2
            if next_checkpoint is not None:
                timeout = max(0.0, min(timeout, next_checkpoint - time.monotonic()))
            ready = mpc.wait(list(conn_task) + list(sentinels), timeout)
            for item in ready:
                if item in sentinels:
                    task = sentinels.pop(item)
                    if task not in closed and not self.controls[task].poll():
                        code = self.processes[task].exitcode
                        raise JobExecutionError(
                            f"worker of subtask {task[1]} of {graph.vertex(task[0]).name!r} "
                            f"died (exit code {code}) before the job finished"
                        )
                    continue
                task = conn_task[item]
                try:
                    message = item.recv_bytes()
                except EOFError:
                    del conn_task[item]
                    if task not in closed:
                        raise JobExecutionError(
                            f"worker of subtask {task[1]} of {graph.vertex(task[0]).name!r} "
                            "stopped before the job finished") from None
                    continue
                if message[:_TAG] == _BATCH:
                    self.handle.publish(decode_batch(message))
                    continue
                event = pickle.loads(message)
                kind = event[0]
                if kind == "error":
                    raise _remote_error(event[1], event[2], graph.vertex(task[0]).name, task[1])
                if kind == "ack":
                    assert coordinator is not None
                    if coordinator.acknowledge(event[1], event[2], event[3], event[4]):
                        for t in self.controls:
                            self._send(t, ("complete", event[1]))
                        if event[1] == final_id:
                            for t in self.controls:
                                self._send(t, ("shutdown",))
                elif kind == "finished":
                    finished.add(task)
                    if len(finished) == len(self.processes):
                        final_id = self._finish(coordinator)
                elif kind == "prepared":
                    prepared.add(task)
                    if len(prepared) == len(self.processes):
                        for t in self.controls:
                            self._send(t, ("complete", FINAL_WITHOUT_CHECKPOINTING))
                            self._send(t, ("shutdown",))
                elif kind == "results":
                    self.handle.publish_checkpoint(event[1], event[2],
                                                   [decode_batch(b) for b in event[3]])
                elif kind == "closed":
                    self.handle.add_counters(event[1])
                    closed.add(task)
            due = next_checkpoint is not None and (
                time.monotonic() >= next_checkpoint or self.handle.checkpoint_requested.is_set())
            if (due and coordinator is not None and not coordinator.in_flight
                    and final_id is None and len(finished) < len(self.processes)):
                self.handle.checkpoint_requested.clear()
                checkpoint_id = coordinator.begin()
                for t in self.controls:
                    running_source = t in sources and t not in finished
                    self._send(t, ("trigger" if running_source else "announce", checkpoint_id))
                next_checkpoint = time.monotonic() + interval / 1000  # type: ignore[operator]

    def _finish(self, coordinator: CheckpointCoordinator | None) -> int | None:
        """Every subtask has finished: the final checkpoint (or final commit)."""
        if coordinator is None:
            for t in self.controls:
                self._send(t, ("prepare", FINAL_WITHOUT_CHECKPOINTING))
            return None
        if coordinator.in_flight:  # a checkpoint the finished tasks are still completing
            coordinator.abort_in_flight()
        checkpoint_id = coordinator.begin(final=True)
        for t in self.controls:
            self._send(t, ("announce", checkpoint_id))
        return checkpoint_id

    def _stop(self) -> None:
        for task, process in self.processes.items():
            if process.is_alive():
                self._send(task, ("cancel",))
        deadline = time.monotonic() + 2.0
        for process in self.processes.values():
            process.join(max(0.0, deadline - time.monotonic()))
        for process in self.processes.values():
            if process.is_alive():
                process.kill()
                process.join()
        for conn in self.controls.values():
            conn.close()


def _remote_error(payload: bytes | None, text: str, vertex: str, subtask: int) -> BaseException:
    """The worker's exception, with the worker's traceback as a note."""
    error: BaseException | None = None
    if payload is not None:
        try:
            error = pickle.loads(payload)
        except Exception:  # noqa: BLE001
            error = None
    if error is None:
        error = JobExecutionError(f"subtask {subtask} of {vertex!r} failed:\n{text}")
    else:
        error.add_note(f"raised in subtask {subtask} of {vertex!r}:\n{text}")
    return error
