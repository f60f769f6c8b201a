"""Window frames and the aggregates over them, vectorized, for batch and streaming OVER.

Rows arrive sorted by partition and ORDER BY key (``part_id`` counts the partitions up from 0,
contiguous). ``frame_bounds`` gives every row its frame as a half-open range ``[lo, hi)`` of row
positions; ``frame_aggregate`` computes one aggregate over every row's range at once:

* COUNT and integer or DECIMAL SUM/AVG from prefix sums (``S[hi] - S[lo]``; integer sums wrap
  like Java's, DECIMAL sums are exact Python integers of the unscaled values);
* floating SUM/AVG and every MIN/MAX from a segment tree, queried for all ranges together in
  O(log n) vectorized rounds; MIN/MAX over strings, decimals and other ordered types work on
  dense ranks of the values.

A row may contribute more than one value: a streaming operator prepends a row per partition that
carries the partition's running accumulator (its count in ``counts``, its sum or extreme as the
value), so a running frame continues where the last batch left off.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from volley.plan.calls import OverFrame

_I64_MAX = np.iinfo(np.int64).max
_I64_MIN = np.iinfo(np.int64).min


# -- frames ----------------------------------------------------------------------------------------


def run_bounds(run_id: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For contiguous runs numbered from 0 (``run_id`` per row), each row's run start and end
    (exclusive)."""
    n = len(run_id)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    heads = np.flatnonzero(np.concatenate([[True], run_id[1:] != run_id[:-1]]))
    ends = np.append(heads[1:], n)
    which = np.cumsum(np.concatenate([[True], run_id[1:] != run_id[:-1]])) - 1
    return heads[which], ends[which]


@dataclass
class OrderValues:
    """The ORDER BY key as numbers for RANGE offsets: ascending within each partition (a
    descending key is negated), NULLs as -inf/+inf where they sort (first/last)."""

    values: np.ndarray  # int64 or float64
    null: np.ndarray  # bool


def order_values(column: pa.Array | pa.ChunkedArray, ascending: bool,
                 nulls_first: bool) -> OrderValues:
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    t = column.type
    if pa.types.is_timestamp(t):
        per_ms = {"s": None, "ms": 1, "us": 1_000, "ns": 1_000_000}[t.unit]
        raw = pc.cast(column, pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
        values = raw * 1000 if per_ms is None else raw // per_ms
    elif pa.types.is_date32(t):
        values = column.cast(pa.int32()).cast(pa.int64()).fill_null(0).to_numpy(
            zero_copy_only=False)
    elif pa.types.is_integer(t):
        values = pc.cast(column, pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
    else:
        values = pc.cast(column, pa.float64()).fill_null(0).to_numpy(zero_copy_only=False)
    null = column.is_null().to_numpy(zero_copy_only=False)
    values = values.copy() if ascending else -values
    if null.any():
        if values.dtype == np.float64:
            values[null] = -np.inf if nulls_first else np.inf
        else:
            values[null] = _I64_MIN if nulls_first else _I64_MAX
    return OrderValues(values, null)


def frame_bounds(frame: OverFrame, part_id: np.ndarray, peer_id: np.ndarray | None = None,
                 order: OrderValues | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Every row's frame ``[lo, hi)``. ``peer_id`` numbers the runs of equal (partition, ORDER BY
    key) rows (RANGE frames); ``order`` is needed for RANGE frames with an offset."""
    n = len(part_id)
    idx = np.arange(n, dtype=np.int64)
    part_start, part_end = run_bounds(part_id)
    if frame.mode == "rows":
        lo = part_start if frame.start is None else idx + int(frame.start)
        hi = part_end if frame.end is None else idx + int(frame.end) + 1
    else:
        assert peer_id is not None
        peer_start, peer_end = run_bounds(peer_id)
        lo = _range_bound(frame.start, part_start, peer_start, part_id, order, "left")
        hi = _range_bound(frame.end, part_end, peer_end, part_id, order, "right")
    lo = np.clip(lo, part_start, part_end)
    hi = np.clip(hi, part_start, part_end)
    return lo, np.maximum(hi, lo)


def _range_bound(offset, unbounded: np.ndarray, peer: np.ndarray, part_id: np.ndarray,
                 order: OrderValues | None, side: str) -> np.ndarray:
    if offset is None:
        return unbounded
    if offset == 0:
        return peer
    assert order is not None
    values = order.values
    target = values + (offset if values.dtype == np.float64 else int(offset))
    found = partitioned_search(part_id, values, part_id, target, side)
    # a NULL key's frame is its peers (NULLs are equal to each other and to nothing else)
    return np.where(order.null, peer, found)


def partitioned_search(part: np.ndarray, keys: np.ndarray, q_part: np.ndarray,
                       q_keys: np.ndarray, side: str) -> np.ndarray:
    """For data sorted by (part, key): per query, the position of the first data point not
    before (``left``: >=, ``right``: >) the query within the query's partition — a searchsorted
    over the lexicographic order, by one merge of data and queries."""
    m, q = len(part), len(q_part)
    all_part = np.concatenate([part, q_part])
    all_keys = np.concatenate([keys, q_keys.astype(keys.dtype, copy=False)])
    # ties: a 'left' query sorts before equal data, a 'right' one after
    is_query = np.concatenate([np.zeros(m, bool), np.ones(q, bool)])
    tie = is_query if side == "right" else ~is_query
    order = np.lexsort((tie, all_keys, all_part))
    queries = order >= m
    data_before: np.ndarray = np.cumsum(~queries) - (~queries)
    result = np.empty(q, dtype=np.int64)
    result[order[queries] - m] = data_before[queries]
    return result


# -- segment tree ----------------------------------------------------------------------------------


def range_reduce(values: np.ndarray, lo: np.ndarray, hi: np.ndarray, op: np.ufunc,
                 identity) -> np.ndarray:
    """``op`` over ``values[lo[i]:hi[i]]`` for every i (``identity`` for an empty range), with
    an iterative segment tree: built level by level, queried for all ranges per round."""
    n = len(values)
    result = np.full(len(lo), identity, dtype=values.dtype)
    if n == 0 or len(lo) == 0:
        return result
    tree = np.empty(2 * n, dtype=values.dtype)
    tree[n:] = values
    level = 1 << (max(n - 1, 1).bit_length() - 1)
    while level >= 1:  # nodes [level, 2 * level) are parents of [2 * level, 4 * level)
        a, b = max(level, 1), min(2 * level, n)
        if a < b:
            tree[a:b] = op(tree[2 * a:2 * b:2], tree[2 * a + 1:2 * b:2])
        level >>= 1
    left, right = lo + n, hi + n
    active = np.flatnonzero(left < right)
    while len(active):
        lft, rgt = left[active], right[active]
        odd = (lft & 1) == 1
        take = active[odd]
        result[take] = op(result[take], tree[lft[odd]])
        left[take] += 1
        odd = (rgt & 1) == 1
        take = active[odd]
        right[take] -= 1
        result[take] = op(result[take], tree[right[take]])
        left[active] >>= 1
        right[active] >>= 1
        active = active[left[active] < right[active]]
    return result


# -- aggregates ------------------------------------------------------------------------------------


def _prefix(values: np.ndarray) -> np.ndarray:
    out = np.zeros(len(values) + 1, dtype=values.dtype)
    np.cumsum(values, out=out[1:])
    return out


def _kind(t: pa.DataType) -> str:
    if pa.types.is_integer(t) or pa.types.is_boolean(t) or \
            pa.types.is_temporal(t) and not pa.types.is_interval(t):
        return "int"
    if pa.types.is_floating(t):
        return "float"
    if pa.types.is_decimal(t):
        return "decimal"
    return "other"


def int_values(column: pa.Array) -> np.ndarray:
    """An integer, boolean or temporal column as int64 (NULL slots hold 0)."""
    if pa.types.is_boolean(column.type):
        return column.fill_null(False).to_numpy(zero_copy_only=False).astype(np.int64)
    if pa.types.is_integer(column.type) and not pa.types.is_int64(column.type):
        column = column.cast(pa.int64())
    elif not pa.types.is_integer(column.type):
        column = pc.cast(column, pa.int64())
    return column.fill_null(0).to_numpy(zero_copy_only=False)


def unscaled(column: pa.Array) -> np.ndarray:
    """A DECIMAL column's unscaled values as Python integers (object array; NULL slots hold 0)."""
    if not pa.types.is_decimal128(column.type):
        column = column.cast(pa.decimal128(38, column.type.scale))
    column = column.fill_null(pa.scalar(Decimal(0), column.type))
    n = len(column)
    words = np.frombuffer(column.buffers()[1], dtype=np.int64, count=2 * n,
                          offset=column.offset * 16).reshape(n, 2)
    low = words[:, 0].view(np.uint64).astype(object)
    return words[:, 1].astype(object) * (1 << 64) + low


def decimal_array(values: np.ndarray, valid: np.ndarray, target: pa.DataType) -> pa.Array:
    """Unscaled Python integers (object array) as a DECIMAL array of ``target``'s scale."""
    n = len(values)
    wrapped = np.where(valid, values, 0) % (1 << 128)
    low = (wrapped % (1 << 64)).astype(np.uint64)
    high = (wrapped >> 64).astype(object)
    high = np.where(high >= (1 << 63), high - (1 << 64), high).astype(np.int64)
    words = np.empty((n, 2), dtype=np.int64)
    words[:, 0] = low.view(np.int64)
    words[:, 1] = high
    mask = None if valid.all() else pa.array(valid).buffers()[1]
    return pa.Array.from_buffers(target, n, [mask, pa.py_buffer(words)])


def _ordinal(column: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """Dense ranks (int64, from 0) of an ordered column's values and one value per rank."""
    ranks = pc.rank(column, sort_keys="ascending", tiebreaker="dense").to_numpy(
        zero_copy_only=False).astype(np.int64) - 1
    representative = np.zeros(int(ranks.max()) + 1 if len(ranks) else 0, dtype=np.int64)
    representative[ranks] = np.arange(len(ranks))
    return ranks, column.take(pa.array(representative))


def frame_aggregate(fn: str, column: pa.Array | None, lo: np.ndarray, hi: np.ndarray,
                    target: pa.DataType, counts: np.ndarray | None = None,
                    mask: np.ndarray | None = None) -> pa.Array:
    """``fn`` (count, sum, avg, min, max) of ``column`` over every row's frame ``[lo, hi)``, as
    ``target`` (Flink's result type). ``counts`` (int64 per row) overrides how many values each
    row contributes (default: 1 if not NULL); ``mask`` picks the rows to return results for."""
    if mask is not None:
        lo, hi = lo[mask], hi[mask]
    if column is None:  # COUNT(*)
        if counts is None:
            return pa.array(hi - lo, pa.int64()).cast(target)
        p = _prefix(counts)
        return pa.array(p[hi] - p[lo], pa.int64()).cast(target)
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if counts is None:
        counts = column.is_valid().to_numpy(zero_copy_only=False).astype(np.int64)
    pc_ = _prefix(counts)
    count = pc_[hi] - pc_[lo]
    if fn == "count":
        return pa.array(count, pa.int64()).cast(target)
    valid = count > 0
    kind = _kind(column.type)
    if fn in ("sum", "avg"):
        return _sum_or_avg(fn, column, kind, lo, hi, count, valid, target)
    return _extreme(fn, column, kind, lo, hi, valid, target)


def _sum_or_avg(fn: str, column: pa.Array, kind: str, lo: np.ndarray, hi: np.ndarray,
                count: np.ndarray, valid: np.ndarray, target: pa.DataType) -> pa.Array:
    safe_count = np.maximum(count, 1)
    if kind == "decimal":
        p = _prefix(unscaled(column))
        sums = p[hi] - p[lo]
        if fn == "sum":
            return decimal_array(sums, valid, target)
        shift = 10 ** (target.scale - column.type.scale)
        numerator = sums * shift
        magnitude = (2 * np.abs(numerator) + safe_count) // (2 * safe_count)
        return decimal_array(np.where(numerator < 0, -magnitude, magnitude), valid, target)
    if kind == "int":
        p = _prefix(int_values(column))
        sums = p[hi] - p[lo]  # int64 wraps, as Java's long does
        if fn == "avg" and not pa.types.is_floating(target):
            quotient = np.abs(sums) // safe_count
            sums = np.where(sums < 0, -quotient, quotient)
        elif fn == "avg":
            return _to_arrow(sums / safe_count, valid, target)
        return _to_arrow(sums, valid, target)
    values = pc.cast(column, pa.float64()).fill_null(0.0).to_numpy(zero_copy_only=False)
    sums = range_reduce(values, lo, hi, np.add, 0.0)
    if fn == "avg":
        sums = sums / safe_count
    return _to_arrow(sums, valid, target)


def _extreme(fn: str, column: pa.Array, kind: str, lo: np.ndarray, hi: np.ndarray,
             valid: np.ndarray, target: pa.DataType) -> pa.Array:
    if kind == "float":
        values = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)  # NULL: NaN
        # fmin/fmax skip NaN (and NULLs, held as NaN) unless a frame has nothing else
        result = range_reduce(values, lo, hi, np.fmin if fn == "min" else np.fmax, np.nan)
        return _to_arrow(result, valid, target)
    if kind == "int":
        values = int_values(column)
        representatives = None
    else:
        values, representatives = _ordinal(column)
    identity = _I64_MAX if fn == "min" else _I64_MIN
    nulls = column.is_null().to_numpy(zero_copy_only=False)
    if nulls.any():
        values = np.where(nulls, identity, values)
    result = range_reduce(values, lo, hi, np.minimum if fn == "min" else np.maximum, identity)
    if representatives is not None:
        picked = representatives.take(pa.array(np.where(valid, result, 0)))
        return pc.if_else(pa.array(valid), picked, pa.nulls(len(valid), picked.type)).cast(target)
    if pa.types.is_integer(column.type) or pa.types.is_boolean(column.type):
        return _to_arrow(result, valid, target)
    # temporal: back through the column's own type
    as_int = pa.array(np.where(valid, result, 0), pa.int64(), mask=~valid)
    storage = pa.int32() if pa.types.is_date32(column.type) or pa.types.is_time32(column.type) \
        else pa.int64()
    return as_int.cast(storage).cast(column.type).cast(target)


def _to_arrow(values: np.ndarray, valid: np.ndarray, target: pa.DataType) -> pa.Array:
    mask = None if valid.all() else ~valid
    if values.dtype.kind == "f" and not pa.types.is_floating(target):
        values = values.astype(np.int64)
    # an integer narrower than int64 wraps, as Java's int arithmetic does
    return pa.array(values, mask=mask).cast(target, safe=False)
