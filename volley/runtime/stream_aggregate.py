"""Columnar state of a streaming group aggregation (insert-only input).

The state is one Arrow table of group keys and accumulators. Per batch: pre-aggregate the batch,
stack it under the state, and merge both with one hash aggregate; flags record whether a group
existed before and whether the batch touched it, which decides ``+I`` versus ``-U``/``+U``.
COUNT(DISTINCT x) keeps the distinct (key, x) pairs seen so far and counts them in the same pass.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from volley.common.changelog import ROW_KIND_COLUMN as ROW_KIND
from volley.errors import UnsupportedFeatureError
from volley.plan.calls import AggCall
from volley.runtime.aggregate import finalize, positional, split_grouped
from volley.runtime.operator import Batches
from volley.runtime.sort import distinct_table

_VALID = pc.CountOptions(mode="only_valid")
_MIN1 = pc.ScalarAggregateOptions(skip_nulls=True, min_count=1)

# agg fn -> [(partial kernel over the input column, merge kernel over partials)]
_ACCUMULATORS: dict[str, list[tuple[str, str]]] = {
    "count": [("count", "sum")],
    "sum": [("sum", "sum")],
    "avg": [("sum", "sum"), ("count", "sum")],
    "min": [("min", "min")],
    "max": [("max", "max")],
}


class GroupAggregateState:
    def __init__(self, in_schema: pa.Schema, group_keys: tuple[int, ...],
                 aggs: tuple[AggCall, ...], out: pa.Schema) -> None:
        for a in aggs:
            if a.fn not in _ACCUMULATORS or (a.distinct and a.fn != "count"):
                raise UnsupportedFeatureError(
                    f"{a.fn.upper()}{'(DISTINCT)' if a.distinct else ''} in a streaming group "
                    "aggregation is not supported by Volley yet; use COUNT, SUM, AVG, MIN, MAX "
                    "or COUNT(DISTINCT), or run the query in batch mode"
                )
        self._keys = [f"c{k}" for k in group_keys]
        self._aggs = aggs
        self._out = out
        self._state: pa.Table | None = None
        self._distinct: dict[int, pa.Table] = {}
        self._partial_specs: list[tuple] = []
        self._merge_specs: list[tuple] = []
        self._acc_names: list[list[str]] = []
        for j, a in enumerate(aggs):
            names = []
            if a.distinct:
                # d<j>: distinct values while merging; dc<j>: their count, kept in the state
                self._acc_names.append([f"dc{j}"])
                continue
            for m, (partial, merge) in enumerate(_ACCUMULATORS[a.fn]):
                name = f"a{j}_{m}"
                names.append(name)
                if a.arg is None:
                    self._partial_specs.append(([], "count_all", None, name))
                else:
                    opts = _VALID if partial == "count" else _MIN1
                    self._partial_specs.append((f"c{a.arg}", partial, opts, name))
                self._merge_specs.append((name, merge, _MIN1 if merge != "sum" or partial != "count" else None))
            self._acc_names.append(names)

    # -- per batch --------------------------------------------------------------------------------
    def update(self, batch: pa.RecordBatch) -> Batches:
        if batch.num_rows == 0:
            return []
        data = positional(pa.Table.from_batches([batch]))
        partial = self._pre_aggregate(data)
        distinct_rows = self._update_distinct(data)
        stacked = self._stack(partial, distinct_rows)
        merged = self._merge(stacked)
        return self._emit(merged)

    def _pre_aggregate(self, data: pa.Table) -> pa.Table:
        specs = [(c, fn, o) if o is not None else (c, fn) for c, fn, o, _ in self._partial_specs]
        if self._keys:
            result = data.group_by(self._keys, use_threads=False).aggregate(specs)
            key_cols, acc_cols = split_grouped(result, len(self._keys), len(specs))
            columns = dict(zip(self._keys, key_cols, strict=True))
            for (_, _, _, name), col in zip(self._partial_specs, acc_cols, strict=True):
                columns[name] = col
            return pa.table(columns)
        columns = {}
        for c, fn, _o, name in self._partial_specs:
            if fn == "count_all":
                columns[name] = pa.array([data.num_rows], pa.int64())
            elif fn == "count":
                columns[name] = pa.array([pc.count(data.column(c), mode="only_valid").as_py()],
                                         pa.int64())
            else:
                value = getattr(pc, fn)(data.column(c), options=_MIN1)
                columns[name] = pa.array([value.as_py()], value.type)
        return pa.table(columns) if columns else pa.table({"__one": [1]}).drop(["__one"])

    def _update_distinct(self, data: pa.Table) -> list[pa.Table]:
        rows = []
        for j, a in enumerate(self._aggs):
            if not a.distinct:
                continue
            pairs = data.select(self._keys + [f"c{a.arg}"]).rename_columns(self._keys + [f"d{j}"])
            pairs = pairs.filter(pc.is_valid(pairs.column(f"d{j}")))
            previous = self._distinct.get(j)
            combined = pairs if previous is None else pa.concat_tables([previous, pairs])
            self._distinct[j] = distinct_table(combined)
            rows.append(self._distinct[j])
        return rows

    def _stack(self, partial: pa.Table, distinct_rows: list[pa.Table]) -> pa.Table:
        n_new = partial.num_rows if self._keys or partial.num_columns else 1
        new = partial.append_column("__new", pa.array(np.ones(n_new, dtype=np.int8))) if (
            partial.num_columns
        ) else pa.table({"__new": pa.array(np.ones(1, dtype=np.int8))})
        parts = [new]
        if self._state is not None:
            counts = [c for c in self._state.column_names if c.startswith("dc")]
            old = self._state.drop_columns(counts).append_column(
                "__old", pa.array(np.arange(self._state.num_rows, dtype=np.int64))
            )
            parts.append(old)
        parts.extend(distinct_rows)
        return pa.concat_tables(parts, promote_options="permissive")

    def _merge(self, stacked: pa.Table) -> pa.Table:
        specs: list[tuple] = [
            (name, fn, opts) if opts is not None else (name, fn) for name, fn, opts in self._merge_specs
        ]
        for j, a in enumerate(self._aggs):
            if a.distinct:
                specs.append((f"d{j}", "count_distinct", _VALID))
        specs.append(("__new", "max"))
        if "__old" in stacked.column_names:
            specs.append(("__old", "min"))
        if self._keys:
            result = stacked.group_by(self._keys, use_threads=False).aggregate(specs)
            key_cols = result.select(self._keys)
        else:
            result = stacked.group_by([], use_threads=False).aggregate(specs)
            key_cols = None
        columns: dict[str, Any] = {}
        if key_cols is not None:
            for k in self._keys:
                columns[k] = key_cols.column(k)
        for name, fn, _ in self._merge_specs:
            columns[name] = result.column(f"{name}_{fn}")
        for j, a in enumerate(self._aggs):
            if a.distinct:
                columns[f"dc{j}"] = result.column(f"d{j}_count_distinct")
        columns["__new"] = result.column("__new_max")
        columns["__old"] = (
            result.column("__old_min") if "__old" in stacked.column_names
            else pa.nulls(result.num_rows, pa.int64())
        )
        return pa.table(columns)

    def _emit(self, merged: pa.Table) -> Batches:
        touched = pc.is_valid(merged.column("__new"))
        state = merged.drop_columns(["__new", "__old"])
        previous = self._state
        self._state = state
        changed = merged.filter(touched)
        if changed.num_rows == 0:
            return []
        new_rows = self._finalize(state.filter(touched))
        old_idx = changed.column("__old")
        existed = pc.is_valid(old_idx).to_numpy(zero_copy_only=False)
        kinds_new = np.where(existed, 2, 0).astype(np.int8)
        if previous is None or not existed.any():
            return [_with_kind(new_rows, kinds_new)]
        old_rows = self._finalize(previous.take(pc.drop_null(old_idx)))
        # interleave: for each touched group that existed, -U old then +U new
        n, n_old = new_rows.num_rows, old_rows.num_rows
        pos_new = np.arange(n) + np.cumsum(existed)
        pos_old = pos_new[existed] - 1
        idx = np.empty(n + n_old, dtype=np.int64)
        idx[pos_new] = n_old + np.arange(n)
        idx[pos_old] = np.arange(n_old)
        combined = pa.concat_tables([old_rows, new_rows])
        kinds = np.concatenate([np.full(n_old, 1, np.int8), kinds_new])[idx]
        return [_with_kind(combined.take(pa.array(idx)), kinds)]

    def _finalize(self, state: pa.Table) -> pa.Table:
        columns = [state.column(k).cast(self._out.field(i).type)
                   for i, k in enumerate(self._keys)]
        for j, a in enumerate(self._aggs):
            names = self._acc_names[j]
            if a.distinct:
                value = state.column(names[0])
            elif a.fn == "avg":
                total, count = state.column(names[0]), state.column(names[1])
                value = pc.divide(pc.cast(total, pa.float64()), pc.cast(count, pa.float64())) if (
                    not pa.types.is_decimal(total.type)
                ) else pc.divide(total, count)
            elif a.fn == "count":
                value = pc.fill_null(state.column(names[0]), 0)
            else:
                value = state.column(names[0])
            columns.append(finalize(value, a))
        return pa.Table.from_arrays(columns, schema=self._out)

    # -- checkpoints ------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        return {"state": self._state, "distinct": dict(self._distinct)}

    def restore(self, state: dict[str, Any]) -> None:
        self._state = state.get("state")
        self._distinct = dict(state.get("distinct", {}))


def _with_kind(table: pa.Table, kinds: np.ndarray) -> pa.RecordBatch:
    table = table.append_column(ROW_KIND, pa.array(kinds, pa.int8()))
    return table.combine_chunks().to_batches()[0]
