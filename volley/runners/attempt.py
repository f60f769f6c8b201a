"""What every attempt of one job shares, whichever runner runs it."""

from __future__ import annotations

from dataclasses import dataclass

from volley.physical.job_graph import JobGraph
from volley.runners.checkpoints import CheckpointCoordinator
from volley.runners.job import JobHandle
from volley.runners.settings import JobSettings


@dataclass
class JobRun:
    """One submitted job: its graph, settings and configuration, its client's handle and its
    checkpoint coordinator (None without checkpointing). An attempt runs it once, from a
    checkpoint or from the beginning."""

    graph: JobGraph
    settings: JobSettings
    config: dict[str, str]
    job_parameters: dict[str, str]
    handle: JobHandle
    coordinator: CheckpointCoordinator | None
