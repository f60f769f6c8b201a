"""The parts of ``pyflink.datastream`` a Table API program uses: the execution environment.

The DataStream API itself is not implemented yet; its entry points raise an error that says so.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from volley.errors import UnsupportedFeatureError


class RuntimeExecutionMode(Enum):
    STREAMING = 0
    BATCH = 1
    AUTOMATIC = 2


class CheckpointingMode(Enum):
    EXACTLY_ONCE = 0
    AT_LEAST_ONCE = 1


class StreamExecutionEnvironment:
    """Holds parallelism, runtime mode and checkpoint settings for the table environment."""

    def __init__(self) -> None:
        self._parallelism = 1
        self.runtime_mode = RuntimeExecutionMode.STREAMING
        self.checkpoint_interval: int | None = None
        self._python_files: list[str] = []

    @staticmethod
    def get_execution_environment(configuration: Any = None) -> StreamExecutionEnvironment:
        return StreamExecutionEnvironment()

    def set_parallelism(self, parallelism: int) -> StreamExecutionEnvironment:
        if parallelism < 1:
            raise ValueError(f"parallelism must be at least 1; got {parallelism}")
        self._parallelism = parallelism
        return self

    def get_parallelism(self) -> int:
        return self._parallelism

    def set_max_parallelism(self, max_parallelism: int) -> StreamExecutionEnvironment:
        return self

    def set_runtime_mode(self, mode: RuntimeExecutionMode) -> StreamExecutionEnvironment:
        self.runtime_mode = mode
        return self

    def enable_checkpointing(self, interval: int, mode: Any = None) -> StreamExecutionEnvironment:
        self.checkpoint_interval = interval
        return self

    def set_buffer_timeout(self, timeout_millis: int) -> StreamExecutionEnvironment:
        return self

    def add_python_file(self, file_path: str) -> None:
        import os
        import sys

        directory = os.path.dirname(os.path.abspath(file_path))
        if directory not in sys.path:
            sys.path.insert(0, directory)

    def add_jars(self, *jar_paths: str) -> None:
        raise UnsupportedFeatureError("Volley runs without a JVM and cannot load jars")

    def from_collection(self, *args: Any, **kwargs: Any) -> Any:
        raise UnsupportedFeatureError(
            "the DataStream API is not supported by Volley yet; use the Table API "
            "(t_env.from_elements)"
        )

    from_source = from_collection
    add_source = from_collection

    def execute(self, job_name: str | None = None) -> Any:
        raise UnsupportedFeatureError(
            "the DataStream API is not supported by Volley yet; run Table API jobs with "
            "execute_insert(...).wait() or execute()"
        )


__all__ = ["StreamExecutionEnvironment", "RuntimeExecutionMode", "CheckpointingMode"]
