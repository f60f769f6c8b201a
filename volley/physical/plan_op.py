"""``PlanOp``: an operator of the job before chaining, as the planner's passes see it."""

from __future__ import annotations

from dataclasses import dataclass, field

from volley.physical.job_graph import OperatorSpec, SourceSpec


@dataclass(eq=False)
class PlanOp:
    """An operator (or source) of the job before chaining: its spec and its inputs."""

    spec: OperatorSpec | None = None
    source: SourceSpec | None = None
    inputs: list[PlanOp] = field(default_factory=list)
    #: set by the distribution pass: the partitioning of each input, and the parallelism
    partitioning: list = field(default_factory=list)
    parallelism: int = 1
    #: a source with fewer splits than the parallelism runs as many subtasks as it has splits
    max_parallelism: int | None = None

    @property
    def name(self) -> str:
        return self.source.name if self.source is not None else self.spec.name  # type: ignore[union-attr]

    @property
    def kind(self) -> str:
        return "source" if self.source is not None else self.spec.kind  # type: ignore[union-attr]
