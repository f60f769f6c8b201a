"""PyFlink's ``Configuration``: a string-keyed map with typed setters and getters.

It lives in ``volley.common`` (as in ``pyflink.common``) and imports nothing of Volley's, so
the runtime modules that use ``volley.common.Row`` do not pull in the Table API with it.
"""

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


_process_defaults: dict[str, str] = {}


def set_process_defaults(values: dict[str, str]) -> None:
    """Settings every job of this process starts from (``volley run -D key=value`` and
    ``--from-checkpoint``); a job's own configuration overrides them."""
    _process_defaults.update(values)


def process_defaults() -> dict[str, str]:
    return dict(_process_defaults)
