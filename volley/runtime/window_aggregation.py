"""Window aggregation's accumulators: the streaming GROUP BY's, folded without a changelog and
taken out whole when a window fires.

``WindowedAggregation`` is ``GroupAggregation`` (the same accumulators, results and types as
the unwindowed GROUP BY) with two more moves: ``accumulate`` folds an insert-only batch into
the groups (its group keys include the window end) without computing the result before and
after, and ``take`` computes the results of the groups of fired windows and deletes them,
with their per-value entries (COUNT DISTINCT), which the members index finds.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from volley.runtime.stream_aggregate import GroupAggregation, _BatchView, _FirstSeen, _to_arrow


class WindowedAggregation(GroupAggregation):
    """See the module docstring. Build it with ``retracting=False, expiring=True``."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._code_first_seen = _FirstSeen()

    def accumulate(self, batch: pa.RecordBatch) -> np.ndarray:
        """Fold an insert-only batch into the accumulators without computing a changelog
        (window aggregation emits groups whole, with ``take``); returns the batch row of each
        group that did not exist before."""
        if batch.num_rows == 0:
            return np.zeros(0, dtype=np.int64)
        keys = [batch.column(k) for k in self._keys]
        packed = _packed_codes(keys)
        if packed is None:
            gids = self._groups.ids(keys)
            touched, local, first = self._first_seen(gids, self._groups.size)
        else:  # look up each distinct key once: a sliding window repeats every row's key
            local, first = _distinct_codes(packed, self._code_first_seen)
            touched = self._groups.ids([k.take(pa.array(first)) for k in keys])
        view = _BatchView(batch, None, local, len(touched), keys)
        for values in self._values.values():
            values.update(view, touched, self._groups)
        acc = {name: self._groups.column(name).take(touched) for name in self._names}
        existed = self._groups.live[touched]
        for accumulator in self._accumulators:
            accumulator.update(view, acc, touched)
        for name, column in acc.items():
            self._groups.column(name).put(touched, column)
        self._groups.set_live(touched)
        return first[~existed]

    @property
    def groups(self):
        """The groups' keyed table (read-only use: which groups exist, their keys)."""
        return self._groups

    def take(self, key_columns: list[pa.Array]) -> list[pa.Array]:
        """The aggregate results of the groups ``key_columns`` name (each must exist), one
        array per aggregate; the groups and their values leave the state."""
        ids = self._groups.lookup(key_columns)
        if (ids < 0).any():
            raise RuntimeError("internal: a window fired for a group that holds no rows")
        return self.take_ids(ids)

    def take_ids(self, ids: np.ndarray) -> list[pa.Array]:
        """``take`` of the groups ``ids`` (live ones; void after the call)."""
        gathered = {name: self._groups.column(name).take(ids) for name in self._names}
        results = []
        for j, result in enumerate(self._results):
            data, valid = result(gathered)
            target = self._out.field(len(self._keys) + j).type
            results.append(_to_arrow(data, valid, target))
        for v in self._values.values():
            assert v.members is not None
            pids, _ = v.members.members(ids)
            v.table.delete(pids)
            v.members.keep(ids, np.zeros(len(pids), dtype=bool))
        self._groups.delete(ids)
        self._compact()
        return results


#: Below this many rows a batch's keys are looked up as they come.
_PACK_MIN_ROWS = 4096


def _distinct_codes(packed: tuple[np.ndarray, int],
                    first_seen: _FirstSeen) -> tuple[np.ndarray, np.ndarray]:
    """Each row's index into the distinct codes (in order of first occurrence) and the row of
    each first occurrence: through a scratch array over the codes when their range is narrow
    (no sort), else by sorting."""
    codes, capacity = packed
    if capacity <= 8 * len(codes):
        _, local, first = first_seen(codes, capacity)
        return local, first
    _, first_sorted, inverse = np.unique(codes, return_index=True, return_inverse=True)
    order = np.argsort(first_sorted, kind="stable")
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))
    return position[inverse.reshape(-1)], first_sorted[order]


def _packed_codes(keys: list[pa.Array]) -> tuple[np.ndarray, int] | None:
    """One int64 per row that is equal exactly when the rows' keys are, and the codes' range:
    integer (or timestamp) key columns without NULLs, packed by their ranges in this batch.
    None when the keys are of another type, hold NULLs, or their ranges do not fit together
    in 62 bits; then the caller looks up every row's key."""
    if len(keys[0]) < _PACK_MIN_ROWS:
        return None
    codes = np.zeros(len(keys[0]), dtype=np.int64)
    capacity = 1
    for key in keys:
        if key.null_count or not (pa.types.is_integer(key.type)
                                  or pa.types.is_timestamp(key.type)):
            return None
        values = key.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
        low = int(values.min())
        offsets = values - low
        step = _common_step(offsets)  # window bounds: multiples of the slide apart
        if step > 1:
            offsets //= step
        span = int(offsets.max()) + 1
        capacity *= span
        if capacity >= 1 << 62:
            return None
        codes = codes * span + offsets
    return codes, capacity


def _common_step(offsets: np.ndarray) -> int:
    """A common divisor of ``offsets`` (non-negative): the gcd of a sample of them, checked
    against all (1 when it does not divide every one). A gcd over every row costs more than
    the rest of the packing."""
    step = int(np.gcd.reduce(offsets[:256]))
    if step <= 1:
        return 1
    return step if not (offsets % step).any() else 1
