"""Hash joins over Arrow tables.

One side is hashed (``BuildSide``: key tuples numbered by a ``KeyDictionary``, rows grouped by
key); the other is probed against it batch by batch, giving (probe row, build row) pairs from
which the payload columns are gathered with ``take`` — so any column type (lists, structs,
decimals) can be joined, and a residual (non-equi) condition is evaluated on the matched pairs
before outer rows are padded with NULLs. NULL keys never match, as in SQL.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from volley.plan.calls import ALL_COLUMNS, OutputColumns
from volley.plan.expressions import Expr
from volley.runtime.evaluator import EvalContext, compile_expr, evaluate_predicate
from volley.state import key_dictionary
from volley.state.key_dictionary import KeyDictionary


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
    """One input of a streaming join, hashed as it grows, for the other input's batches to
    probe.

    Rebuilding one ``BuildSide`` of everything seen at each batch made a stream join quadratic.
    Instead the rows sit in runs, each a ``BuildSide``, the newest the smallest: a new batch is
    a run of its own, and while the run before it is at most twice its size the two are merged,
    as a binary counter carries. So a probe visits O(log n) runs and a row is hashed again
    O(log n) times over the whole stream.

    Rows are hashed only when the other input probes them: added batches wait as pending rows
    and become one run at the next probe (or any other read of ``runs``). A side that is probed
    rarely — a stream of bids joined with one maximum per window — is then hashed in a few large
    runs instead of a run per batch merged again and again.

    A retraction (``remove``) marks one equal live row dead per retracted row; dead rows are
    skipped by probes and dropped when their run is next merged. Rows with a NULL key are not
    kept: they can never match. With ``counted`` (the outer side of an outer join) every row
    also keeps how many rows of the other input it currently matches (``run.matches``).
    """

    def __init__(self, schema: pa.Schema, keys: list[int], types: list[pa.DataType],
                 counted: bool = False) -> None:
        self._schema, self._keys, self._types = schema, keys, types
        self.counted = counted
        self._runs: list[BuildSide] = []
        self._pending: list[pa.Table] = []
        self._pending_matches: list[np.ndarray | None] = []

    @property
    def schema(self) -> pa.Schema:
        return self._schema

    @property
    def keys(self) -> list[int]:
        return self._keys

    def add(self, batch: pa.RecordBatch | pa.Table, matches: np.ndarray | None = None) -> None:
        """Keep the rows of ``batch``; ``matches``: how many rows of the other input each one
        matches (a counted side; none: zero)."""
        table = batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch],
                                                                               schema=self._schema)
        keep = _valid_keys(table, self._keys)
        if keep is not None:
            table = table.filter(pa.array(keep))
            matches = None if matches is None else matches[keep]
        if table.num_rows == 0:
            return
        self._pending.append(table)
        self._pending_matches.append(matches)

    @property
    def runs(self) -> list[BuildSide]:
        """The hashed runs, the rows added since the last read hashed into one of them first."""
        if self._pending:
            self._index_pending()
        return self._runs

    def _index_pending(self) -> None:
        tables, matches = self._pending, self._pending_matches
        self._pending, self._pending_matches = [], []
        table = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
        counts = None
        if self.counted:
            counts = np.concatenate([np.zeros(t.num_rows, dtype=np.int64) if m is None
                                     else np.asarray(m, dtype=np.int64)
                                     for t, m in zip(tables, matches, strict=True)])
        runs = self._runs
        runs.append(self._run(table, counts))
        while len(runs) > 1 and runs[-2].table.num_rows <= 2 * runs[-1].table.num_rows:
            newer, older = runs.pop(), runs.pop()
            merged = pa.concat_tables([_live(older), _live(newer)])
            counts = np.concatenate([_live_matches(older), _live_matches(newer)]) \
                if self.counted else None
            runs.append(self._run(merged, counts))

    def _run(self, table: pa.Table, matches: np.ndarray | None = None) -> BuildSide:
        """A run is hashed once and probed by a few batches before it is merged, so its keys
        get a slot array (``KeyDictionary``) only as wide as a few slots per row: a run of
        1,000 rows keyed over a million values would otherwise fill 8 MB of slots."""
        limit = min(key_dictionary.DIRECT_RANGE_LIMIT, max(RUN_MIN_SLOTS, 8 * table.num_rows))
        run = BuildSide(table, self._keys, self._types, limit)
        run.alive = np.ones(table.num_rows, dtype=bool)
        if self.counted:
            run.matches = np.zeros(table.num_rows, dtype=np.int64) if matches is None \
                else np.asarray(matches, dtype=np.int64).copy()
        return run

    def remove(self, rows: pa.Table) -> int:
        """Mark one live stored row equal to each row of ``rows`` dead (a row of ``rows`` with no
        equal live row removes nothing); return how many were removed.

        Equal rows of ``rows`` must take distinct stored rows. Candidates of a retracted row are
        the stored rows equal to it, so identical retracted rows share their candidate list and
        different ones have disjoint lists: the k-th copy of a row takes its k-th candidate.
        """
        rows = _without_null_keys(rows, self._keys)
        if rows.num_rows == 0 or not self.runs:
            return 0
        probe, cand_run, cand_row = [], [], []
        for index, run in enumerate(self.runs):
            p, r = run.pairs(rows, self._keys)
            keep = run.alive[r]
            p, r = p[keep], r[keep]
            if len(p):
                same = _rows_equal(rows, run.table, p, r)
                probe.append(p[same])
                cand_row.append(r[same])
                cand_run.append(np.full(int(same.sum()), index, dtype=np.int64))
        if not probe:
            return 0
        p, run_of, row = np.concatenate(probe), np.concatenate(cand_run), np.concatenate(cand_row)
        if not len(p):
            return 0
        # a global candidate number, ordered by run then row
        offsets = self.offsets()
        cand = offsets[run_of] + row
        order = np.lexsort((cand, p))
        p, cand = p[order], cand[order]
        first = np.ones(len(p), dtype=bool)
        first[1:] = p[1:] != p[:-1]
        starts = np.flatnonzero(first)
        counts = np.diff(np.append(starts, len(p)))
        probes = p[starts]
        group = cand[starts]  # the first candidate identifies the set of equal rows
        # occurrence of each probe row among probe rows of the same group
        by_group = np.lexsort((probes, group))
        g_sorted = group[by_group]
        new_group = np.ones(len(g_sorted), dtype=bool)
        new_group[1:] = g_sorted[1:] != g_sorted[:-1]
        positions = np.arange(len(g_sorted))
        occurrence = np.empty(len(g_sorted), dtype=np.int64)
        occurrence[by_group] = positions - np.maximum.accumulate(np.where(new_group, positions, 0))
        takes = occurrence < counts
        chosen = cand[starts[takes] + occurrence[takes]]
        run_index = np.searchsorted(offsets, chosen, side="right") - 1
        for index in np.unique(run_index):
            self.runs[index].alive[chosen[run_index == index] - offsets[index]] = False
        return len(chosen)

    def offsets(self) -> np.ndarray:
        """Where each run's rows start in a numbering of every stored row, run after run."""
        return np.cumsum([0] + [r.table.num_rows for r in self.runs])

    def matching(self, probe: pa.Table, probe_keys: list[int], probe_is_left: bool,
                 residual: Expr | None, ctx: EvalContext
                 ) -> list[tuple[int, np.ndarray, np.ndarray]]:
        """The live rows each row of ``probe`` joins with (equal keys, and the ``residual``
        condition over the left input's columns followed by the right's): per run, its index,
        the probe rows and the run's rows of the pairs."""
        found = []
        for index, run in enumerate(self.runs):
            probe_rows, run_rows = run.pairs(probe, probe_keys)
            live = run.alive[run_rows]
            if not live.all():
                probe_rows, run_rows = probe_rows[live], run_rows[live]
            if residual is not None and len(probe_rows):
                if probe_is_left:
                    probe_rows, run_rows = _where_residual_holds(
                        probe, run.table, probe_rows, run_rows, residual, ctx)
                else:
                    run_rows, probe_rows = _where_residual_holds(
                        run.table, probe, run_rows, probe_rows, residual, ctx)
            if len(probe_rows):
                found.append((index, probe_rows, run_rows))
        return found

    def join(self, probe: pa.Table, probe_keys: list[int], probe_is_left: bool,
             residual: Expr | None, out: pa.Schema, ctx: EvalContext) -> tuple[list[pa.Table],
                                                                                list[np.ndarray]]:
        """The inner join of ``probe`` with every live row, one table per run (left input's
        columns first, whichever side ``probe`` comes from), and for each table the probe row
        of each of its rows."""
        results, probe_rows_of = [], []
        for index, probe_rows, run_rows in self.matching(probe, probe_keys, probe_is_left,
                                                         residual, ctx):
            table = self.runs[index].table
            if probe_is_left:
                results.append(_gather(probe, table, probe_rows, run_rows, out))
            else:
                results.append(_gather(table, probe, run_rows, probe_rows, out))
            probe_rows_of.append(probe_rows)
        return results, probe_rows_of

    def live_rows(self) -> pa.Table:
        """Every live row, oldest first."""
        if not self.runs:
            return self._schema.empty_table()
        return pa.concat_tables([_live(run) for run in self.runs])

    def live_matches(self) -> np.ndarray:
        """The match count of every live row (a counted side), in ``live_rows`` order."""
        if not self.runs:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate([_live_matches(run) for run in self.runs])


def _live(run: BuildSide) -> pa.Table:
    alive = run.alive  # type: ignore[attr-defined]
    return run.table if alive.all() else run.table.filter(pa.array(alive))


def _live_matches(run: BuildSide) -> np.ndarray:
    matches = run.matches  # type: ignore[attr-defined]
    alive = run.alive  # type: ignore[attr-defined]
    return matches if alive.all() else matches[alive]


def _valid_keys(table: pa.Table, keys: list[int]) -> np.ndarray | None:
    """Which rows have no NULL key column (None: every row)."""
    if not any(table.column(k).null_count for k in keys):
        return None
    mask = np.ones(table.num_rows, dtype=bool)
    for k in keys:
        mask &= pc.is_valid(table.column(k)).to_numpy(zero_copy_only=False)
    return mask


def _without_null_keys(table: pa.Table, keys: list[int]) -> pa.Table:
    keep = _valid_keys(table, keys)
    return table if keep is None else table.filter(pa.array(keep))


def _rows_equal(a: pa.Table, b: pa.Table, ai: np.ndarray, bi: np.ndarray) -> np.ndarray:
    """Whether row ``ai[j]`` of ``a`` equals row ``bi[j]`` of ``b`` in every column (NULL
    equals NULL, NaN equals NaN)."""
    same = np.ones(len(ai), dtype=bool)
    take_a, take_b = pa.array(ai), pa.array(bi)
    for x, y in zip(a.columns, b.columns, strict=True):
        x, y = x.take(take_a), y.take(take_b)
        try:
            eq = pc.fill_null(pc.equal(x, y), False)
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
            same &= np.array([u == v for u, v in zip(x.to_pylist(), y.to_pylist(),
                                                     strict=True)], dtype=bool)
            continue
        both_null = pc.and_(pc.is_null(x), pc.is_null(y))
        eq = pc.or_(eq, both_null)
        if pa.types.is_floating(x.type):
            eq = pc.or_(eq, pc.and_(pc.is_nan(pc.fill_null(x, 0.0)),
                                    pc.is_nan(pc.fill_null(y, 0.0))))
        same &= eq.to_numpy(zero_copy_only=False)
    return same


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
