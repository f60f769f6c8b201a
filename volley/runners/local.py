"""The local runner: a job graph in this process — or, at parallelism above 1, in worker
processes of this machine (``volley.runners.processes``).

At parallelism 1 every task runs on one job thread, in a deterministic schedule: sources are
read round-robin, one element at a time, and each element is pushed through every task
downstream of it (direct calls; each task does its own watermark, barrier and end-of-input
bookkeeping) before the next is read. File sources read ahead in threads of their own.

``submit`` returns a ``JobHandle`` at once. The job thread runs attempts: an attempt that fails
is retried from the last complete checkpoint (or from the beginning, without one) while the
restart strategy allows, and otherwise ends the job with the user's error.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

import pyarrow as pa

from volley.errors import CheckpointError, JobCancelledError
from volley.physical.job_graph import JobGraph
from volley.runners.attempt import JobRun
from volley.runners.checkpoints import CheckpointCoordinator, CheckpointRestore
from volley.runners.job import JobHandle, JobStatus
from volley.runners.prefetch import NOTHING, InlineSource, SourcePrefetcher
from volley.runners.settings import JobSettings, idle_timeout_ms
from volley.runtime.ops_sinks import ResultChannel
from volley.runtime.task import Task, TaskInfo

#: the id of the "checkpoint" a job without checkpointing takes at its end, so sinks commit
FINAL_WITHOUT_CHECKPOINTING = 2**62


class DirectWriter:
    """A task's output at parallelism 1: calls into the downstream tasks."""

    def __init__(self) -> None:
        self.targets: list[tuple[Task, int]] = []

    def emit(self, batch: pa.RecordBatch) -> None:
        for task, channel in self.targets:
            task.on_batch(channel, batch)

    def emit_watermark(self, timestamp: int) -> None:
        for task, channel in self.targets:
            task.on_watermark(channel, timestamp)

    def broadcast_barrier(self, checkpoint_id: int) -> None:
        for task, channel in self.targets:
            task.on_barrier(channel, checkpoint_id)

    def emit_idle(self, idle: bool) -> None:
        for task, channel in self.targets:
            task.on_idle(channel, idle)

    def end(self) -> None:
        for task, channel in self.targets:
            task.on_end(channel)


def open_storage(settings: JobSettings) -> Any:
    if settings.checkpoint_dir is None:
        return None
    from volley.state import CheckpointStorage

    return CheckpointStorage(settings.checkpoint_dir)


def initial_restore(settings: JobSettings) -> CheckpointRestore | None:
    """The checkpoint ``execution.state-recovery.path`` names: one checkpoint, or the latest
    complete one under a checkpoints directory (None, with a notice, when none completed)."""
    if settings.restore_path is None:
        return None
    from volley.state import resolve_restore_path

    resolved = resolve_restore_path(settings.restore_path)
    if resolved is None:
        import sys

        print(f"volley: no complete checkpoint under {settings.restore_path!r} yet; the job "
              "starts from the beginning", file=sys.stderr)
        return None
    storage, checkpoint_id = resolved
    import sys

    print(f"volley: restoring from checkpoint {storage.checkpoint_location(checkpoint_id)}",
          file=sys.stderr)
    return CheckpointRestore(storage, checkpoint_id)


class LocalRunner:
    """Runs job graphs on this machine. ``config`` is the job's configuration (Flink keys)."""

    def submit(self, graph: JobGraph, settings: JobSettings, config: Mapping[str, str],
               job_parameters: Mapping[str, str] | None = None,
               driven: bool = False) -> JobHandle:
        """Start the job and return its handle at once: on a thread of its own, or — with
        ``driven``, at parallelism 1 — advanced by the client as it reads results."""
        handle = JobHandle(graph.name)
        handle.checkpointing = settings.checkpointing
        parallel = any(v.parallelism > 1 for v in graph.vertices)
        if parallel:
            from volley.runners.processes import ProcessAttempt as Attempt
        else:
            Attempt = ThreadAttempt  # noqa: N806 - a class chosen at run time
        job = _Job(graph, settings, dict(config), dict(job_parameters or {}), handle, Attempt)
        handle.on_cancel(job.cancel)
        handle.set_status(JobStatus.RUNNING)
        if driven and not parallel:
            handle.drive(job.steps())
            return handle
        thread = threading.Thread(target=job.run, name=f"volley-job-{graph.name}",
                                  daemon=driven)
        thread.start()
        return handle


class _Job:
    """The attempts of one job and its restart strategy."""

    def __init__(self, graph: JobGraph, settings: JobSettings, config: dict[str, str],
                 job_parameters: dict[str, str], handle: JobHandle, attempt_class: Any) -> None:
        self.graph, self.settings, self.config = graph, settings, config
        self.job_parameters, self.handle = job_parameters, handle
        self.attempt_class = attempt_class
        self.attempt: Any = None

    def cancel(self) -> None:
        attempt = self.attempt
        if attempt is not None:
            attempt.cancel()

    def run(self) -> None:
        for _ in self.steps():
            pass

    def steps(self) -> Iterator[None]:
        """The job, one source element at a time (see ``JobHandle.drive``)."""
        handle, settings = self.handle, self.settings
        try:
            storage = open_storage(settings) if settings.checkpointing else None
            restore = initial_restore(settings)
            if restore is not None:
                restore.check_fits(self.graph)
        except BaseException as error:  # noqa: BLE001 - reported through the handle
            handle.finish(JobStatus.FAILED, error)
            return
        restarts_left = settings.restart_attempts
        first_id = (restore.checkpoint_id + 1) if restore is not None else 1
        if storage is not None and storage.latest_complete() is not None:
            first_id = max(first_id, storage.latest_complete() + 1)
        coordinator = CheckpointCoordinator(self.graph, storage, settings.checkpoints_retained,
                                            first_id) if storage is not None else None
        if coordinator is not None:
            handle.completed_checkpoints = coordinator.completed  # the same list, kept current
        while True:
            run = JobRun(self.graph, settings, self.config, self.job_parameters, handle,
                         coordinator)
            self.attempt = self.attempt_class(run, restore)
            try:
                yield from self.attempt.steps()
            except JobCancelledError as error:
                handle.finish(JobStatus.CANCELED, error)
                return
            except BaseException as error:  # noqa: BLE001 - the job's end, reported to the client
                if handle.cancel_requested.is_set():
                    handle.finish(JobStatus.CANCELED, JobCancelledError(
                        f"job {self.graph.name!r} was cancelled"))
                    return
                if restarts_left <= 0:
                    handle.finish(JobStatus.FAILED, error)
                    return
                restarts_left -= 1
                handle.set_status(JobStatus.RESTARTING)
                handle.metrics["restarts"] = handle.metrics.get("restarts", 0) + 1
                time.sleep(settings.restart_delay_ms / 1000)
                if coordinator is not None:
                    coordinator.abort_in_flight()
                latest = storage.latest_complete() if storage is not None else None
                if latest is not None:
                    restore = CheckpointRestore(storage, latest)
                handle.set_status(JobStatus.RUNNING)
                continue
            finally:
                if coordinator is not None:
                    handle.metrics["checkpoints"] = list(coordinator.stats)
            handle.finish(JobStatus.FINISHED)
            return


class ThreadAttempt:
    """One attempt of a parallelism-1 job on the job thread (see the module docstring)."""

    def __init__(self, run: JobRun, restore: CheckpointRestore | None) -> None:
        graph, settings, handle = run.graph, run.settings, run.handle
        self.graph, self.settings, self.handle = graph, settings, handle
        self.config = run.config
        self.coordinator, self.restore = run.coordinator, restore
        config, job_parameters, coordinator = run.config, run.job_parameters, run.coordinator
        self._cancelled = threading.Event()
        results = ResultChannel(handle.publish, handle.publish_checkpoint)
        writers = {v.id: DirectWriter() for v in graph.vertices}
        self.tasks: dict[int, Task] = {}
        for vertex in graph.vertices:
            edges = graph.inputs_of(vertex.id)
            ports = [0] * max((e.port + 1 for e in edges), default=0)
            for e in edges:
                ports[e.port] += 1
            info = TaskInfo(0, 1, graph.max_parallelism, config, job_parameters,
                            checkpointing=settings.checkpointing, restore=restore,
                            result_channel=results, channels_per_port=ports)
            self.tasks[vertex.id] = Task(vertex, info, writers[vertex.id], coordinator)
        for vertex in graph.vertices:
            edges = graph.inputs_of(vertex.id)
            channel_of = _channels(edges)
            for e in edges:
                writers[e.source].targets.append((self.tasks[vertex.id], channel_of[e]))

    def cancel(self) -> None:
        self._cancelled.set()

    def run(self) -> None:
        for _ in self.steps():
            pass

    def steps(self) -> Iterator[None]:
        readers: list[Any] = []
        failed = True
        try:
            for vertex in reversed(self.graph.vertices):
                self.tasks[vertex.id].open()
            if self.restore is not None and self.restore.final:
                failed = False
                return  # the job had finished: restoring published what its sinks held
            sources = []
            for vertex in self.graph.sources():
                task = self.tasks[vertex.id]
                assert task.reader is not None
                elements = task.reader.elements()
                reader = InlineSource(elements) if vertex.source.in_memory \
                    else SourcePrefetcher(elements, vertex.name)
                readers.append(reader)
                sources.append((task, reader))
            yield from self._pump(sources)
            self._finish()
            failed = False
        finally:
            for reader in readers:
                reader.close()
            for task in self.tasks.values():
                self.handle.add_counters(task.counters())
            errors = [e for task in self.tasks.values() for e in task.close()]
            if errors and not failed:
                raise errors[0]

    def _pump(self, sources: list[tuple[Task, Any]]) -> Iterator[None]:
        """Sources round-robin, an element at a time. A source with nothing to read yet (an
        unbounded stream) does not stop the others; after ``table.exec.source.idle-timeout``
        without data it is marked idle. Between rounds, processing time advances and
        checkpoints are taken when due."""
        interval = self.settings.checkpoint_interval_ms if self.coordinator else None
        next_checkpoint = time.monotonic() + interval / 1000 if interval else None
        idle_after = idle_timeout_ms(self.config) / 1000
        last_read = {id(task): time.monotonic() for task, _ in sources}
        while sources:
            running, progressed = [], False
            for task, reader in sources:
                if self._cancelled.is_set() or self.handle.cancel_requested.is_set():
                    raise JobCancelledError(f"job {self.graph.name!r} was cancelled")
                element = reader.next(0)
                if element is NOTHING:
                    running.append((task, reader))
                    if idle_after and time.monotonic() - last_read[id(task)] >= idle_after:
                        task.mark_idle(True)
                    continue
                if element is None:
                    task.end_of_source()
                    progressed = True
                    continue
                task.source_element(element)
                last_read[id(task)] = time.monotonic()
                running.append((task, reader))
                progressed = True
                yield
            sources = running
            if not progressed and sources:
                element = sources[0][1].next(0.02)  # wait a little for the first source
                if element is not NOTHING:
                    sources[0][1].push_back(element)
                yield
            now = int(time.time() * 1000)
            for task in self.tasks.values():
                task.advance_processing_time(now)
            requested = self.handle.checkpoint_requested.is_set()
            if next_checkpoint is not None and sources and (
                    requested or time.monotonic() >= next_checkpoint):
                self.handle.checkpoint_requested.clear()
                self.checkpoint([task for task, _ in sources])
                next_checkpoint = time.monotonic() + interval / 1000

    def checkpoint(self, running_sources: list[Task], final: bool = False) -> int:
        """Take a checkpoint: finished tasks snapshot at once, running sources inject the
        barrier (which reaches every running task through the direct calls); once all have
        acknowledged, the manifest is written and every task is told."""
        coordinator = self.coordinator
        assert coordinator is not None
        checkpoint_id = coordinator.begin(final)
        for task in self.tasks.values():
            if task.finished:
                task.checkpoint(checkpoint_id)
        for task in running_sources:
            task.trigger_checkpoint(checkpoint_id)
        if checkpoint_id in coordinator.in_flight:
            raise CheckpointError(f"checkpoint {checkpoint_id} did not reach every task")
        for task in self.tasks.values():
            task.notify_checkpoint_complete(checkpoint_id)
        return checkpoint_id

    def _finish(self) -> None:
        """Every input ended: a final checkpoint (or, without checkpointing, a final commit)."""
        if self.coordinator is not None:
            self.checkpoint([], final=True)
            return
        for task in self.tasks.values():
            task.checkpoint(FINAL_WITHOUT_CHECKPOINTING, persist=False)
        for task in self.tasks.values():
            task.notify_checkpoint_complete(FINAL_WITHOUT_CHECKPOINTING)


def _channels(edges: list[Any]) -> dict[Any, int]:
    """Channel numbers of a parallelism-1 task's in-edges: one per edge, ordered by port."""
    return {e: i for i, e in enumerate(edges)}
