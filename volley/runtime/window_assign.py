"""Which windows a row falls in, for a batch of rows at once (TUMBLE, HOP, CUMULATE).

``assign(window, times)`` gives, for each (row, window) pair, the row's index and the window's
start and end (int64 epoch milliseconds): a TUMBLE row is in one window, a HOP row in
``ceil(size / slide)`` at most (the latest start first, as Flink lists them), a CUMULATE row in
every window of its cycle that ends after it (the earliest end first). Windows are aligned to
the epoch plus ``offset``. SESSION windows depend on the other rows of a key: see
``volley.runtime.sessions``.
"""

from __future__ import annotations

import time

import numpy as np
import pyarrow as pa

from volley.errors import JobExecutionError
from volley.plan.calls import WindowSpec
from volley.runtime.ops_time import epoch_millis


def now_millis() -> int:
    """The processing-time clock windows follow (tests replace it)."""
    return int(time.time() * 1000)


def row_times(window: WindowSpec, batch: pa.RecordBatch, column_name: str,
              clock=None) -> np.ndarray:
    """Each row's time in epoch milliseconds: its time attribute, or the clock for processing
    time. A NULL event time is an error, as in Flink."""
    if window.proctime:
        return np.full(batch.num_rows, (clock or now_millis)(), dtype=np.int64)
    column = batch.column(window.time_col)
    if column.null_count:
        raise JobExecutionError(
            f"the time attribute {column_name!r} is NULL in a row; a window needs a time for "
            f"every row; filter such rows out first (WHERE {column_name} IS NOT NULL)"
        )
    return epoch_millis(column)


def assign(window: WindowSpec, times: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row index, window start, window end) of every window each row falls in."""
    if window.kind == "tumble":
        starts = _floor(times, window.size, window.offset)
        return np.arange(len(times), dtype=np.int64), starts, starts + window.size
    if window.kind == "hop":
        count = -(-window.size // window.slide)
        last = _floor(times, window.slide, window.offset)
        starts = last[:, None] - window.slide * np.arange(count, dtype=np.int64)[None, :]
        keep = starts + window.size > times[:, None]
        rows = np.broadcast_to(np.arange(len(times), dtype=np.int64)[:, None], keep.shape)
        return rows[keep], starts[keep], starts[keep] + window.size
    if window.kind == "cumulate":
        count = window.size // window.slide
        cycle = _floor(times, window.size, window.offset)
        ends = cycle[:, None] + window.slide * np.arange(1, count + 1, dtype=np.int64)[None, :]
        keep = ends > times[:, None]
        rows = np.broadcast_to(np.arange(len(times), dtype=np.int64)[:, None], keep.shape)
        starts = np.broadcast_to(cycle[:, None], keep.shape)
        return rows[keep], starts[keep], ends[keep]
    raise ValueError(f"windows of kind {window.kind!r} are not assigned row by row")


def _floor(times: np.ndarray, size: int, offset: int) -> np.ndarray:
    """The window start at or before each time: Flink's ``getWindowStartWithOffset``."""
    return times - (times - offset) % size
