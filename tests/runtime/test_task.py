"""The task loop's contract: watermarks over input channels (minimum, ended and idle channels
excluded), aligned barriers, end of input, event-time and processing-time timers."""

from __future__ import annotations

import pyarrow as pa
from operator_harness import Collector, MemoryCheckpoints

from volley.physical.job_graph import OperatorSpec, Vertex
from volley.runtime.operator import Operator
from volley.runtime.registry import operator_kind
from volley.runtime.task import MAX_WATERMARK, Task, TaskInfo

SCHEMA = pa.schema([("k", pa.int64())])


@operator_kind("test_recorder")
class Recorder(Operator):
    """Records what reaches it; registers a timer at each batch's key value (as a time)."""

    def open(self, ctx, out):
        super().open(ctx, out)
        self.events: list[object] = []
        self.timers = ctx.timer_service([pa.int64()])

    def process(self, batch, port):
        self.events.append(("batch", port, batch.column(0).to_pylist()))
        keys = batch.column(0)
        self.timers.register([keys], keys.to_numpy(), domain=self.params.get("domain", "event"))
        self.out.emit(batch)

    def on_watermark(self, timestamp):
        self.events.append(("watermark", timestamp))
        return timestamp

    def on_timers(self, fired, domain="event"):
        self.events.append((f"{domain} timers", fired.column("timestamp").to_pylist()))

    def end_input(self, port):
        self.events.append(("end", port))

    def finish(self):
        self.events.append("finish")


def _task(channels_per_port: list[int], **params) -> tuple[Task, Recorder, Collector]:
    spec = OperatorSpec("test_recorder", "rec-0", "rec", params,
                        tuple(SCHEMA for _ in channels_per_port), SCHEMA)
    out = Collector()
    info = TaskInfo(0, 1, 128, {}, {}, channels_per_port=channels_per_port)
    task = Task(Vertex(0, "t", chain=(spec,)), info, out, MemoryCheckpoints())
    task.open()
    return task, task.operators[0], out


def _batch(*keys: int) -> pa.RecordBatch:
    return pa.record_batch([pa.array(keys, pa.int64())], schema=SCHEMA)


def test_the_watermark_is_the_minimum_over_channels_and_the_maximum_once_all_ended():
    task, rec, out = _task([2])
    task.on_watermark(0, 10)
    assert out.watermarks == []  # channel 1 has said nothing yet
    task.on_watermark(1, 20)
    task.on_watermark(0, 30)
    task.on_end(1)  # an ended channel no longer holds the watermark back
    task.on_end(0)
    assert out.watermarks == [10, 20, 30, MAX_WATERMARK]
    assert rec.events[-2:] == [("end", 0), "finish"]
    assert out.ended


def test_an_idle_channel_does_not_hold_event_time_back_until_it_has_data_again():
    task, _rec, out = _task([2])
    task.on_watermark(0, 10)
    task.on_idle(1, True)
    assert out.watermarks == [10]
    task.on_watermark(0, 15)
    assert out.watermarks == [10, 15]
    task.on_batch(1, _batch(1))  # active again: its watermark (none yet) holds time back
    task.on_watermark(0, 40)
    assert out.watermarks == [10, 15]
    task.on_watermark(1, 50)
    assert out.watermarks == [10, 15, 40]


def test_when_every_input_is_idle_the_output_is_idle_too():
    task, _rec, out = _task([2])
    task.on_idle(0, True)
    assert not getattr(out, "idle", False)
    task.on_idle(1, True)
    assert out.idle is True
    task.on_batch(0, _batch(3))
    assert out.idle is False


def test_elements_after_a_barrier_wait_until_every_channel_has_delivered_it():
    task, rec, out = _task([1, 1])
    task.on_barrier(0, 1)
    task.on_batch(0, _batch(1))  # behind the barrier on channel 0: held
    task.on_batch(1, _batch(2))  # channel 1 has not seen the barrier: processed
    assert [e for e in rec.events if e[0] == "batch"] == [("batch", 1, [2])]
    assert out.barriers == []
    task.on_barrier(1, 1)
    assert out.barriers == [1]
    assert task.acknowledged == {1}
    assert [e for e in rec.events if e[0] == "batch"] == [("batch", 1, [2]), ("batch", 0, [1])]


def test_a_channel_that_ends_behind_a_barrier_ends_once_the_barrier_is_aligned():
    task, rec, out = _task([2])
    task.on_barrier(0, 1)
    task.on_end(0)  # held: channel 0 is behind the barrier
    assert "finish" not in rec.events
    task.on_barrier(1, 1)
    task.on_end(1)
    assert out.barriers == [1]
    assert rec.events[-2:] == [("end", 0), "finish"]


def test_event_time_timers_fire_in_order_before_the_watermark_goes_on():
    task, rec, out = _task([1])
    task.on_batch(0, _batch(5, 3, 9))
    task.on_watermark(0, 6)
    assert ("event timers", [3, 5]) in rec.events
    assert out.watermarks == [6]
    task.on_watermark(0, 100)
    assert ("event timers", [9]) in rec.events


def test_processing_time_timers_fire_when_the_clock_passes_them():
    task, rec, _out = _task([1], domain="processing")
    task.on_batch(0, _batch(1_000, 2_000))
    task.advance_processing_time(1_500)
    task.advance_processing_time(2_500)
    assert [e for e in rec.events if e[0] == "processing timers"] == [
        ("processing timers", [1_000]), ("processing timers", [2_000])]
