"""Flink's print connector: every row as ``+I[1, Alice]`` on stdout (or stderr).

Rows print as Flink's ``Row.toString``: the row kind's short string, then the fields in brackets,
comma-space separated; NULL is ``null``, floats as Java prints them (``1.0``), timestamps as
``LocalDateTime.toString`` (``2024-01-02T03:04:05``), arrays ``[1, 2]``, maps ``{a=1}``. With
``print-identifier`` each line starts ``<id>> ``. Updating streams are welcome: their batches
carry ``__row_kind`` as the last column. Text is built a column at a time; the write is one call
per batch. Not transactional: rows print as they arrive (a restored job prints again what followed
its checkpoint, as Flink's print sink does), so ``prepare_commit`` has nothing to return.
"""

from __future__ import annotations

import sys

import pyarrow as pa
import pyarrow.compute as pc

from volley.common.changelog import SHORT_STRINGS, split_row_kind
from volley.connectors.base import ChangelogMode, ConnectorFactory, TableSink, TableSpec
from volley.connectors.java_text import iso_timestamp_strings, java_float_strings, time_strings
from volley.connectors.nested_text import join_lists, join_map
from volley.connectors.options import TableOptions

PRINT_OPTIONS = ("connector", "print-identifier", "standard-error", "sink.parallelism")
_KINDS = pa.array(SHORT_STRINGS)


def value_texts(arr: pa.Array) -> pa.Array:
    """``String.valueOf`` of every value as Flink's Row.toString shows it; NULL is ``null``."""
    return pc.fill_null(_texts(arr), "null")


def _texts(arr: pa.Array) -> pa.Array:
    t = arr.type
    if pa.types.is_floating(t):
        return java_float_strings(arr)
    if pa.types.is_timestamp(t):
        return iso_timestamp_strings(arr)
    if pa.types.is_time(t):
        return time_strings(arr, iso=True)
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        signed = [
            None if b is None else [x - 256 if x > 127 else x for x in b] for b in arr.to_pylist()
        ]
        return _texts(pa.array(signed, pa.list_(pa.int8())))
    if pa.types.is_map(t):
        return join_map(arr, value_texts, value_texts, "=", ", ", "{", "}")
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return join_lists(arr, value_texts, ", ", "[", "]")
    if pa.types.is_struct(t):
        inner = row_texts(arr.flatten(), None)
        return pc.if_else(pc.is_null(arr), pa.scalar(None, pa.string()), inner)
    if pa.types.is_dictionary(t):
        return _texts(arr.dictionary_decode())
    return pc.cast(arr, pa.string())


def row_texts(
    columns: list[pa.Array], kinds: pa.Array | None, length: int | None = None
) -> pa.Array:
    """``+I[a, b]`` for every row of ``columns``; ``kinds`` holds row kinds (None: all +I)."""
    n = len(columns[0]) if columns else (length or 0)
    prefix = pc.take(_KINDS, kinds.cast(pa.int32())) if kinds is not None else pa.array(["+I"] * n)
    if not columns:
        return pc.binary_join_element_wise(prefix, "[]", "")
    fields = pc.binary_join_element_wise(*[value_texts(c) for c in columns], ", ")
    return pc.binary_join_element_wise(prefix, "[", fields, "]", "")


class PrintSink(TableSink):
    """Prints rows to stdout or stderr, as Flink's print sink does."""

    def __init__(self, spec: TableSpec) -> None:
        options = TableOptions(spec)
        options.check_known(PRINT_OPTIONS)
        self.spec = spec
        self.identifier = options.get_str("print-identifier")
        self.standard_error = options.get_bool("standard-error", False)
        self.subtask_index = 0
        self.parallelism = 1

    @property
    def accepted_changelog_modes(self) -> frozenset[ChangelogMode]:
        """Any changelog, updates as -U/+U pairs (Flink's print sink asks for every kind)."""
        return frozenset({ChangelogMode.INSERT_ONLY, ChangelogMode.RETRACT})

    def _prefix(self) -> str:
        if self.parallelism > 1:
            task = str(self.subtask_index + 1)
            return f"{self.identifier}:{task}> " if self.identifier else f"{task}> "
        return f"{self.identifier}> " if self.identifier else ""

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        data, kinds = split_row_kind(batch)
        lines = row_texts(list(data.columns), kinds, batch.num_rows)
        prefix = self._prefix()
        if prefix:
            lines = pc.binary_join_element_wise(prefix, lines, "")
        offsets = pa.array([0, len(lines)], pa.int32())
        text = pc.binary_join(pa.ListArray.from_arrays(offsets, lines), "\n")[0].as_py()
        stream = sys.stderr if self.standard_error else sys.stdout
        stream.write(text + "\n")

    def open(self, subtask_index: int = 0, parallelism: int = 1,
             owner: str | None = None) -> None:
        self.subtask_index, self.parallelism = subtask_index, parallelism

    def end_input(self) -> None:
        (sys.stderr if self.standard_error else sys.stdout).flush()


class PrintFactory(ConnectorFactory):
    identifier = "print"

    def create_sink(self, spec: TableSpec) -> PrintSink:
        return PrintSink(spec)
