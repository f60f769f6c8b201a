"""Flink SQL front end: the sqlglot dialect, statement parsing, SQL types and DDL.

This layer owns turning SQL text into sqlglot trees and statement dataclasses (``statements``),
with ``SqlParseError`` messages that point at the user's text. Binding names against the catalog
lives in ``binder``. It may import ``volley.plan`` (types, catalog objects) and ``volley.errors``
only; nothing below the plan layer.

The names below are loaded on first use (PEP 562): the binders live in this package too, and
binding a Table API expression should not wait for the statement parser and its dataclasses.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "to_data_type": "datatypes",
    "Flink": "dialect",
    **dict.fromkeys(["parse_data_type", "parse_expression", "parse_expression_list", "parse_query",
                     "parse_statement", "parse_statements"], "parser"),
    **dict.fromkeys(["CreateFunction", "CreateTable", "CreateTableAs", "CreateView", "Describe",
                     "Drop", "Explain", "Insert", "Query", "Reset", "Set", "Show", "Statement",
                     "StatementSet", "Use"], "statements"),
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
