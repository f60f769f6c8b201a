"""The local runner: drives a job graph in this process.

Sources are read round-robin, one element at a time, and every batch is pushed through the
operators downstream of it before the next one is read. Each source runs a few elements ahead in
a thread of its own (``SourcePrefetcher``): reading and decoding (pyarrow, which releases the GIL)
overlap with the operators' work on the second core, while the order of elements stays exactly
the one the sources produce and operators and UDFs still run on the caller's thread.

``steps()`` is a generator that yields after each source element, so ``collect()`` can hand out
results of an unbounded job while it runs. Watermarks travel with the data: an operator with
several inputs sees the minimum of its inputs' watermarks, and a source that ends advances its
edges to the maximum watermark.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from volley.physical.job_graph import JobGraph, Vertex
from volley.runtime.elements import MAX_WATERMARK, CheckpointBarrier, Watermark


class SourcePrefetcher:
    """Pulls a source iterator in a daemon thread, up to ``budget_bytes`` of batches ahead of
    the runner (always at least one element).

    The budget is in bytes, not elements, because sources may decode in units much larger than
    the batches they yield (a CSV block, a JSON file), and sliced batches of one such unit hold
    all of it. With a budget of a few elements such a reader could not start on its next unit
    until the runner had consumed nearly all of the current one, and decoding and the
    operators' work took turns instead of overlapping.

    ``next()`` returns the source's next element, None at its end, and re-raises (in the
    runner's thread, with its original traceback) an exception the source raised. ``close()``
    stops the thread at its next hand-over, so a cancelled or abandoned job does not leave a
    reader running.
    """

    _END = object()
    BUDGET_BYTES = 32 << 20

    def __init__(self, iterator: Iterator[Any], name: str,
                 budget_bytes: int = BUDGET_BYTES) -> None:
        self._iterator = iterator
        self._budget = budget_bytes
        self._items: deque[tuple[Any, int]] = deque()
        self._bytes = 0
        self._stopped = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._pull, name=f"volley-source-{name}",
                                        daemon=True)
        self._thread.start()

    def _pull(self) -> None:
        try:
            for element in self._iterator:
                if not self._hand_over(element):
                    return
            self._hand_over(self._END)
        except BaseException as error:  # noqa: BLE001 - handed to the runner's thread
            self._hand_over(error)

    def _hand_over(self, item: Any) -> bool:
        size = item.nbytes if isinstance(item, pa.RecordBatch) else 0
        with self._changed:
            while self._items and self._bytes + size > self._budget and not self._stopped:
                self._changed.wait()
            if self._stopped:
                return False
            self._items.append((item, size))
            self._bytes += size
            self._changed.notify_all()
        return True

    def next(self) -> Any:
        with self._changed:
            while not self._items:
                self._changed.wait()
            item, size = self._items.popleft()
            self._bytes -= size
            self._changed.notify_all()
        if item is self._END:
            return None
        if isinstance(item, BaseException):
            raise item
        return item

    def close(self) -> None:
        with self._changed:
            self._stopped = True
            self._changed.notify_all()


class InlineSource:
    """``SourcePrefetcher``'s interface over batches already in memory, pulled in the runner's
    thread: a thread to read ahead would only add its start and a hand-over per batch."""

    def __init__(self, iterator: Iterator[Any]) -> None:
        self._iterator = iterator

    def next(self) -> Any:
        return next(self._iterator, None)

    def close(self) -> None:
        pass


class RunContext:
    def __init__(self, job_parameters: dict[str, str] | None = None) -> None:
        self.job_parameters = job_parameters or {}


class LocalRunner:
    def __init__(self, graph: JobGraph, context: RunContext | None = None) -> None:
        self.graph = graph
        self.context = context or RunContext()
        self._by_id = {v.id: v for v in graph.vertices}
        self._down = graph.downstream()
        self._pending_inputs = {v.id: len(v.inputs) for v in graph.vertices}
        # per vertex: the latest watermark of each input port, and what it last emitted
        self._input_watermarks = {v.id: [None] * len(v.inputs) for v in graph.vertices}
        self._current_watermark: dict[int, int] = {}
        self.cancelled = False

    def run(self) -> None:
        for _ in self.steps():
            pass

    def steps(self) -> Iterator[None]:
        operators = [v for v in self.graph.vertices if v.operator is not None]
        for v in operators:
            v.operator.open(self.context)  # type: ignore[union-attr]
        prefetchers: list[SourcePrefetcher | InlineSource] = []
        try:
            sources = []
            for v in self.graph.vertices:
                if v.is_source:
                    batches = v.source()  # type: ignore[misc]
                    prefetcher = InlineSource(batches) if v.in_memory \
                        else SourcePrefetcher(batches, str(v.id))
                    prefetchers.append(prefetcher)
                    sources.append((v, prefetcher))
            while sources and not self.cancelled:
                still_running = []
                for vertex, prefetcher in sources:
                    element = prefetcher.next()
                    if element is None:
                        self._watermark(vertex, MAX_WATERMARK.timestamp)
                        self._end(vertex)
                        continue
                    self._dispatch(vertex, element)
                    still_running.append((vertex, prefetcher))
                    yield
                sources = still_running
            yield
        finally:
            for prefetcher in prefetchers:
                prefetcher.close()
            for v in operators:
                v.operator.close()  # type: ignore[union-attr]

    def _dispatch(self, vertex: Vertex, element: Any) -> None:
        if isinstance(element, pa.RecordBatch):
            if element.num_rows:
                self._emit(vertex, [element])
        elif isinstance(element, Watermark):
            self._watermark(vertex, element.timestamp)
        elif isinstance(element, CheckpointBarrier):
            pass  # checkpoints are taken by runners that persist state; the local runner does not
        else:
            raise TypeError(f"a source yielded {type(element).__name__}; expected a RecordBatch")

    def _emit(self, vertex: Vertex, batches: list[pa.RecordBatch]) -> None:
        for down_id, port in self._down[vertex.id]:
            down = self._by_id[down_id]
            op: Any = down.operator
            for batch in batches:
                out = op.process(batch, port)
                if out:
                    self._emit(down, out)

    def _watermark(self, vertex: Vertex, timestamp: int) -> None:
        if self._current_watermark.get(vertex.id, -(2**63)) >= timestamp:
            return
        self._current_watermark[vertex.id] = timestamp
        for down_id, port in self._down[vertex.id]:
            marks = self._input_watermarks[down_id]
            marks[port] = timestamp
            if any(m is None for m in marks):
                continue
            combined = min(marks)  # type: ignore[type-var]
            down = self._by_id[down_id]
            out = down.operator.on_watermark(combined)  # type: ignore[union-attr]
            if out:
                self._emit(down, out)
            self._watermark(down, combined)

    def _end(self, vertex: Vertex) -> None:
        for down_id, port in self._down[vertex.id]:
            down = self._by_id[down_id]
            op: Any = down.operator
            out = op.end_input(port)
            if out:
                self._emit(down, out)
            self._pending_inputs[down_id] -= 1
            if self._pending_inputs[down_id] == 0:
                out = op.finish()
                if out:
                    self._emit(down, out)
                self._end(down)
