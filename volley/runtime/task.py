"""The task: one parallel instance of a vertex, the same code in every runner.

A task owns its vertex's chain of operators (and, for a source vertex, the reader of its
splits) and everything between its input channels and that chain:

- watermarks: the input watermark is the minimum over the input channels, an ended channel no
  longer holding it back; each operator may hold the watermark back, and timers it registered
  fire once the watermark passes them;
- checkpoint barriers: aligned per channel — elements that arrive on a channel after its
  barrier wait until every channel has delivered the barrier; then the operators prepare, the
  registered state is written, the runner is told, and the barrier goes downstream;
- end of input: an input port ends when all its channels have; the chain finishes in order.

A runner decides only where elements come from and where the task's output goes (``Writer``):
direct calls at parallelism 1 in one thread, pipes between worker processes, Ray's object store.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import pyarrow as pa

from volley.physical.job_graph import OperatorSpec, Vertex
from volley.runtime.operator import Operator
from volley.runtime.registry import build_operator
from volley.runtime.sources import SourceElement, SourceReader

MIN_WATERMARK = -(2**63)
MAX_WATERMARK = 2**63 - 1


class Writer(Protocol):
    """Where a task's output goes (every out-edge, partitioned as the edge says)."""

    def emit(self, batch: pa.RecordBatch) -> None: ...

    def emit_watermark(self, timestamp: int) -> None: ...

    def broadcast_barrier(self, checkpoint_id: int) -> None: ...

    def emit_idle(self, idle: bool) -> None: ...

    def end(self) -> None: ...


class Restore(Protocol):
    """A checkpoint to restore from: the state tables every subtask of the earlier run wrote."""

    def tables(self, uid: str, name: str) -> list[pa.Table]: ...


class CheckpointSink(Protocol):
    """Where a task writes its state and says it is done (the runner's coordinator)."""

    def write_state(self, checkpoint_id: int, uid: str, name: str, subtask: int,
                    table: pa.Table) -> dict: ...

    def acknowledge(self, checkpoint_id: int, vertex_id: int, subtask: int,
                    states: list[dict]) -> None: ...


@dataclass
class TaskInfo:
    """What a task needs to know of the job beyond its vertex."""

    subtask: int
    parallelism: int
    max_parallelism: int
    config: Mapping[str, str]
    job_parameters: Mapping[str, str]
    checkpointing: bool = False
    restore: Restore | None = None
    result_channel: Any = None
    #: the channels of each input port (channel numbers are 0..n-1 across all ports)
    channels_per_port: list[int] = field(default_factory=list)


class TaskContext:
    """What an operator's ``open`` gets: task info, state registration, functions."""

    def __init__(self, task: Task, spec_uid: str) -> None:
        info = task.info
        self._task, self._uid = task, spec_uid
        self.subtask_index = info.subtask
        self.parallelism = info.parallelism
        self.max_parallelism = info.max_parallelism
        self.job_parameters = info.job_parameters
        self.config = info.config
        self.checkpointing = info.checkpointing
        self.restoring = info.restore is not None
        self.result_channel = info.result_channel
        self.timers: Any = None

    @property
    def key_groups(self) -> Any:
        """The key groups this subtask owns (a ``volley.state.KeyGroupRange``)."""
        from volley.state import key_group_range

        return key_group_range(self.subtask_index, self.parallelism, self.max_parallelism)

    def register_state(self, name: str, state: Any) -> Any:
        """Declare ``state`` (anything with ``snapshot() -> pa.Table``); when the task restores a
        checkpoint, it is filled from it here."""
        self._task.register_state(self._uid, name, state, lambda: self.key_groups)
        return state

    def timer_service(self, key_types: list[pa.DataType],
                      key_group_columns: int | None = None) -> Any:
        """This operator's timers, keyed by columns of ``key_types`` (keyed state; fired after
        watermarks via ``on_timers``); the first ``key_group_columns`` of them (all by default)
        decide a timer's key group."""
        if self.timers is None:
            from volley.state import TimerService

            self.timers = self.register_state("timers", TimerService(
                key_types, max_parallelism=self.max_parallelism,
                key_group_columns=key_group_columns))
        return self.timers

    def open_function(self, function: Any) -> None:
        """Open a user function once per task (the task closes it)."""
        self._task.open_function(function)

    def counter(self, name: str) -> Counter:
        """A counter the job's metrics report as ``<operator uid>.<name>`` (e.g. the late rows a
        window dropped), summed over subtasks."""
        return self._task._counters.setdefault(f"{self._uid}.{name}", Counter())


class Counter:
    """A metric that counts (``inc``)."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0

    def inc(self, n: int = 1) -> None:
        self.count += n


class _Link:
    """The output of operator ``index`` of the chain: the next operator, or the writer."""

    def __init__(self, task: Task, index: int) -> None:
        self._task, self._index = task, index
        self._next: Operator | None = None
        self._last_watermark = MIN_WATERMARK

    def emit(self, batch: pa.RecordBatch) -> None:
        if self._next is not None:
            self._next.process(batch, 0)
        else:
            self._task.writer.emit(batch)

    def emit_watermark(self, timestamp: int) -> None:
        if timestamp <= self._last_watermark:
            return
        self._last_watermark = timestamp
        self._task.advance_watermark(self._index + 1, timestamp)


class Task:
    """One subtask of a vertex; see the module docstring."""

    def __init__(self, vertex: Vertex, info: TaskInfo, writer: Writer,
                 checkpoints: CheckpointSink | None = None,
                 build: Callable[[OperatorSpec], Operator] = build_operator) -> None:
        self.vertex, self.info, self.writer = vertex, info, writer
        self._checkpoints = checkpoints
        self.operators = [build(spec) for spec in vertex.chain]
        self._contexts: list[TaskContext] = []
        self._links: list[_Link] = []
        self._states: list[tuple[str, str, Any]] = []
        self._functions: dict[int, Any] = {}
        self._counters: dict[str, Counter] = {}
        self.reader: SourceReader | None = None
        # input side
        ports = info.channels_per_port
        self._port_of = [p for p, n in enumerate(ports) for _ in range(n)]
        self._open_channels = [n for n in ports]
        self._watermarks = [MIN_WATERMARK] * len(self._port_of)
        self._ended = [False] * len(self._port_of)
        self._idle = [False] * len(self._port_of)
        self.output_idle = False
        self._input_watermark = MIN_WATERMARK
        self._aligning: int | None = None
        self._blocked: set[int] = set()
        self._held: list[tuple[int, str, Any]] = []
        self.finished = False
        self.opened = False
        #: checkpoints this task has written its state for
        self.acknowledged: set[int] = set()

    # -- lifecycle ------------------------------------------------------------------------------
    def open(self) -> None:
        self._links = [_Link(self, i) for i in range(len(self.operators))]
        for link, nxt in zip(self._links, self.operators[1:], strict=False):
            link._next = nxt
        if self.vertex.source is not None:
            self.reader = SourceReader(self.vertex.source, self.info.subtask,
                                       self.info.parallelism)
            self.register_state(self.vertex.source.uid, "positions", self.reader, lambda: None)
        self._contexts = [TaskContext(self, spec.uid) for spec in self.vertex.chain]
        # tail first, so an operator that emits in open() finds its successor ready
        for index in reversed(range(len(self.operators))):
            self.operators[index].open(self._contexts[index], self._links[index])
        self.opened = True

    def register_state(self, uid: str, name: str, state: Any,
                       key_groups: Callable[[], Any]) -> None:
        from volley.state import OperatorState

        if isinstance(state, OperatorState):  # its snapshot says which subtask wrote it
            state.subtask, state.parallelism = self.info.subtask, self.info.parallelism
        self._states.append((uid, name, state))
        restore = self.info.restore
        if restore is None:
            return
        tables = restore.tables(uid, name)
        if not tables:
            return
        if isinstance(state, OperatorState):
            state.restore(tables, self.info.subtask, self.info.parallelism)
        else:
            state.restore(tables, key_groups())

    def open_function(self, function: Any) -> None:
        if id(function) not in self._functions:
            from volley.udf.functions import FunctionContext

            function.open(FunctionContext(dict(self.info.job_parameters)))
            self._functions[id(function)] = function

    def close(self) -> list[BaseException]:
        """Close every operator and user function, even when some fail; return the errors."""
        errors: list[BaseException] = []
        for op in self.operators:
            try:
                op.close()
            except BaseException as error:  # noqa: BLE001 - every operator must be closed
                errors.append(error)
        for function in self._functions.values():
            try:
                function.close()
            except BaseException as error:  # noqa: BLE001
                errors.append(error)
        self._functions.clear()
        return errors

    # -- the head of the chain ------------------------------------------------------------------
    def _deliver(self, batch: pa.RecordBatch, port: int) -> None:
        if self.operators:
            self.operators[0].process(batch, port)
        else:
            self.writer.emit(batch)

    def advance_watermark(self, index: int, timestamp: int) -> None:
        """The watermark reaching operator ``index`` of the chain (or the writer past its end)."""
        if index >= len(self.operators):
            self.writer.emit_watermark(timestamp)
            return
        op, ctx = self.operators[index], self._contexts[index]
        forward = op.on_watermark(timestamp)
        if ctx.timers is not None:
            fired = ctx.timers.advance(timestamp)
            if fired is not None and fired.num_rows:
                op.on_timers(fired, "event")
        if forward is not None:
            self._links[index].emit_watermark(forward)

    def advance_processing_time(self, now_ms: int) -> None:
        """Fire the processing-time timers the clock has passed (the runner calls this as time
        goes by)."""
        for op, ctx in zip(self.operators, self._contexts, strict=True):
            if ctx.timers is None:
                continue
            due = ctx.timers.next_timestamp("processing")
            if due is not None and due <= now_ms:
                fired = ctx.timers.advance(now_ms, "processing")
                if fired is not None and fired.num_rows:
                    op.on_timers(fired, "processing")

    def counters(self) -> dict[str, int]:
        """The operators' counters (``ctx.counter(name)``), by ``<operator uid>.<name>``."""
        return {key: c.count for key, c in self._counters.items()}

    def _end_from(self, index: int) -> None:
        """Operator ``index`` has had all its inputs end: finish it and end the next one."""
        for i in range(index, len(self.operators)):
            if i > index:
                self.operators[i].end_input(0)
            self.operators[i].finish()
        self.writer.end()
        self.finished = True

    # -- source tasks ---------------------------------------------------------------------------
    def source_element(self, element: SourceElement) -> None:
        """Process one element the source reader produced (the runner pulls them)."""
        if element.batch.num_rows:
            if self.output_idle:
                self.mark_idle(False)
            self._deliver(element.batch, 0)
        assert self.reader is not None
        self.reader.advance(element)

    def mark_idle(self, idle: bool) -> None:
        """A source subtask has had nothing to read for ``table.exec.source.idle-timeout`` (or
        has again): downstream tasks stop (or resume) waiting for its watermark."""
        if idle != self.output_idle:
            self.output_idle = idle
            self.writer.emit_idle(idle)

    def end_of_source(self) -> None:
        self.advance_watermark(0, MAX_WATERMARK)
        if self.operators:
            self.operators[0].end_input(0)
        self._end_from(0)

    def trigger_checkpoint(self, checkpoint_id: int) -> None:
        """A source task starts checkpoint ``checkpoint_id``: snapshot, then the barrier."""
        self.checkpoint(checkpoint_id)
        self.writer.broadcast_barrier(checkpoint_id)

    # -- input channels -------------------------------------------------------------------------
    def on_batch(self, channel: int, batch: pa.RecordBatch) -> None:
        if channel in self._blocked:
            self._held.append((channel, "batch", batch))
        elif batch.num_rows:
            if self._idle[channel]:
                self.on_idle(channel, False)
            self._deliver(batch, self._port_of[channel])

    def on_watermark(self, channel: int, timestamp: int) -> None:
        if channel in self._blocked:
            self._held.append((channel, "watermark", timestamp))
            return
        if timestamp > self._watermarks[channel]:
            self._watermarks[channel] = timestamp
            self._update_input_watermark()

    def on_idle(self, channel: int, idle: bool) -> None:
        """An input channel became idle (its watermark no longer holds this task back) or
        active again. When every open input is idle, so is this task's output."""
        if channel in self._blocked:
            self._held.append((channel, "idle", idle))
            return
        self._idle[channel] = idle
        open_channels = [i for i, ended in zip(self._idle, self._ended, strict=True) if not ended]
        self.mark_idle(bool(open_channels) and all(open_channels))
        if not idle:
            return
        self._update_input_watermark()

    def _update_input_watermark(self) -> None:
        live = [w for w, ended, idle in zip(self._watermarks, self._ended, self._idle, strict=True)
                if not ended and not idle]
        if not live and not all(self._ended):
            return  # every open input is idle: event time waits for one to come back
        combined = min(live) if live else MAX_WATERMARK
        if combined > self._input_watermark:
            self._input_watermark = combined
            self.advance_watermark(0, combined)

    def on_barrier(self, channel: int, checkpoint_id: int) -> None:
        if channel in self._blocked:
            self._held.append((channel, "barrier", checkpoint_id))
            return
        if self._aligning is None:
            self._aligning = checkpoint_id
        self._blocked.add(channel)
        self._try_complete_alignment()

    def on_end(self, channel: int, _payload: Any = None) -> None:
        """Channel ``channel`` has ended (``_payload``: nothing; held elements replay with
        one)."""
        if channel in self._blocked:
            self._held.append((channel, "end", None))
            return
        self._ended[channel] = True
        port = self._port_of[channel]
        self._open_channels[port] -= 1
        self._update_input_watermark()
        if self._open_channels[port] == 0 and self.operators:
            self.operators[0].end_input(port)
        if all(self._ended):
            self._end_from(0)
        else:
            self._try_complete_alignment()

    def _try_complete_alignment(self) -> None:
        if self._aligning is None:
            return
        if any(not ended and ch not in self._blocked for ch, ended in enumerate(self._ended)):
            return
        checkpoint_id, self._aligning = self._aligning, None
        self.checkpoint(checkpoint_id)
        self.writer.broadcast_barrier(checkpoint_id)
        self._blocked.clear()
        held, self._held = self._held, []
        for channel, kind, payload in held:
            {"batch": self.on_batch, "watermark": self.on_watermark, "barrier": self.on_barrier,
             "end": self.on_end, "idle": self.on_idle}[kind](channel, payload)

    # -- checkpoints ----------------------------------------------------------------------------
    def checkpoint(self, checkpoint_id: int, persist: bool = True) -> None:
        """Prepare every operator, then (``persist``) write the registered state and tell the
        coordinator. Without ``persist`` (a job without checkpoints, at its end) the operators
        only prepare, so that sinks can commit."""
        for op in self.operators:
            op.prepare_snapshot(checkpoint_id)
        if not persist or self._checkpoints is None:
            return
        files = []
        for uid, name, state in self._states:
            table = state.snapshot()
            if table is not None:
                files.append(self._checkpoints.write_state(checkpoint_id, uid, name,
                                                           self.info.subtask, table))
        self.acknowledged.add(checkpoint_id)
        self._checkpoints.acknowledge(checkpoint_id, self.vertex.id, self.info.subtask, files)

    def notify_checkpoint_complete(self, checkpoint_id: int) -> None:
        for op in self.operators:
            op.notify_checkpoint_complete(checkpoint_id)
