"""The local runner's contract: batches, watermarks (minimum over inputs) and end of input."""

from __future__ import annotations

import pyarrow as pa

from volley.physical.job_graph import JobGraph, Vertex
from volley.runners.local import LocalRunner
from volley.runtime.elements import MAX_WATERMARK, Watermark
from volley.runtime.operator import Operator


class Recorder(Operator):
    arity = 2

    def __init__(self) -> None:
        self.events: list[object] = []

    def process(self, batch, port=0):
        self.events.append(("batch", port, batch.num_rows))
        return []

    def on_watermark(self, timestamp):
        self.events.append(("watermark", timestamp))
        return []

    def finish(self):
        self.events.append("finish")
        return []


def _batch(n: int) -> pa.RecordBatch:
    return pa.record_batch([pa.array(range(n))], names=["x"])


def test_watermark_is_the_minimum_over_inputs_and_max_at_end() -> None:
    graph = JobGraph("t")
    a = graph.add(Vertex(0, "a", source=lambda: iter([_batch(2), Watermark(10), Watermark(30)])))
    b = graph.add(Vertex(1, "b", source=lambda: iter([Watermark(20), _batch(1)])))
    rec = Recorder()
    graph.add(Vertex(2, "rec", operator=rec, inputs=[(a.id, 0), (b.id, 1)]))
    LocalRunner(graph).run()
    assert rec.events == [
        ("batch", 0, 2),
        ("watermark", 10),  # b is at 20, a at 10
        ("batch", 1, 1),
        ("watermark", 20),  # a moved to 30, b still 20
        ("watermark", 30),  # b ended: its edge jumps to the maximum; a still 30
        ("watermark", MAX_WATERMARK.timestamp),
        "finish",
    ]
