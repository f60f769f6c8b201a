"""Streaming Top-N: Flink's Rank operator (``ROW_NUMBER() ... WHERE rn <= N``), a batch at a time.

Each partition keeps its ranked rows as keyed state: ``entries``, keyed by (partition key, slot),
slot ``i`` holding the row ranked ``i + 1`` with its arrival number (rows with equal ORDER BY
keys rank in arrival order, as in Flink); ``partitions`` holds how many there are. Over an
insert-only input a row that falls below rank N can never come back, so a partition keeps N
rows (Flink's ``AppendOnlyTopNFunction``); over an updating input it keeps all of them, since a
retraction moves the next row up (``RetractableTopNFunction``).

A batch touches some partitions: their rows are read once, the batch's insertions added and its
retractions (``-U``/``-D``: one stored row equal to the retracted one) removed, the result ranked
again and written back once; the changes to the visible ranks ``start..end`` become the output:

* with the rank number shown, per rank whose row changed ``-U`` (old row, rank) ``+U`` (new row,
  rank), ``+I`` for a rank newly filled and ``-D`` for one emptied;
* without it, ``-D`` for rows that left the range and ``+I`` for rows that entered it.

Over an insert-only input a batch of one row gives exactly Flink's changelog; a larger batch, or
an updating input's ``-U``/``+U`` pair in one batch, gives the net change of its rows (the same
final result, fewer messages: where Flink says ``-D`` then ``+I`` for a rank whose row was
updated, this says ``-U``/``+U``).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from volley.common.changelog import DELETE, INSERT, UPDATE_AFTER, UPDATE_BEFORE
from volley.plan.calls import SortKey
from volley.runtime.keyed_rows import RowColumns
from volley.runtime.sort import sort_indices
from volley.state import KeyedTable, ValueColumn
from volley.state.key_hashing import hash_columns

_GLOBAL_KEY_TYPE = pa.int8()


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``starts[i] .. starts[i] + lengths[i] - 1`` for every i, concatenated."""
    offsets = np.cumsum(lengths) - lengths
    return np.repeat(starts - offsets, lengths) + np.arange(int(lengths.sum()), dtype=np.int64)


def first_seen(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct ``ids`` in order of first appearance, and each row's index into them."""
    distinct, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))
    return distinct[order], position[inverse.reshape(-1)]


class TopNRanking:
    """See the module docstring. ``schema`` is the input without its row kind column."""

    def __init__(self, schema: pa.Schema, partition_keys: tuple[int, ...],
                 order_keys: tuple[SortKey, ...], start: int, end: int, output_rank: bool,
                 retracting: bool, max_parallelism: int) -> None:
        self.schema = schema
        self.partition_keys, self.order_keys = partition_keys, order_keys
        self.start, self.end = start, end
        self.output_rank, self.retracting = output_rank, retracting
        key_types = [schema.field(k).type for k in partition_keys] or [_GLOBAL_KEY_TYPE]
        self.partitions = KeyedTable(key_types, [ValueColumn("size", pa.int64())],
                                     max_parallelism, key_group_columns=len(partition_keys))
        self.rows = RowColumns(schema, "c")
        self.entries = KeyedTable([*key_types, pa.int64()],
                                  [ValueColumn("seq", pa.int64()), *self.rows.value_columns()],
                                  max_parallelism, key_group_columns=len(partition_keys))
        self.next_seq = 0

    def states(self) -> dict:
        return {"partitions": self.partitions, "entries": self.entries}

    def restored(self) -> None:
        ids = self.entries.live_ids()
        if len(ids):
            self.next_seq = int(self.entries.column("seq")[ids].max()) + 1

    def _keys(self, columns: list[pa.Array], n: int) -> list[pa.Array]:
        if not self.partition_keys:
            return [pa.array(np.zeros(n, dtype=np.int8))]
        return [columns[k] for k in self.partition_keys]

    def _entry_keys(self, touched: np.ndarray, owners: np.ndarray,
                    slots: np.ndarray) -> list[pa.Array]:
        index = pa.array(owners, pa.int64())
        keys = [c.take(index) for c in self.partitions.key_columns(touched)]
        return [*keys, pa.array(slots, pa.int64())]

    def update(self, batch: pa.RecordBatch, kinds: np.ndarray | None
               ) -> tuple[pa.Table, np.ndarray] | None:
        """Fold a batch in; return the output rows (with the rank when shown) and their kinds."""
        n = batch.num_rows
        if not n:
            return None
        columns = list(batch.columns)
        pids = self.partitions.ids(self._keys(columns, n))
        touched, local = first_seen(pids)
        m = len(touched)
        # the partitions' rows as they were
        sizes = self.partitions.column("size")[touched]
        old_owner = np.repeat(np.arange(m, dtype=np.int64), sizes)
        old_slot = _ranges(np.zeros(m, np.int64), sizes)
        eids = self.entries.lookup(self._entry_keys(touched, old_owner, old_slot))
        assert (eids >= 0).all(), "a ranked row of a Top-N is missing from its state"
        old_rows = self.rows.read(self.entries, eids)
        # the candidates: those rows and the batch's insertions, less its retractions
        retract = np.zeros(n, bool) if kinds is None else \
            (kinds == UPDATE_BEFORE) | (kinds == DELETE)
        inserted = np.flatnonzero(~retract)
        new_seq = np.arange(self.next_seq, self.next_seq + len(inserted), dtype=np.int64)
        self.next_seq += len(inserted)
        take = pa.array(inserted, pa.int64())
        cand = [pa.concat_arrays([o, c.take(take)]) for o, c in zip(old_rows, columns, strict=True)]
        owner = np.concatenate([old_owner, local[inserted]])
        seq = np.concatenate([self.entries.column("seq")[eids], new_seq])
        old_count = len(eids)
        alive = np.ones(len(seq), bool)
        if retract.any():
            gone = np.flatnonzero(retract)
            ret_rows = [c.take(pa.array(gone, pa.int64())) for c in columns]
            alive[_match(owner, cand, seq, local[gone], ret_rows)] = False
        # ranked again
        rank = np.zeros(len(seq), np.int64)
        live = np.flatnonzero(alive)
        order = live[self._sort(owner[live], cand, seq, live)]
        sorted_owner = owner[order]
        heads = np.concatenate([[True], sorted_owner[1:] != sorted_owner[:-1]]) if len(order) \
            else np.zeros(0, bool)
        head_pos = np.maximum.accumulate(np.where(heads, np.arange(len(order)), 0)) \
            if len(order) else np.zeros(0, np.int64)
        rank[order] = np.arange(len(order)) - head_pos + 1
        old_rank = np.zeros(len(seq), np.int64)
        old_rank[:old_count] = old_slot + 1
        kept = alive if self.retracting else alive & (rank <= self.end)
        out = self._changes(owner, rank, old_rank, alive, old_count, cand)
        self._write_back(touched, owner, rank, kept, sizes, seq, cand)
        return out

    def _sort(self, owner: np.ndarray, cand: list[pa.Array], seq: np.ndarray,
              rows: np.ndarray) -> np.ndarray:
        index = pa.array(rows, pa.int64())
        columns = [pa.array(owner)] + [cand[k.index].take(index) for k in self.order_keys] + \
            [pa.array(seq[rows])]
        keys = (SortKey(0),) + tuple(SortKey(i + 1, k.ascending, k.nulls_first)
                                     for i, k in enumerate(self.order_keys)) + \
            (SortKey(len(columns) - 1),)
        table = pa.table({f"c{i}": c for i, c in enumerate(columns)})
        return sort_indices(table, keys).to_numpy()

    def _changes(self, owner: np.ndarray, rank: np.ndarray, old_rank: np.ndarray,
                 alive: np.ndarray, old_count: int, cand: list[pa.Array]
                 ) -> tuple[pa.Table, np.ndarray] | None:
        lo, hi = self.start, self.end
        was = np.zeros(len(rank), bool)
        was[:old_count] = (old_rank[:old_count] >= lo) & (old_rank[:old_count] <= hi)
        now = alive & (rank >= lo) & (rank <= hi)
        if self.output_rank:
            events = _positional_changes(owner, rank, old_rank, was, now)
        else:
            gone, came = np.flatnonzero(was & ~now), np.flatnonzero(now & ~was)
            events = (np.concatenate([gone, came]),
                      np.concatenate([owner[gone], owner[came]]),
                      np.concatenate([old_rank[gone], rank[came]]),
                      np.concatenate([np.full(len(gone), DELETE, np.int8),
                                      np.full(len(came), INSERT, np.int8)]),
                      np.concatenate([np.zeros(len(gone), np.int8), np.ones(len(came), np.int8)]))
        rows, owners, ranks, kinds, phase = events
        if not len(rows):
            return None
        order = np.lexsort((phase, ranks, owners)) if self.output_rank \
            else np.lexsort((ranks, phase, owners))
        rows, ranks, kinds = rows[order], ranks[order], kinds[order]
        index = pa.array(rows, pa.int64())
        out = [c.take(index) for c in cand]
        names = list(self.schema.names)
        if self.output_rank:
            out.append(pa.array(ranks, pa.int64()))
            names.append("$rank")
        return pa.Table.from_arrays(out, names=names), kinds

    def _write_back(self, touched: np.ndarray, owner: np.ndarray, rank: np.ndarray,
                    kept: np.ndarray, old_sizes: np.ndarray, seq: np.ndarray,
                    cand: list[pa.Array]) -> None:
        rows = np.flatnonzero(kept)
        new_sizes = np.bincount(owner[rows], minlength=len(touched))
        if len(rows):
            ids = self.entries.ids(self._entry_keys(touched, owner[rows], rank[rows] - 1))
            self.entries.set_live(ids)
            self.entries.column("seq")[ids] = seq[rows]
            index = pa.array(rows, pa.int64())
            self.rows.write(self.entries, ids, [c.take(index) for c in cand])
        shrunk = np.maximum(old_sizes - new_sizes, 0)
        if shrunk.sum():
            owners = np.repeat(np.arange(len(touched), dtype=np.int64), shrunk)
            slots = _ranges(new_sizes, shrunk)
            self.entries.delete(self.entries.lookup(self._entry_keys(touched, owners, slots)))
            self.entries.compact()
        self.partitions.column("size")[touched] = new_sizes
        self.partitions.set_live(touched[new_sizes > 0])
        empty = touched[new_sizes == 0]
        if len(empty):
            self.partitions.delete(empty)


def _positional_changes(owner, rank, old_rank, was, now):
    """Per (partition, rank) in the visible range: the row there before and after."""
    before, after = np.flatnonzero(was), np.flatnonzero(now)
    slot_before = owner[before] * (1 << 32) + old_rank[before]
    slot_after = owner[after] * (1 << 32) + rank[after]
    common, in_before, in_after = np.intersect1d(slot_before, slot_after, return_indices=True)
    old_row, new_row = before[in_before], after[in_after]
    moved = old_row != new_row
    old_row, new_row = old_row[moved], new_row[moved]
    emptied = np.setdiff1d(np.arange(len(before)), in_before)
    filled = np.setdiff1d(np.arange(len(after)), in_after)
    deleted, inserted = before[emptied], after[filled]
    rows = np.concatenate([old_row, new_row, deleted, inserted])
    owners = np.concatenate([owner[old_row], owner[new_row], owner[deleted], owner[inserted]])
    ranks = np.concatenate([old_rank[old_row], rank[new_row], old_rank[deleted], rank[inserted]])
    kinds = np.concatenate([np.full(len(old_row), UPDATE_BEFORE, np.int8),
                            np.full(len(new_row), UPDATE_AFTER, np.int8),
                            np.full(len(deleted), DELETE, np.int8),
                            np.full(len(inserted), INSERT, np.int8)])
    phase = np.concatenate([np.zeros(len(old_row), np.int8), np.ones(len(new_row), np.int8),
                            np.zeros(len(deleted), np.int8), np.ones(len(inserted), np.int8)])
    return rows, owners, ranks, kinds, phase


def _match(owner: np.ndarray, cand: list[pa.Array], seq: np.ndarray, ret_owner: np.ndarray,
           ret_rows: list[pa.Array]) -> np.ndarray:
    """The candidates the retracted rows remove: per retracted row, one equal row of its
    partition (the earliest arrived first); a retraction of a row not held is ignored."""
    c_hash = hash_columns([pa.array(owner), *cand])
    r_hash = hash_columns([pa.array(ret_owner), *ret_rows])
    c_order = np.lexsort((seq, c_hash))
    r_order = np.argsort(r_hash, kind="stable")
    c_occ = _occurrence(c_hash[c_order])
    r_occ = _occurrence(r_hash[r_order])
    both_hash = np.concatenate([c_hash[c_order], r_hash[r_order]])
    both_occ = np.concatenate([c_occ, r_occ])
    is_ret = np.concatenate([np.zeros(len(c_order), np.int8), np.ones(len(r_order), np.int8)])
    merged = np.lexsort((is_ret, both_occ, both_hash))
    h, o, r = both_hash[merged], both_occ[merged], is_ret[merged]
    pair = np.flatnonzero((h[1:] == h[:-1]) & (o[1:] == o[:-1]) & (r[:-1] == 0) & (r[1:] == 1))
    candidates = c_order[merged[pair]]
    retracted = r_order[merged[pair + 1] - len(c_order)]
    if not len(candidates):
        return candidates
    # a hash match is checked value by value
    same = np.ones(len(candidates), bool)
    ci, ri = pa.array(candidates, pa.int64()), pa.array(retracted, pa.int64())
    for c, r in zip(cand, ret_rows, strict=True):
        a, b = c.take(ci), r.take(ri)
        if pa.types.is_nested(a.type):
            continue  # no equality kernel for nested values: their hash decides
        equal = pc.fill_null(pc.equal(a, b), False).to_numpy(zero_copy_only=False)
        both_null = (pc.is_null(a).to_numpy(zero_copy_only=False)
                     & pc.is_null(b).to_numpy(zero_copy_only=False))
        same &= equal | both_null
    return candidates[same]


def _occurrence(sorted_values: np.ndarray) -> np.ndarray:
    """For sorted values: each one's index among the equal values before it."""
    n = len(sorted_values)
    if not n:
        return np.zeros(0, np.int64)
    heads = np.concatenate([[True], sorted_values[1:] != sorted_values[:-1]])
    head_pos = np.maximum.accumulate(np.where(heads, np.arange(n), 0))
    return np.arange(n) - head_pos
