"""The metric group a UDF gets from ``FunctionContext.get_metric_group()``.

Counters, gauges, meters and distributions are kept in-process; the runner reports them.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class Counter:
    def __init__(self) -> None:
        self._count = 0

    def inc(self, n: int = 1) -> None:
        self._count += n

    def dec(self, n: int = 1) -> None:
        self._count -= n

    def get_count(self) -> int:
        return self._count


class Meter:
    def __init__(self, time_span_in_seconds: int = 60) -> None:
        self._count = 0
        self._start = time.monotonic()

    def mark_event(self, n: int = 1) -> None:
        self._count += n

    def get_count(self) -> int:
        return self._count

    def get_rate(self) -> float:
        elapsed = time.monotonic() - self._start
        return self._count / elapsed if elapsed > 0 else 0.0


class Distribution:
    def __init__(self) -> None:
        self.count = 0
        self.sum = 0
        self.min: float | None = None
        self.max: float | None = None

    def update(self, value: float) -> None:
        self.count += 1
        self.sum += value
        self.min = value if self.min is None else min(self.min, value)
        self.max = value if self.max is None else max(self.max, value)

    @property
    def mean(self) -> float | None:
        return self.sum / self.count if self.count else None


class MetricGroup:
    """PyFlink's metric group: ``counter``, ``gauge``, ``meter``, ``distribution``, ``add_group``."""

    def __init__(self, scope: tuple[str, ...] = ()) -> None:
        self._scope = scope
        self.metrics: dict[str, object] = {}
        self._groups: dict[str, MetricGroup] = {}

    def add_group(self, name: str, extra: str | None = None) -> MetricGroup:
        key = name if extra is None else f"{name}.{extra}"
        return self._groups.setdefault(key, MetricGroup(self._scope + (key,)))

    def counter(self, name: str) -> Counter:
        return self.metrics.setdefault(name, Counter())  # type: ignore[return-value]

    def gauge(self, name: str, obj: Callable[[], int]) -> None:
        self.metrics[name] = obj

    def meter(self, name: str, time_span_in_seconds: int = 60) -> Meter:
        return self.metrics.setdefault(name, Meter(time_span_in_seconds))  # type: ignore[return-value]

    def distribution(self, name: str) -> Distribution:
        return self.metrics.setdefault(name, Distribution())  # type: ignore[return-value]

    def get_metric_group_scope(self) -> str:
        return ".".join(self._scope)
