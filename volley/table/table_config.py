"""``TableConfig``: a table environment's settings, over a ``Configuration`` (re-exported here
for the imports PyFlink programs use)."""

from __future__ import annotations

from typing import Any

from volley.common.configuration import Configuration

__all__ = ["Configuration", "TableConfig"]

PANDAS_BATCH_SIZE_KEY = "python.fn-execution.arrow.batch.size"
DEFAULT_PANDAS_BATCH_SIZE = 10_000


class TableConfig:
    """Per-environment settings; Flink's keys are honoured where they make sense."""

    def __init__(self, configuration: Configuration | None = None) -> None:
        self._configuration = configuration or Configuration()

    def get_configuration(self) -> Configuration:
        return self._configuration

    def add_configuration(self, configuration: Configuration) -> None:
        self._configuration.add_all(configuration)

    def set(self, key: str, value: Any) -> TableConfig:
        self._configuration.set(key, value)
        return self

    def get(self, key: str, default: Any = None) -> Any:
        return self._configuration.get(key, default)

    # -- named settings ---------------------------------------------------------------------------
    def set_python_executable(self, python_exec: str) -> None:
        self.set("python.executable", python_exec)

    def get_python_executable(self) -> str | None:
        return self.get("python.executable")

    def set_local_timezone(self, timezone_id: str) -> None:
        self.set("table.local-time-zone", timezone_id)

    def get_local_timezone(self) -> str:
        return self.get("table.local-time-zone", "default")

    def set_idle_state_retention(self, duration: Any) -> None:
        self.set("table.exec.state.ttl", duration)

    def get_max_generated_code_length(self) -> int:
        return 4000

    def set_max_generated_code_length(self, length: int) -> None:
        """Accepted for compatibility; Volley generates no code."""

    @property
    def pandas_batch_size(self) -> int:
        value = self.get(PANDAS_BATCH_SIZE_KEY)
        return int(value) if value is not None else DEFAULT_PANDAS_BATCH_SIZE

    @property
    def parallelism(self) -> int:
        return int(self.get("parallelism.default", 1))
