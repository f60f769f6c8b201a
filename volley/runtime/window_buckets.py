"""``WindowBuckets``: rows waiting for their window to close, grouped by the window's end.

Window Top-N and window joins hold a window's rows until the window closes and then compute
its result from all of them at once. Rows are kept in buckets by window end (as Arroyo's
time-keyed tables keep them), so adding a batch costs a split by its few distinct ends, and
the windows that close are whole buckets taken out: no per-row bookkeeping and no scan of
the open windows.

The declared state is every buffered row (columns ``c0..``) with its bucket and key group (the
hash of the columns the operator's input is partitioned by, cast to the partitioning's types),
so a restore can take the rows of its own key groups from any earlier parallelism.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from volley.state import KEY_GROUP_COLUMN, key_groups

_BUCKET = "__bucket"


class WindowBuckets:
    """Rows by window end; see the module docstring. ``keys`` (input column indices, cast to
    ``key_types`` when given) decide a row's key group."""

    def __init__(self, schema: pa.Schema, keys: Sequence[int], max_parallelism: int,
                 key_types: Sequence[pa.DataType] = ()) -> None:
        self.schema = schema
        self.keys, self.key_types = list(keys), list(key_types)
        self.max_parallelism = max_parallelism
        self._buckets: dict[int, list[pa.RecordBatch]] = {}

    def add(self, batch: pa.RecordBatch, ends: np.ndarray) -> None:
        if batch.num_rows == 0:
            return
        distinct, which = np.unique(ends, return_inverse=True)
        if len(distinct) == 1:
            self._buckets.setdefault(int(distinct[0]), []).append(batch)
            return
        order = np.argsort(which, kind="stable")
        bounds = np.searchsorted(which[order], np.arange(len(distinct) + 1))
        ordered = batch.take(pa.array(order))
        for i, end in enumerate(distinct):
            part = ordered.slice(int(bounds[i]), int(bounds[i + 1] - bounds[i]))
            self._buckets.setdefault(int(end), []).append(part)

    def ends(self) -> list[int]:
        return sorted(self._buckets)

    def next_end(self) -> int | None:
        return min(self._buckets) if self._buckets else None

    def pop(self, end: int) -> pa.Table:
        """The rows of the window ending at ``end`` (in arrival order), taken out."""
        return pa.Table.from_batches(self._buckets.pop(end, []), schema=self.schema)

    def closing(self, watermark: int) -> list[int]:
        """The ends of the windows that close at ``watermark`` (end - 1 <= watermark), in
        order."""
        return [end for end in sorted(self._buckets) if end - 1 <= watermark]

    # -- snapshots ------------------------------------------------------------------------------

    def snapshot(self) -> pa.Table:
        parts, ends = [], []
        for end, batches in sorted(self._buckets.items()):
            table = pa.Table.from_batches(batches, schema=self.schema)
            parts.append(table)
            ends.append(np.full(table.num_rows, end, dtype=np.int64))
        rows = pa.concat_tables(parts) if parts else self.schema.empty_table()
        columns = {f"c{i}": rows.column(i) for i in range(rows.num_columns)}
        columns[_BUCKET] = pa.array(np.concatenate(ends) if ends else np.zeros(0, np.int64),
                                    pa.int64())
        columns[KEY_GROUP_COLUMN] = pa.array(self._key_groups(rows), pa.int32())
        return pa.table(columns)

    def _key_groups(self, rows: pa.Table) -> np.ndarray:
        if not self.keys:
            return np.zeros(rows.num_rows, dtype=np.int32)
        columns = [rows.column(k) for k in self.keys]
        if self.key_types:
            columns = [c if c.type == t else c.cast(t)
                       for c, t in zip(columns, self.key_types, strict=True)]
        return key_groups(columns, self.max_parallelism)

    def restore(self, tables: Sequence[pa.Table], key_group_range=None) -> None:
        self._buckets = {}
        names = [f"c{i}" for i in range(len(self.schema))]
        for table in tables:
            if key_group_range is not None:
                mine = key_group_range.contains(table.column(KEY_GROUP_COLUMN).to_numpy())
                table = table.filter(pa.array(mine))
            if table.num_rows == 0:
                continue
            rows = table.select(names).rename_columns(self.schema.names).cast(self.schema)
            ends = table.column(_BUCKET).to_numpy()
            for batch in rows.combine_chunks().to_batches():
                self.add(batch, ends[: batch.num_rows])
                ends = ends[batch.num_rows:]
