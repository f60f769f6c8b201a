"""The job graph: what a runner receives, as plain data.

Nothing here is live: an operator is an ``OperatorSpec`` (a kind the runtime's registry knows,
a stable uid, parameters and schemas), a source is a ``SourceSpec`` (connector options or
in-memory Arrow data), and edges say how rows are partitioned between the parallel subtasks of
two vertices. So a job graph can be pickled, sent to another process or a Ray actor, and built
into operators there. This module imports no other part of Volley but the connector spec type.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from volley.connectors.base import TableSpec

DEFAULT_MAX_PARALLELISM = 128


# -- partitioning ----------------------------------------------------------------------------------


class _Partitioning:
    """Value semantics for the partitionings (plain classes: a job starts without building
    dataclasses it rarely compares)."""

    __slots__ = ()

    def _key(self) -> tuple:
        return ()

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._key() == self._key()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._key()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}{self._key() or '()'}"


class Forward(_Partitioning):
    """Subtask i sends to subtask i of the next vertex (same parallelism): a chainable edge."""

    __slots__ = ()

    def __str__(self) -> str:
        return "FORWARD"


class Hash(_Partitioning):
    """Rows go to the subtask owning their key group, from a stable hash of ``keys`` (cast to
    ``types`` first when given: the two inputs of a join hash their keys as one type)."""

    __slots__ = ("keys", "types")

    def __init__(self, keys: tuple[int, ...], types: tuple[pa.DataType, ...] = ()) -> None:
        self.keys, self.types = tuple(keys), tuple(types)

    def _key(self) -> tuple:
        return (self.keys, self.types)

    def __reduce__(self) -> tuple:
        return (Hash, (self.keys, self.types))

    def __str__(self) -> str:
        return f"HASH[{', '.join(f'${k}' for k in self.keys)}]"


class Broadcast(_Partitioning):
    """Every subtask of the next vertex receives every row."""

    __slots__ = ()

    def __str__(self) -> str:
        return "BROADCAST"


class Rebalance(_Partitioning):
    """Batches go round-robin to the next vertex's subtasks (parallelism changes)."""

    __slots__ = ()

    def __str__(self) -> str:
        return "REBALANCE"


class Single(_Partitioning):
    """Every row goes to subtask 0 of the next vertex (a global sort, limit or aggregate)."""

    __slots__ = ()

    def __str__(self) -> str:
        return "SINGLE"


Partitioning = Forward | Hash | Broadcast | Rebalance | Single


# -- operators and sources -------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class OperatorSpec:
    """One operator as data: ``kind`` names a factory in ``volley.runtime.registry``; ``uid`` is
    stable across re-planning of the same query, so checkpointed state maps back onto it;
    ``params`` hold IR expressions, key indices, aggregate calls and options. An updating
    stream's schemas carry the ``__row_kind`` field."""

    kind: str
    uid: str
    name: str
    params: Mapping[str, Any]
    input_schemas: tuple[pa.Schema, ...]
    output_schema: pa.Schema

    @property
    def arity(self) -> int:
        return len(self.input_schemas)


@dataclass(frozen=True, eq=False)
class SourceSpec:
    """A source as data: a connector table (``table``, read through the connector registry in
    the task) or rows already in memory (``data``: VALUES, from_pandas, from_arrow)."""

    uid: str
    name: str
    output_schema: pa.Schema
    bounded: bool
    table: TableSpec | None = None
    data: pa.Table | None = None
    #: in-memory data is handed out in slices of this many rows
    batch_rows: int = 1 << 20
    #: the table's columns to read, by position (``output_schema`` has just these); None: all
    columns: tuple[int, ...] | None = None

    @property
    def in_memory(self) -> bool:
        return self.data is not None


# -- the graph -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Edge:
    """Rows of vertex ``source`` flow into input ``port`` of vertex ``target``."""

    source: int
    target: int
    port: int
    partitioning: Partitioning


@dataclass(eq=False)
class Vertex:
    """A task's worth of work: a source or not, then a chain of forward-connected operators,
    run by ``parallelism`` subtasks. The chain's first operator reads the vertex's inputs;
    each later one reads the one before it; the last one's output leaves by the out-edges."""

    id: int
    name: str
    chain: tuple[OperatorSpec, ...] = ()
    source: SourceSpec | None = None
    parallelism: int = 1

    @property
    def is_source(self) -> bool:
        return self.source is not None

    @property
    def head(self) -> OperatorSpec | None:
        return self.chain[0] if self.chain else None

    @property
    def uids(self) -> list[str]:
        return ([self.source.uid] if self.source else []) + [s.uid for s in self.chain]


@dataclass(eq=False)
class JobGraph:
    """Vertices in an order where every vertex follows its inputs, and the edges between them."""

    name: str
    vertices: list[Vertex] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    max_parallelism: int = DEFAULT_MAX_PARALLELISM

    def vertex(self, vertex_id: int) -> Vertex:
        return self.vertices[vertex_id]

    def inputs_of(self, vertex_id: int) -> list[Edge]:
        """The in-edges of a vertex, ordered by port."""
        return sorted((e for e in self.edges if e.target == vertex_id), key=lambda e: e.port)

    def outputs_of(self, vertex_id: int) -> list[Edge]:
        return [e for e in self.edges if e.source == vertex_id]

    def sources(self) -> list[Vertex]:
        return [v for v in self.vertices if v.is_source]

    @property
    def bounded(self) -> bool:
        return all(v.source.bounded for v in self.vertices if v.source is not None)

    def describe(self) -> list[str]:
        """One line per vertex: its operators, parallelism and inputs."""
        lines = []
        for v in self.vertices:
            names = ([v.source.name] if v.source else []) + [s.name for s in v.chain]
            ins = ", ".join(f"#{e.source} {e.partitioning}" for e in self.inputs_of(v.id))
            lines.append(f"#{v.id} [{v.parallelism}] {' -> '.join(names)}"
                         + (f" <- {ins}" if ins else ""))
        return lines
