"""The suite's input files, generated once per size under ``benchmarks/data/`` and reused.

Every engine reads the same files, so the figures compare engines, not inputs. Generation is
vectorized (numpy + pyarrow) and written to a temporary name first, so an interrupted run never
leaves a truncated file that a later run would trust.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from pyarrow import csv

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

GROUP_KEYS = 1_000
DIM_CATEGORIES = 100


def _write_once(path: Path, write: Callable[[Path], None]) -> Path:
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    tmp.rename(path)
    return path


def id_v_csv(rows: int, data_dir: Path = DATA_DIR) -> Path:
    """``id BIGINT, v DOUBLE`` rows, v uniform in [0, 1000): the UDF and SQL projection input."""

    def write(tmp: Path) -> None:
        rng = np.random.default_rng(42)
        with csv.CSVWriter(tmp, pa.schema([("id", pa.int64()), ("v", pa.float64())]),
                           write_options=csv.WriteOptions(include_header=False)) as writer:
            for start in range(0, rows, 1_000_000):
                n = min(1_000_000, rows - start)
                writer.write_table(pa.table({
                    "id": np.arange(start, start + n, dtype=np.int64),
                    "v": rng.random(n) * 1000,
                }))

    return _write_once(data_dir / f"id_v_{rows}.csv", write)


def groupby_csv(rows: int, keys: int, data_dir: Path = DATA_DIR) -> Path:
    """``k BIGINT, v DOUBLE`` with ``keys`` distinct keys: the streaming GROUP BY input.

    The keys are shuffled blocks: each run of ``keys`` rows is a fresh permutation of
    ``0 .. keys - 1``, so every key occurs ``rows / keys`` times and a job that has read the
    first ``keys`` rows holds every group (benchmarks/checkpoints.py relies on that).
    """

    def write(tmp: Path) -> None:
        rng = np.random.default_rng(46)
        with csv.CSVWriter(tmp, pa.schema([("k", pa.int64()), ("v", pa.float64())]),
                           write_options=csv.WriteOptions(include_header=False)) as writer:
            for start in range(0, rows, keys):
                n = min(keys, rows - start)
                writer.write_table(pa.table({
                    "k": rng.permutation(keys)[:n].astype(np.int64),
                    "v": np.round(rng.random(n) * 100, 3),
                }))

    return _write_once(data_dir / f"groupby_{rows}_{keys}.csv", write)


def window_csv(rows: int, keys: int, data_dir: Path = DATA_DIR) -> Path:
    """``k BIGINT, v DOUBLE, ts TIMESTAMP(3)``: the tumbling-window input. One row per
    millisecond of event time from 2024-01-01 (a million rows span 1,000 seconds, a hundred
    10-second windows), keys uniform over ``keys``, timestamps in order."""

    def write(tmp: Path) -> None:
        rng = np.random.default_rng(47)
        start = np.datetime64("2024-01-01T00:00:00.000", "ms")
        schema = pa.schema([("k", pa.int64()), ("v", pa.float64()), ("ts", pa.timestamp("ms"))])
        options = csv.WriteOptions(include_header=False, quoting_style="none")
        with csv.CSVWriter(tmp, schema, write_options=options) as writer:
            for first in range(0, rows, 1_000_000):
                n = min(1_000_000, rows - first)
                writer.write_table(pa.table({
                    "k": rng.integers(0, keys, n).astype(np.int64),
                    "v": np.round(rng.random(n) * 100, 3),
                    "ts": pa.array(start + np.arange(first, first + n), pa.timestamp("ms")),
                }, schema=schema))

    return _write_once(data_dir / f"window_{rows}_{keys}.csv", write)


def groupby_parquet(rows: int, data_dir: Path = DATA_DIR) -> Path:
    """``k BIGINT`` (1,000 keys, uniform) and ``v DOUBLE``: the batch aggregation input."""

    def write(tmp: Path) -> None:
        rng = np.random.default_rng(43)
        table = pa.table({
            "k": rng.integers(0, GROUP_KEYS, rows, dtype=np.int64),
            "v": rng.random(rows) * 100,
        })
        pq.write_table(table, tmp, row_group_size=1_000_000)

    return _write_once(data_dir / f"groupby_{rows}.parquet", write)


def join_parquet(fact_rows: int, dim_rows: int, data_dir: Path = DATA_DIR) -> tuple[Path, Path]:
    """A fact table ``(dim_id BIGINT, amount DOUBLE)`` whose every key is in the dimension table
    ``(id BIGINT, category STRING)``; the join + aggregation input."""

    def write_fact(tmp: Path) -> None:
        rng = np.random.default_rng(44)
        table = pa.table({
            "dim_id": rng.integers(0, dim_rows, fact_rows, dtype=np.int64),
            "amount": rng.random(fact_rows) * 100,
        })
        pq.write_table(table, tmp, row_group_size=1_000_000)

    def write_dim(tmp: Path) -> None:
        rng = np.random.default_rng(45)
        ids = rng.permutation(dim_rows).astype(np.int64)
        categories = pa.array([f"category-{i:03d}" for i in range(DIM_CATEGORIES)])
        table = pa.table({
            "id": ids,
            "category": categories.take(rng.integers(0, DIM_CATEGORIES, dim_rows)),
        })
        pq.write_table(table, tmp)

    fact = _write_once(data_dir / f"fact_{fact_rows}_{dim_rows}.parquet", write_fact)
    dim = _write_once(data_dir / f"dim_{dim_rows}.parquet", write_dim)
    return fact, dim


def nexmark_bids(events: int, data_dir: Path = DATA_DIR) -> Path:
    """The bid file of a Nexmark event stream of ``events`` events (see nexmark.py)."""
    from benchmarks.suite import nexmark

    out_dir = data_dir / f"nexmark_{events}"
    done = out_dir / "COMPLETE"
    if not done.exists():
        nexmark.generate(events, out_dir)
        done.write_text("generated\n")
    return out_dir / "bid.csv"
