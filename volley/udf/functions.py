"""User-defined scalar functions: how users declare them and how the engine calls them.

``udf(...)`` wraps a function, lambda, callable or ``ScalarFunction`` into a
``UserDefinedScalarFunction`` that knows its name, its result type, the input types its arguments
are cast to (optional), and its kind: ``general`` (called once per row) or ``pandas`` (called once
per batch of at most ``python.fn-execution.arrow.batch.size`` rows with pandas Series).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from volley.errors import PlanError, UnsupportedFeatureError
from volley.plan.types import DataType


class FunctionContext:
    """Given to ``open``: job parameters and the metric group, as in PyFlink."""

    def __init__(self, job_parameters: dict[str, str] | None = None) -> None:
        self._job_parameters = dict(job_parameters or {})
        from volley.udf.metrics import MetricGroup

        self._metric_group = MetricGroup()

    def get_metric_group(self):
        return self._metric_group

    def get_job_parameter(self, key: str, default_value: str | None = None) -> str | None:
        return self._job_parameters.get(key, default_value)


class UserDefinedFunction:
    """Base of the classes users subclass (PyFlink's ``UserDefinedFunction``)."""

    def open(self, function_context: FunctionContext) -> None:
        """Called once before the first call (load models, open connections)."""

    def close(self) -> None:
        """Called once after the last call."""

    def is_deterministic(self) -> bool:
        return True


class ScalarFunction(UserDefinedFunction):
    """Subclass and define ``eval(self, *args)``; wrap with ``udf(MyFn(), result_type=...)``."""

    def eval(self, *args: Any) -> Any:  # pragma: no cover - users override
        raise NotImplementedError


FUNC_TYPES = ("general", "pandas")


class UserDefinedScalarFunction:
    """A scalar UDF ready to be called from the Table API or SQL.

    Calling it with expressions (``f(col('a'))``) builds a call expression; calling it from the
    engine goes through ``udf.invoke``.
    """

    def __init__(
        self,
        func: Callable[..., Any] | ScalarFunction,
        input_types: list[DataType] | DataType | None,
        result_type: DataType | str,
        func_type: str,
        deterministic: bool | None,
        name: str | None,
    ) -> None:
        if func_type not in FUNC_TYPES:
            raise PlanError(
                f"unknown func_type {func_type!r} for a scalar function; expected one of "
                f"{', '.join(repr(t) for t in FUNC_TYPES)}"
            )
        if result_type is None:
            raise PlanError(
                f"the Python function {_describe(func)} has no result_type; declare it, "
                "e.g. @udf(result_type=DataTypes.BIGINT())"
            )
        if isinstance(result_type, str):
            from volley.sql.parser import parse_data_type

            result_type = parse_data_type(result_type)
        if isinstance(input_types, DataType):
            input_types = [input_types]
        self._func = func
        self._input_types = list(input_types) if input_types is not None else None
        self._result_type: DataType = result_type
        self._func_type = func_type
        self._deterministic = (
            deterministic
            if deterministic is not None
            else (func.is_deterministic() if isinstance(func, UserDefinedFunction) else True)
        )
        self._name = name or _default_name(func)

    # -- description ------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._name

    @property
    def func_type(self) -> str:
        return self._func_type

    @property
    def result_type(self) -> DataType:
        return self._result_type

    @property
    def input_types(self) -> list[DataType] | None:
        return self._input_types

    @property
    def deterministic(self) -> bool:
        return self._deterministic

    @property
    def callable(self) -> Callable[..., Any]:
        f = self._func
        return f.eval if isinstance(f, ScalarFunction) else f  # type: ignore[return-value]

    @property
    def source_location(self) -> str:
        """``file:line`` of the user's function, for error messages."""
        target = self.callable
        target = inspect.unwrap(target)
        try:
            code = target.__code__  # type: ignore[attr-defined]
            return f"{code.co_filename}:{code.co_firstlineno}"
        except AttributeError:
            try:
                code = type(target).__call__.__code__  # type: ignore[attr-defined]
                return f"{code.co_filename}:{code.co_firstlineno}"
            except AttributeError:
                return "<unknown location>"

    def alias(self, name: str) -> UserDefinedScalarFunction:
        """A copy registered under ``name`` (PyFlink's ``with_name``-style helper)."""
        clone = UserDefinedScalarFunction(
            self._func, self._input_types, self._result_type, self._func_type,
            self._deterministic, name,
        )
        return clone

    # -- lifecycle --------------------------------------------------------------------------------
    def open(self, context: FunctionContext) -> None:
        """Called by each task that runs the function, before its first call."""
        if isinstance(self._func, UserDefinedFunction):
            try:
                self._func.open(context)
            except Exception as error:
                raise self._lifecycle_error("open", error) from error

    def close(self) -> None:
        """Called by each task that opened the function, after its last call or a failure."""
        if isinstance(self._func, UserDefinedFunction):
            try:
                self._func.close()
            except Exception as error:
                raise self._lifecycle_error("close", error) from error

    def _lifecycle_error(self, method: str, error: Exception) -> Exception:
        from volley.errors import UdfError

        return UdfError(
            f"{method}() of user-defined function {self.name!r} (defined at "
            f"{self.source_location}) raised {type(error).__name__}: {error}; the job stops "
            f"(your exception, with its traceback, is chained below)"
        )

    # -- shipping to another process ---------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        """The user's function travels by value (cloudpickle), as PyFlink ships it: a lambda or
        a function defined in ``__main__`` must reach a worker process that cannot import it."""
        import cloudpickle

        state = dict(self.__dict__)
        state["_func"] = cloudpickle.dumps(self._func)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        import pickle

        state = dict(state)
        state["_func"] = pickle.loads(state["_func"])
        self.__dict__.update(state)

    # -- building expressions ---------------------------------------------------------------------
    def __call__(self, *args: Any):
        from volley.table.expression import Expression, udf_call

        return udf_call(self, [Expression.wrap(a) for a in args])

    def __repr__(self) -> str:
        return f"<{self._func_type} udf {self._name!r} -> {self._result_type}>"


def _default_name(func: Any) -> str:
    if isinstance(func, functools.partial):
        func = func.func
    if isinstance(func, UserDefinedFunction):
        return type(func).__name__
    name = getattr(func, "__name__", None)
    if name and name != "<lambda>":
        return name
    return f"{type(func).__name__ if name is None else 'lambda'}_{id(func):x}"


def _describe(func: Any) -> str:
    return repr(_default_name(func))


def udf(
    f: Callable[..., Any] | ScalarFunction | None = None,
    input_types: list[DataType] | DataType | None = None,
    result_type: DataType | str | None = None,
    deterministic: bool | None = None,
    name: str | None = None,
    func_type: str = "general",
    udf_type: str | None = None,
):
    """PyFlink's ``udf``: a decorator with or without arguments, or a function call.

    ``udf_type`` is the Flink 1.11 spelling of ``func_type`` and is accepted for old programs.
    """
    if udf_type is not None:
        func_type = udf_type
    if f is None:
        return functools.partial(
            udf,
            input_types=input_types,
            result_type=result_type,
            deterministic=deterministic,
            name=name,
            func_type=func_type,
        )
    if isinstance(f, type):
        raise PlanError(
            f"udf() got the class {f.__name__}; pass an instance, e.g. udf({f.__name__}(), ...)"
        )
    return UserDefinedScalarFunction(f, input_types, result_type, func_type, deterministic, name)  # type: ignore[arg-type]


def not_supported(kind: str, alternative: str):
    def factory(*args: Any, **kwargs: Any):
        raise UnsupportedFeatureError(
            f"{kind} are not supported by Volley yet; {alternative}"
        )

    return factory
