"""Streaming Top-N: Flink's Rank operator (``ROW_NUMBER() ... WHERE rn <= N``), a batch at a time.

Each partition keeps its ranked rows as keyed state (``keyed_rows.PartitionLists``): slot ``i``
holds the row ranked ``i + 1`` with its arrival number (rows with equal ORDER BY keys rank in
arrival order, as in Flink). Over an
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
from volley.runtime.keyed_rows import PartitionLists, first_seen
from volley.runtime.sort import sort_indices
from volley.state.key_hashing import hash_columns

_GLOBAL_KEY_TYPE = pa.int8()


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
        self.lists = PartitionLists(key_types, schema, None, max_parallelism,
                                    len(partition_keys))
        self.next_seq = 0

    def states(self) -> dict:
        return self.lists.states()

    def restored(self) -> None:
        self.next_seq = self.lists.next_seq()

    def _keys(self, columns: list[pa.Array], n: int) -> list[pa.Array]:
        if not self.partition_keys:
            return [pa.array(np.zeros(n, dtype=np.int8))]
        return [columns[k] for k in self.partition_keys]

    def update(self, batch: pa.RecordBatch, kinds: np.ndarray | None
               ) -> tuple[pa.Table, np.ndarray] | None:
        """Fold a batch in; return the output rows (with the rank when shown) and their kinds."""
        n = batch.num_rows
        if not n:
            return None
        columns = list(batch.columns)
        pids = self.lists.partitions.ids(self._keys(columns, n))
        touched, local = first_seen(pids)
        # the partitions' rows as they were
        old_owner, old_slot, old_seq, old_rows, _ = self.lists.read(touched)
        # the candidates: those rows and the batch's insertions, less its retractions
        retract = np.zeros(n, bool) if kinds is None else \
            (kinds == UPDATE_BEFORE) | (kinds == DELETE)
        inserted = np.flatnonzero(~retract)
        new_seq = np.arange(self.next_seq, self.next_seq + len(inserted), dtype=np.int64)
        self.next_seq += len(inserted)
        take = pa.array(inserted, pa.int64())
        cand = [pa.concat_arrays([o, c.take(take)]) for o, c in zip(old_rows, columns, strict=True)]
        owner = np.concatenate([old_owner, local[inserted]])
        seq = np.concatenate([old_seq, new_seq])
        old_count = len(old_seq)
        alive = np.ones(len(seq), bool)
        if retract.any():
            gone = np.flatnonzero(retract)
            ret_rows = [c.take(pa.array(gone, pa.int64())) for c in columns]
            alive[_match(owner, cand, seq, local[gone], ret_rows)] = False
        # ranked again
        rank = np.zeros(len(seq), np.int64)
        live = np.flatnonzero(alive)
        order = live[sort_in_partitions(owner[live], [c.take(pa.array(live, pa.int64()))
                                                      for c in cand], seq[live],
                                        self.order_keys)]
        rank[order] = positions_in_runs(owner[order]) + 1
        old_rank = np.zeros(len(seq), np.int64)
        old_rank[:old_count] = old_slot + 1
        kept = alive if self.retracting else alive & (rank <= self.end)
        out = self._changes(owner, rank, old_rank, alive, old_count, cand)
        rows = np.flatnonzero(kept)
        index = pa.array(rows, pa.int64())
        self.lists.write(touched, owner[rows], rank[rows] - 1, seq[rows],
                         [c.take(index) for c in cand])
        return out

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


def sort_in_partitions(owner: np.ndarray, columns: list[pa.Array], seq: np.ndarray,
                       order_keys: tuple[SortKey, ...]) -> np.ndarray:
    """The order of rows by (partition, ORDER BY keys, arrival)."""
    table = pa.table({"o": pa.array(owner), **{f"c{i}": columns[k.index]
                                               for i, k in enumerate(order_keys)},
                      "s": pa.array(seq)})
    keys = (SortKey(0),) + tuple(SortKey(i + 1, k.ascending, k.nulls_first)
                                 for i, k in enumerate(order_keys)) + (SortKey(len(order_keys) + 1),)
    return sort_indices(table, keys).to_numpy()


def positions_in_runs(run: np.ndarray) -> np.ndarray:
    """For sorted run numbers, each row's position within its run (from 0)."""
    n = len(run)
    if not n:
        return np.zeros(0, np.int64)
    heads = np.concatenate([[True], run[1:] != run[:-1]])
    return np.arange(n) - np.maximum.accumulate(np.where(heads, np.arange(n), 0))


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
    return positions_in_runs(sorted_values)
