"""Sorting, Top-N ranking and set operations over Arrow tables.

Null ordering is per key (Flink: NULLS FIRST for ASC, NULLS LAST for DESC unless stated): each
key is preceded by an is-null key, since Arrow's sort has one null placement for all keys.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from volley.plan.calls import SortKey


def positional(table: pa.Table) -> pa.Table:
    """The table with columns named ``c0..cN`` so that duplicate user names cannot clash."""
    return table.rename_columns([f"c{i}" for i in range(table.num_columns)])


def sort_indices(table: pa.Table, keys: tuple[SortKey, ...]) -> pa.Array:
    columns: dict[str, pa.ChunkedArray] = {}
    sort_keys = []
    for i, key in enumerate(keys):
        col = table.column(key.index)
        if col.null_count:
            columns[f"n{i}"] = pc.is_null(col)
            sort_keys.append((f"n{i}", "descending" if key.effective_nulls_first else "ascending"))
        columns[f"v{i}"] = col
        sort_keys.append((f"v{i}", "ascending" if key.ascending else "descending"))
    if not sort_keys:
        return pa.array(np.arange(table.num_rows, dtype=np.int64))
    return pc.sort_indices(pa.table(columns), sort_keys=sort_keys)


def sort_table(table: pa.Table, keys: tuple[SortKey, ...], offset: int, fetch: int | None) -> pa.Table:
    if keys:
        table = table.take(sort_indices(table, keys))
    if offset or fetch is not None:
        stop = table.num_rows if fetch is None else min(table.num_rows, offset + fetch)
        table = table.slice(offset, max(0, stop - offset))
    return table


def rank_table(
    table: pa.Table,
    partition_keys: tuple[int, ...],
    order_keys: tuple[SortKey, ...],
    function: str,
    out: pa.Schema,
) -> pa.Table:
    """Append ROW_NUMBER/RANK/DENSE_RANK within partitions; rows come out partition-sorted."""
    keys = tuple(SortKey(k) for k in partition_keys) + order_keys
    ordered = table.take(sort_indices(table, keys)) if keys else table
    n = ordered.num_rows
    positions = np.arange(n, dtype=np.int64)
    part_start = _run_starts(ordered, partition_keys, n)
    start_index = np.maximum.accumulate(np.where(part_start, positions, 0)) if n else positions
    row_number = positions - start_index + 1
    if function == "row_number":
        ranks = row_number
    else:
        peer_start = part_start | _run_starts(ordered, tuple(k.index for k in order_keys), n)
        if function == "rank":
            peer_index = np.maximum.accumulate(np.where(peer_start, positions, 0)) if n else positions
            ranks = peer_index - start_index + 1
        else:  # dense_rank
            dense = np.cumsum(peer_start)
            first_dense = np.maximum.accumulate(np.where(part_start, dense, 0)) if n else dense
            ranks = dense - first_dense + 1
    columns = list(ordered.columns) + [pa.array(ranks, pa.int64())]
    return pa.Table.from_arrays(columns, schema=out)


def _run_starts(table: pa.Table, keys: tuple[int, ...], n: int) -> np.ndarray:
    """True where a row's key values differ from the previous row's (nulls equal nulls)."""
    starts = np.zeros(n, dtype=bool)
    if n:
        starts[0] = True
    for k in keys:
        col = table.column(k).combine_chunks()
        if n < 2:
            continue
        prev, cur = col.slice(0, n - 1), col.slice(1)
        differ = pc.fill_null(pc.not_equal(prev, cur), False).to_numpy(zero_copy_only=False)
        null_change = pc.not_equal(pc.is_null(prev), pc.is_null(cur)).to_numpy(
            zero_copy_only=False
        )
        starts[1:] |= differ | null_change
    return starts


# -- set operations --------------------------------------------------------------------------------


def _with_null_flags(table: pa.Table) -> tuple[pa.Table, list[str]]:
    """Key columns where NULL is a value: each column, NULL filled, plus an is-null flag."""
    cols, names = {}, []
    for i, col in enumerate(table.columns):
        cols[f"k{i}"] = _fill_default(col)
        cols[f"z{i}"] = pc.is_null(col)
        names += [f"k{i}", f"z{i}"]
    return pa.table(cols), names


def _fill_default(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """NULLs replaced by a fixed value of the column's type (the is-null flag keeps them apart)."""
    if not col.null_count:
        return col
    t = col.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        fill = pa.scalar("", t)
    elif pa.types.is_binary(t):
        fill = pa.scalar(b"", t)
    elif pa.types.is_boolean(t):
        fill = pa.scalar(False)
    elif pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        fill = pa.scalar(0).cast(t)
    elif pa.types.is_temporal(t):
        fill = pa.scalar(0, pa.int64()).cast(t) if not pa.types.is_date32(t) else (
            pa.scalar(0, pa.int32()).cast(t)
        )
    else:
        return col
    return pc.fill_null(col, fill)


def distinct_table(table: pa.Table) -> pa.Table:
    if table.num_columns == 0 or table.num_rows == 0:
        return table
    data = positional(table)
    data = data.append_column("__row", pa.array(np.arange(data.num_rows, dtype=np.int64)))
    firsts = data.group_by(data.column_names[:-1], use_threads=False).aggregate(
        [("__row", "min")]
    )
    rows = np.sort(firsts.column("__row_min").to_numpy())
    return table.take(pa.array(rows))


def _occurrences(table: pa.Table) -> tuple[pa.Table, np.ndarray]:
    """For each row: its key table and its occurrence number among equal rows (0, 1, ...)."""
    keyed, _ = _with_null_flags(table)
    n = table.num_rows
    if n == 0:
        return keyed, np.zeros(0, dtype=np.int64)
    idx = pc.sort_indices(keyed, sort_keys=[(c, "ascending") for c in keyed.column_names])
    ordered = keyed.take(idx)
    starts = _run_starts(ordered, tuple(range(ordered.num_columns)), n)
    positions = np.arange(n)
    first = np.maximum.accumulate(np.where(starts, positions, 0))
    occ_sorted = positions - first
    occ = np.empty(n, dtype=np.int64)
    occ[idx.to_numpy()] = occ_sorted
    return keyed, occ


def intersect_or_minus(left: pa.Table, right: pa.Table, kind: str, all_rows: bool) -> pa.Table:
    """INTERSECT [ALL] / EXCEPT [ALL], treating NULLs as equal (set semantics)."""
    right = right.rename_columns(left.column_names).cast(left.schema)
    if not all_rows:
        left = distinct_table(left)
        right = distinct_table(right)
    lk, locc = _occurrences(left)
    rk, rocc = _occurrences(right)
    lk = lk.append_column("__occ", pa.array(locc)).append_column(
        "__row", pa.array(np.arange(left.num_rows, dtype=np.int64))
    )
    rk = rk.append_column("__occ", pa.array(rocc))
    keys = [c for c in lk.column_names if c not in ("__row",)]
    if kind == "intersect":
        joined = lk.join(rk, keys=keys, join_type="left semi", use_threads=False)
    else:
        joined = lk.join(rk, keys=keys, join_type="left anti", use_threads=False)
    rows = np.sort(joined.column("__row").to_numpy())
    return left.take(pa.array(rows, pa.int64()))
