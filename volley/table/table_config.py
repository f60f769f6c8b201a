"""Configuration objects: ``Configuration`` (string map with typed getters) and ``TableConfig``."""

from __future__ import annotations

from typing import Any


class Configuration:
    """PyFlink's ``Configuration``: a string-keyed map with typed setters and getters."""

    def __init__(self, other: Configuration | None = None) -> None:
        self._data: dict[str, str] = dict(other._data) if other is not None else {}

    def set_string(self, key: str, value: str) -> Configuration:
        self._data[key] = str(value)
        return self

    def get_string(self, key: str, default_value: str | None = None) -> str | None:
        return self._data.get(key, default_value)

    def set_integer(self, key: str, value: int) -> Configuration:
        self._data[key] = str(int(value))
        return self

    def get_integer(self, key: str, default_value: int = 0) -> int:
        return int(self._data[key]) if key in self._data else default_value

    def set_float(self, key: str, value: float) -> Configuration:
        self._data[key] = str(float(value))
        return self

    def get_float(self, key: str, default_value: float = 0.0) -> float:
        return float(self._data[key]) if key in self._data else default_value

    def set_boolean(self, key: str, value: bool) -> Configuration:
        self._data[key] = "true" if value else "false"
        return self

    def get_boolean(self, key: str, default_value: bool = False) -> bool:
        return self._data[key].lower() == "true" if key in self._data else default_value

    def contains_key(self, key: str) -> bool:
        return key in self._data

    def remove_config(self, key: str) -> bool:
        return self._data.pop(key, None) is not None

    def key_set(self) -> set[str]:
        return set(self._data)

    def to_dict(self) -> dict[str, str]:
        return dict(self._data)

    def add_all(self, other: Configuration, prefix: str | None = None) -> Configuration:
        for k, v in other._data.items():
            self._data[(prefix or "") + k] = v
        return self

    def set(self, key: str, value: Any) -> Configuration:
        self._data[key] = _to_text(value)
        return self

    def get(self, key: str, default: Any = None) -> Any:
        return self._data.get(key, default)

    def __repr__(self) -> str:
        return f"Configuration({self._data})"


def _to_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


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
