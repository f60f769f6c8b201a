"""Python functions given to the catalog: UDF objects, or ``module.function`` paths to import
(``create_temporary_function(name, 'pkg.mod.f')``, ``CREATE FUNCTION ... LANGUAGE PYTHON``)."""

from __future__ import annotations

from typing import Any

from volley.errors import PlanError


def as_udf(function: Any, name: str) -> Any:
    from volley.udf.functions import UserDefinedScalarFunction

    if isinstance(function, UserDefinedScalarFunction):
        return function
    if isinstance(function, str):
        return load_function(function)
    raise PlanError(
        f"function {name!r} must be made with udf(...) (and a result_type); got "
        f"{type(function).__name__}"
    )


def load_function(class_path: str) -> Any:
    import importlib

    module_name, _, attr = class_path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
        obj = getattr(module, attr)
    except (ImportError, AttributeError, ValueError) as exc:
        raise PlanError(
            f"cannot load the Python function {class_path!r}: {exc}; give 'module.function' "
            "importable from the job (add_python_file adds a directory to the path)"
        ) from None
    from volley.udf.functions import UserDefinedScalarFunction

    if isinstance(obj, UserDefinedScalarFunction):
        return obj
    raise PlanError(f"{class_path!r} is a {type(obj).__name__}, not a function made with udf(...)")
