"""The changes one batch makes to a streaming outer join's result (Flink's
``StreamingJoinOperator``), computed for the whole batch at once.

Every row an outer side keeps carries how many rows of the other side it matches. A row of the
batch (the *probe*), in order, as Flink processes it:

* an insert (``+I``/``+U``) with matches: for each match, ``-D`` of the match padded with NULLs
  if the match is on an outer side and had no match before, then ``+I`` of the joined row;
  without matches, ``+I`` of the probe row padded with NULLs if its side is outer;
* a retraction (``-U``/``-D``) with matches: for each match, the joined row retracted (``-D``;
  the probe's own kind when its side is not outer), then ``+I`` of the match padded with NULLs
  if the match is on an outer side and this was its last match; without matches, ``-D`` of the
  padded probe row if its side is outer.

Rows of one batch come from one input, so they never match each other; what one of them changes
for the next is the match counts of the other side's rows, and those follow from a running sum
over the batch's pairs, grouped by the matched row. Matches of a probe row come in the order the
other side's rows arrived (Flink's come in its state's hash order).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from volley.common.changelog import DELETE, INSERT, UPDATE_AFTER
from volley.plan.expressions import Expr
from volley.runtime.evaluator import EvalContext
from volley.runtime.join import GrowingBuildSide, _gather


@dataclass
class JoinChanges:
    """A batch's output: ``rows`` (the join's columns) with their ``kinds``, and how many rows
    of the other side each probe row matched (``matches``)."""

    rows: pa.Table
    kinds: np.ndarray
    matches: np.ndarray


def join_changes(probe: pa.Table, kinds: np.ndarray, probe_is_left: bool,
                 other: GrowingBuildSide, probe_keys: list[int], residual: Expr | None,
                 out: pa.Schema, ctx: EvalContext, probe_outer: bool, other_outer: bool,
                 ) -> JoinChanges:
    """The changes of ``probe`` (row kinds ``kinds``) joined with ``other``'s live rows; the
    match counts of ``other``'s rows (a counted side when ``other_outer``) are brought up to
    date. ``out``: the output's value columns."""
    n = probe.num_rows
    accumulate = (kinds == INSERT) | (kinds == UPDATE_AFTER)
    found = other.matching(probe, probe_keys, probe_is_left, residual, ctx)
    if found:
        run_of = np.concatenate([np.full(len(p), i, dtype=np.int64) for i, p, _ in found])
        p = np.concatenate([p for _, p, _ in found])
        r = np.concatenate([r for _, _, r in found])
        matched = pa.concat_tables([other.runs[i].table.take(pa.array(rows))
                                    for i, _, rows in found])
        # pairs by probe row, then by when the matched row arrived (run, then row in run)
        order = np.lexsort((r, run_of, p))
        p, run_of, r = p[order], run_of[order], r[order]
        matched = matched.take(pa.array(order))
    else:
        p = run_of = r = np.zeros(0, dtype=np.int64)
        matched = other.schema.empty_table()
    sign = np.where(accumulate[p], 1, -1).astype(np.int64)
    padded_other = np.zeros(len(p), dtype=bool)
    if other_outer and len(p):
        before = _counts_before(other, run_of, r, sign)
        padded_other = np.where(accumulate[p], before == 0, before == 1)
    matches = np.bincount(p, minlength=n).astype(np.int64)

    # the joined rows (sub-position 1 after an insert's padded match, 0 before a retraction's)
    joined_kind = np.where(accumulate[p], INSERT, DELETE).astype(np.int8)
    if not (probe_outer or other_outer):
        joined_kind = kinds[p].astype(np.int8)
    elif not probe_outer:
        joined_kind = np.where(accumulate[p], INSERT, kinds[p]).astype(np.int8)
    pair = np.arange(len(p), dtype=np.int64)
    parts = [(p, pair, np.where(accumulate[p], 1, 0), p, pair, joined_kind)]
    if padded_other.any():
        q = np.flatnonzero(padded_other)
        parts.append((p[q], q, np.where(accumulate[p[q]], 0, 1), np.full(len(q), -1), q,
                      np.where(accumulate[p[q]], DELETE, INSERT).astype(np.int8)))
    if probe_outer:
        alone = np.flatnonzero(matches == 0)
        parts.append((alone, np.full(len(alone), -1), np.zeros(len(alone)), alone,
                      np.full(len(alone), -1),
                      np.where(accumulate[alone], INSERT, DELETE).astype(np.int8)))
    key_row, key_pair, key_sub, probe_rows, matched_rows, out_kinds = (
        np.concatenate([part[i] for part in parts]) for i in range(6))
    order = np.lexsort((key_sub, key_pair, key_row))
    probe_rows, matched_rows = probe_rows[order].astype(np.int64), matched_rows[order].astype(np.int64)
    if probe_is_left:
        rows = _gather(probe, matched, probe_rows, matched_rows, out)
    else:
        rows = _gather(matched, probe, matched_rows, probe_rows, out)
    return JoinChanges(rows, out_kinds[order].astype(np.int8), matches)


def _counts_before(side: GrowingBuildSide, run_of: np.ndarray, rows: np.ndarray,
                   sign: np.ndarray) -> np.ndarray:
    """Each pair's matched row's match count just before the pair (pairs in processing order;
    ``sign`` +1 for a probe insert, -1 for a retraction), and the counts after the whole batch
    written back."""
    offsets = side.offsets()
    row_ids = offsets[run_of] + rows
    by_row = np.argsort(row_ids, kind="stable")
    ids, signs = row_ids[by_row], sign[by_row]
    first = np.ones(len(ids), dtype=bool)
    first[1:] = ids[1:] != ids[:-1]
    running = np.cumsum(signs)
    starts = np.flatnonzero(first)
    base = np.repeat(running[starts] - signs[starts], np.diff(np.append(starts, len(ids))))
    stored = np.empty(len(rows), dtype=np.int64)  # each pair's row's count before the batch
    runs = np.unique(run_of)
    for index in runs:
        at = run_of == index
        stored[at] = side.runs[index].matches[rows[at]]  # type: ignore[attr-defined]
    stored = stored[by_row]
    before = np.empty(len(ids), dtype=np.int64)
    before[by_row] = stored + (running - base) - signs
    # write back each matched row's count after the batch
    last = np.append(starts[1:], len(ids)) - 1
    totals = stored[last] + running[last] - base[last]
    last_run, last_row = run_of[by_row][last], rows[by_row][last]
    for index in runs:
        at = last_run == index
        side.runs[index].matches[last_row[at]] = totals[at]  # type: ignore[attr-defined]
    return before


def semi_anti_changes(probe: pa.Table, kinds: np.ndarray, probe_is_left: bool,
                      other: GrowingBuildSide, probe_keys: list[int], residual: Expr | None,
                      out: pa.Schema, ctx: EvalContext, anti: bool) -> JoinChanges:
    """The changes of a semi (``EXISTS``, ``IN``) or anti (``NOT EXISTS``) join, Flink's
    ``StreamingSemiAntiJoinOperator``: a left row passes with its own kind when it has a match
    (semi) or none (anti); a right row that gives stored left rows their first match emits
    them with its own kind (semi) or ``-D`` (anti), one that takes their last match emits them
    with its kind (semi) or ``+I`` (anti). The left side keeps its rows' match counts."""
    accumulate = (kinds == INSERT) | (kinds == UPDATE_AFTER)
    found = other.matching(probe, probe_keys, probe_is_left, residual, ctx)
    if found:
        run_of = np.concatenate([np.full(len(p), i, dtype=np.int64) for i, p, _ in found])
        p = np.concatenate([p for _, p, _ in found])
        r = np.concatenate([r for _, _, r in found])
    else:
        p = run_of = r = np.zeros(0, dtype=np.int64)
    matches = np.bincount(p, minlength=probe.num_rows).astype(np.int64)
    if probe_is_left:
        passes = (matches > 0) != anti
        rows = probe.filter(pa.array(passes))
        return JoinChanges(_conform(rows, out), kinds[passes].astype(np.int8), matches)
    order = np.lexsort((r, run_of, p))
    p, run_of, r = p[order], run_of[order], r[order]
    sign = np.where(accumulate[p], 1, -1).astype(np.int64)
    before = _counts_before(other, run_of, r, sign) if len(p) else np.zeros(0, dtype=np.int64)
    emit = np.where(accumulate[p], before == 0, before == 1)
    p, run_of, r = p[emit], run_of[emit], r[emit]
    if anti:
        out_kinds = np.where(accumulate[p], DELETE, INSERT).astype(np.int8)
    else:
        out_kinds = kinds[p].astype(np.int8)
    parts = [other.runs[i].table.take(pa.array(r[run_of == i])) for i in np.unique(run_of)]
    if parts:  # rows run by run; back in pair order
        by_run = np.argsort(run_of, kind="stable")
        rows = pa.concat_tables(parts).take(pa.array(np.argsort(by_run, kind="stable")))
    else:
        rows = other.schema.empty_table()
    return JoinChanges(_conform(rows, out), out_kinds, matches)


def _conform(rows: pa.Table, out: pa.Schema) -> pa.Table:
    """The left input's rows as the join's output columns."""
    columns = [c if c.type == f.type else c.cast(f.type) for c, f in zip(rows.columns, out,
                                                                         strict=True)]
    return pa.Table.from_arrays(columns, schema=out)
