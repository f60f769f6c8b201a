"""Streaming GROUP BY over an updating input: Flink's ``GroupAggFunction``, a batch at a time.

Every group's accumulators live in a ``KeyedTable`` (``groups``), one value column per
accumulator: the record count ``rows`` (COUNT(*), and whether the group exists), per argument
column its non-NULL count, SUM, MIN, MAX and distinct count. COUNT DISTINCT, and MIN/MAX over a
retracting input, also keep a second table per argument (``values<arg>``) keyed by the group key
and the value, holding how often each value occurs in the group. A batch costs the batch, never
the state:

* the batch's keys become group ids; the touched groups, in order of their first row, and each
  row's position among them come from one indexed maximum over a scratch array (``_FirstSeen``);
* the accumulators of the touched groups are gathered once, folded in place, and scattered back
  once;
* each accumulator folds the batch into them with numpy kernels (``np.add.at``, ``np.fmin.at``,
  ``np.bincount``); ``-U``/``-D`` rows count negatively;
* MIN/MAX over a retracting input fold the added values and recompute a group's extreme, from its
  live values, only when the value that is its current extreme disappears. ``_Members`` indexes
  each group's values, so that recomputation reads those groups' values only;
* the results before and after are computed from the accumulators gathered at the touched groups,
  so the last emitted result is always derivable from the state (a restored operator retracts
  correctly), and Flink's changelog follows: ``+I`` for a new group, ``-U``/``+U`` for a changed
  result, nothing for an unchanged one, ``-D`` for a group whose count dropped to zero.

Results follow batch mode (``incremental_aggregate``, ``aggregate.finalize``): SUM/MIN/MAX keep
the input type, AVG of an integer truncates toward zero, AVG of DECIMAL(p, s) is DECIMAL(38,
max(6, s)) rounded half away from zero, COUNT is BIGINT, NULL inputs are ignored, a group
without non-NULL inputs has a NULL SUM/AVG/MIN/MAX, integer sums wrap as in Java, MIN/MAX skip
NaN unless a group has nothing else. DECIMAL sums are exact: four 32-bit limbs in int64 columns.
The input must be a consistent changelog (only rows that were added are retracted); a retraction
of a group that does not exist is ignored, as in Flink.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from volley.common.changelog import DELETE, INSERT, ROW_KIND_COLUMN, UPDATE_AFTER, UPDATE_BEFORE
from volley.errors import UnsupportedFeatureError
from volley.plan.calls import AggCall
from volley.state.growable import ensure_capacity
from volley.state.key_hashing import DEFAULT_MAX_PARALLELISM
from volley.state.keyed_table import KeyedTable, ValueColumn

_MAX = np.iinfo(np.int64).max
_MIN = np.iinfo(np.int64).min
_LOW32 = np.int64(0xFFFFFFFF)
_WORD = (1 << 64) - 1
# A global aggregate is one group; the key index needs a key column, so it gets a constant one
# (and no key column decides its key group: it is in key group 0).
_GLOBAL_KEY_TYPE = pa.int8()

Result = tuple[np.ndarray, np.ndarray | None]  # per group: data, valid (None: all valid)


def _kind(t: pa.DataType) -> str:
    """How values of ``t`` are accumulated: 'int' (integers, booleans, temporals as int64), 'float',
    'decimal', or 'other' (ordered by Arrow kernels, kept as Python objects)."""
    if pa.types.is_dictionary(t):
        t = t.value_type
    if pa.types.is_integer(t) or pa.types.is_boolean(t) \
            or pa.types.is_temporal(t) and not pa.types.is_interval(t):
        return "int"
    if pa.types.is_floating(t):
        return "float"
    if pa.types.is_decimal(t):
        return "decimal"
    return "other"


def _summable(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)


def _orderable(t: pa.DataType) -> bool:
    if pa.types.is_dictionary(t):
        t = t.value_type
    return _kind(t) != "other" or pa.types.is_string(t) or pa.types.is_large_string(t) \
        or pa.types.is_binary(t) or pa.types.is_large_binary(t)


def _check(aggs: tuple[AggCall, ...], in_schema: pa.Schema) -> None:
    for a in aggs:
        arg_type = in_schema.field(a.arg).type if a.arg is not None else None
        if a.udaf is not None or a.fn not in ("count", "sum", "avg", "min", "max") \
                or a.distinct and a.fn in ("sum", "avg"):
            what = f"{a.fn.upper()}{'(DISTINCT)' if a.distinct else ''}"
        elif a.fn in ("sum", "avg") and not _summable(arg_type) \
                or a.fn in ("min", "max") and not _orderable(arg_type):
            what = f"{a.fn.upper()} over {arg_type}"
        else:
            continue
        raise UnsupportedFeatureError(
            f"{what} in a streaming group aggregation is not supported by Volley yet; use COUNT, "
            "COUNT(DISTINCT), SUM or AVG over numbers, MIN or MAX over numbers, decimals, "
            "strings, dates or timestamps, or run the query in batch mode")


# -- numpy helpers ---------------------------------------------------------------------------------


class _FirstSeen:
    """The distinct ids of a batch in order of first occurrence, each row's index into them and
    the row of each first occurrence: a few passes over the batch, where ``np.unique`` would
    sort it. ``scratch`` covers every id (int32, for the cache); its entries stay below
    ``base``, which grows with each batch, so that it needs clearing once per 2**31 rows only."""

    def __init__(self) -> None:
        self.scratch = np.zeros(0, dtype=np.int32)
        self.base = 1

    def __call__(self, ids: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = len(ids)
        if self.base + 2 * n >= np.iinfo(np.int32).max:
            self.scratch[:], self.base = 0, 1
        self.scratch = ensure_capacity(self.scratch, size, 0)
        codes = np.arange(self.base + n - 1, self.base - 1, -1, dtype=np.int32)  # earlier: larger
        np.maximum.at(self.scratch, ids, codes)
        first = np.flatnonzero(self.scratch.take(ids) == codes)
        distinct = ids[first]
        base = self.base + n
        self.scratch.put(distinct, np.arange(base, base + len(distinct), dtype=np.int32))
        index = self.scratch.take(ids).astype(np.int64) - base
        self.base = base + len(distinct)
        return distinct, index, first


def _per_group(index: np.ndarray, groups: int, signs: np.ndarray | None) -> np.ndarray:
    """Rows per group (int64), each counting ``signs`` (+1 or -1) when given."""
    if signs is None:
        return np.bincount(index, minlength=groups)
    out = np.zeros(groups, dtype=np.int64)
    np.add.at(out, index, signs)
    return out


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The positions ``starts[i] .. starts[i] + lengths[i] - 1`` of every ``i``, concatenated."""
    offsets = np.cumsum(lengths) - lengths
    return np.repeat(starts - offsets, lengths) + np.arange(int(lengths.sum()), dtype=np.int64)


def _pick(array: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
    return array if rows is None else array[rows]


def _fixed_values(column: pa.Array) -> np.ndarray:
    """A numeric, boolean or temporal column as float64 or int64 (NULL slots hold anything)."""
    t = column.type
    if pa.types.is_floating(t):
        return column.cast(pa.float64()).to_numpy(zero_copy_only=False)
    if pa.types.is_boolean(t):
        return column.fill_null(False).to_numpy(zero_copy_only=False).astype(np.int64)
    signed = not pa.types.is_unsigned_integer(t)
    dtype = np.dtype(f"{'i' if signed else 'u'}{t.bit_width // 8}")
    return np.frombuffer(column.buffers()[1], dtype=dtype, count=len(column),
                         offset=column.offset * dtype.itemsize).astype(np.int64)


def _limbs(column: pa.Array) -> np.ndarray:
    """A DECIMAL column's unscaled values as four 32-bit limbs (n, 4) int64, least significant
    first, the last signed: sums of limbs cannot overflow, and carries are deferred."""
    if not pa.types.is_decimal128(column.type):
        column = column.cast(pa.decimal128(38, column.type.scale))
    n = len(column)
    words = np.frombuffer(column.buffers()[1], dtype=np.int64, count=2 * n,
                          offset=column.offset * 16).reshape(n, 2)
    lo, hi = words[:, 0].view(np.uint64), words[:, 1]
    limbs = np.empty((n, 4), dtype=np.int64)
    limbs[:, 0] = (lo & np.uint64(0xFFFFFFFF)).astype(np.int64)
    limbs[:, 1] = (lo >> np.uint64(32)).astype(np.int64)
    limbs[:, 2] = hi & _LOW32
    limbs[:, 3] = hi >> 32
    return limbs


def _words(l0: np.ndarray, l1: np.ndarray, l2: np.ndarray, l3: np.ndarray) -> np.ndarray:
    """Normalized limbs as decimal128 words (n, 2) int64 (modulo 2**128)."""
    words = np.empty((len(l0), 2), dtype=np.int64)
    words[:, 0] = l0 | (l1 << 32)
    words[:, 1] = l2 | (l3 << 32)
    return words


def _round_half_away(numerator: np.ndarray, denominator: np.ndarray | int) -> np.ndarray:
    """Python-int (object) division rounded half away from zero, as Arrow's decimal mean."""
    magnitude = (2 * np.abs(numerator) + denominator) // (2 * denominator)
    return np.where(numerator < 0, -magnitude, magnitude)


def _validity(valid: np.ndarray | None) -> pa.Buffer | None:
    if valid is None or valid.all():
        return None
    return pa.array(valid, type=pa.bool_()).buffers()[1]


def _to_arrow(data: np.ndarray, valid: np.ndarray | None, target: pa.DataType) -> pa.Array:
    n = len(data)
    if data.ndim == 2:  # decimal128 words
        return pa.Array.from_buffers(target, n, [_validity(valid), pa.py_buffer(data)])
    if data.dtype == object:
        return pa.array(data, type=target, mask=None if valid is None else ~valid)
    if data.dtype == np.float64 or pa.types.is_floating(target):
        return pa.array(data.astype(target.to_pandas_dtype(), copy=False),
                        mask=None if valid is None or valid.all() else ~valid)
    if not (pa.types.is_integer(target) or pa.types.is_temporal(target)):
        return pa.array(data, mask=None if valid is None else ~valid).cast(target, safe=False)
    signed = not pa.types.is_unsigned_integer(target)
    dtype = np.dtype(f"{'i' if signed else 'u'}{target.bit_width // 8}")
    return pa.Array.from_buffers(target, n, [_validity(valid),
                                             pa.py_buffer(data.astype(dtype, copy=False))])


def _differs(a: Result, b: Result) -> np.ndarray:
    """Per group: whether two results differ (NULL equals NULL, NaN equals NaN)."""
    (a_data, a_valid), (b_data, b_valid) = a, b
    n = len(a_data)
    a_valid = np.ones(n, dtype=bool) if a_valid is None else a_valid
    b_valid = np.ones(n, dtype=bool) if b_valid is None else b_valid
    if a_data.ndim == 2:
        unequal = (a_data != b_data).any(axis=1)
    elif a_data.dtype == np.float64:
        unequal = ~((a_data == b_data) | np.isnan(a_data) & np.isnan(b_data))
    else:
        unequal = np.not_equal(a_data, b_data)
    return (a_valid != b_valid) | a_valid & b_valid & unequal


# -- one batch -------------------------------------------------------------------------------------


class _BatchView:
    """One batch's rows as the accumulators need them, each converted once: ``local`` is each
    row's index among the ``groups`` touched groups, ``signs`` +1/-1 per row (None: all +1)."""

    def __init__(self, batch: pa.RecordBatch, signs: np.ndarray | None, local: np.ndarray,
                 groups: int, keys: list[pa.Array]) -> None:
        self.batch, self.signs, self.local, self.groups, self.keys = batch, signs, local, groups, keys
        self._cache: dict[tuple[str, int], Any] = {}

    def _cached(self, what: str, arg: int, make: Callable[[], Any]) -> Any:
        if (what, arg) not in self._cache:
            self._cache[(what, arg)] = make()
        return self._cache[(what, arg)]

    def arrow(self, arg: int) -> pa.Array:
        def make() -> pa.Array:
            column = self.batch.column(arg)
            return column.dictionary_decode() if pa.types.is_dictionary(column.type) else column
        return self._cached("arrow", arg, make)

    def valid(self, arg: int) -> np.ndarray | None:
        """The rows whose ``arg`` is not NULL (None: every row)."""
        def make() -> np.ndarray | None:
            column = self.batch.column(arg)
            if column.null_count == 0:
                return None
            return np.flatnonzero(column.is_valid().to_numpy(zero_copy_only=False))
        return self._cached("valid", arg, make)

    def numbers(self, arg: int) -> np.ndarray:
        return self._cached("numbers", arg, lambda: _fixed_values(self.arrow(arg)))

    def limbs(self, arg: int) -> np.ndarray:
        return self._cached("limbs", arg, lambda: _limbs(self.arrow(arg)))


# -- values per group ------------------------------------------------------------------------------


class _Members:
    """Which value-table ids (pairs) belong to each group id: a derived index, rebuilt from the
    state after a restore or compaction, so that a group's MIN/MAX is recomputed from its own
    values only.

    Each group owns a run of ``pool``: ``start``, ``capacity``, ``length``. A run that fills moves
    to the end of the pool at twice its capacity (each pair is copied O(1) times on average), and
    the pool is compacted once abandoned runs make up most of it. A pair stays listed after it
    dies (a value that comes back is listed already); recomputing a group drops its dead pairs.
    """

    def __init__(self) -> None:
        self.start = np.zeros(0, dtype=np.int64)
        self.capacity = np.zeros(0, dtype=np.int64)
        self.length = np.zeros(0, dtype=np.int64)
        self.listed = np.zeros(0, dtype=bool)
        self.pool = np.zeros(0, dtype=np.int64)
        self.used = self.abandoned = 0

    def reserve(self, groups: int, pairs: int) -> None:
        self.start = ensure_capacity(self.start, groups)
        self.capacity = ensure_capacity(self.capacity, groups)
        self.length = ensure_capacity(self.length, groups)
        self.listed = ensure_capacity(self.listed, pairs, False)

    def add(self, gids: np.ndarray, pids: np.ndarray) -> None:
        """List the (unlisted, distinct) pairs ``pids`` under their groups ``gids``."""
        if not len(gids):
            return
        order = np.argsort(gids, kind="stable")
        gids, pids = gids[order], pids[order]
        heads = np.flatnonzero(np.concatenate([[True], gids[1:] != gids[:-1]]))
        counts = np.diff(np.append(heads, len(gids)))
        owners = gids[heads]
        needed = self.length[owners] + counts
        full = needed > self.capacity[owners]
        if full.any():
            self._move(owners[full], needed[full])
        ends = self.start[owners] + self.length[owners]
        self.pool[np.repeat(ends - heads, counts) + np.arange(len(gids))] = pids
        self.length[owners] = needed
        self.listed[pids] = True

    def _move(self, owners: np.ndarray, needed: np.ndarray) -> None:
        if self.abandoned > max(self.used // 2, 1 << 16):
            self._compact()
        capacity = np.maximum(np.maximum(needed, 2 * self.capacity[owners]), 4)
        starts = self.used + np.cumsum(capacity) - capacity
        end = self.used + int(capacity.sum())
        self.pool = ensure_capacity(self.pool, end)
        lengths = self.length[owners]
        self.pool[_ranges(starts, lengths)] = self.pool[_ranges(self.start[owners], lengths)]
        self.abandoned += int(self.capacity[owners].sum())
        self.start[owners], self.capacity[owners], self.used = starts, capacity, end

    def _compact(self) -> None:
        owners = np.flatnonzero(self.capacity)
        capacity, lengths = self.capacity[owners], self.length[owners]
        starts = np.cumsum(capacity) - capacity
        pool = np.zeros(max(int(capacity.sum()), 1), dtype=np.int64)
        pool[_ranges(starts, lengths)] = self.pool[_ranges(self.start[owners], lengths)]
        self.pool, self.start[owners] = pool, starts
        self.used, self.abandoned = int(capacity.sum()), 0

    def members(self, owners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The pairs listed under ``owners`` and the index into ``owners`` of each."""
        lengths = self.length[owners]
        pids = self.pool[_ranges(self.start[owners], lengths)]
        return pids, np.repeat(np.arange(len(owners), dtype=np.int64), lengths)

    def keep(self, owners: np.ndarray, keep: np.ndarray) -> None:
        """Shrink the lists of ``owners`` to the members (as from ``members``) where ``keep``."""
        pids, index = self.members(owners)
        self.listed[pids[~keep]] = False
        kept = np.bincount(index[keep], minlength=len(owners))
        self.pool[_ranges(self.start[owners], kept)] = pids[keep]
        self.length[owners] = kept


class _Values:
    """The state ``values<arg>``: how often each non-NULL value of column ``arg`` occurs in each
    group, keyed by (group key, value) and in the group's key group, so it rescales with it.
    ``update`` leaves the batch's outcome per distinct pair for the accumulators that use it."""

    def __init__(self, arg: int, key_types: list[pa.DataType], value_type: pa.DataType,
                 max_parallelism: int, key_group_columns: int, members: bool) -> None:
        self.arg = arg
        self.name = f"values{arg}"
        self.table = KeyedTable([*key_types, value_type], [ValueColumn("count", pa.int64())],
                                max_parallelism, key_group_columns=key_group_columns)
        self.members = _Members() if members else None
        self._first_seen = _FirstSeen()

    def update(self, view: _BatchView, touched: np.ndarray, groups: KeyedTable) -> None:
        rows = view.valid(self.arg)
        keys = [*view.keys, view.arrow(self.arg)]
        if rows is not None:
            keys = [k.take(rows) for k in keys]
        pids = self.table.ids(keys)
        distinct, index, first = self._first_seen(pids, self.table.size)
        before = self.table.live[distinct]
        counts = self.table.column("count")
        counts[distinct] += _per_group(index, len(distinct), _pick(view.signs, rows)
                                       if view.signs is not None else None)
        alive = counts[distinct] > 0
        self.table.set_live(distinct[alive & ~before])
        self.table.delete(distinct[~alive])
        self.rows = np.arange(view.batch.num_rows, dtype=np.int64) if rows is None else rows
        self.first = self.rows[first]  # each pair's first row in the batch
        self.owner = view.local[self.first]  # each pair's index among the touched groups
        self.born, self.died, self.row_alive = alive & ~before, before & ~alive, alive[index]
        if self.members is not None:
            self.members.reserve(groups.size, self.table.size)
            new = self.born & ~self.members.listed[distinct]
            self.members.add(touched[self.owner[new]], distinct[new])

    def rebuild(self, groups: KeyedTable) -> None:
        """Rebuild the derived members index from the state (after a restore or compaction)."""
        self._first_seen = _FirstSeen()
        if self.members is None:
            return
        self.members = _Members()
        self.members.reserve(groups.size, self.table.size)
        pids = self.table.live_ids()
        if len(pids):
            gids = groups.lookup(self.table.key_columns(pids)[:-1])
            found = gids >= 0
            self.members.add(gids[found], pids[found])


# -- accumulators ----------------------------------------------------------------------------------


class _Accumulator:
    """Folds a batch into its value columns. ``update`` works on ``acc``: each column's values
    at the touched groups (``view.local`` indexes them), gathered before and scattered back after
    all accumulators ran, so that the state is read and written once per column and batch."""

    columns: list[ValueColumn]

    def update(self, view: _BatchView, acc: dict[str, np.ndarray], touched: np.ndarray) -> None:
        raise NotImplementedError


class _RowCount(_Accumulator):
    """``rows``: the group's record count: COUNT(*), and the group exists while it is > 0."""

    def __init__(self) -> None:
        self.columns = [ValueColumn("rows", pa.int64())]

    def update(self, view: _BatchView, acc: dict[str, np.ndarray], touched: np.ndarray) -> None:
        acc["rows"] += _per_group(view.local, view.groups, view.signs)


class _ValueCount(_Accumulator):
    """``count<arg>``: non-NULL values: COUNT(x), and whether SUM/AVG/MIN/MAX are NULL."""

    def __init__(self, arg: int) -> None:
        self.arg, self.name = arg, f"count{arg}"
        self.columns = [ValueColumn(self.name, pa.int64())]

    def update(self, view: _BatchView, acc: dict[str, np.ndarray], touched: np.ndarray) -> None:
        rows = view.valid(self.arg)
        signs = None if view.signs is None else _pick(view.signs, rows)
        acc[self.name] += _per_group(_pick(view.local, rows), view.groups, signs)


class _Sum(_Accumulator):
    """``sum<arg>`` (int64, wrapping, or float64), or the limbs ``sum<arg>_0..3`` of a DECIMAL.
    A group left without values gets an exact zero again (no float residue of retractions)."""

    def __init__(self, arg: int, kind: str) -> None:
        self.arg, self.kind = arg, kind
        if kind == "decimal":
            self.names = [f"sum{arg}_{i}" for i in range(4)]
        else:
            self.names = [f"sum{arg}"]
        value_type = pa.float64() if kind == "float" else pa.int64()
        self.columns = [ValueColumn(name, value_type) for name in self.names]

    def update(self, view: _BatchView, acc: dict[str, np.ndarray], touched: np.ndarray) -> None:
        rows = view.valid(self.arg)
        local = _pick(view.local, rows)
        signs = None if view.signs is None else _pick(view.signs, rows)
        if self.kind == "decimal":
            limbs = _pick(view.limbs(self.arg), rows)
            partial = np.zeros((view.groups, 4), dtype=np.int64)
            np.add.at(partial, local, limbs if signs is None else limbs * signs[:, None])
            sums = [acc[name] for name in self.names]
            for i, column in enumerate(sums):
                column += partial[:, i]
            for i in range(3):  # carry, so that each limb stays within 32 bits
                sums[i + 1] += sums[i] >> 32
                sums[i] &= _LOW32
        else:
            values = _pick(view.numbers(self.arg), rows)
            with np.errstate(invalid="ignore", over="ignore"):
                np.add.at(acc[self.names[0]], local, values if signs is None else values * signs)
        if view.signs is not None:
            empty = acc[f"count{self.arg}"] == 0
            for name in self.names:
                acc[name][empty] = 0


class _DistinctCount(_Accumulator):
    """``distinct<arg>``: values whose count in the group went from 0 to positive, less those
    that went back to 0."""

    def __init__(self, arg: int, values: _Values) -> None:
        self.values, self.name = values, f"distinct{arg}"
        self.columns = [ValueColumn(self.name, pa.int64())]

    def update(self, view: _BatchView, acc: dict[str, np.ndarray], touched: np.ndarray) -> None:
        v = self.values
        acc[self.name] += np.bincount(v.owner[v.born], minlength=view.groups)
        if v.died.any():
            acc[self.name] -= np.bincount(v.owner[v.died], minlength=view.groups)


class _Extreme(_Accumulator):
    """``min<arg>``/``max<arg>``: the running extreme (float64 starting at NaN and folded with
    ``fmin``/``fmax``, so NaN only when a group has nothing else; int64 starting at the far end;
    Python objects ordered by Arrow for other types). With ``values`` (a retracting input) the
    extreme is recomputed from the group's live values when its own value disappears."""

    def __init__(self, fn: str, arg: int, arg_type: pa.DataType, values: _Values | None) -> None:
        self.arg, self.values, self.is_min = arg, values, fn == "min"
        self.name = f"{fn}{arg}"
        self.kind = _kind(arg_type)
        if self.kind == "float":
            column = ValueColumn(self.name, pa.float64(), np.nan)
        elif self.kind == "int":
            column = ValueColumn(self.name, pa.int64(), _MAX if self.is_min else _MIN)
        else:
            self.kind = "other"
            value_type = arg_type.value_type if pa.types.is_dictionary(arg_type) else arg_type
            column = ValueColumn(self.name, value_type, None)
        self.column = column
        self.columns = [column]

    def update(self, view: _BatchView, acc: dict[str, np.ndarray], touched: np.ndarray) -> None:
        current = acc[self.name]
        v = self.values
        if v is None:
            rows = view.valid(self.arg)
            self._fold(current, _pick(view.local, rows), self._batch_values(view, rows))
            return
        rows = v.rows[v.row_alive]
        self._fold(current, view.local[rows], self._batch_values(view, rows))
        died = np.flatnonzero(v.died)
        if len(died):
            gone = self._batch_values(view, v.first[died])
            owners = v.owner[died]
            redo = np.unique(owners[self._equal(gone, current[owners])])
            if len(redo):
                current[redo] = self._recompute(touched[redo], v)

    def _batch_values(self, view: _BatchView, rows: np.ndarray | None) -> Any:
        if self.kind == "other":
            column = view.arrow(self.arg)
            return column if rows is None else column.take(rows)
        return _pick(view.numbers(self.arg), rows)

    def _fold(self, current: np.ndarray, index: np.ndarray, values: Any) -> np.ndarray:
        """Fold ``values`` of groups ``index`` into ``current`` (one value per group)."""
        if not len(index):
            return current
        if self.kind != "other":
            (np.fmin if self.is_min else np.fmax).at(current, index, values)
            return current
        fn = "min" if self.is_min else "max"
        best = pa.table({"g": index, "v": values}).group_by("g", use_threads=False) \
            .aggregate([("v", fn)])
        where = best.column("g").to_numpy()
        candidate = best.column(f"v_{fn}").combine_chunks()
        old = pa.array(current[where], type=candidate.type)
        better = pc.fill_null((pc.less if self.is_min else pc.greater)(candidate, old), True)
        current[where] = pc.if_else(better, candidate, old).to_numpy(zero_copy_only=False)
        return current

    def _equal(self, a: Any, b: np.ndarray) -> np.ndarray:
        if self.kind == "other":
            return pc.fill_null(pc.equal(a, pa.array(b, type=a.type)), False) \
                .to_numpy(zero_copy_only=False)
        if self.kind == "float":
            return (a == b) | np.isnan(a) & np.isnan(b)
        return a == b

    def _recompute(self, gids: np.ndarray, v: _Values) -> np.ndarray:
        """The extreme of groups ``gids`` from their live values (the members index)."""
        assert v.members is not None
        pids, index = v.members.members(gids)
        keep = v.table.live[pids]
        v.members.keep(gids, keep)
        values = v.table.key_columns(pids[keep])[-1]
        fresh = np.full(len(gids), self.column.initial, dtype=self.column.dtype)
        return self._fold(fresh, index[keep], values if self.kind == "other"
                          else _fixed_values(values))


# -- results ---------------------------------------------------------------------------------------


def _present(v: dict[str, np.ndarray], count: str) -> np.ndarray:
    """Whether each group has non-NULL values: computed once for the aggregates that share it."""
    key = f"?{count}"
    if key not in v:
        v[key] = v[count] > 0
    return v[key]


def _result(agg: AggCall, in_schema: pa.Schema, target: pa.DataType) -> Callable[[dict], Result]:
    """How ``agg``'s result (data, valid) follows from the group columns gathered at some ids."""
    a = agg.arg
    if agg.fn == "count":
        name = "rows" if a is None else f"distinct{a}" if agg.distinct else f"count{a}"
        return lambda v: (v[name], None)
    count = f"count{a}"
    if agg.fn in ("min", "max"):
        return lambda v: (v[f"{agg.fn}{a}"], _present(v, count))
    kind = _kind(in_schema.field(a).type)
    if kind == "decimal":
        def words(v: dict) -> np.ndarray:
            return _words(*(v[f"sum{a}_{i}"] for i in range(4)))
        if agg.fn == "sum":
            return lambda v: (words(v), _present(v, count))
        shift = 10 ** (target.scale + 1 - in_schema.field(a).type.scale)

        def average(v: dict) -> Result:
            w = words(v)
            total = w[:, 1].astype(object) * (1 << 64) + w[:, 0].view(np.uint64).astype(object)
            divisor = np.maximum(v[count], 1).astype(object)
            # Arrow's mean at one more digit, then finalize's rounding to the result scale
            q = _round_half_away(_round_half_away(total * shift, divisor), 10)
            out = np.empty((len(q), 2), dtype=np.int64)
            out[:, 0] = (q & _WORD).astype(np.uint64).view(np.int64)
            out[:, 1] = (q >> 64).astype(np.int64)
            return out, _present(v, count)
        return average
    total = f"sum{a}"
    if agg.fn == "sum":
        return lambda v: (v[total], _present(v, count))

    def mean(v: dict) -> Result:
        s, divisor = v[total], np.maximum(v[count], 1)
        if kind == "int":  # Flink: AVG of an integer truncates toward zero
            return np.sign(s) * (np.abs(s) // divisor), _present(v, count)
        with np.errstate(invalid="ignore"):
            return s / divisor, _present(v, count)
    return mean


# -- the aggregation -------------------------------------------------------------------------------


class GroupAggregation:
    """Streaming GROUP BY (or a global aggregate) over a changelog; see the module docstring.

    ``in_schema``/``out_schema`` exclude ``__row_kind``. ``retracting``: the input may hold
    ``-U``/``-D`` rows; when False MIN/MAX fold without keeping every value. Without
    ``update_before`` a changed result is a lone ``+U`` (an upsert stream keyed by the group).
    ``update`` returns the batch's changelog (``out_schema`` and ``__row_kind``), or None when
    nothing changed.
    """

    def __init__(self, in_schema: pa.Schema, group_keys: tuple[int, ...],
                 aggs: tuple[AggCall, ...], out_schema: pa.Schema, retracting: bool,
                 max_parallelism: int = DEFAULT_MAX_PARALLELISM,
                 key_group_columns: int | None = None, expiring: bool = False,
                 update_before: bool = True) -> None:
        """``key_group_columns``: how many leading group keys decide a group's key group (all
        by default; a window aggregation's groups are in the key group of their keys without
        the window). ``expiring``: groups are taken out whole (``take``) rather than
        retracted, so every values table keeps the members index that finds a group's
        values. ``update_before``: emit -U rows (an upsert consumer does without them)."""
        _check(aggs, in_schema)
        self._in, self._out = in_schema, out_schema
        self._update_before = update_before
        self._keys, self._aggs, self._retracting = group_keys, aggs, retracting
        key_types = [in_schema.field(k).type for k in group_keys] or [_GLOBAL_KEY_TYPE]
        key_group_columns = len(group_keys) if key_group_columns is None else key_group_columns
        kept = {a.arg for a in aggs if a.arg is not None and (
            a.fn == "count" and a.distinct or a.fn in ("min", "max") and retracting)}
        listed = kept if expiring else {a.arg for a in aggs if a.arg is not None
                                        and a.fn in ("min", "max") and retracting}
        self._values = {arg: _Values(arg, key_types, in_schema.field(arg).type, max_parallelism,
                                     key_group_columns, members=arg in listed)
                        for arg in sorted(kept)}
        accumulators: dict[tuple[str, int | None], _Accumulator] = {("rows", None): _RowCount()}
        for a in aggs:
            if a.arg is None:
                continue
            arg_type = in_schema.field(a.arg).type
            accumulators.setdefault(("count", a.arg), _ValueCount(a.arg))
            if a.fn == "count" and a.distinct:
                accumulators.setdefault(("distinct", a.arg),
                                        _DistinctCount(a.arg, self._values[a.arg]))
            elif a.fn in ("sum", "avg"):
                accumulators.setdefault(("sum", a.arg), _Sum(a.arg, _kind(arg_type)))
            elif a.fn in ("min", "max"):
                accumulators.setdefault((a.fn, a.arg), _Extreme(a.fn, a.arg, arg_type,
                                                                self._values.get(a.arg)))
        order = ("rows", "count", "sum", "distinct", "min", "max")  # sums read the counts
        self._accumulators = [acc for key, acc in sorted(accumulators.items(),
                                                         key=lambda item: order.index(item[0][0]))]
        columns = [c for acc in self._accumulators for c in acc.columns]
        self._groups = KeyedTable(key_types, columns, max_parallelism,
                                  key_group_columns=key_group_columns)
        self._names = [c.name for c in columns]
        self._results = [_result(a, in_schema, out_schema.field(len(group_keys) + j).type)
                         for j, a in enumerate(aggs)]
        self._schema = out_schema.append(pa.field(ROW_KIND_COLUMN, pa.int8(), nullable=False))
        self._first_seen = _FirstSeen()

    def states(self) -> dict[str, Any]:
        """The declared state: ``groups`` and a ``values<arg>`` table per argument that needs
        its values kept (COUNT DISTINCT, MIN/MAX over a retracting input)."""
        return {"groups": self._groups, **{v.name: v.table for v in self._values.values()}}

    def restored(self) -> None:
        """Rebuild the derived caches after the states were restored."""
        self._first_seen = _FirstSeen()
        for v in self._values.values():
            v.rebuild(self._groups)

    def update(self, batch: pa.RecordBatch, kinds: pa.Array | None) -> pa.RecordBatch | None:
        if batch.num_rows == 0:
            return None
        signs = self._signs(kinds)
        keys = [batch.column(k) for k in self._keys] or \
            [pa.array(np.zeros(batch.num_rows, dtype=np.int8))]
        gids = self._groups.ids(keys)
        touched, local, first = self._first_seen(gids, self._groups.size)
        view = _BatchView(batch, signs, local, len(touched), keys)
        for values in self._values.values():
            values.update(view, touched, self._groups)
        before = {name: self._groups.column(name).take(touched) for name in self._names}
        existed = self._groups.live[touched]
        after = {name: column.copy() for name, column in before.items()}
        for accumulator in self._accumulators:
            accumulator.update(view, after, touched)
        for name, column in after.items():
            self._groups.column(name).put(touched, column)
        exists = after["rows"] > 0
        self._groups.set_live(touched[exists & ~existed])
        self._groups.delete(touched[~exists])
        out = self._changelog(batch, first, before, after, existed, exists)
        self._compact()
        return out

    def _signs(self, kinds: pa.Array | None) -> np.ndarray | None:
        if kinds is None:
            return None
        if isinstance(kinds, pa.ChunkedArray):
            kinds = kinds.combine_chunks()
        retract = (kinds.to_numpy(zero_copy_only=False).astype(np.int64) & 1).astype(bool)
        if not retract.any():
            return None
        if not self._retracting:
            raise ValueError("a group aggregation built for an insert-only input got -U/-D "
                             "rows; expected retracting=True for an updating input")
        return np.where(retract, -1, 1).astype(np.int64)

    def _changelog(self, batch: pa.RecordBatch, first: np.ndarray, before: dict, after: dict,
                   existed: np.ndarray, exists: np.ndarray) -> pa.RecordBatch | None:
        """Per touched group, in order of its first row: the old result (-U or -D) if it
        existed and changed or went, then the new one (+U or +I) if it exists and changed."""
        old = [result(before) for result in self._results]
        new = [result(after) for result in self._results]
        changed = np.zeros(len(first), dtype=bool)
        for a, b in zip(old, new, strict=True):
            changed |= _differs(a, b)
        retract = existed & ~exists
        if self._update_before:
            retract |= existed & changed
        emit = np.stack([retract, exists & (~existed | changed)], axis=1)
        emit = emit.reshape(-1)
        if not emit.any():
            return None
        every = bool(emit.all())
        # nothing retracted (an upsert sink, or only new groups): the new rows alone, without
        # stacking old and new values and masking most of them away
        after_only = not retract.any()
        after_mask = emit[1::2]
        after_all = bool(after_mask.all())
        done: dict[tuple[int, int], np.ndarray] = {}

        def interleave(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            if (id(a), id(b)) not in done:  # aggregates share validity masks
                if after_only:
                    done[(id(a), id(b))] = b if after_all else b[after_mask]
                else:
                    both = np.stack([a, b], axis=1).reshape(-1, *a.shape[1:])
                    done[(id(a), id(b))] = both if every else both[emit]
            return done[(id(a), id(b))]

        columns: list[pa.Array] = []
        if self._keys:
            rows = pa.array(interleave(first, first))
            columns += [batch.column(k).take(rows) for k in self._keys]
            columns = [c if c.type == f.type else c.cast(f.type)
                       for c, f in zip(columns, self._out, strict=False)]
        for j, ((a_data, a_valid), (b_data, b_valid)) in enumerate(zip(old, new, strict=True)):
            valid = None
            if a_valid is not None or b_valid is not None:
                ones = np.ones(len(first), dtype=bool)
                valid = interleave(ones if a_valid is None else a_valid,
                                   ones if b_valid is None else b_valid)
                valid = None if valid.all() else valid
            target = self._out.field(len(self._keys) + j).type
            columns.append(_to_arrow(interleave(a_data, b_data), valid, target))
        kinds = interleave(np.where(exists, UPDATE_BEFORE, DELETE).astype(np.int8),
                           np.where(existed, UPDATE_AFTER, INSERT).astype(np.int8))
        columns.append(pa.array(kinds, type=pa.int8()))
        return pa.RecordBatch.from_arrays(columns, schema=self._schema)

    def _compact(self) -> None:
        """Renumber a table densely once deleted keys make up half of it (amortized: it takes
        as many deletions as live keys); the members index follows the new ids."""
        rebuild = self._groups.compact() is not None
        for v in self._values.values():
            if v.table.compact() is not None or rebuild:
                v.rebuild(self._groups)
