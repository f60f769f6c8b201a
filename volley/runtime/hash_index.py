"""``HashIndex``: rows held for many probes, grouped by key behind a ``KeyIndex``.

A join's ``BuildSide`` numbers its keys with a ``KeyDictionary``, whose lookups match a probe's
distinct keys against every key it holds with Arrow's ``index_in`` — a hash set of all of them
rebuilt per call. That suits a build side probed once by a batch job; rows a stream keeps
(an interval join's runs, a lookup join's table) are probed batch after batch, so a probe must
cost the probe, not the rows held. Here the keys live in a ``KeyIndex`` (an open-addressing
table kept in numpy, probed a batch at once), and the rows are listed by key id.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from volley.state import KeyIndex


class HashIndex:
    """The rows of ``key_columns`` (all of one length, in ``key_types``) grouped by key."""

    def __init__(self, key_columns: Sequence[pa.Array], key_types: Sequence[pa.DataType]) -> None:
        self.index = KeyIndex(list(key_types))
        ids = self.index.ids(key_columns) if len(key_columns[0]) else np.empty(0, np.int64)
        self.rows = np.argsort(ids, kind="stable")  # by key, in row order within a key
        self.counts = np.bincount(ids, minlength=self.index.size).astype(np.int64)
        self.starts = np.cumsum(self.counts) - self.counts
        self.unique = bool(len(self.counts) == 0 or self.counts.max() <= 1)

    def pairs(self, probe: Sequence[pa.Array]) -> tuple[np.ndarray, np.ndarray]:
        """(probe row, held row) of every match, by probe row and then held row. A NULL in a
        probe key matches only an equal NULL key held (callers keep NULL keys out)."""
        if not len(self.rows) or not len(probe[0]):
            empty = np.empty(0, dtype=np.int64)
            return empty, empty
        ids = self.index.ids(probe, insert=False)
        probe_rows = np.flatnonzero(ids >= 0)
        ids = ids[probe_rows]
        if self.unique:
            return probe_rows, self.rows[self.starts[ids]]
        counts = self.counts[ids]
        ends = np.cumsum(counts)
        within = np.arange(ends[-1] if len(ends) else 0) - np.repeat(ends - counts, counts)
        return np.repeat(probe_rows, counts), self.rows[np.repeat(self.starts[ids], counts) + within]
