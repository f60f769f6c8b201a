"""The job graph: operators and sources wired by edges, as every runner receives it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pyarrow as pa

from volley.runtime.operator import Operator


@dataclass
class Vertex:
    """One operator (or source) of a job graph and the upstream vertices that feed it."""

    id: int
    name: str
    operator: Operator | None = None
    #: for sources: a factory of the batch iterator (called once per run)
    source: Callable[[], Iterator[pa.RecordBatch]] | None = None
    bounded: bool = True
    #: for sources: the batches are already in memory (VALUES, from_pandas), so there is no
    #: reading to overlap with the operators and the runner pulls them without a thread
    in_memory: bool = False
    #: (upstream vertex id, input port of this vertex)
    inputs: list[tuple[int, int]] = field(default_factory=list)
    parallelism: int = 1

    @property
    def is_source(self) -> bool:
        return self.source is not None


@dataclass
class JobGraph:
    """The operators of one job, in an order where every vertex follows its inputs."""

    name: str
    vertices: list[Vertex] = field(default_factory=list)

    def add(self, vertex: Vertex) -> Vertex:
        self.vertices.append(vertex)
        return vertex

    def next_id(self) -> int:
        return len(self.vertices)

    def downstream(self) -> dict[int, list[tuple[int, int]]]:
        result: dict[int, list[tuple[int, int]]] = {v.id: [] for v in self.vertices}
        for v in self.vertices:
            for up, port in v.inputs:
                result[up].append((v.id, port))
        return result

    def describe(self) -> list[str]:
        lines = []
        for v in self.vertices:
            ins = ", ".join(f"#{u}" for u, _ in v.inputs)
            lines.append(f"#{v.id} {v.name}" + (f" <- {ins}" if ins else ""))
        return lines
