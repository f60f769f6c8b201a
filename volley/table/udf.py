"""``volley.table.udf``: declaring Python functions (mirrors ``pyflink.table.udf``)."""

from volley.udf.functions import (
    FunctionContext,
    ScalarFunction,
    UserDefinedFunction,
    UserDefinedScalarFunction,
    not_supported,
    udf,
)


class TableFunction(UserDefinedFunction):
    """Declared for imports; table functions are not supported yet (udtf raises)."""


class AggregateFunction(UserDefinedFunction):
    """Declared for imports; aggregate functions are not supported yet (udaf raises)."""


class TableAggregateFunction(UserDefinedFunction):
    """Declared for imports; table aggregate functions are not supported yet."""


udtf = not_supported("Python table functions (udtf)", "return one value per row with udf, or "
                     "expand rows before loading them")
udaf = not_supported("Python aggregate functions (udaf)", "use the built-in aggregates "
                     "(sum, count, avg, min, max) in group_by(...).select(...)")
udtaf = not_supported("Python table aggregate functions (udtaf)", "use group_by with built-in "
                      "aggregates")

__all__ = [
    "udf", "udtf", "udaf", "udtaf", "ScalarFunction", "TableFunction", "AggregateFunction",
    "TableAggregateFunction", "FunctionContext", "UserDefinedFunction",
    "UserDefinedScalarFunction",
]
