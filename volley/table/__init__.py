"""The Table API and SQL, mirroring ``pyflink.table``.

This layer may import every layer below it (sql, plan, optimizer, physical, runtime, connectors,
udf, runners); nothing below imports it.
"""

from volley.common.row import Row, RowKind
from volley.table import expressions  # a submodule PyFlink's package exposes too
from volley.table.descriptors import FormatDescriptor, Schema, TableDescriptor
from volley.table.environment_settings import EnvironmentSettings
from volley.table.explain_detail import ExplainDetail
from volley.table.expression import Expression
from volley.table.table import GroupedTable, Table
from volley.table.table_config import Configuration, TableConfig
from volley.table.table_environment import (
    BatchTableEnvironment,
    StatementSet,
    StreamTableEnvironment,
    TableEnvironment,
)
from volley.table.table_result import ResultKind, TableResult
from volley.table.table_schema import TableSchema
from volley.table.types import DataTypes
from volley.table.udf import (
    AggregateFunction,
    FunctionContext,
    ScalarFunction,
    TableFunction,
    udaf,
    udf,
    udtf,
)

__all__ = [
    "AggregateFunction", "BatchTableEnvironment", "Configuration", "DataTypes",
    "EnvironmentSettings", "ExplainDetail", "Expression", "FormatDescriptor", "FunctionContext", "GroupedTable",
    "ResultKind", "Row", "RowKind", "ScalarFunction", "Schema", "StatementSet",
    "StreamTableEnvironment", "Table", "TableConfig", "TableDescriptor", "TableEnvironment",
    "TableFunction", "TableResult", "TableSchema", "expressions", "udaf", "udf", "udtf",
]
