"""``DirectSlots``: ids of integer keys through an array indexed by ``value - base``.

Integer keys (ids, categories, dates) often span a range not much wider than their number. Then
an array with one slot per value of the range is a perfect hash: a batch's ids are one gather,
with no hashing, probing or key comparison, about four times cheaper than the hashed index. The
key index uses it for a single integer-like key column while the range stays under
``DIRECT_RANGE_LIMIT`` slots, and leaves it for good when the range outgrows that.

The array grows geometrically toward the side the keys grow to, so keys arriving in ascending
order (sequence numbers, timestamps) cost an amortized O(1) per key, not a copy of the array
per batch.
"""

from __future__ import annotations

import numpy as np

ABSENT = -1
#: The widest value range a direct column may span: 4M slots of int64, 32 MB.
DIRECT_RANGE_LIMIT = 1 << 22
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


class DirectSlots:
    """``slots[value - base]`` is the id of ``value`` (-1 if unseen); NULL has its own id."""

    def __init__(self, limit: int = DIRECT_RANGE_LIMIT) -> None:
        self.limit = limit
        self.base = 0
        self.slots = np.empty(0, dtype=np.int64)
        self.null_id = ABSENT

    def covers(self, lo: int, hi: int) -> bool:
        return self.base <= lo and hi < self.base + len(self.slots)

    def extend(self, lo: int, hi: int) -> bool:
        """Make the slots cover ``[lo, hi]``, doubling at least; False if that is too wide."""
        if len(self.slots):
            end = self.base + len(self.slots)
            new_lo, new_hi = min(lo, self.base), max(hi, end - 1)
        else:
            new_lo, new_hi = lo, hi
        width = new_hi - new_lo + 1
        if width > self.limit or new_hi == _INT64_MAX:  # keep base + len(slots) an int64
            return False
        size = min(self.limit, max(width, 2 * len(self.slots)))
        start = new_hi + 1 - size if len(self.slots) and lo < self.base else new_lo
        start = min(max(start, _INT64_MIN), _INT64_MAX - size)
        slots = np.full(size, ABSENT, dtype=np.int64)
        if len(self.slots):
            slots[self.base - start : self.base - start + len(self.slots)] = self.slots
        self.base, self.slots = start, slots
        return True

    def ids(self, values: np.ndarray, nulls: np.ndarray | None, lo: int, hi: int) -> np.ndarray:
        """The ids of ``values`` (int64; ``lo``/``hi`` their non-NULL extremes), -1 where
        unseen or outside the slots; NULL rows get the NULL key's id."""
        if self.covers(lo, hi):
            ids = self.slots[values - self.base]
        else:
            inside = (values >= self.base) & (values < self.base + len(self.slots))
            ids = np.full(len(values), ABSENT, dtype=np.int64)
            ids[inside] = self.slots[values[inside] - self.base]
        if nulls is not None:
            ids[nulls] = self.null_id
        return ids

    def assign(self, values: np.ndarray, ids: np.ndarray) -> None:
        """Record that ``values`` (inside the slots, not NULL) have ``ids``."""
        self.slots[values - self.base] = ids

    def clear(self) -> None:
        """Forget every id, keeping the range (compaction reassigns them)."""
        self.slots.fill(ABSENT)
        self.null_id = ABSENT
