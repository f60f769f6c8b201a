"""A running OVER window on a stream ordered by a column that is not a time attribute (Flink 2's
``NonTimeRowsUnboundedPrecedingFunction`` / ``NonTimeRangeUnboundedPrecedingFunction``).

``SUM(v) OVER (PARTITION BY k ORDER BY v)`` has no event time to wait for: a row that arrives
late may sort before rows already emitted and change their frames. So the result is an updating
stream: the new row is inserted (``+I``) with its aggregates, and every row whose aggregates it
changed is updated (``-U`` old values, ``+U`` new values), in ORDER BY order — with RANGE its
peers (rows with an equal key) too. A row whose aggregates did not change is not touched.

Each partition keeps its rows in order (``keyed_rows.PartitionLists``), each with the aggregates
last emitted for it. A batch reads the lists of the partitions it touches once, places its rows
(after the rows with an equal key, as they arrive later), computes every frame with
``over_frames`` and writes the lists back once: a batch costs its partitions' rows. Within a
batch the changes of its rows are netted, so a batch of one row gives Flink's changelog exactly.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from volley.common.changelog import INSERT, UPDATE_AFTER, UPDATE_BEFORE
from volley.plan.calls import AggCall, OverFrame, SortKey
from volley.runtime.keyed_rows import PartitionLists, first_seen
from volley.runtime.over_frames import frame_aggregate, frame_bounds
from volley.runtime.sort import _run_starts
from volley.runtime.stream_rank import positions_in_runs, sort_in_partitions

_GLOBAL_KEY_TYPE = pa.int8()


class SortedOverAggregation:
    """See the module docstring. ``out_schema``: the input columns, then the aggregates."""

    def __init__(self, schema: pa.Schema, partition_keys: tuple[int, ...], order_key: SortKey,
                 aggs: tuple[AggCall, ...], frame: OverFrame, out_schema: pa.Schema,
                 max_parallelism: int) -> None:
        self.schema, self.out_schema = schema, out_schema
        self.partition_keys, self.order_key = partition_keys, order_key
        self.aggs, self.frame = aggs, frame
        key_types = [schema.field(k).type for k in partition_keys] or [_GLOBAL_KEY_TYPE]
        self.results = pa.schema(list(out_schema)[len(schema):])
        self.lists = PartitionLists(key_types, schema, self.results, max_parallelism,
                                    len(partition_keys))
        self.next_seq = 0

    def states(self) -> dict:
        return self.lists.states()

    def restored(self) -> None:
        self.next_seq = self.lists.next_seq()

    def update(self, batch: pa.RecordBatch) -> tuple[pa.Table, np.ndarray] | None:
        n = batch.num_rows
        if not n:
            return None
        columns = list(batch.columns)
        keys = [columns[k] for k in self.partition_keys] or \
            [pa.array(np.zeros(n, dtype=np.int8))]
        touched, local = first_seen(self.lists.partitions.ids(keys))
        old_owner, _, old_seq, old_rows, old_values = self.lists.read(touched)
        old_count = len(old_seq)
        cand = [pa.concat_arrays([o, c]) for o, c in zip(old_rows, columns, strict=True)]
        owner = np.concatenate([old_owner, local])
        seq = np.concatenate([old_seq, np.arange(self.next_seq, self.next_seq + n)])
        self.next_seq += n
        order = sort_in_partitions(owner, cand, seq, (self.order_key,))
        index = pa.array(order, pa.int64())
        rows = [c.take(index) for c in cand]
        part = owner[order]
        peer_id = None
        if self.frame.mode == "range":
            table = pa.table({"o": pa.array(part), "k": rows[self.order_key.index]})
            peer_id = np.cumsum(_run_starts(table, (0, 1), len(part))) - 1
        lo, hi = frame_bounds(self.frame, part, peer_id)
        values = [frame_aggregate(a.fn, rows[a.arg] if a.arg is not None else None, lo, hi,
                                  f.type) for a, f in zip(self.aggs, self.results, strict=True)]
        was = order < old_count
        # the values last emitted for each row (NULL for the new rows, one past the stored)
        old_values = [pa.concat_arrays([o, pa.nulls(1, o.type)]) for o in old_values]
        before = pa.array(np.where(was, order, old_count), pa.int64())
        changed = np.zeros(len(order), bool)
        for old, new in zip(old_values, values, strict=True):
            changed |= was & ~_same(old.take(before), new)
        out = self._changes(rows, values, old_values, order, part, was, changed)
        self.lists.write(touched, part, positions_in_runs(part), seq[order], rows, values)
        return out

    def _changes(self, rows, values, old_values, order, part, was, changed):
        """``-U``/``+U`` for the stored rows whose values changed, ``+I`` for the new rows, in
        ORDER BY order, partition by partition."""
        updated, inserted = np.flatnonzero(changed), np.flatnonzero(~was)
        if not len(updated) and not len(inserted):
            return None
        at = np.concatenate([updated, updated, inserted])
        kinds = np.concatenate([np.full(len(updated), UPDATE_BEFORE, np.int8),
                                np.full(len(updated), UPDATE_AFTER, np.int8),
                                np.full(len(inserted), INSERT, np.int8)])
        phase = np.concatenate([np.zeros(len(updated), np.int8), np.ones(len(updated), np.int8),
                                np.ones(len(inserted), np.int8)])
        emit = np.lexsort((phase, at, part[at]))
        at, kinds, phase = at[emit], kinds[emit], phase[emit]
        index = pa.array(at, pa.int64())
        out = [c.take(index) for c in rows]
        old_at = pa.array(np.where(phase == 0, order[at], len(old_values[0]) - 1), pa.int64())
        is_old = pa.array(phase == 0)
        for old, new in zip(old_values, values, strict=True):
            out.append(pc.if_else(is_old, old.take(old_at), new.take(index)))
        return pa.Table.from_arrays(out, schema=self.out_schema), kinds


def _same(a: pa.Array, b: pa.Array) -> np.ndarray:
    """Per row: equal values, NULL equal to NULL, NaN to NaN."""
    equal = pc.fill_null(pc.equal(a, b), False)
    both_null = pc.and_(pc.is_null(a), pc.is_null(b))
    same = pc.or_(equal, both_null)
    if pa.types.is_floating(a.type):
        same = pc.or_(same, pc.fill_null(pc.and_(pc.is_nan(a), pc.is_nan(b)), False))
    return same.to_numpy(zero_copy_only=False)
