"""The parts of ``pyflink.datastream`` a Table API program uses: the execution environment.

The DataStream API itself is not implemented yet; its entry points raise an error that says so.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from volley.common.configuration import Configuration
from volley.errors import UnsupportedFeatureError


class RuntimeExecutionMode(Enum):
    STREAMING = 0
    BATCH = 1
    AUTOMATIC = 2


class CheckpointingMode(Enum):
    EXACTLY_ONCE = 0
    AT_LEAST_ONCE = 1


class StreamExecutionEnvironment:
    """Holds parallelism, runtime mode and checkpoint settings (as Flink configuration keys,
    which a ``StreamTableEnvironment`` created from it takes over)."""

    def __init__(self, configuration: Configuration | None = None) -> None:
        self._configuration = Configuration(configuration)
        self.runtime_mode = RuntimeExecutionMode.STREAMING
        self._python_files: list[str] = []

    @staticmethod
    def get_execution_environment(configuration: Any = None) -> StreamExecutionEnvironment:
        return StreamExecutionEnvironment(configuration)

    def get_configuration(self) -> Configuration:
        return self._configuration

    def set_parallelism(self, parallelism: int) -> StreamExecutionEnvironment:
        if parallelism < 1:
            raise ValueError(f"parallelism must be at least 1; got {parallelism}")
        self._configuration.set_integer("parallelism.default", parallelism)
        return self

    def get_parallelism(self) -> int:
        return self._configuration.get_integer("parallelism.default", 1)

    def set_max_parallelism(self, max_parallelism: int) -> StreamExecutionEnvironment:
        self._configuration.set_integer("pipeline.max-parallelism", max_parallelism)
        return self

    def get_max_parallelism(self) -> int:
        return self._configuration.get_integer("pipeline.max-parallelism", 128)

    def set_runtime_mode(self, mode: RuntimeExecutionMode) -> StreamExecutionEnvironment:
        self.runtime_mode = mode
        return self

    def enable_checkpointing(self, interval: int, mode: Any = None) -> StreamExecutionEnvironment:
        """Checkpoint every ``interval`` milliseconds (exactly-once in either mode: Volley's
        aligned checkpoints give no weaker guarantee); set ``execution.checkpointing.dir``."""
        self._configuration.set_string("execution.checkpointing.interval", f"{int(interval)} ms")
        return self

    @property
    def checkpoint_interval(self) -> int | None:
        value = self._configuration.get_string("execution.checkpointing.interval")
        return None if value is None else int(value.split()[0])

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
