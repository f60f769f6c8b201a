"""``EnvironmentSettings``: batch or streaming mode, built as PyFlink builds it."""

from __future__ import annotations

from typing import Any

from volley.table.table_config import Configuration


class EnvironmentSettings:
    class Builder:
        def __init__(self) -> None:
            self._streaming = True
            self._configuration = Configuration()

        def in_batch_mode(self) -> EnvironmentSettings.Builder:
            self._streaming = False
            return self

        def in_streaming_mode(self) -> EnvironmentSettings.Builder:
            self._streaming = True
            return self

        def use_blink_planner(self) -> EnvironmentSettings.Builder:
            return self  # Flink 1.11-era option; there is one planner

        def use_old_planner(self) -> EnvironmentSettings.Builder:
            return self

        def use_any_planner(self) -> EnvironmentSettings.Builder:
            return self

        def with_configuration(self, configuration: Configuration) -> EnvironmentSettings.Builder:
            self._configuration.add_all(configuration)
            return self

        def with_built_in_catalog_name(self, name: str) -> EnvironmentSettings.Builder:
            return self

        def with_built_in_database_name(self, name: str) -> EnvironmentSettings.Builder:
            return self

        def build(self) -> EnvironmentSettings:
            return EnvironmentSettings(self._streaming, self._configuration)

    def __init__(self, streaming: bool = True, configuration: Configuration | None = None) -> None:
        self._streaming = streaming
        self._configuration = configuration or Configuration()

    @staticmethod
    def new_instance() -> EnvironmentSettings.Builder:
        return EnvironmentSettings.Builder()

    @staticmethod
    def in_streaming_mode() -> EnvironmentSettings:
        return EnvironmentSettings(True)

    @staticmethod
    def in_batch_mode() -> EnvironmentSettings:
        return EnvironmentSettings(False)

    def is_streaming_mode(self) -> bool:
        return self._streaming

    def get_configuration(self) -> Configuration:
        return self._configuration

    def to_configuration(self) -> Configuration:
        return self._configuration

    @staticmethod
    def from_configuration(configuration: Any) -> EnvironmentSettings:
        mode = configuration.get_string("execution.runtime-mode", "streaming")
        return EnvironmentSettings(mode.lower() != "batch", configuration)
