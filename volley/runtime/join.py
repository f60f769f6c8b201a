"""Hash joins over Arrow tables.

One side is hashed (``BuildSide``: key tuples numbered by a ``KeyDictionary``, rows grouped by
key); the other is probed against it batch by batch, giving (probe row, build row) pairs from
which the payload columns are gathered with ``take`` — so any column type (lists, structs,
decimals) can be joined, and a residual (non-equi) condition is evaluated on the matched pairs
before outer rows are padded with NULLs. NULL keys never match, as in SQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from volley.plan.expressions import Expr
from volley.runtime.evaluator import EvalContext, compile_expr, evaluate_predicate
from volley.state import key_dictionary
from volley.state.key_dictionary import KeyDictionary


@dataclass(frozen=True)
class OutputColumns:
    """The columns a join emits: positions in left + right (``select``; None: all of them), and
    which of those (indices into ``select``) may stay dictionary-encoded over the build side's
    column — set by the planner only for group keys of an aggregation that reads them next."""

    select: tuple[int, ...] | None = None
    encoded: frozenset[int] = frozenset()


ALL_COLUMNS = OutputColumns()


class BuildSide:
    """The hashed side of a join: its rows grouped by key, so that probing is a few numpy passes.

    Key tuples get dense ids from a ``KeyDictionary``; ``rows`` lists the build rows ordered by
    id (stably, so equal keys keep their input order) and ``starts``/``counts`` delimit each id's
    run. When every key is unique — a dimension table on its primary key — a probe row's match
    is one gather. ``matched`` records which build rows found a partner, for RIGHT and FULL joins.
    """

    def __init__(self, table: pa.Table, keys: list[int], key_types: list[pa.DataType],
                 direct_range_limit: int | None = None) -> None:
        self.table = table.combine_chunks()
        self.key_types = key_types
        self.has_keys = bool(keys)
        self.has_null_key = any(self.table.column(k).null_count for k in keys)
        self.matched = np.zeros(self.table.num_rows, dtype=bool)
        if not keys:
            return
        self.dictionary = KeyDictionary(key_types, direct_range_limit)
        ids = self.dictionary.encode(_key_columns(self.table, keys, key_types))
        self.rows = np.argsort(ids, kind="stable")
        self.counts = np.bincount(ids, minlength=self.dictionary.size)
        self.starts = np.cumsum(self.counts) - self.counts
        self.unique = bool(len(self.counts) == 0 or self.counts.max() <= 1)
        self.row_of_id = self.rows[self.starts] if self.unique else None

    def pairs(self, probe: pa.Table, keys: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """(probe row, build row) of every match, by probe row and then build row."""
        n_build = self.table.num_rows
        if not self.has_keys:  # cross product
            probe_rows = np.repeat(np.arange(probe.num_rows, dtype=np.int64), n_build)
            return probe_rows, np.tile(np.arange(n_build, dtype=np.int64), probe.num_rows)
        if n_build == 0:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty
        ids = self.dictionary.lookup(_key_columns(probe, keys, self.key_types), null_matches=False)
        hit = ids >= 0
        if hit.all():
            probe_rows = np.arange(len(ids), dtype=np.int64)
        else:
            probe_rows = np.nonzero(hit)[0]
            ids = ids[hit]
        if self.row_of_id is not None:
            return probe_rows, self.row_of_id[ids]
        counts = self.counts[ids]
        ends = np.cumsum(counts)
        within = np.arange(ends[-1] if len(ends) else 0) - np.repeat(ends - counts, counts)
        build_rows = self.rows[np.repeat(self.starts[ids], counts) + within]
        return np.repeat(probe_rows, counts), build_rows


def _key_columns(table: pa.Table, keys: list[int], types: list[pa.DataType]) -> list[pa.Array]:
    columns = []
    for k, t in zip(keys, types, strict=True):
        column = table.column(k)
        column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        columns.append(column if column.type == t else column.cast(t))
    return columns


def key_types(left: pa.Schema, right: pa.Schema, left_keys: list[int],
              right_keys: list[int]) -> list[pa.DataType]:
    """One type per key pair that both sides' key columns are cast to before hashing."""
    return [_common_arrow(left.field(lk).type, right.field(rk).type)
            for lk, rk in zip(left_keys, right_keys, strict=True)]


def _common_arrow(a: pa.DataType, b: pa.DataType) -> pa.DataType:
    if a == b:
        return a
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


def probe_join(
    build: BuildSide,
    left: pa.Table,
    kind: str,
    left_keys: list[int],
    residual: Expr | None,
    out: pa.Schema,
    ctx: EvalContext,
    columns: OutputColumns = ALL_COLUMNS,
) -> pa.Table:
    """The join's output for the probe rows ``left`` (the ``columns`` asked for; ``out`` is
    their schema); RIGHT/FULL joins also mark build rows matched, and
    ``unmatched_build_rows`` adds the rest once every probe row has been seen."""
    right = build.table
    li, ri = build.pairs(left, left_keys)
    li, ri = _where_residual_holds(left, right, li, ri, residual, ctx)
    if kind in ("right", "full"):
        build.matched[ri] = True
    if kind in ("semi", "anti", "null_aware_anti"):
        if kind == "semi":
            kept = left.take(pa.array(np.unique(li)))
        elif kind == "anti":
            mask = np.ones(left.num_rows, dtype=bool)
            mask[li] = False
            kept = left.filter(pa.array(mask))
        else:
            kept = _null_aware_anti(left, build, left_keys, li)
        if columns.select is not None:
            kept = kept.select(list(columns.select))
        return kept.rename_columns(out.names)
    if kind in ("left", "full"):
        unmatched = np.setdiff1d(np.arange(left.num_rows, dtype=np.int64), li)
        li = np.concatenate([li, unmatched])
        ri = np.concatenate([ri, np.full(len(unmatched), -1, dtype=np.int64)])
    return _gather(left, right, li, ri, out, columns)


def _where_residual_holds(left: pa.Table, right: pa.Table, li: np.ndarray, ri: np.ndarray,
                          residual: Expr | None, ctx: EvalContext) -> tuple[np.ndarray, np.ndarray]:
    """The pairs (rows ``li`` of ``left``, rows ``ri`` of ``right``) for which the non-equi
    part of the join condition holds: all of them when there is none."""
    if residual is None or not len(li):
        return li, ri
    batch = _gather(left, right, li, ri, None).combine_chunks().to_batches()
    if not batch:
        return li, ri
    mask = evaluate_predicate(compile_expr(residual, ctx), batch[0]).to_numpy(zero_copy_only=False)
    return li[mask], ri[mask]


#: The narrowest slot array a streaming join's run may number its keys through.
RUN_MIN_SLOTS = 1 << 12


class GrowingBuildSide:
    """One input of a streaming inner join, hashed as it grows, for the other input's batches
    to probe.

    Rebuilding one ``BuildSide`` of everything seen at each batch made a stream join quadratic.
    Instead the rows sit in runs, each a ``BuildSide``, the newest the smallest: a new batch is
    a run of its own, and while the run before it is at most twice its size the two are merged,
    as a binary counter carries. So a probe visits O(log n) runs and a row is hashed again
    O(log n) times over the whole stream.
    """

    def __init__(self, schema: pa.Schema, keys: list[int], types: list[pa.DataType]) -> None:
        self._schema, self._keys, self._types = schema, keys, types
        self.runs: list[BuildSide] = []

    def add(self, batch: pa.RecordBatch) -> None:
        self.runs.append(self._run(pa.Table.from_batches([batch], schema=self._schema)))
        while len(self.runs) > 1 and (
            self.runs[-2].table.num_rows <= 2 * self.runs[-1].table.num_rows
        ):
            newer, older = self.runs.pop(), self.runs.pop()
            self.runs.append(self._run(pa.concat_tables([older.table, newer.table])))

    def _run(self, table: pa.Table) -> BuildSide:
        """A run is hashed once and probed by a few batches before it is merged, so its keys
        get a slot array (``KeyDictionary``) only as wide as a few slots per row: a run of
        1,000 rows keyed over a million values would otherwise fill 8 MB of slots."""
        limit = min(key_dictionary.DIRECT_RANGE_LIMIT, max(RUN_MIN_SLOTS, 8 * table.num_rows))
        return BuildSide(table, self._keys, self._types, limit)

    def join(self, probe: pa.Table, probe_keys: list[int], probe_is_left: bool,
             residual: Expr | None, out: pa.Schema, ctx: EvalContext) -> list[pa.Table]:
        """The inner join of ``probe`` with every row added so far, one table per run (left
        input's columns first, whichever side ``probe`` comes from)."""
        results = []
        for run in self.runs:
            probe_rows, run_rows = run.pairs(probe, probe_keys)
            left, right, li, ri = (
                (probe, run.table, probe_rows, run_rows) if probe_is_left
                else (run.table, probe, run_rows, probe_rows)
            )
            li, ri = _where_residual_holds(left, right, li, ri, residual, ctx)
            if len(li):
                results.append(_gather(left, right, li, ri, out))
        return results


def unmatched_build_rows(build: BuildSide, left_schema: pa.Schema, out: pa.Schema,
                         columns: OutputColumns = ALL_COLUMNS) -> pa.Table:
    """RIGHT/FULL joins: the build rows no probe row matched, padded with NULLs on the left."""
    unmatched = np.nonzero(~build.matched)[0]
    empty_left = left_schema.empty_table()
    return _gather(empty_left, build.table, np.full(len(unmatched), -1, dtype=np.int64),
                   unmatched, out, columns)


def _null_aware_anti(left: pa.Table, build: BuildSide, left_keys: list[int],
                     matched_left: np.ndarray) -> pa.Table:
    """``x NOT IN (subquery)``: UNKNOWN (so dropped) when x is NULL or the subquery has a NULL."""
    if build.table.num_rows == 0:
        return left
    if build.has_null_key:
        return left.slice(0, 0)
    mask = np.ones(left.num_rows, dtype=bool)
    mask[matched_left] = False
    for k in left_keys:
        mask &= pc.is_valid(left.column(k)).to_numpy(zero_copy_only=False)
    return left.filter(pa.array(mask))


def _taker(n: int, idx: np.ndarray) -> Callable[[pa.ChunkedArray], pa.ChunkedArray | pa.Array]:
    """A gather of rows ``idx`` (-1: a NULL row) out of ``n``, to apply to columns of n rows."""
    if len(idx) == n and n and idx[0] == 0 and idx[-1] == n - 1 and (np.diff(idx) == 1).all():
        return lambda column: column  # every row once, in order: nothing to gather
    if n == 0:
        return lambda column: pa.nulls(len(idx), column.type)
    indices = _row_indices(idx)
    return lambda column: column.take(indices)


def _row_indices(rows: np.ndarray, dtype: type = np.int64) -> pa.Array:
    """``rows`` as Arrow indices, a -1 becoming a NULL index (a row of NULLs when taken)."""
    missing = rows < 0
    if not missing.any():
        return pa.array(rows.astype(dtype, copy=False))
    return pa.array(np.where(missing, 0, rows).astype(dtype), mask=missing)


def _gather(
    left: pa.Table, right: pa.Table, li: np.ndarray, ri: np.ndarray, out: pa.Schema | None,
    columns: OutputColumns = ALL_COLUMNS,
) -> pa.Table:
    """Rows ``li`` of ``left`` beside rows ``ri`` of ``right``: the columns ``columns`` asks
    for, so that columns nobody reads are never gathered."""
    width = left.num_columns
    wanted = range(width + right.num_columns) if columns.select is None else columns.select
    take_left, take_right = _taker(left.num_rows, li), _taker(right.num_rows, ri)
    gathered = []
    for position, i in enumerate(wanted):
        if i < width:
            gathered.append(take_left(left.column(i)))
        elif position in columns.encoded and right.num_rows:
            gathered.append(_encoded(right.column(i - width), ri))
        else:
            gathered.append(take_right(right.column(i - width)))
    if out is None:
        return pa.Table.from_arrays(gathered, names=[f"c{i}" for i in range(len(gathered))])
    arrays = [c if c.type == f.type or pa.types.is_dictionary(c.type) else c.cast(f.type)
              for c, f in zip(gathered, out, strict=True)]
    return pa.Table.from_arrays(arrays, names=out.names)


def _encoded(column: pa.ChunkedArray, rows: np.ndarray) -> pa.DictionaryArray:
    """Rows ``rows`` (-1: NULL) of a build-side column as a dictionary array over the column
    itself: no values are copied, and a grouping downstream maps build rows to groups once."""
    dictionary = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
    return pa.DictionaryArray.from_arrays(_row_indices(rows, np.int32), dictionary)
