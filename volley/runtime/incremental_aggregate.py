"""Batch-mode aggregation that folds every batch into numpy accumulators as it arrives.

The buffering alternative (keep the whole input, then one Acero ``group_by``) holds every input
row in memory and cannot start before the input ends. COUNT, SUM, AVG, MIN and MAX over numeric
columns decompose: each batch's rows get group ids from a ``KeyDictionary`` and are added into
per-group arrays with ``np.bincount`` / ``np.add.at`` / ``np.fmin.at``, so the state is one slot
per group, not one per row, and a 10M-row GROUP BY over 1,000 keys costs a few numpy passes.
Aggregates that do not decompose this way (DISTINCT, STDDEV, FIRST_VALUE, decimals, strings,
...) keep the buffering path (``aggregate.aggregate_table``).

Semantics match ``aggregate.aggregate_table``: Flink's result types (SUM/MIN/MAX keep the input
type, AVG of an integer column truncates toward zero, COUNT is BIGINT), NULL inputs ignored, SUM,
AVG, MIN and MAX of a group without non-NULL inputs are NULL, a global aggregate of no rows is one
row. MIN and MAX skip NaN unless a group has nothing else. Integer sums wrap on overflow, as in
Java.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from volley.plan.calls import AggCall, can_accumulate  # noqa: F401 - re-exported
from volley.state.key_dictionary import KeyDictionary


def _numeric(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t)


class _BatchColumns:
    """One batch's group ids and its argument columns, each converted once for all aggregates."""

    def __init__(self, batch: pa.RecordBatch, ids: np.ndarray, groups: int) -> None:
        self.batch, self.ids, self.groups = batch, ids, groups
        self._rows: np.ndarray | None = None
        self._cache: dict[int, tuple[np.ndarray, np.ndarray | None, np.ndarray]] = {}

    def rows_per_group(self) -> np.ndarray:
        if self._rows is None:
            self._rows = per_group_count(self.ids, self.groups)
        return self._rows

    def column(self, arg: int) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """(ids of the non-NULL rows, their values as numpy or None if not numeric, counts)."""
        if arg not in self._cache:
            column = self.batch.column(arg)
            ids = self.ids
            if column.null_count:
                ids = ids[column.is_valid().to_numpy(zero_copy_only=False)]
                column = column.drop_null()
                counts = per_group_count(ids, self.groups)
            else:
                counts = self.rows_per_group()
            numeric = _numeric(column.type)
            values = column.to_numpy(zero_copy_only=False) if numeric else None
            self._cache[arg] = (ids, values, counts)
        return self._cache[arg]


def per_group_count(ids: np.ndarray, groups: int) -> np.ndarray:
    """Per-group row counts of one batch, as an array of ``groups``. ``np.bincount`` allocates
    and scans an array of every group per call, so with many more groups than rows
    ``np.add.at`` into zeros is cheaper; otherwise the two are about even."""
    if groups <= 4 * len(ids):
        return np.bincount(ids, minlength=groups)
    out = np.zeros(groups, dtype=np.int64)
    np.add.at(out, ids, 1)
    return out


class _State:
    """One per-group array of the aggregation state, shared by the aggregates that need it:
    ``rows`` (COUNT(*)), ``count`` (non-NULL values of a column), ``sum``, ``min``, ``max``.

    Float MIN/MAX start at NaN and fold with ``fmin``/``fmax``, which skip NaN: a group ends NaN
    only when it has nothing else. MIN and MAX first pick the rows that can change their group's
    value (smaller, or NaN, than the running minimum); once the running values settle, that is a
    small fraction of a batch, and ``ufunc.at``, the slow part, runs on those rows alone. Sorted
    input in the wrong direction makes every row a candidate and costs one gather more than
    folding every row.
    """

    def __init__(self, kind: str, arg: int | None, integral: bool) -> None:
        self.kind, self.arg = kind, arg
        dtype = np.int64 if integral or kind in ("rows", "count") else np.float64
        if kind == "min":
            self.initial = np.iinfo(np.int64).max if integral else np.nan
            self._at = np.minimum if integral else np.fmin
        elif kind == "max":
            self.initial = np.iinfo(np.int64).min if integral else np.nan
            self._at = np.maximum if integral else np.fmax
        else:
            self.initial, self._at = 0, np.add
        # ``values`` is a view of the first groups of ``_buffer``, which grows by doubling: a
        # key space revealed a few thousand keys per batch is not copied once per batch.
        self._buffer = np.zeros(0, dtype=dtype)
        self.values = self._buffer

    def grow(self, groups: int) -> None:
        if groups > len(self._buffer):
            buffer = np.full(max(groups, 2 * len(self._buffer)), self.initial,
                             dtype=self._buffer.dtype)
            buffer[: len(self.values)] = self.values
            self._buffer = buffer
        self.values = self._buffer[:groups]

    def reorder(self, old_of_new: np.ndarray) -> None:
        """The groups were renumbered: new group ``i`` is old group ``old_of_new[i]``."""
        self.values[:] = self.values[old_of_new]

    def add(self, view: _BatchColumns) -> None:
        if self.kind == "rows":
            self.values += view.rows_per_group()
            return
        assert self.arg is not None
        ids, data, counts = view.column(self.arg)
        if self.kind == "count":
            self.values += counts
            return
        data = data.astype(self.values.dtype, copy=False)
        if self.kind == "sum":
            # Straight into the running sums: numpy's indexed add beats a weighted bincount
            # (which builds a float array of every group per batch: 6x slower with 100k
            # groups), and integer sums wrap on overflow, as in Java.
            np.add.at(self.values, ids, data)
            return
        self._fold_extreme(ids, data)

    def _fold_extreme(self, ids: np.ndarray, data: np.ndarray) -> None:
        """MIN or MAX: fold the rows that can change their group's running value.

        Once every group has a value, a row can only lower a MIN if it is below the largest
        running minimum (raise a MAX: above the smallest running maximum). That bound costs one
        comparison per row and no gather, and once the values settle it leaves a small fraction
        of the rows, which are then checked against their own group's value.
        """
        is_min = self.kind == "min"
        # The bound is a pass over every group: worth it only when there are fewer than rows.
        bound = (self.values.max() if is_min else self.values.min()) \
            if len(self.values) <= len(ids) else np.nan
        if bound == bound:  # no group is still NaN (without a value)
            rows = np.flatnonzero(data < bound if is_min else data > bound)
            if len(rows) == 0:
                return
            ids, data = ids[rows], data[rows]
        current = np.take(self.values, ids)
        # "not >=" rather than "<": true for NaN too, in the data and in the running values
        changes = ~(data >= current) if is_min else ~(data <= current)
        if changes.any():
            self._at.at(self.values, ids[changes], data[changes])


class IncrementalAggregate:
    """GROUP BY (or a global aggregate) over batches folded in one at a time."""

    def __init__(self, in_schema: pa.Schema, group_keys: tuple[int, ...],
                 aggs: tuple[AggCall, ...], out: pa.Schema) -> None:
        self._keys = group_keys
        self._out = out
        self._aggs = aggs
        self._groups = KeyDictionary([in_schema.field(k).type for k in group_keys]) \
            if group_keys else None
        self._states: dict[tuple[str, int | None], _State] = {}
        for agg in aggs:
            for kind in self._needs(agg):
                integral = agg.arg is not None and pa.types.is_integer(in_schema.field(agg.arg).type)
                key = (kind, None if kind == "rows" else agg.arg)
                self._states.setdefault(key, _State(kind, key[1], integral))
        self._size = 0
        if self._groups is None:  # a global aggregate always has its one group
            self._grow(1)

    @staticmethod
    def _needs(agg: AggCall) -> tuple[str, ...]:
        if agg.fn == "count":
            return ("rows",) if agg.arg is None else ("count",)
        if agg.fn in ("sum", "avg"):
            return ("count", "sum")
        return ("count", agg.fn)

    def _grow(self, groups: int) -> None:
        if groups > self._size:
            for state in self._states.values():
                state.grow(groups)
            self._size = groups

    def add(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        if self._groups is None:
            ids = np.zeros(batch.num_rows, dtype=np.int64)
        else:
            old_of_new = self._groups.renumber_as_offsets()
            if old_of_new is not None:
                for state in self._states.values():
                    state.reorder(old_of_new)
            ids = self._groups.encode([batch.column(k) for k in self._keys])
            self._grow(self._groups.size)
        view = _BatchColumns(batch, ids, self._size)
        # inf + -inf is NaN and a float sum may overflow to inf, as in SQL: no numpy warnings
        with np.errstate(invalid="ignore", over="ignore"):
            for state in self._states.values():
                state.add(view)

    def _result(self, agg: AggCall) -> pa.Array:
        target = agg.type.to_arrow()
        if agg.fn == "count":
            key = ("rows", None) if agg.arg is None else ("count", agg.arg)
            return pa.array(self._states[key].values).cast(target)
        counts = self._states[("count", agg.arg)].values
        values = self._states[("sum" if agg.fn == "avg" else agg.fn, agg.arg)].values
        if agg.fn == "avg":
            divisor = np.maximum(counts, 1)
            if pa.types.is_integer(target):  # Flink: AVG of an integer truncates toward zero
                values = np.sign(values) * (np.abs(values) // divisor)
            else:
                with np.errstate(invalid="ignore"):
                    values = values / divisor
        return pa.array(values, mask=counts == 0).cast(target, safe=False)

    def result(self) -> pa.Table:
        keys = self._groups.key_columns() if self._groups is not None else []
        columns = [k.cast(self._out.field(i).type) for i, k in enumerate(keys)]
        columns += [self._result(agg) for agg in self._aggs]
        return pa.Table.from_arrays(columns, schema=self._out)

    # -- checkpoints ------------------------------------------------------------------------------
    def snapshot(self) -> pa.Table:
        """The groups' keys (``k0..``) and raw accumulators (``s0..``, in ``_states`` order)."""
        keys = self._groups.key_columns() if self._groups is not None else []
        columns = {f"k{i}": k for i, k in enumerate(keys)}
        for i, state in enumerate(self._states.values()):
            columns[f"s{i}"] = pa.array(state.values)
        return pa.table(columns)

    def restore(self, table: pa.Table) -> None:
        """Continue from a ``snapshot``: the keys are numbered again, in their order."""
        ids = np.arange(table.num_rows)
        if self._groups is not None:
            keys = [table.column(f"k{i}").combine_chunks() for i in range(len(self._keys))]
            ids = self._groups.encode(keys)
            self._grow(self._groups.size)
        for i, state in enumerate(self._states.values()):
            state.values[ids] = table.column(f"s{i}").to_numpy()
