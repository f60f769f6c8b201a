"""Set operations on streams: UNION (distinct), INTERSECT [ALL] and EXCEPT [ALL], keyed by the
whole row, over inputs that may themselves be updating.

The state is, per distinct row, how many times each input holds it (``left``, ``right``: a
``KeyedTable`` keyed by every column). Each input row changes one count by one, and what the
change emits is Flink's output for that row, whose plans these are:

* UNION: a group aggregation over the rows of both inputs — ``+I`` when a row first appears,
  ``-D`` when its last copy goes, nothing in between;
* INTERSECT / EXCEPT: a semi / anti join of the left input on the right, under a distinct
  aggregation — ``+I`` when the row becomes present (``left > 0`` and ``right > 0``; for EXCEPT
  ``right == 0``), ``-D`` when it stops being so; over a left input that is unique already,
  the join alone, which passes on its inputs' kinds;
* INTERSECT ALL / EXCEPT ALL: per row the counts of both sides, kept when ``min(left, right)``
  (``left - right``) is positive, each result repeated that many times — the old copies
  retracted (``-U``, or ``-D`` when the row leaves both inputs) and the new ones emitted
  (``+U``, or ``+I`` for a row new to both): a ``+U`` may come without a ``-U`` before it, as
  in Flink, when the row's result was empty before.

A batch is handled at once: the counts each row has before and after each of its input rows
follow from a running sum over the batch's rows grouped by row.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from volley.common.changelog import DELETE, INSERT, ROW_KIND_COLUMN, UPDATE_AFTER, UPDATE_BEFORE
from volley.runtime.operator import Operator, OperatorContext, Output
from volley.runtime.ops_basic import row_kind_index, with_row_kinds
from volley.runtime.registry import operator_kind


@operator_kind("stream_set_op")
class StreamSetOp(Operator):
    """``params``: ``kind`` (``union``, ``intersect``, ``minus``), ``all`` (INTERSECT ALL,
    EXCEPT ALL; UNION ALL is the ``union`` kind), ``left_unique`` (INTERSECT / EXCEPT of a left
    input with a key: a semi / anti join alone, see ``_semi_or_anti_join``). The per-row
    counts are declared keyed state (``counts``); the input is hash-partitioned by the whole
    row."""

    name = "SetOp"

    def open(self, ctx: OperatorContext, out: Output) -> None:
        from volley.state import KeyedTable, ValueColumn

        super().open(ctx, out)
        out_schema = self.spec.output_schema
        self._values = out_schema.remove(out_schema.get_field_index(ROW_KIND_COLUMN))
        self._kind_columns = [row_kind_index(s) for s in self.spec.input_schemas]
        self._counts = ctx.register_state("counts", KeyedTable(
            list(self._values.types), [ValueColumn("left", pa.int64()),
                                       ValueColumn("right", pa.int64())], ctx.max_parallelism))

    def process(self, batch: pa.RecordBatch, port: int) -> None:
        if batch.num_rows == 0:
            return
        kinds_at = self._kind_columns[port]
        sign = np.ones(batch.num_rows, dtype=np.int64)
        kinds = np.zeros(batch.num_rows, dtype=np.int8)
        if kinds_at is not None:
            kinds = batch.column(kinds_at).to_numpy(zero_copy_only=False)
            sign[(kinds == UPDATE_BEFORE) | (kinds == DELETE)] = -1
            batch = batch.drop_columns([batch.schema.names[kinds_at]])
        rows = pa.RecordBatch.from_arrays(
            [c if c.type == f.type else c.cast(f.type) for c, f in zip(batch.columns,
                                                                       self._values, strict=True)],
            schema=self._values)
        table = self._counts
        ids = table.ids(list(rows.columns))
        before, after = _running_counts(ids, sign, table.column("left" if port == 0 else "right"))
        other = table.column("right" if port == 0 else "left")[ids]
        left0, right0 = (before, other) if port == 0 else (other, before)
        left1, right1 = (after, other) if port == 0 else (other, after)
        self._store(ids, port, after, left1 + right1)
        if self.params.get("left_unique"):
            copies_old = np.zeros(len(ids), dtype=np.int64)
            kind_old = np.zeros(len(ids), dtype=np.int8)
            copies_new, kind_new = _semi_or_anti_join(self.params["kind"] == "minus", port,
                                                      sign, kinds, left0, right0)
        else:
            copies_old, copies_new = _result_sizes(self.params["kind"], self.params["all"],
                                                   left0, right0, left1, right1)
            existed, exists = left0 + right0 > 0, left1 + right1 > 0
            kind_old = np.where(exists, UPDATE_BEFORE, DELETE).astype(np.int8)
            kind_new = np.where(existed, UPDATE_AFTER, INSERT).astype(np.int8)
            if not self.params["all"]:  # a distinct result is inserted or deleted, not updated
                kind_old[:], kind_new[:] = DELETE, INSERT
        # per input row, its old copies (retracted) and then its new ones
        copies = np.stack([copies_old, copies_new], axis=1).reshape(-1)
        if not copies.any():
            return
        source = np.repeat(np.repeat(np.arange(rows.num_rows), 2), copies)
        kinds_out = np.repeat(np.stack([kind_old, kind_new], axis=1).reshape(-1), copies)
        self.out.emit(with_row_kinds(rows.take(pa.array(source)), pa.array(kinds_out, pa.int8())))

    def _store(self, ids: np.ndarray, port: int, after: np.ndarray, total: np.ndarray) -> None:
        """Each touched row's count after the batch (its last input row's); rows neither input
        holds any more leave the state."""
        table = self._counts
        last = _last_of_each(ids)
        table.column("left" if port == 0 else "right")[ids[last]] = after[last]
        gone = total[last] <= 0
        table.set_live(ids[last][~gone])
        table.delete(ids[last][gone])
        table.compact()  # ids are not held between batches: a renumbering is harmless


def _running_counts(ids: np.ndarray, sign: np.ndarray, stored: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Per input row, its row's count on this side before and after it (rows of one batch in
    order; ``stored``: the counts before the batch)."""
    by_id = np.argsort(ids, kind="stable")
    sorted_ids, signs = ids[by_id], sign[by_id]
    first = np.ones(len(ids), dtype=bool)
    first[1:] = sorted_ids[1:] != sorted_ids[:-1]
    running = np.cumsum(signs)
    starts = np.flatnonzero(first)
    base = np.repeat(running[starts] - signs[starts], np.diff(np.append(starts, len(ids))))
    after = np.empty(len(ids), dtype=np.int64)
    after[by_id] = stored[sorted_ids] + running - base
    return after - sign, after


def _last_of_each(ids: np.ndarray) -> np.ndarray:
    """The position of the last occurrence of each distinct id."""
    reverse = ids[::-1]
    _, first_in_reverse = np.unique(reverse, return_index=True)
    return len(ids) - 1 - first_in_reverse


def _semi_or_anti_join(anti: bool, port: int, sign: np.ndarray, kinds: np.ndarray,
                       left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """INTERSECT / EXCEPT of a left input that is unique already (it has a key): Flink drops
    the distinct aggregation and runs the semi / anti join alone (``left``, ``right``: the
    counts before each input row). A left row passes with its own kind when the right holds
    it (semi) or not (anti); a right row that gives the left rows their first match emits them
    with its own kind (semi) or ``-D`` (anti), one that takes their last match with its kind
    (semi) or ``+I`` (anti)."""
    if port == 0:
        present = right > 0
        return (present != anti).astype(np.int64), kinds.astype(np.int8)
    first = (sign > 0) & (right == 0)
    last = (sign < 0) & (right == 1)
    copies = np.where(first | last, np.maximum(left, 0), 0)
    if anti:
        return copies, np.where(first, DELETE, INSERT).astype(np.int8)
    return copies, kinds.astype(np.int8)


def _result_sizes(kind: str, all_rows: bool, left0: np.ndarray, right0: np.ndarray,
                  left1: np.ndarray, right1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How many copies of each input row's row the result held before it and holds after it,
    as far as they are emitted: a distinct result only when it appears or disappears."""
    def size(left: np.ndarray, right: np.ndarray) -> np.ndarray:
        if kind == "union":
            return (left + right > 0).astype(np.int64)
        if kind == "intersect":
            present = (left > 0) & (right > 0)
            return np.where(present, np.minimum(left, right), 0) if all_rows \
                else present.astype(np.int64)
        return np.maximum(left - right, 0) if all_rows \
            else ((left > 0) & (right <= 0)).astype(np.int64)

    old, new = size(left0, right0), size(left1, right1)
    if not all_rows:  # emitted only when the row appears (new) or disappears (old)
        return old * (new == 0), new * (old == 0)
    return old, new
