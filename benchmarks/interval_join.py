"""The interval join operator (``interval_join``) on its own, through the real task loop.

    python benchmarks/interval_join.py            # 2 x 2M rows: about a minute
    python benchmarks/interval_join.py --quick    # small sizes: checks the script runs

Prints figures only. ``a JOIN b ON a.k = b.k AND a.ts BETWEEN b.ts - 1 min AND b.ts + 1 min``
(inner, then left outer), both inputs one row per millisecond of event time on average with a
few seconds of disorder, ``--keys`` keys, batches of 10,000 rows alternating between the inputs,
each followed by a watermark 5 s behind the input's time:

1. the whole stream: rows/s, matches, and the rows kept in state at the end (bounded by the
   window, however long the stream);
2. the cost of one 10,000-row batch once the state holds 150k, 1M and 4M rows of the other
   input (no watermark, so nothing expires), probing its last minutes: what a batch costs
   should not grow with the state, only with the matches;
3. the cost of a watermark that expires 100k rows out of a state of 1M.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from volley.physical.job_graph import OperatorSpec, Vertex  # noqa: E402
from volley.runtime.task import Task, TaskInfo  # noqa: E402

SCHEMA = pa.schema([("k", pa.int64()), ("ts", pa.timestamp("ms")), ("v", pa.float64())])
OUT = pa.schema([("k", pa.int64()), ("ts", pa.timestamp("ms")), ("v", pa.float64()),
                 ("k0", pa.int64()), ("ts0", pa.timestamp("ms")), ("v0", pa.float64())])
START = 1_700_000_000_000
MINUTE = 60_000


class Count:
    """A task's writer that only counts what comes out."""

    def __init__(self) -> None:
        self.rows = 0

    def emit(self, batch: pa.RecordBatch) -> None:
        self.rows += batch.num_rows

    def emit_watermark(self, timestamp: int) -> None:
        pass

    def broadcast_barrier(self, checkpoint_id: int) -> None:
        pass

    def emit_idle(self, idle: bool) -> None:
        pass

    def end(self) -> None:
        pass


def task(kind: str) -> tuple[Task, Count]:
    params = {"kind": kind, "left_keys": (0,), "right_keys": (0,), "residual": None,
              "time_kind": "rowtime", "left_time": 1, "right_time": 1,
              "lower": -MINUTE, "upper": MINUTE}
    spec = OperatorSpec("interval_join", "ij", "IntervalJoin", params, (SCHEMA, SCHEMA), OUT)
    out = Count()
    t = Task(Vertex(0, "ij", chain=(spec,), parallelism=1),
             TaskInfo(0, 1, 128, {}, {}, channels_per_port=[1, 1]), out)
    t.open()
    return t, out


def batch(rng: np.random.Generator, keys: int, times: np.ndarray) -> pa.RecordBatch:
    return pa.record_batch([pa.array(rng.integers(0, keys, len(times))),
                            pa.array(times).cast(pa.timestamp("ms")),
                            pa.array(rng.random(len(times)))], schema=SCHEMA)


def stream(rows: int, keys: int, kind: str, size: int, rng: np.random.Generator) -> None:
    times = [START + np.sort(np.arange(rows) + rng.integers(-3000, 3000, rows)) for _ in range(2)]
    data = [[batch(rng, keys, t[i:i + size]) for i in range(0, rows, size)] for t in times]
    t, out = task(kind)
    started = time.perf_counter()
    highest = [START, START]
    for i in range(len(data[0])):
        for port in (0, 1):
            t.on_batch(port, data[port][i])
            highest[port] = int(times[port][min((i + 1) * size, rows) - 1])
            t.on_watermark(port, highest[port] - 5000)
    kept = sum(side.live_count() for side in t.operators[0]._sides)
    t.on_end(0)
    t.on_end(1)
    elapsed = time.perf_counter() - started
    print(f"  {kind:5s}: {2 * rows:,} rows in {elapsed:.2f} s = {2 * rows / elapsed:,.0f} rows/s; "
          f"{out.rows:,} rows out; {kept:,} rows in state before the end")


def batch_cost(state_rows: int, keys: int, size: int, rng: np.random.Generator
               ) -> tuple[float, int]:
    """One row per millisecond kept (the stream's density, no expiry), probed by rows in its
    last two minutes: the same matches per probe whatever the state's length."""
    t, out = task("inner")
    times = START + np.arange(state_rows)
    for i in range(0, state_rows, 65_536):
        t.on_batch(1, batch(rng, keys, times[i:i + 65_536]))
    end = START + state_rows
    probes = [batch(rng, keys, end - rng.integers(MINUTE, 2 * MINUTE, size)) for _ in range(7)]
    costs = []
    before = out.rows
    for probe in probes:
        started = time.perf_counter()
        t.on_batch(0, probe)
        costs.append(time.perf_counter() - started)
    return statistics.median(costs[2:]), (out.rows - before) // len(probes)


def expiry_cost(state_rows: int, keys: int, rng: np.random.Generator) -> float:
    t, _ = task("left")
    times = START + np.arange(state_rows) * 10
    for i in range(0, state_rows, 65_536):
        t.on_batch(0, batch(rng, keys, times[i:i + 65_536]))
    started = time.perf_counter()
    # left rows expire once the watermark reaches t + 1 min + 1: the first tenth of them
    t.on_watermark(0, int(times[state_rows // 10]) + MINUTE + 1)
    t.on_watermark(1, int(times[state_rows // 10]) + MINUTE + 1)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000, help="rows per input")
    parser.add_argument("--keys", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rows, keys = (20_000, 1000) if args.quick else (args.rows, args.keys)
    rng = np.random.default_rng(0)
    print(f"1. the whole stream ({keys:,} keys, batches of 10,000, watermark 5 s behind):")
    for kind in ("inner", "left"):
        stream(rows, keys, kind, 10_000, rng)
    print("2. one 10,000-row batch against a state of n rows of the other input:")
    for n in ([150_000, 300_000] if args.quick else [150_000, 1_000_000, 4_000_000]):
        cost, matches = batch_cost(n, keys, 10_000, rng)
        print(f"  n = {n:>9,}: {cost * 1000:7.2f} ms ({matches:,} matches per batch)")
    n = 100_000 if args.quick else 1_000_000
    print(f"3. a watermark expiring {n // 10:,} of {n:,} kept rows (padding them, left join): "
          f"{expiry_cost(n, keys, rng) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
