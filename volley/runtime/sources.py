"""Reading a source vertex's splits in one subtask, with positions for checkpoints.

A source is split into units (files, ranges of generated rows, slices of in-memory data);
subtask ``i`` of ``p`` reads splits ``i, i + p, i + 2p, ...`` in order. After each batch it hands
out, the reader knows the position after that batch in its split; those positions, and which
splits are done, are the source's checkpointed state. The state is kept for every split, not per
subtask, so a job restored at another parallelism finds each split's position (Flink's union
list state).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from volley.connectors.base import SourceSplit
from volley.physical.job_graph import SourceSpec

DONE = "done"
_STATE_SCHEMA = pa.schema([("split_id", pa.string()), ("position", pa.string())])


@dataclass(frozen=True)
class SourceElement:
    """One batch of a split and the split's position after it."""

    batch: pa.RecordBatch
    split_id: str
    position: Any

    @property
    def nbytes(self) -> int:
        return self.batch.nbytes


class _ValuesSource:
    """In-memory rows as a source: one split per subtask, a position is a row offset."""

    bounded = True

    def __init__(self, spec: SourceSpec) -> None:
        assert spec.data is not None
        self._table = spec.data
        self._rows = spec.batch_rows

    def splits(self, parallelism: int) -> list[SourceSplit]:
        n = self._table.num_rows
        bounds = [n * i // parallelism for i in range(parallelism + 1)]
        return [SourceSplit(f"rows-{i}-of-{parallelism}", (bounds[i], bounds[i + 1]))
                for i in range(parallelism)]

    def read_split(self, split: SourceSplit, position: Any | None = None,
                   columns: Any = None) -> Iterator[tuple[pa.RecordBatch, Any]]:
        start, end = split.info
        offset = start if position is None else int(position)
        part = self._table.slice(offset, end - offset)
        for batch in part.to_batches(max_chunksize=self._rows):
            offset += batch.num_rows
            yield batch, offset


def open_source(spec: SourceSpec) -> Any:
    """The split source behind ``spec``: a connector's ``TableSource`` or in-memory rows."""
    if spec.data is not None:
        return _ValuesSource(spec)
    from volley.connectors import create_source

    assert spec.table is not None
    return create_source(spec.table)


class SourceReader:
    """The splits of one subtask, read in order; ``positions`` is its checkpointed state."""

    def __init__(self, spec: SourceSpec, subtask: int, parallelism: int) -> None:
        self._spec = spec
        self._source = open_source(spec)
        every = self._source.splits(parallelism)
        self.splits: list[SourceSplit] = every[subtask::parallelism]
        self.positions: dict[str, Any] = {}

    # -- state --------------------------------------------------------------------------------
    def snapshot(self) -> pa.Table:
        rows = [{"split_id": k, "position": json.dumps(v)} for k, v in self.positions.items()]
        return pa.Table.from_pylist(rows, schema=_STATE_SCHEMA)

    def restore(self, tables: list[pa.Table], key_groups: Any = None) -> None:
        """Positions of this subtask's splits, from every subtask's snapshot."""
        mine = {s.split_id for s in self.splits}
        for table in tables:
            for row in table.to_pylist():
                if row["split_id"] in mine:
                    self.positions[row["split_id"]] = json.loads(row["position"])

    # -- reading ------------------------------------------------------------------------------
    def elements(self) -> Iterator[SourceElement]:
        """Every remaining batch of this subtask's splits, each with its split's position
        after it (the caller records it when it has processed the batch)."""
        for split in self.splits:
            position = self.positions.get(split.split_id)
            if position == DONE:
                continue
            columns = self._spec.columns
            for batch, after in self._source.read_split(split, position, columns):
                if columns is not None and batch.num_columns != len(columns):
                    batch = batch.select(list(columns))  # a connector that reads every column
                yield SourceElement(batch, split.split_id, after)
            yield SourceElement(_EMPTY, split.split_id, DONE)

    def advance(self, element: SourceElement) -> None:
        self.positions[element.split_id] = element.position


_EMPTY = pa.RecordBatch.from_pydict({})
