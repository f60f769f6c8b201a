"""The contracts between the engine and connectors.

A connector factory turns the options of a ``CREATE TABLE ... WITH (...)`` (or a
``TableDescriptor``) into a ``TableSource`` and/or a ``TableSink``. Sources yield Arrow record
batches (and, later, watermarks) in the table's physical schema; sinks take record batches.
Neither sees rows one by one.

Exactly-once checkpoints ask two things of connectors, both in plain JSON-able data (it goes into
checkpoint manifests and Arrow state):

- A source is a *split source*: ``splits(parallelism)`` names its units of work, and
  ``read_split`` reads one, yielding with every batch the *position* after it; reading from a
  position yields exactly the rows that followed it.
- A sink *commits with the checkpoint*: ``prepare_commit`` closes what is in progress and returns
  *committables*; ``commit`` publishes them, idempotently; ``abort`` discards the rest.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from volley.common.changelog import ChangelogMode
from volley.plan.types import RowType


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


@dataclass(frozen=True)
class SourceSplit:
    """One unit of a source's work (a file, a range of generated rows).

    ``split_id`` is stable for the same table, options and files, so a checkpoint's positions map
    back onto the splits of a restored job; ``info`` is connector-specific plain data (picklable,
    JSON-able) that lets ``read_split`` read the split without listing anything again.
    """

    split_id: str
    info: tuple = ()


class TableSource(ABC):
    """A source of record batches in ``spec.schema``, read as splits.

    ``bounded`` says whether the source ends (batch mode requires it). The runner asks for
    ``splits(parallelism)``, assigns split ``i`` to subtask ``i % parallelism``, and reads each
    with ``read_split``, keeping the last position it yielded as the split's checkpointed state.

    ``columns`` are the indices of the columns the query needs; a source that cannot prune
    columns returns them all and the planner projects afterwards, so pruning is an optimization,
    never required. ``batches`` (all splits in order, positions dropped) is what today's runner
    reads.

    A connector implements ``splits`` and ``read_split`` (or only ``read_split`` for one split).
    """

    bounded: bool = True

    @property
    @abstractmethod
    def schema(self) -> RowType: ...

    def splits(self, parallelism: int) -> list[SourceSplit]:
        """The units of work for ``parallelism`` subtasks (a hint: a source may return more or
        fewer). Default: one split."""
        return [SourceSplit("0")]

    def read_split(
        self,
        split: SourceSplit,
        position: Any | None = None,
        columns: Sequence[int] | None = None,
    ) -> Iterator[tuple[pa.RecordBatch, Any]]:
        """Yield ``(batch, position after this batch)``; positions are JSON-able. Reading from
        ``position`` (one an earlier read of the same split yielded) resumes right after that
        batch: it yields exactly the rows that followed. ``None``: from the split's start."""
        raise NotImplementedError(
            f"{type(self).__name__} does not implement read_split; a TableSource must "
            "implement read_split (and splits, if it has more than one)"
        )

    def batches(self, columns: Sequence[int] | None = None) -> Iterator[pa.RecordBatch]:
        """Every split's batches, splits in order; batches have the schema's ``columns``."""
        for split in self.splits(1):
            for batch, _ in self.read_split(split, None, columns):
                yield batch


class TableSink(ABC):
    """A sink of record batches in its table's schema.

    The runner with checkpoints calls, per subtask::

        open(subtask_index, parallelism)
        abort(keep=restored)  # only when restoring: drop leftovers, keep the restored pending
        commit(restored)      # only when restoring: publish what the last checkpoint held
        write(batch) ...
        prepare_commit()      # at each checkpoint barrier: its result goes into the checkpoint
        commit(committables)  # when that checkpoint completed (on every subtask)
        end_input()           # end of input, then a final checkpoint:
        prepare_commit(); commit(...)
        abort()               # after a failure, before the sink is dropped

    Today's runner calls ``open()``, ``write`` and ``finish()``, which is ``end_input()`` then
    ``commit(prepare_commit())``: the output is visible when ``finish`` returns.

    ``transactional`` says whether output becomes visible only through ``commit``; a sink that
    is not transactional writes through (``prepare_commit`` returns nothing). ``accepted_
    changelog_modes`` says which changelog modes the sink can take; the planner rejects a plan
    whose output the sink cannot take before anything runs. With ``UPSERT`` among them the sink
    is given updates without -U rows when the plan can make them so (the table's PRIMARY KEY,
    if any, being the query's upsert key), else as -U/+U pairs (``RETRACT``).
    """

    transactional: bool = False

    @property
    def accepted_changelog_modes(self) -> frozenset[ChangelogMode]:
        return frozenset({ChangelogMode.INSERT_ONLY})

    def open(self, subtask_index: int = 0, parallelism: int = 1,  # noqa: B027
             owner: str | None = None) -> None:
        """Prepare to receive batches as subtask ``subtask_index`` of ``parallelism``. ``owner``
        names the sink in the job (stable across restarts): two sinks writing one place tell
        their leftovers apart by it."""

    @abstractmethod
    def write(self, batch: pa.RecordBatch) -> None:
        """Take one batch. Updating streams carry a ``__row_kind`` int8 column at the end."""

    def end_input(self) -> None:  # noqa: B027 - optional hook
        """The input ended: flush. A transactional sink publishes nothing here."""

    def prepare_commit(self) -> list[dict]:
        """Close what is in progress so that it can be published later, and return JSON-able
        committables naming it. Nothing becomes visible here."""
        return []

    def commit(self, committables: list[dict]) -> None:  # noqa: B027 - optional hook
        """Publish ``committables`` (of this sink or of the same sink in an earlier attempt).
        Idempotent: committing the same committables twice, or after a crash half-way through
        an earlier commit, gives the same visible result."""

    def abort(self, keep: Iterable[dict] = ()) -> None:  # noqa: B027 - optional hook
        """Discard what this sink (this subtask, in this or an earlier attempt) wrote that is
        not published and not in ``keep``."""

    def finish(self) -> None:
        """End of input for a runner without checkpoints: flush and publish everything."""
        self.end_input()
        self.commit(self.prepare_commit())


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
