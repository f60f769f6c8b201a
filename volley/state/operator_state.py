"""``OperatorState``: the non-keyed state of one subtask, as one Arrow table.

Some state belongs to a subtask rather than to a key: a limit's remaining count, a sink's
pending files, a source's split positions. It is a table of rows whose meaning the operator
decides; the state layer only has to give the rows back after a restart.

Snapshots tag every row with the subtask that wrote it (an int32 ``__subtask`` column) and record
the job's parallelism in the schema metadata (``volley.parallelism``). Restoring:

* at the parallelism of the snapshot, each subtask gets back exactly its own rows, in order;
* at another parallelism, the rows of all snapshots, ordered by old subtask and then by row,
  are dealt round-robin: row ``i`` goes to new subtask ``i % parallelism``. That is Flink's
  even-split redistribution of list state: state must then be a list of independent items
  (split positions, pending files), which is what makes it redistributable at all.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SUBTASK_COLUMN = "__subtask"
PARALLELISM_KEY = b"volley.parallelism"


class OperatorState:
    """One subtask's non-keyed state; see the module docstring."""

    def __init__(self, schema: pa.Schema | None = None, subtask: int = 0,
                 parallelism: int = 1) -> None:
        _check_subtask(subtask, parallelism)
        self.subtask, self.parallelism = subtask, parallelism
        self._table = (schema or pa.schema([])).empty_table()

    def get(self) -> pa.Table:
        return self._table

    def set(self, table: pa.Table) -> None:
        if SUBTASK_COLUMN in table.column_names:
            raise ValueError(f"operator state cannot have a column named {SUBTASK_COLUMN!r}; "
                             f"it is reserved for snapshots")
        self._table = table

    def snapshot(self) -> pa.Table:
        """The table plus ``__subtask``, with the parallelism in the schema metadata."""
        table = self._table.append_column(
            SUBTASK_COLUMN, pa.array(np.full(self._table.num_rows, self.subtask, np.int32)))
        return table.replace_schema_metadata({
            **(table.schema.metadata or {}), PARALLELISM_KEY: str(self.parallelism).encode()})

    def restore(self, tables: Sequence[pa.Table], subtask: int | None = None,
                parallelism: int | None = None) -> None:
        """Replace the table by this subtask's share of ``tables`` (the snapshots of every
        subtask of a run); ``subtask`` and ``parallelism`` default to this state's own."""
        subtask = self.subtask if subtask is None else subtask
        parallelism = self.parallelism if parallelism is None else parallelism
        _check_subtask(subtask, parallelism)
        self.subtask, self.parallelism = subtask, parallelism
        if not tables:
            self._table = self._table.slice(0, 0)
            return
        old = {_snapshot_parallelism(t) for t in tables}
        if len(old) != 1:
            raise ValueError(f"operator state snapshots of different runs; expected one "
                             f"parallelism, got {sorted(old)}")
        plain = [t.replace_schema_metadata(_user_metadata(t)) for t in tables]
        rows = pa.concat_tables(plain, promote_options="permissive")
        if old == {parallelism}:
            mine = pc.equal(rows.column(SUBTASK_COLUMN), subtask)
        else:
            order = np.argsort(rows.column(SUBTASK_COLUMN).to_numpy(), kind="stable")
            rows = rows.take(pa.array(order))
            mine = pa.array(np.arange(rows.num_rows) % parallelism == subtask)
        self._table = rows.filter(mine).drop_columns([SUBTASK_COLUMN])


def _snapshot_parallelism(table: pa.Table) -> int:
    metadata = table.schema.metadata or {}
    if PARALLELISM_KEY not in metadata or SUBTASK_COLUMN not in table.column_names:
        raise ValueError(f"not an operator state snapshot; expected a {SUBTASK_COLUMN!r} column "
                         f"and {PARALLELISM_KEY.decode()!r} metadata, got columns "
                         f"{table.column_names!r}")
    return int(metadata[PARALLELISM_KEY])


def _user_metadata(table: pa.Table) -> dict | None:
    metadata = {k: v for k, v in (table.schema.metadata or {}).items() if k != PARALLELISM_KEY}
    return metadata or None


def _check_subtask(subtask: int, parallelism: int) -> None:
    if not 0 <= subtask < parallelism:
        raise ValueError(f"subtask index out of range; expected 0 <= subtask < {parallelism}, "
                         f"got {subtask!r}")
