"""The event-time temporal join: ``o JOIN r FOR SYSTEM_TIME AS OF o.ts ON o.k = r.k``.

Flink's semantics (``TemporalRowTimeJoinOperator``): the right input is a versioned table, each of
its rows a version of its key valid from its rowtime on (an insert-only input: every row a new
version; an updating one: ``+I``/``+U`` are versions, ``-D`` deletes the key from its time on,
``-U`` is ignored, as Flink reads the versioned side as upserts). A left row waits until the
watermark passes its time, then joins the latest version of its key at or before its time (the
latest to arrive among versions of equal time), if the residual condition holds; a LEFT join
pads the rest with NULLs. Results are insert-only and carry both inputs' time attributes.

State (``temporal_state``): left rows and versions waiting for the watermark, and per key the
newest version the watermark has passed — older ones can no longer be chosen by a row that is not
late. Firing costs the rows and versions the watermark passes.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from volley.common.changelog import DELETE, UPDATE_BEFORE
from volley.plan.calls import key_types
from volley.runtime.join import _gather, _where_residual_holds
from volley.runtime.operator import Operator, OperatorContext, Output, emit_table
from volley.runtime.ops_basic import eval_context, open_functions, row_kind_index
from volley.runtime.ops_interval_join import LastWatermark, epoch_ms_with_nulls
from volley.runtime.registry import operator_kind
from volley.runtime.temporal_state import CurrentVersions, PendingRows, key_columns

MIN_WATERMARK = -(2**63)
_DELETED = "__deleted"


@operator_kind("temporal_join")
class TemporalJoinOp(Operator):
    """``params``: ``kind`` (inner/left), ``left_keys``, ``right_keys``, ``residual``,
    ``left_time``, ``right_time`` (column indices of the time attributes)."""

    name = "TemporalJoin"

    def open(self, ctx: OperatorContext, out: Output) -> None:
        super().open(ctx, out)
        p = self.params
        self._left_outer = p["kind"] == "left"
        self._keys = (list(p["left_keys"]), list(p["right_keys"]))
        self._kinds_at = row_kind_index(self.spec.input_schemas[1])
        left_schema = self.spec.input_schemas[0]
        right_schema = self.spec.input_schemas[1]
        if self._kinds_at is not None:
            right_schema = right_schema.remove(self._kinds_at)
        self._schemas = (left_schema, right_schema)
        self._types = key_types(left_schema, right_schema, self._keys[0], self._keys[1])
        self._time = (p["left_time"], p["right_time"])
        versions_schema = right_schema.append(pa.field(_DELETED, pa.bool_()))
        m = ctx.max_parallelism
        self._left = ctx.register_state("left", PendingRows(left_schema, self._keys[0],
                                                            self._types, m))
        self._pending = ctx.register_state("versions", PendingRows(
            versions_schema, self._keys[1], self._types, m))
        self._current = ctx.register_state("current", CurrentVersions(
            right_schema, self._keys[1], self._types, m))
        self._seq = [self._left.max_seq() + 1,
                     max(self._pending.max_seq(), self._current.max_seq()) + 1]
        self._residual = p["residual"]
        if self._residual is not None:
            open_functions(ctx, [self._residual])
        self._eval = eval_context(ctx)
        self._watermark = ctx.register_state("watermark", LastWatermark())

    def process(self, batch: pa.RecordBatch, port: int) -> None:
        if batch.num_rows == 0:
            return
        table = pa.Table.from_batches([batch])
        if port == 1:
            self._add_versions(table)
            return
        times, valid = epoch_ms_with_nulls(table.column(self._time[0]))
        if not valid.all():  # no time, no version: joined with nothing, at once
            if self._left_outer:
                emit_table(self.out, self._padded(table.filter(pa.array(~valid))))
            table, times = table.filter(pa.array(valid)), times[valid]
        self._left.add(table, times, self._next_seqs(0, table.num_rows))

    def _next_seqs(self, port: int, n: int) -> np.ndarray:
        seqs = np.arange(self._seq[port], self._seq[port] + n, dtype=np.int64)
        self._seq[port] += n
        return seqs

    def _add_versions(self, table: pa.Table) -> None:
        deleted = np.zeros(table.num_rows, dtype=bool)
        if self._kinds_at is not None:
            kinds = table.column(self._kinds_at).to_numpy()
            table = table.remove_column(self._kinds_at)
            keep = kinds != UPDATE_BEFORE  # the +U that follows replaces the version
            deleted = kinds == DELETE
            if not keep.all():
                table, deleted = table.filter(pa.array(keep)), deleted[keep]
        times, valid = epoch_ms_with_nulls(table.column(self._time[1]))
        for key in key_columns(table, self._keys[1], self._types):
            if key.null_count:
                valid &= key.is_valid().to_numpy(zero_copy_only=False)
        if not valid.all():
            table, times, deleted = table.filter(pa.array(valid)), times[valid], deleted[valid]
        table = table.append_column(_DELETED, pa.array(deleted, pa.bool_()))
        self._pending.add(table, times, self._next_seqs(1, table.num_rows))

    # -- firing ------------------------------------------------------------------------------------
    def on_watermark(self, timestamp: int) -> int | None:
        self._fire(self._watermark.advance(timestamp))
        return timestamp

    def _fire(self, watermark: int) -> None:
        versions = self._pending.pop(watermark)
        left = self._left.pop(watermark)
        if left is not None:
            self._join(left, versions)
        if versions is not None:
            rows, times, seqs = versions
            self._current.update(rows.drop_columns([_DELETED]), times, seqs,
                                 rows.column(_DELETED).to_numpy(zero_copy_only=False))

    def _join(self, left: tuple[pa.Table, np.ndarray, np.ndarray],
              versions: tuple[pa.Table, np.ndarray, np.ndarray] | None) -> None:
        """Join the left rows the watermark passed with the version valid at each one's time:
        the newest (by time, then arrival) among those the watermark just passed and the
        key's current one, at or before the row's time."""
        rows, times, _ = left
        n = rows.num_rows
        keys = key_columns(rows, self._keys[0], self._types)
        best_time = np.full(n, MIN_WATERMARK, dtype=np.int64)
        best_seq = np.full(n, -1, dtype=np.int64)
        source = np.zeros(n, dtype=np.int8)  # 0: none, 1: a passed version, 2: the current one
        position = np.full(n, -1, dtype=np.int64)
        if versions is not None:
            found = _latest_at(keys, times, versions, self._keys[1], self._types)
            hit = found >= 0
            best_time[hit], best_seq[hit] = versions[1][found[hit]], versions[2][found[hit]]
            source[hit], position[hit] = 1, found[hit]
        ids = self._current.lookup(keys)
        has = ids >= 0
        if has.any():
            cur_time = np.where(has, self._current.index.column("time")[np.maximum(ids, 0)], 0)
            cur_seq = np.where(has, self._current.index.column("seq")[np.maximum(ids, 0)], 0)
            better = has & (cur_time <= times) & ((source == 0) | (cur_time > best_time) | (
                (cur_time == best_time) & (cur_seq > best_seq)))
            source[better], position[better] = 2, ids[better]
        parts, lefts = self._joined(rows, source, position, versions)
        self._emit_in_order(rows, parts, lefts)

    def _joined(self, rows: pa.Table, source: np.ndarray, position: np.ndarray,
                versions: tuple[pa.Table, np.ndarray, np.ndarray] | None
                ) -> tuple[list[pa.Table], list[np.ndarray]]:
        """Each left row joined with its version (none for a deletion) where the residual
        holds: the joined tables and, for each, the left row of each of its rows."""
        parts, lefts = [], []
        for which in (1, 2):
            li = np.flatnonzero(source == which)
            if not len(li):
                continue
            if which == 1:
                assert versions is not None
                right = versions[0].take(pa.array(position[li]))
            else:
                right = self._current.rows(position[li]).append_column(
                    _DELETED, pa.array(self._current.index.column("deleted")[position[li]]))
            alive = ~right.column(_DELETED).to_numpy(zero_copy_only=False)
            right = right.drop_columns([_DELETED])
            li, ri = li[alive], np.flatnonzero(alive)
            li, ri = _where_residual_holds(rows, right, li, ri, self._residual, self._eval)
            if len(li):
                parts.append(_gather(rows, right, li, ri, self.spec.output_schema))
                lefts.append(li)
        return parts, lefts

    def _emit_in_order(self, rows: pa.Table, parts: list[pa.Table],
                       lefts: list[np.ndarray]) -> None:
        """The joined rows (and, for a LEFT join, the padded unmatched ones) in the order the
        left rows arrived."""
        if self._left_outer:
            matched = np.zeros(rows.num_rows, dtype=bool)
            for li in lefts:
                matched[li] = True
            unmatched = np.flatnonzero(~matched)
            if len(unmatched):
                parts.append(self._padded(rows.take(pa.array(unmatched))))
                lefts.append(unmatched)
        if not parts:
            return
        table = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
        order = np.argsort(np.concatenate(lefts), kind="stable")
        emit_table(self.out, table.take(pa.array(order)))

    def _padded(self, rows: pa.Table) -> pa.Table:
        empty = self._schemas[1].empty_table()
        return _gather(rows, empty, np.arange(rows.num_rows, dtype=np.int64),
                       np.full(rows.num_rows, -1, dtype=np.int64), self.spec.output_schema)

    def finish(self) -> None:
        self._fire(2**63 - 1)


def _latest_at(keys: list[pa.Array], times: np.ndarray,
               versions: tuple[pa.Table, np.ndarray, np.ndarray], version_keys: list[int],
               types: list[pa.DataType]) -> np.ndarray:
    """For each left row (``keys``, ``times``), the position in ``versions`` of the newest
    version of its key (by time, then arrival) with time <= the row's; -1 when none."""
    from volley.state.key_dictionary import KeyDictionary

    rows, vtimes, vseqs = versions
    dictionary = KeyDictionary(types)
    vids = dictionary.encode(key_columns(rows, version_keys, types))
    lids = dictionary.lookup(keys, null_matches=False)
    n_v, n_l = len(vids), len(lids)
    kid = np.concatenate([vids, lids])
    t = np.concatenate([vtimes, times])
    is_left = np.concatenate([np.zeros(n_v, np.int8), np.ones(n_l, np.int8)])
    seq = np.concatenate([vseqs, np.zeros(n_l, np.int64)])
    # by key, time; a version before a left row of equal time; versions by arrival
    order = np.lexsort((seq, is_left, t, kid))
    positions = np.arange(len(order))
    last_version = np.maximum.accumulate(np.where(is_left[order] == 0, positions, -1))
    start = np.ones(len(order), dtype=bool)
    start[1:] = kid[order][1:] != kid[order][:-1]
    key_start = np.maximum.accumulate(np.where(start, positions, 0))
    found = np.full(n_l, -1, dtype=np.int64)
    at = np.flatnonzero(is_left[order] == 1)
    ok = (last_version[at] >= key_start[at]) & (kid[order][at] >= 0)
    found[order[at[ok]] - n_v] = order[last_version[at[ok]]]
    return found
