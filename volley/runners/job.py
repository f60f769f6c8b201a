"""A submitted job as its client sees it: status, results, wait, cancel.

A runner starts the job and returns a ``JobHandle`` at once. The job's collect sinks put result
batches into the handle's bounded queue (the job waits when the client does not keep up), and
the job's end — finished, failed with the user's error, or cancelled — is recorded once.

A job may instead be *driven* by its client (``drive``): nothing runs until results are asked
for, and then the job advances on the client's own thread, one source element at a time, until
a result is there. Queries at parallelism 1 run this way: no thread to start or hand over to,
and a breakpoint in a UDF stops the user's own thread.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa

from volley.common.job_status import JobStatus
from volley.errors import JobCancelledError

__all__ = ["JobHandle", "JobStatus"]


_END = object()


class JobHandle:
    """One running (or ended) job. ``results()`` yields collected batches as they are
    published; ``wait`` returns when the job ended and raises its error."""

    RESULT_QUEUE_BATCHES = 16

    def __init__(self, name: str = "job") -> None:
        self.job_id = uuid.uuid4().hex
        self.name = name
        self._status = JobStatus.CREATED
        self._error: BaseException | None = None
        self._done = threading.Event()
        self._results: queue.Queue[Any] = queue.Queue(self.RESULT_QUEUE_BATCHES)
        self._cancel: Callable[[], None] | None = None
        self.cancel_requested = threading.Event()
        self.metrics: dict[str, Any] = {}
        self.completed_checkpoints: list[int] = []
        self.checkpoint_requested = threading.Event()
        self._released: dict[str, int] = {}  # collect subtask -> last checkpoint published
        self.checkpointing = False
        self._driver: Iterator[None] | None = None
        self._pulled: deque[pa.RecordBatch] = deque()
        self._peeked: deque[Any] = deque()  # taken off the queue by wait_for_result

    def drive(self, steps: Iterator[None]) -> None:
        """Run the job on the client's thread: ``steps`` advances it (see the module doc)."""
        self._driver = steps

    def _advance(self) -> bool:
        """One step of a driven job; False once it has ended."""
        assert self._driver is not None
        try:
            next(self._driver)
            return True
        except StopIteration:
            return False

    # -- the runner's side --------------------------------------------------------------------
    def set_status(self, status: JobStatus) -> None:
        self._status = status

    def publish(self, batch: pa.RecordBatch) -> None:
        """A collect sink's output (blocks while the client is this far behind, unless the
        job is being cancelled)."""
        if self._driver is not None:
            self._pulled.append(batch)
            return
        while not self.cancel_requested.is_set():
            try:
                self._results.put(batch, timeout=0.1)
                return
            except queue.Full:
                continue
        raise JobCancelledError(f"job {self.name!r} was cancelled")

    def add_counters(self, counters: dict[str, int]) -> None:
        """Operators' counters (e.g. late rows dropped), summed over subtasks and attempts, in
        ``metrics["counters"]`` by ``<operator uid>.<name>``."""
        total = self.metrics.setdefault("counters", {})
        for key, value in counters.items():
            total[key] = total.get(key, 0) + value

    def publish_checkpoint(self, source: str, checkpoint_id: int,
                           batches: list[pa.RecordBatch]) -> None:
        """The rows collect subtask ``source`` held for checkpoint ``checkpoint_id``, unless
        they were published already (a subtask restored from that checkpoint offers them
        again)."""
        if checkpoint_id <= self._released.get(source, 0):
            return
        for batch in batches:
            self.publish(batch)
        self._released[source] = checkpoint_id

    def finish(self, status: JobStatus, error: BaseException | None = None) -> None:
        self._status, self._error = status, error
        self._done.set()
        if self._driver is not None:
            return
        while True:  # the end marker must reach a client blocked on the queue
            try:
                self._results.put(_END, timeout=0.05)
                return
            except queue.Full:
                if self.cancel_requested.is_set():
                    self._drain()

    def _drain(self) -> None:
        while True:
            try:
                self._results.get_nowait()
            except queue.Empty:
                return

    def on_cancel(self, cancel: Callable[[], None]) -> None:
        self._cancel = cancel

    # -- the client's side --------------------------------------------------------------------
    def status(self) -> JobStatus:
        return self._status

    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> None:
        """Block until the job ended; raise its error (the user's, with its traceback), or
        ``TimeoutError`` when ``timeout`` seconds passed first."""
        if self._driver is not None:
            deadline = None if timeout is None else time.monotonic() + timeout
            while not self._done.is_set() and self._advance():
                self._pulled.clear()  # nobody asked for them: wait() only waits
                if deadline is not None and time.monotonic() >= deadline:
                    break
        try:
            finished = self._done.wait(timeout)
        except KeyboardInterrupt:  # Ctrl-C while waiting stops the job too
            self.cancel()
            raise
        if not finished:
            raise TimeoutError(f"job {self.name!r} did not finish within {timeout} s")
        if self._error is not None:
            raise self._error

    def wait_for_result(self, timeout: float | None = None) -> bool:
        """Block until a result batch can be read or the job ended (True), or ``timeout``
        seconds passed first (False); nothing is consumed. A job that ended with an error
        raises it."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if self._driver is not None:
            while not self._pulled and not self._done.is_set():
                if not self._advance():
                    break
                if deadline is not None and time.monotonic() >= deadline:
                    return bool(self._pulled) or self._done.is_set()
        elif not self._peeked:
            try:
                self._peeked.append(self._results.get(timeout=timeout))
            except queue.Empty:
                return False
        if self._done.is_set() and not self._ready() and self._error is not None \
                and not isinstance(self._error, JobCancelledError):
            raise self._error
        return True

    def _ready(self) -> bool:
        """Whether a result batch (not the end marker) waits to be read."""
        if self._driver is not None:
            return bool(self._pulled)
        return bool(self._peeked) and self._peeked[0] is not _END

    def cancel(self) -> None:
        if self._done.is_set():
            return
        self.cancel_requested.set()
        self._status = JobStatus.CANCELLING
        if self._cancel is not None:
            self._cancel()
        if self._driver is not None:  # the next step sees the request and ends the job
            while self._advance():
                pass

    def trigger_checkpoint(self, timeout: float | None = None) -> int:
        """Take a checkpoint now (besides the periodic ones) and return its id once it is
        complete. The job must be checkpointed (``execution.checkpointing.dir`` and an
        interval)."""
        from volley.errors import ConfigurationError

        if not self.checkpointing:
            raise ConfigurationError(
                "cannot trigger a checkpoint: the job takes none; set "
                "'execution.checkpointing.interval' and 'execution.checkpointing.dir'"
            )
        done_before = len(self.completed_checkpoints)
        self.checkpoint_requested.set()
        deadline = None if timeout is None else time.monotonic() + timeout
        while len(self.completed_checkpoints) <= done_before:
            if self._done.is_set():
                raise JobCancelledError(f"job {self.name!r} ended before the checkpoint")
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"no checkpoint of job {self.name!r} within {timeout} s")
            if self._driver is not None:
                if not self._advance():
                    continue
            else:
                time.sleep(0.005)
        return self.completed_checkpoints[-1]

    def results(self) -> Iterator[pa.RecordBatch]:
        """Collected batches until the job ends; then the job's error, if any, is raised."""
        if self._driver is not None:
            yield from self._driven_results()
            return
        while True:
            item = self._peeked.popleft() if self._peeked else self._results.get()
            if item is _END:
                if self._error is not None and not isinstance(self._error, JobCancelledError):
                    raise self._error
                return
            yield item

    def _driven_results(self) -> Iterator[pa.RecordBatch]:
        while True:
            while self._pulled:
                yield self._pulled.popleft()
            if self._done.is_set() or not self._advance():
                break
        while self._pulled:
            yield self._pulled.popleft()
        if self._error is not None and not isinstance(self._error, JobCancelledError):
            raise self._error
