"""Parsed SQL statements: what ``execute_sql`` dispatches on.

Each statement is a frozen dataclass holding plain values and, where a query is involved, the
sqlglot tree the binder turns into a logical plan. Names are strings as written, with backticks
kept only where a part needs them (``cat.db.t``, ``` `my.table` ```), which is the form
``Catalog.normalize`` accepts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from volley.plan.catalog import CatalogTable


@dataclass(frozen=True)
class Query:
    """A SELECT, VALUES, WITH or set operation."""

    query: exp.Expression


@dataclass(frozen=True)
class CreateTable:
    """``CREATE [TEMPORARY] TABLE [IF NOT EXISTS] name (...) WITH (...)``."""

    name: str
    table: CatalogTable
    if_not_exists: bool = False
    temporary: bool = False


@dataclass(frozen=True)
class CreateTableAs:
    """``CREATE TABLE name WITH (...) AS query``; ``table`` has no columns (the query's schema)."""

    name: str
    table: CatalogTable
    query: exp.Expression
    if_not_exists: bool = False
    temporary: bool = False


@dataclass(frozen=True)
class CreateView:
    """``CREATE [TEMPORARY] VIEW [IF NOT EXISTS] name [(cols)] AS query``."""

    name: str
    query: exp.Expression
    column_names: tuple[str, ...] = ()
    if_not_exists: bool = False
    temporary: bool = False


@dataclass(frozen=True)
class CreateFunction:
    """``CREATE [TEMPORARY [SYSTEM]] FUNCTION [IF NOT EXISTS] f AS 'path' [LANGUAGE L]``.

    ``language`` is upper-case and defaults to ``JAVA`` as in Flink, so the caller can reject
    Java functions with a clear error instead of silently importing a Python path.
    """

    name: str
    class_path: str
    language: str = "JAVA"
    if_not_exists: bool = False
    temporary: bool = False
    system: bool = False


@dataclass(frozen=True)
class Drop:
    """``DROP [TEMPORARY [SYSTEM]] TABLE|VIEW|FUNCTION [IF EXISTS] name``."""

    kind: str  # 'table' | 'view' | 'function'
    name: str
    if_exists: bool = False
    temporary: bool = False
    system: bool = False


@dataclass(frozen=True)
class Insert:
    """``INSERT INTO|OVERWRITE t [PARTITION (k='v')] [(cols)] query``.

    ``static_partition`` maps partition column to the Python value of its literal.
    """

    table: str
    columns: tuple[str, ...] | None
    query: exp.Expression
    overwrite: bool = False
    static_partition: dict[str, Any] | None = None


@dataclass(frozen=True)
class StatementSet:
    """``EXECUTE STATEMENT SET BEGIN ...; END`` or the SQL client's ``BEGIN STATEMENT SET;``."""

    inserts: tuple[Insert, ...]


@dataclass(frozen=True)
class Show:
    """``SHOW <kind>``: kind is lower-case with single spaces ('tables', 'user functions',
    'current catalog', 'columns', 'create table', 'create view', ...); ``name`` is set for the
    kinds that take one (``SHOW COLUMNS FROM t``, ``SHOW CREATE TABLE t``)."""

    kind: str
    name: str | None = None


@dataclass(frozen=True)
class Describe:
    """``DESCRIBE t`` / ``DESC t``."""

    name: str


@dataclass(frozen=True)
class Explain:
    """``EXPLAIN [PLAN FOR | <detail>, ...] statement``; ``details`` as written, upper-case."""

    statement: Statement
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class Set:
    """``SET 'k' = 'v'``; bare ``SET`` (list the configuration) has both None."""

    key: str | None = None
    value: str | None = None


@dataclass(frozen=True)
class Reset:
    """``RESET 'k'``; bare ``RESET`` (reset everything) has key None."""

    key: str | None = None


@dataclass(frozen=True)
class Use:
    """``USE CATALOG c`` (database None) or ``USE [c.]db``."""

    catalog: str | None
    database: str | None


Statement = (
    Query
    | CreateTable
    | CreateTableAs
    | CreateView
    | CreateFunction
    | Drop
    | Insert
    | StatementSet
    | Show
    | Describe
    | Explain
    | Set
    | Reset
    | Use
)
