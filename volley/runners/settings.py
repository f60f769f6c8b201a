"""The settings a runner honours, read from the job's configuration once, with Flink's keys.

Every key here is honoured; a value Volley cannot honour raises a ``ConfigurationError`` that
names the key, never silently falls back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from volley.common.durations import parse_duration_ms
from volley.errors import ConfigurationError, UnsupportedFeatureError

DEFAULT_MAX_PARALLELISM = 128

CHECKPOINT_INTERVAL = "execution.checkpointing.interval"
CHECKPOINT_DIRS = ("execution.checkpointing.dir", "state.checkpoints.dir")
CHECKPOINTS_RETAINED = ("execution.checkpointing.num-retained", "state.checkpoints.num-retained")
RESTORE_PATHS = ("execution.state-recovery.path", "execution.savepoint.path")
RESTART_TYPE = "restart-strategy.type"
RESTART_ATTEMPTS = "restart-strategy.fixed-delay.attempts"
RESTART_DELAY = "restart-strategy.fixed-delay.delay"
PARALLELISM = "parallelism.default"
MAX_PARALLELISM = "pipeline.max-parallelism"
CHECKPOINT_MODE = "execution.checkpointing.mode"

_NO_RESTART = ("none", "off", "disable", "no_restart", "norestart")
_FIXED_DELAY = ("fixed-delay", "fixeddelay", "fixed_delay")


@dataclass(frozen=True)
class JobSettings:
    """How to run one job: parallelism, checkpoints, recovery and restarts."""

    parallelism: int = 1
    max_parallelism: int = DEFAULT_MAX_PARALLELISM
    checkpoint_interval_ms: int | None = None
    checkpoint_dir: str | None = None
    checkpoints_retained: int = 1
    restore_path: str | None = None
    restart_attempts: int = 0
    restart_delay_ms: int = 1000
    streaming: bool = True

    @property
    def checkpointing(self) -> bool:
        """Checkpoints are taken: streaming mode with an interval (batch jobs restart from the
        beginning, as Flink's batch execution does)."""
        return self.streaming and self.checkpoint_interval_ms is not None

    @staticmethod
    def from_config(config: Mapping[str, str], streaming: bool = True) -> JobSettings:
        parallelism = _int(config, PARALLELISM, 1, minimum=1)
        max_parallelism = _int(config, MAX_PARALLELISM, DEFAULT_MAX_PARALLELISM, minimum=1)
        if parallelism > max_parallelism:
            raise ConfigurationError(
                f"{PARALLELISM!r} is {parallelism}, above {MAX_PARALLELISM!r} "
                f"({max_parallelism}); raise the maximum or lower the parallelism"
            )
        interval = config.get(CHECKPOINT_INTERVAL)
        interval_ms = None if interval in (None, "") else parse_duration_ms(interval,
                                                                           CHECKPOINT_INTERVAL)
        if interval_ms is not None and interval_ms <= 0:
            interval_ms = None  # Flink: a non-positive interval disables checkpointing
        mode = str(config.get(CHECKPOINT_MODE, "EXACTLY_ONCE")).upper()
        if mode not in ("EXACTLY_ONCE", "AT_LEAST_ONCE"):
            raise ConfigurationError(
                f"{CHECKPOINT_MODE!r} must be EXACTLY_ONCE or AT_LEAST_ONCE; got {mode!r}")
        if interval_ms is not None and not streaming:
            import warnings

            warnings.warn(
                f"{CHECKPOINT_INTERVAL!r} is set, but a batch job takes no checkpoints (as in "
                "Flink's batch execution): a failed batch job restarts from the beginning",
                stacklevel=4,
            )
        checkpoint_dir = _first(config, CHECKPOINT_DIRS)
        if interval_ms is not None and streaming and checkpoint_dir is None:
            raise ConfigurationError(
                f"checkpointing is enabled ({CHECKPOINT_INTERVAL!r} = {interval!r}) but no "
                f"checkpoint storage is set; set {CHECKPOINT_DIRS[0]!r} to a directory or a "
                "pyarrow.fs URI (e.g. 'file:///tmp/checkpoints')"
            )
        attempts, delay = _restart_strategy(config)
        return JobSettings(
            parallelism=parallelism,
            max_parallelism=max_parallelism,
            checkpoint_interval_ms=interval_ms,
            checkpoint_dir=checkpoint_dir,
            checkpoints_retained=_int(config, _first_key(config, CHECKPOINTS_RETAINED), 1,
                                      minimum=1),
            restore_path=_first(config, RESTORE_PATHS),
            restart_attempts=attempts,
            restart_delay_ms=delay,
            streaming=streaming,
        )


def _restart_strategy(config: Mapping[str, str]) -> tuple[int, int]:
    kind = config.get(RESTART_TYPE)
    if kind is None:
        return 0, 1000
    kind = str(kind).strip().lower()
    if kind in _NO_RESTART:
        return 0, 1000
    if kind in _FIXED_DELAY:
        attempts = _int(config, RESTART_ATTEMPTS, 1, minimum=0)
        delay = parse_duration_ms(config.get(RESTART_DELAY, "1 s"), RESTART_DELAY)
        return attempts, delay
    raise UnsupportedFeatureError(
        f"{RESTART_TYPE!r} = {kind!r} is not supported by Volley yet; expected 'none' or "
        "'fixed-delay' (with 'restart-strategy.fixed-delay.attempts' and '.delay')"
    )


def _first(config: Mapping[str, str], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = config.get(key)
        if value not in (None, ""):
            return str(value)
    return None


def _first_key(config: Mapping[str, str], keys: tuple[str, ...]) -> str:
    return next((k for k in keys if config.get(k) not in (None, "")), keys[0])


def _int(config: Mapping[str, str], key: str, default: int, minimum: int) -> int:
    value = config.get(key)
    if value in (None, ""):
        return default
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ConfigurationError(f"{key!r} must be an integer; got {value!r}") from None
    if number < minimum:
        raise ConfigurationError(f"{key!r} must be at least {minimum}; got {number}")
    return number


def idle_timeout_ms(config: Mapping[str, str]) -> int:
    """``table.exec.source.idle-timeout``: how long a source may have nothing to read before
    event time stops waiting for it (0, the default: forever)."""
    from volley.common.durations import parse_duration_ms

    value = config.get("table.exec.source.idle-timeout")
    return 0 if value in (None, "") else parse_duration_ms(value, "table.exec.source.idle-timeout")
