"""``TableResult``: the outcome of ``execute``/``execute_sql``/``execute_insert``.

For a query, ``collect()`` iterates over ``Row`` objects as the job produces them (the job runs
lazily, batch by batch, so an unbounded query can be consumed while it runs), ``print()`` shows
the tableau format PyFlink prints, and ``to_pandas``/``to_arrow`` take the whole result at once
(an updating result materialized: its changelog applied, as PyFlink's ``to_pandas`` does).
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import Enum
from typing import Any

import pyarrow as pa

from volley.common.changelog import ROW_KIND_COLUMN
from volley.common.job_status import JobStatus
from volley.common.row import Row, RowKind
from volley.plan.types import DataType, RowType
from volley.table.table_schema import TableSchema

_KINDS = list(RowKind)


class ResultKind(Enum):
    SUCCESS = 0
    SUCCESS_WITH_CONTENT = 1


class JobClient:
    """The client of a running job (PyFlink's ``JobClient``): its id, status, cancel and wait."""

    def __init__(self, job_id: str, handle: Any = None) -> None:
        self._job_id = job_id
        self._handle = handle

    def get_job_id(self) -> str:
        return self._job_id

    def get_job_status(self) -> JobStatus:
        return JobStatus.FINISHED if self._handle is None else self._handle.status()

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()

    def get_metrics(self) -> dict[str, Any]:
        """The job's metrics so far (not in PyFlink, whose metrics live in Flink's web UI):
        ``counters`` by ``<operator uid>.<name>`` (e.g. ``numLateRecordsDropped``), summed
        over subtasks; ``checkpoints`` (id, duration, bytes); ``restarts``."""
        return {} if self._handle is None else dict(self._handle.metrics)

    def get_job_execution_result(self) -> JobClient:
        """Waits for the job's end (PyFlink returns a future; ``wait`` is its ``result()``)."""
        self.wait()
        return self

    def wait(self, timeout: float | None = None) -> None:
        if self._handle is not None:
            self._handle.wait(timeout)


class CloseableIterator:
    """Iterator over result rows; ``close()`` stops the job (PyFlink's CloseableIterator)."""

    def __init__(self, rows: Iterator[Row], on_close: Any = None) -> None:
        self._rows = rows
        self._on_close = on_close

    def __iter__(self) -> CloseableIterator:
        return self

    def __next__(self) -> Row:
        return next(self._rows)

    def close(self) -> None:
        if self._on_close is not None:
            self._on_close()

    def __del__(self) -> None:
        # an abandoned iterator must not leave its job blocked on results nobody reads
        self.close()

    def __enter__(self) -> CloseableIterator:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class TableResult:
    def __init__(
        self,
        row_type: RowType,
        batches: Iterator[pa.RecordBatch] | None = None,
        kind: ResultKind = ResultKind.SUCCESS_WITH_CONTENT,
        streaming: bool = False,
        job_id: str | None = None,
        on_close: Any = None,
        null_text: str = "<NULL>",
        handle: Any = None,
        upsert_key: tuple[int, ...] | None = None,
    ) -> None:
        self._row_type = row_type
        self._upsert_key = upsert_key  # how an updating result's rows are keyed, if they are
        self._null_text = null_text  # how print() shows NULL: empty for metadata results
        self._batches = batches if batches is not None else iter(())
        self._kind = kind
        self._streaming = streaming
        self._handle = handle
        if handle is not None:
            self._job_client: JobClient | None = JobClient(handle.job_id, handle)
        else:
            self._job_client = JobClient(job_id) if job_id else None
        self._on_close = on_close
        self._consumed = False
        self._insert = False  # an INSERT's result: wait() waits for its job

    @staticmethod
    def ok() -> TableResult:
        from volley.plan.types import RowField, VarCharType

        return TableResult(RowType((RowField("result", VarCharType()),)),
                           iter([pa.record_batch([pa.array(["OK"])], names=["result"])]),
                           ResultKind.SUCCESS)

    @staticmethod
    def of_rows(names: list[str], types: list[DataType], columns: list[list[Any]]) -> TableResult:
        from volley.plan.types import RowField

        row_type = RowType(tuple(RowField(nm, t) for nm, t in zip(names, types, strict=True)))
        batch = pa.RecordBatch.from_arrays(
            [pa.array(c, t.to_arrow()) for c, t in zip(columns, types, strict=True)],
            schema=row_type.to_arrow_schema(),
        )
        return TableResult(row_type, iter([batch]), null_text="")

    # -- PyFlink API ------------------------------------------------------------------------------
    def get_job_client(self) -> JobClient | None:
        return self._job_client

    def get_table_schema(self) -> TableSchema:
        return TableSchema.of(self._row_type)

    get_resolved_schema = get_table_schema

    def get_result_kind(self) -> ResultKind:
        return self._kind

    def wait(self, timeout_ms: int | None = None) -> None:
        """As in PyFlink: an INSERT's result waits for its job to end (and raises its error); a
        query's waits until its first row can be read (or its job ended), so it returns on an
        unbounded query too. ``TimeoutError`` when ``timeout_ms`` passed first."""
        if self._handle is None:
            return
        timeout = None if timeout_ms is None else timeout_ms / 1000
        if self._insert or self._consumed:
            self._handle.wait(timeout)
            return
        if not self._handle.wait_for_result(timeout):
            raise TimeoutError(f"no result of the query within {timeout_ms} ms")

    def collect(self) -> CloseableIterator:
        return CloseableIterator(self._rows(), self._on_close)

    def print(self) -> None:
        from volley.table.tableau import print_tableau

        print_tableau(self._row_type, list(self._take_batches()), self._streaming,
                      self._null_text)

    # -- Volley extensions ------------------------------------------------------------------------
    def to_arrow(self) -> pa.Table:
        """The result as a table; an updating (streaming) result materialized: its changelog
        applied, as PyFlink's ``to_pandas`` does (see ``volley.table.materialize``)."""
        schema = self._row_type.to_arrow_schema()
        batches = list(self._take_batches())
        if any(b.num_columns > len(schema) for b in batches):
            from volley.table.materialize import materialize

            kind = pa.field(ROW_KIND_COLUMN, pa.int8(), nullable=False)
            changelog = pa.Table.from_batches(
                [pa.RecordBatch.from_arrays(b.columns[: len(schema) + 1],
                                            schema=schema.append(kind)) for b in batches],
                schema=schema.append(kind))
            return materialize(changelog, self._upsert_key)
        batches = [pa.RecordBatch.from_arrays(b.columns[: len(schema)], schema=schema)
                   for b in batches]
        return pa.Table.from_batches(batches, schema=schema)

    def to_pandas(self):
        from volley.table.pandas_conversion import arrow_to_pandas

        return arrow_to_pandas(self.to_arrow())

    # -- internals --------------------------------------------------------------------------------
    def _take_batches(self) -> Iterator[pa.RecordBatch]:
        if self._consumed:
            raise RuntimeError("this TableResult has already been consumed; execute it again")
        self._consumed = True
        yield from self._batches

    def _rows(self) -> Iterator[Row]:
        names = self._row_type.names
        width = len(names)
        from volley.udf.invoke import _convert

        types = self._row_type.types
        needs_convert = [isinstance(t, RowType) or t.type_name().startswith("MAP") for t in types]
        for batch in self._take_batches():
            columns = [batch.column(i).to_pylist() for i in range(width)]
            for i, conv in enumerate(needs_convert):
                if conv:
                    columns[i] = [_convert(v, types[i]) for v in columns[i]]
            kinds = batch.column(width).to_pylist() if batch.num_columns > width else None
            for r, values in enumerate(zip(*columns, strict=True)):
                row = Row(*values)
                row._fields = tuple(names)
                if kinds is not None:
                    row.set_row_kind(_KINDS[kinds[r]])
                yield row

