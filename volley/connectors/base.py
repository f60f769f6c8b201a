"""The contracts between the engine and connectors.

A connector factory turns the options of a ``CREATE TABLE ... WITH (...)`` (or a
``TableDescriptor``) into a ``TableSource`` and/or a ``TableSink``. Sources yield Arrow record
batches (and, later, watermarks) in the table's physical schema; sinks take record batches.
Neither sees rows one by one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum

import pyarrow as pa

from volley.plan.types import RowType


class ChangelogMode(Enum):
    """What kinds of rows a stream carries (Flink's changelog modes)."""

    INSERT_ONLY = "insert-only"
    UPSERT = "upsert"  # +I, +U, -D (keyed)
    RETRACT = "retract"  # +I, -U, +U, -D

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class TableSpec:
    """A resolved catalog table as a connector sees it.

    ``schema`` holds the physical columns only (computed columns and watermarks are the planner's
    business). ``options`` are normalized: modern keys (``connector``, ``format``, ``path``),
    with the legacy ``connector.type``/``format.type``/``connector.path`` already translated.
    ``raw_options`` are the options as the user wrote them, for error messages.
    """

    name: str
    schema: RowType
    options: dict[str, str]
    raw_options: dict[str, str] = field(default_factory=dict)
    partition_keys: tuple[str, ...] = ()


class TableSource(ABC):
    """A source of record batches in ``spec.schema``.

    ``bounded`` says whether the source ends (batch mode requires it). ``batches`` may be called
    with the indices of the columns the query needs; a source that cannot prune columns returns
    them all and the planner projects afterwards, so pruning is an optimization, never required.
    """

    bounded: bool = True

    @property
    @abstractmethod
    def schema(self) -> RowType: ...

    @abstractmethod
    def batches(self) -> Iterator[pa.RecordBatch]:
        """Yield record batches whose schema is ``self.schema.to_arrow_schema()``."""


class TableSink(ABC):
    """A sink of record batches in its table's schema.

    The runner calls ``open`` once, ``write`` per batch, then ``finish`` when the input ends
    (publish files, flush output). ``accepts`` says which changelog modes the sink can take;
    the planner rejects a plan whose output the sink cannot take before anything runs.
    """

    @property
    def accepted_changelog_modes(self) -> frozenset[ChangelogMode]:
        return frozenset({ChangelogMode.INSERT_ONLY})

    def open(self) -> None:  # noqa: B027 - optional hook
        """Prepare to receive batches (create directories, open files)."""

    @abstractmethod
    def write(self, batch: pa.RecordBatch) -> None:
        """Take one batch. Updating streams carry a ``__row_kind`` int8 column at the end."""

    def finish(self) -> None:  # noqa: B027 - optional hook
        """The input ended: flush and publish what was written."""


class ConnectorFactory(ABC):
    """Creates sources and sinks for one ``connector`` identifier."""

    identifier: str

    def create_source(self, spec: TableSpec) -> TableSource:
        from volley.errors import ConnectorError

        raise ConnectorError(
            f"connector {self.identifier!r} of table {spec.name!r} cannot be read from; "
            "it is a sink only"
        )

    def create_sink(self, spec: TableSpec) -> TableSink:
        from volley.errors import ConnectorError

        raise ConnectorError(
            f"connector {self.identifier!r} of table {spec.name!r} cannot be written to; "
            "it is a source only"
        )
