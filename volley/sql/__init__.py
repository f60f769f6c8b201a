"""Flink SQL front end: the sqlglot dialect, statement parsing, SQL types and DDL.

This layer owns turning SQL text into sqlglot trees and statement dataclasses (``statements``),
with ``SqlParseError`` messages that point at the user's text. Binding names against the catalog
lives in ``binder``. It may import ``volley.plan`` (types, catalog objects) and ``volley.errors``
only; nothing below the plan layer.
"""

from volley.sql.datatypes import to_data_type
from volley.sql.dialect import Flink
from volley.sql.parser import (
    parse_data_type,
    parse_expression,
    parse_expression_list,
    parse_query,
    parse_statement,
    parse_statements,
)
from volley.sql.statements import (
    CreateFunction,
    CreateTable,
    CreateTableAs,
    CreateView,
    Describe,
    Drop,
    Explain,
    Insert,
    Query,
    Reset,
    Set,
    Show,
    Statement,
    StatementSet,
    Use,
)

__all__ = [
    "CreateFunction",
    "CreateTable",
    "CreateTableAs",
    "CreateView",
    "Describe",
    "Drop",
    "Explain",
    "Flink",
    "Insert",
    "Query",
    "Reset",
    "Set",
    "Show",
    "Statement",
    "StatementSet",
    "Use",
    "parse_data_type",
    "parse_expression",
    "parse_expression_list",
    "parse_query",
    "parse_statement",
    "parse_statements",
    "to_data_type",
]
