"""OVER aggregates in batch mode: COUNT/SUM/AVG/MIN/MAX over any ROWS or RANGE frame.

Rows are sorted by partition and order keys once (stably: ties keep their input order); every
row's frame becomes a range of positions (``over_frames.frame_bounds``) and each aggregate is
computed over all ranges at once (``over_frames.frame_aggregate``).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from volley.plan.calls import AggCall, OverFrame, SortKey
from volley.runtime.over_frames import frame_aggregate, frame_bounds, order_values
from volley.runtime.sort import _run_starts, sort_indices


def over_table(table: pa.Table, partition_keys: tuple[int, ...], order_keys: tuple[SortKey, ...],
               aggs: tuple[AggCall, ...], frame: OverFrame, out: pa.Schema) -> pa.Table:
    keys = tuple(SortKey(k) for k in partition_keys) + order_keys
    ordered = table.take(sort_indices(table, keys)) if keys else table
    ordered = ordered.combine_chunks()
    n = ordered.num_rows
    part_id = np.cumsum(_run_starts(ordered, partition_keys, n)) - 1
    peer_id = None
    order = None
    if frame.mode == "range":
        peers = _run_starts(ordered, partition_keys + tuple(k.index for k in order_keys), n)
        peer_id = np.cumsum(peers) - 1
        if frame.start not in (None, 0) or frame.end not in (None, 0):
            key = order_keys[0]
            order = order_values(ordered.column(key.index), key.ascending,
                                 key.effective_nulls_first)
    lo, hi = frame_bounds(frame, part_id, peer_id, order)
    columns = list(ordered.columns)
    for agg, field in zip(aggs, list(out)[len(columns):], strict=True):
        arg = ordered.column(agg.arg).combine_chunks() if agg.arg is not None else None
        columns.append(frame_aggregate(agg.fn, arg, lo, hi, field.type))
    return pa.Table.from_arrays(columns, schema=out)
