"""The local runner: drives a job graph in this process.

Sources are read round-robin, one element at a time, and every batch is pushed through the
operators downstream of it before the next one is read. ``steps()`` is a generator that yields
after each source element, so ``collect()`` can hand out results of an unbounded job while it
runs. Watermarks travel with the data: an operator with several inputs sees the minimum of its
inputs' watermarks, and a source that ends advances its edges to the maximum watermark.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from volley.physical.job_graph import JobGraph, Vertex
from volley.runtime.elements import MAX_WATERMARK, CheckpointBarrier, Watermark


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
        try:
            sources = [(v, v.source()) for v in self.graph.vertices if v.is_source]  # type: ignore[misc]
            while sources and not self.cancelled:
                still_running = []
                for vertex, iterator in sources:
                    element = next(iterator, None)
                    if element is None:
                        self._watermark(vertex, MAX_WATERMARK.timestamp)
                        self._end(vertex)
                        continue
                    self._dispatch(vertex, element)
                    still_running.append((vertex, iterator))
                    yield
                sources = still_running
            yield
        finally:
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
