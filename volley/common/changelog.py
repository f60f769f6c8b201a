"""Flink's changelog vocabulary: row kinds (the one definition, for rows handed to users and
for record batches) and changelog modes.

An updating stream carries its row kinds in an int8 column named ``__row_kind``, the last column
of every batch (found by name, never by position alone). The values are Flink's
``RowKind.toByteValue()`` so that they print and sort the way Flink's do; ``RowKind`` is the enum
``pyflink.common.RowKind`` users see on ``Row.get_row_kind()``.
"""

from __future__ import annotations

from enum import Enum

import pyarrow as pa


class RowKind(Enum):
    INSERT = 0
    UPDATE_BEFORE = 1
    UPDATE_AFTER = 2
    DELETE = 3

    def short_string(self) -> str:
        return SHORT_STRINGS[self.value]

    def __str__(self) -> str:
        return self.short_string()


class ChangelogMode(Enum):
    """What kinds of rows a stream carries (Flink's changelog modes)."""

    INSERT_ONLY = "insert-only"
    UPSERT = "upsert"  # +I, +U, -D (keyed)
    RETRACT = "retract"  # +I, -U, +U, -D

    def __str__(self) -> str:
        return self.value


ROW_KIND_COLUMN = "__row_kind"

INSERT = 0
UPDATE_BEFORE = 1
UPDATE_AFTER = 2
DELETE = 3

SHORT_STRINGS: tuple[str, ...] = ("+I", "-U", "+U", "-D")
"""``SHORT_STRINGS[kind]`` is Flink's ``RowKind.shortString()``."""


def has_row_kind(batch: pa.RecordBatch) -> bool:
    """Whether ``batch`` is from an updating stream (its last column is the row kind)."""
    names = batch.schema.names
    return bool(names) and names[-1] == ROW_KIND_COLUMN


def split_row_kind(batch: pa.RecordBatch) -> tuple[pa.RecordBatch, pa.Array | None]:
    """The batch without its row kind column, and that column (None for an insert-only batch)."""
    if not has_row_kind(batch):
        return batch, None
    last = batch.num_columns - 1
    return batch.drop_columns([ROW_KIND_COLUMN]), batch.column(last)
