"""OVER aggregates in batch mode: SUM/COUNT/AVG/MIN/MAX over a partition or a running frame.

Rows are sorted by partition and order keys once; then, per aggregate, either the whole
partition's value is broadcast to its rows, or a running value (``UNBOUNDED PRECEDING`` to the
current row; with RANGE, peers share the value of their last peer) is computed with cumulative
numpy/pandas kernels that restart at each partition.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from volley.plan.calls import AggCall, SortKey
from volley.runtime.aggregate import finalize
from volley.runtime.sort import _run_starts, sort_indices


def over_table(table: pa.Table, partition_keys: tuple[int, ...], order_keys: tuple[SortKey, ...],
               aggs: tuple[AggCall, ...], frame: str, out: pa.Schema) -> pa.Table:
    keys = tuple(SortKey(k) for k in partition_keys) + order_keys
    ordered = table.take(sort_indices(table, keys)) if keys else table
    n = ordered.num_rows
    part_id = np.cumsum(_run_starts(ordered, partition_keys, n)) - 1
    if frame == "partition":
        last_in_frame = _last_of_run(part_id)
    elif frame == "range":
        peers = _run_starts(ordered, partition_keys + tuple(k.index for k in order_keys), n)
        last_in_frame = _last_of_run(np.cumsum(peers) - 1)
    else:  # rows
        last_in_frame = np.arange(n)
    columns = list(ordered.columns)
    for agg in aggs:
        values = running(ordered.column(agg.arg) if agg.arg is not None else None, agg.fn, part_id, n)
        columns.append(finalize(values.take(pa.array(last_in_frame)), agg))
    return pa.Table.from_arrays(columns, schema=out)


def _last_of_run(run_id: np.ndarray) -> np.ndarray:
    """For each row, the index of the last row with the same (contiguous) run id."""
    if len(run_id) == 0:
        return run_id
    ends = np.flatnonzero(np.append(run_id[1:] != run_id[:-1], True))
    return ends[run_id]  # run ids count up from 0, one per run


def running(column: pa.ChunkedArray | None, fn: str, part_id: np.ndarray, n: int) -> pa.Array:
    """The aggregate over each partition's rows up to and including each row."""
    import pandas as pd
    if column is None:  # COUNT(*)
        return pa.array(pd.Series(np.ones(n, dtype=np.int64)).groupby(part_id).cumsum().to_numpy())
    series = column.to_pandas()
    valid = series.notna()
    counts = valid.astype(np.int64).groupby(part_id).cumsum()
    if fn == "count":
        return pa.array(counts.to_numpy())
    if fn in ("sum", "avg"):
        sums = series.fillna(0).groupby(part_id).cumsum()
        result = sums / counts if fn == "avg" else sums
        return pa.array(result.to_numpy(), mask=(counts == 0).to_numpy(), from_pandas=True)
    grouped = series.groupby(part_id)
    result = grouped.cummin() if fn == "min" else grouped.cummax()
    # pandas leaves NULL rows NULL; the running value carries over them
    result = result.groupby(part_id).ffill()
    return pa.array(result.to_numpy(), type=column.type, from_pandas=True) if not pc.all(
        pc.is_null(column)).as_py() else pa.nulls(n, column.type)
