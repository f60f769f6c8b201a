"""Control elements that travel between operators alongside record batches."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Watermark:
    """Event time has progressed to ``timestamp`` (int64 milliseconds)."""

    timestamp: int


@dataclass(frozen=True)
class CheckpointBarrier:
    """Snapshot your state for checkpoint ``checkpoint_id`` before processing what follows."""

    checkpoint_id: int


@dataclass(frozen=True)
class EndOfInput:
    """The input on this edge has ended (bounded sources, or a cancelled job)."""


MAX_WATERMARK = Watermark(2**63 - 1)
