"""Streaming GROUP BY (``GroupAggregation``) against batch mode's ``IncrementalAggregate``.

    python benchmarks/stream_aggregate.py            # 10M rows, 1M keys: a few minutes
    python benchmarks/stream_aggregate.py --quick    # small sizes: checks the script runs

Prints figures only. Three measurements, all of COUNT(*), SUM(v), AVG(v), MIN(v), MAX(v) over a
float64 column grouped by an int64 key:

1. the whole input (``--rows`` rows, ``--keys`` distinct keys) in batches of 10,000 and 65,536
   rows: total time of ``GroupAggregation.update`` (insert-only) against
   ``IncrementalAggregate.add`` over the same batches plus its final ``result()``;
2. the cost of one 10,000-row batch once the state holds 10k, 100k and 1M groups (its keys drawn
   from the groups already there, so every row updates a group and most emit -U/+U);
3. the same with a retracting input: each batch is half ``-D`` of rows added earlier and half
   new ``+I`` rows (MIN/MAX then keep per-value counts).
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

from volley.plan.calls import AggCall  # noqa: E402
from volley.plan.types import BigIntType, DoubleType  # noqa: E402
from volley.runtime.incremental_aggregate import IncrementalAggregate  # noqa: E402
from volley.runtime.stream_aggregate import GroupAggregation  # noqa: E402

SCHEMA = pa.schema([("k", pa.int64()), ("v", pa.float64())])
AGGS = (
    AggCall("count", None, False, BigIntType(nullable=False), "c"),
    AggCall("sum", 1, False, DoubleType(), "s"),
    AggCall("avg", 1, False, DoubleType(), "a"),
    AggCall("min", 1, False, DoubleType(), "lo"),
    AggCall("max", 1, False, DoubleType(), "hi"),
)
OUT = pa.schema([("k", pa.int64()), ("c", pa.int64()), ("s", pa.float64()), ("a", pa.float64()),
                 ("lo", pa.float64()), ("hi", pa.float64())])


def batches(keys: np.ndarray, values: np.ndarray, size: int) -> list[pa.RecordBatch]:
    return [pa.record_batch([pa.array(keys[i:i + size]), pa.array(values[i:i + size])],
                            schema=SCHEMA) for i in range(0, len(keys), size)]


def whole_input(rows: int, keys: int, size: int, rng: np.random.Generator) -> None:
    data = batches(rng.integers(0, keys, rows), rng.random(rows), size)
    batch_mode = IncrementalAggregate(SCHEMA, (0,), AGGS, OUT)
    start = time.perf_counter()
    for b in data:
        batch_mode.add(b)
    groups = batch_mode.result().num_rows
    incremental = time.perf_counter() - start

    stream = GroupAggregation(SCHEMA, (0,), AGGS, OUT, retracting=False)
    emitted = 0
    start = time.perf_counter()
    for b in data:
        out = stream.update(b, None)
        emitted += 0 if out is None else out.num_rows
    streaming = time.perf_counter() - start
    print(f"  batches of {size:>6,}: IncrementalAggregate.add+result {incremental:6.2f} s   "
          f"GroupAggregation.update {streaming:6.2f} s   ratio {streaming / incremental:4.2f}   "
          f"({groups:,} groups, {emitted:,} changelog rows)")


def filled(groups: int, retracting: bool, rng: np.random.Generator
           ) -> tuple[GroupAggregation, list[pa.RecordBatch]]:
    """An aggregation holding ``groups`` groups (at least two rows each), and its rows."""
    agg = GroupAggregation(SCHEMA, (0,), AGGS, OUT, retracting=retracting)
    more = max(groups, 10_000)
    keys = np.concatenate([np.arange(groups), rng.integers(0, groups, more)])
    held = batches(keys, rng.random(len(keys)), 65_536)
    for b in held:
        agg.update(b, None)
    return agg, held


def per_batch(groups: int, size: int, count: int, retracting: bool,
              rng: np.random.Generator) -> float:
    """Median seconds of one ``size``-row batch into a state of ``groups`` groups."""
    agg, held = filled(groups, retracting, rng)
    pool = pa.Table.from_batches(held)
    times = []
    for i in range(count):
        keys = rng.integers(0, groups, size)
        added = pa.record_batch([pa.array(keys), pa.array(rng.random(size))], schema=SCHEMA)
        if retracting:  # retract rows added earlier: half a batch of -D, half of +I
            half = size // 2
            gone = pool.slice(i * half, half).combine_chunks().to_batches()[0]
            batch = pa.concat_batches([gone, added.slice(0, size - half)])
            kinds = pa.array(np.r_[np.full(half, 3), np.zeros(size - half)].astype(np.int8))
            pool = pa.concat_tables([pool, pa.Table.from_batches([added.slice(0, size - half)])])
        else:
            batch, kinds = added, None
        start = time.perf_counter()
        agg.update(batch, kinds)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the script")
    args = parser.parse_args()
    rows, keys = (200_000, 20_000) if args.quick else (args.rows, args.keys)
    state_sizes = (1_000, 10_000) if args.quick else (10_000, 100_000, 1_000_000)
    rng = np.random.default_rng(42)

    print(f"1. {rows:,} rows, {keys:,} distinct int64 keys, COUNT(*)/SUM/AVG/MIN/MAX(float64)")
    for size in (10_000, 65_536):
        whole_input(rows, keys, size, rng)
    for retracting in (False, True):
        title = "retracting (half -D, half +I)" if retracting else "insert-only"
        print(f"{2 + retracting}. one 10,000-row batch, {title}, median of 30:")
        for groups in state_sizes:
            seconds = per_batch(groups, 10_000, 30, retracting, rng)
            print(f"  {groups:>9,} groups in state: {seconds * 1e3:6.2f} ms per batch")


if __name__ == "__main__":
    main()
