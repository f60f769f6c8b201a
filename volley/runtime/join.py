"""Hash joins over Arrow tables.

Only the key columns and row numbers go through Acero's hash join; the payload columns are
gathered with ``take`` afterwards, so any column type (lists, structs, decimals) can be joined
and a residual (non-equi) condition is evaluated on the matched pairs before outer rows are
padded with NULLs. NULL keys never match, as in SQL.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from volley.plan.expressions import Expr
from volley.runtime.evaluator import EvalContext, compile_expr, evaluate_predicate


def _key_table(table: pa.Table, keys: list[int], prefix: str) -> pa.Table:
    cols = {f"{prefix}k{i}": table.column(k) for i, k in enumerate(keys)}
    cols[f"{prefix}row"] = pa.array(np.arange(table.num_rows, dtype=np.int64))
    return pa.table(cols)


def _matched_pairs(
    left: pa.Table, right: pa.Table, left_keys: list[int], right_keys: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    if not left_keys:  # cross product
        li = np.repeat(np.arange(left.num_rows, dtype=np.int64), right.num_rows)
        ri = np.tile(np.arange(right.num_rows, dtype=np.int64), left.num_rows)
        return li, ri
    lk = _key_table(left, left_keys, "l")
    rk = _key_table(right, right_keys, "r")
    # Align key types: Acero requires identical types on both sides.
    for i in range(len(left_keys)):
        lt, rt = lk.column(f"lk{i}").type, rk.column(f"rk{i}").type
        if lt != rt:
            target = _common_arrow(lt, rt)
            lk = lk.set_column(i, f"lk{i}", lk.column(f"lk{i}").cast(target))
            rk = rk.set_column(i, f"rk{i}", rk.column(f"rk{i}").cast(target))
    joined = lk.join(
        rk,
        keys=[f"lk{i}" for i in range(len(left_keys))],
        right_keys=[f"rk{i}" for i in range(len(right_keys))],
        join_type="inner",
        use_threads=False,
    )
    li = joined.column("lrow").to_numpy()
    ri = joined.column("rrow").to_numpy()
    order = np.lexsort((ri, li))  # deterministic: by left row, then right row
    return li[order], ri[order]


def _common_arrow(a: pa.DataType, b: pa.DataType) -> pa.DataType:
    if pa.types.is_integer(a) and pa.types.is_integer(b):
        return pa.int64()
    if pa.types.is_decimal(a) or pa.types.is_decimal(b):
        return pa.float64() if (pa.types.is_floating(a) or pa.types.is_floating(b)) else (
            pa.decimal128(38, max(getattr(a, "scale", 0), getattr(b, "scale", 0)))
        )
    if (pa.types.is_floating(a) or pa.types.is_integer(a)) and (
        pa.types.is_floating(b) or pa.types.is_integer(b)
    ):
        return pa.float64()
    return a


def join_tables(
    left: pa.Table,
    right: pa.Table,
    kind: str,
    left_keys: list[int],
    right_keys: list[int],
    residual: Expr | None,
    out: pa.Schema,
    ctx: EvalContext,
) -> pa.Table:
    li, ri = _matched_pairs(left, right, left_keys, right_keys)
    if residual is not None and len(li):
        pairs = _gather(left, right, li, ri, None)
        batch = pairs.combine_chunks().to_batches()
        if batch:
            mask = evaluate_predicate(compile_expr(residual, ctx), batch[0]).to_numpy(
                zero_copy_only=False
            )
            li, ri = li[mask], ri[mask]
    if kind == "semi":
        keep = np.unique(li)
        return left.take(pa.array(keep)).rename_columns(out.names)
    if kind == "null_aware_anti":
        return _null_aware_anti(left, right, left_keys, right_keys, li, out)
    if kind == "anti":
        mask = np.ones(left.num_rows, dtype=bool)
        mask[li] = False
        return left.filter(pa.array(mask)).rename_columns(out.names)
    if kind in ("left", "full"):
        unmatched = np.setdiff1d(np.arange(left.num_rows, dtype=np.int64), li)
        li = np.concatenate([li, unmatched])
        ri = np.concatenate([ri, np.full(len(unmatched), -1, dtype=np.int64)])
    if kind in ("right", "full"):
        unmatched = np.setdiff1d(np.arange(right.num_rows, dtype=np.int64), ri[ri >= 0])
        li = np.concatenate([li, np.full(len(unmatched), -1, dtype=np.int64)])
        ri = np.concatenate([ri, unmatched])
    return _gather(left, right, li, ri, out)


def _null_aware_anti(left: pa.Table, right: pa.Table, left_keys: list[int],
                     right_keys: list[int], matched_left: np.ndarray, out: pa.Schema) -> pa.Table:
    """``x NOT IN (subquery)``: UNKNOWN (so dropped) when x is NULL or the subquery has a NULL."""
    if right.num_rows == 0:
        return left.rename_columns(out.names)
    if any(right.column(k).null_count for k in right_keys):
        return left.slice(0, 0).rename_columns(out.names)
    mask = np.ones(left.num_rows, dtype=bool)
    mask[matched_left] = False
    for k in left_keys:
        mask &= pc.is_valid(left.column(k)).to_numpy(zero_copy_only=False)
    return left.filter(pa.array(mask)).rename_columns(out.names)


def _take(table: pa.Table, idx: np.ndarray) -> list[pa.ChunkedArray | pa.Array]:
    if (idx < 0).any():
        indices = pa.array(np.where(idx < 0, 0, idx), mask=idx < 0)
    else:
        indices = pa.array(idx)
    if table.num_rows == 0:
        return [pa.nulls(len(idx), c.type) for c in table.columns]
    return [c.take(indices) for c in table.columns]


def _gather(
    left: pa.Table, right: pa.Table, li: np.ndarray, ri: np.ndarray, out: pa.Schema | None
) -> pa.Table:
    columns = _take(left, li) + _take(right, ri)
    if out is None:
        names = [f"c{i}" for i in range(len(columns))]
        return pa.Table.from_arrays(columns, names=names)
    return pa.Table.from_arrays(
        [c.cast(f.type) if c.type != f.type else c for c, f in zip(columns, out, strict=True)],
        schema=out,
    )
