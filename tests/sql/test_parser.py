"""Statements, DDL, types, legacy expressions and the exact text of common parse errors."""

from __future__ import annotations

import pytest
from sqlglot import exp

from volley.errors import SqlParseError, UnsupportedFeatureError
from volley.plan import types as T
from volley.sql import (
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
    StatementSet,
    Use,
    parse_data_type,
    parse_expression,
    parse_expression_list,
    parse_query,
    parse_statement,
    parse_statements,
)

DDL = """
CREATE TEMPORARY TABLE IF NOT EXISTS `cat`.db.src (
  id BIGINT NOT NULL COMMENT 'the id', -- a comment; with a semicolon
  price DECIMAL(10, 2),
  ts TIMESTAMP(3),
  total AS price * 2,
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND,
  PRIMARY KEY (id) NOT ENFORCED
) COMMENT 'src' PARTITIONED BY (id) WITH ('connector' = 'filesystem', 'path' = '/tmp/a;b',
  'connector.type' = 'legacy')
"""


def test_create_table() -> None:
    stmt = parse_statement(DDL)
    assert isinstance(stmt, CreateTable)
    assert (stmt.name, stmt.if_not_exists, stmt.temporary) == ("cat.db.src", True, True)
    table = stmt.table
    assert [c.name for c in table.columns] == ["id", "price", "ts", "total"]
    assert table.columns[0].data_type == T.BigIntType(nullable=False)
    assert table.columns[0].comment == "the id"
    assert table.columns[1].data_type == T.DecimalType(10, 2)
    assert table.columns[2].data_type == T.TimestampType(3)
    assert table.columns[3].data_type is None
    assert isinstance(table.columns[3].expression, exp.Mul)
    assert table.watermark is not None and table.watermark.column == "ts"
    assert isinstance(table.watermark.expression, exp.Sub)
    assert table.primary_key == ("id",)
    assert table.partition_keys == ("id",)
    assert table.comment == "src"
    assert table.options == {
        "connector": "filesystem",
        "path": "/tmp/a;b",
        "connector.type": "legacy",
    }


def test_primary_key_must_be_not_enforced() -> None:
    with pytest.raises(SqlParseError, match="NOT ENFORCED"):
        parse_statement("CREATE TABLE t (a INT, PRIMARY KEY (a)) WITH ('connector' = 'x')")


def test_metadata_column_is_unsupported() -> None:
    with pytest.raises(UnsupportedFeatureError, match="metadata column 'm'"):
        parse_statement("CREATE TABLE t (m INT METADATA FROM 'offset') WITH ('connector' = 'x')")


def test_create_table_as_and_views_and_functions() -> None:
    ctas = parse_statement("CREATE TABLE t2 WITH ('connector' = 'x') AS SELECT 1 AS a")
    assert isinstance(ctas, CreateTableAs) and ctas.table.options == {"connector": "x"}
    view = parse_statement("CREATE TEMPORARY VIEW IF NOT EXISTS v (x, y) AS SELECT 1, 2")
    assert isinstance(view, CreateView)
    assert (view.name, view.column_names, view.if_not_exists, view.temporary) == (
        "v",
        ("x", "y"),
        True,
        True,
    )
    assert parse_statement(
        "CREATE TEMPORARY SYSTEM FUNCTION IF NOT EXISTS f AS 'm.f' LANGUAGE PYTHON"
    ) == CreateFunction("f", "m.f", "PYTHON", True, True, True)
    assert parse_statement("CREATE FUNCTION g AS 'com.Foo'").language == "JAVA"


def test_drop() -> None:
    assert parse_statement("DROP TEMPORARY VIEW IF EXISTS v") == Drop("view", "v", True, True)
    assert parse_statement("DROP TABLE c.d.t") == Drop("table", "c.d.t")
    assert parse_statement("DROP TEMPORARY SYSTEM FUNCTION f").system


def test_insert() -> None:
    stmt = parse_statement("INSERT OVERWRITE t PARTITION (d='2020', h=1) SELECT 1")
    assert isinstance(stmt, Insert) and stmt.overwrite
    assert stmt.static_partition == {"d": "2020", "h": 1}
    stmt = parse_statement("INSERT INTO t (a, b) VALUES (1, 2)")
    assert stmt.columns == ("a", "b") and isinstance(stmt.query, exp.Values)
    assert parse_statement("EXECUTE INSERT INTO t SELECT 1").table == "t"


@pytest.mark.parametrize(
    "script",
    [
        "BEGIN STATEMENT SET; INSERT INTO a SELECT 1; INSERT INTO b SELECT 2; END;",
        "EXECUTE STATEMENT SET BEGIN INSERT INTO a SELECT 1; INSERT INTO b SELECT 2; END",
    ],
)
def test_statement_sets(script: str) -> None:
    stmt = parse_statement(script)
    assert isinstance(stmt, StatementSet)
    assert [i.table for i in stmt.inserts] == ["a", "b"]


def test_unclosed_statement_set() -> None:
    with pytest.raises(SqlParseError, match="not closed"):
        parse_statements("BEGIN STATEMENT SET; INSERT INTO a SELECT 1;")


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SHOW TABLES", Show("tables")),
        ("SHOW VIEWS", Show("views")),
        ("SHOW FUNCTIONS", Show("functions")),
        ("show user functions", Show("user functions")),
        ("SHOW CATALOGS", Show("catalogs")),
        ("SHOW DATABASES", Show("databases")),
        ("SHOW CURRENT CATALOG", Show("current catalog")),
        ("SHOW CURRENT DATABASE", Show("current database")),
        ("SHOW COLUMNS FROM t", Show("columns", "t")),
        ("SHOW CREATE TABLE t", Show("create table", "t")),
        ("DESCRIBE t", Describe("t")),
        ("DESC `a.b`", Describe("`a.b`")),
        (
            "SET 'table.exec.mini-batch.enabled' = 'true'",
            Set("table.exec.mini-batch.enabled", "true"),
        ),
        ("SET", Set()),
        ("SET execution.runtime-mode = batch", Set("execution.runtime-mode", "batch")),
        ("RESET 'a.b'", Reset("a.b")),
        ("RESET", Reset()),
        ("USE CATALOG c", Use("c", None)),
        ("USE db", Use(None, "db")),
        ("USE c.db", Use("c", "db")),
    ],
)
def test_commands(sql: str, expected: object) -> None:
    assert parse_statement(sql) == expected


def test_explain() -> None:
    stmt = parse_statement("EXPLAIN PLAN FOR SELECT 1")
    assert isinstance(stmt, Explain) and isinstance(stmt.statement, Query)
    stmt = parse_statement("EXPLAIN CHANGELOG_MODE, ESTIMATED_COST INSERT INTO t SELECT 1")
    assert stmt.details == ("CHANGELOG_MODE", "ESTIMATED_COST")
    assert isinstance(stmt.statement, Insert)


def test_splitting_respects_strings_and_comments() -> None:
    script = """
    -- leading comment; not a statement
    SELECT 'a;b' AS `x;y`;
    /* block; comment */ ;;
    SELECT 2;
    """
    statements = parse_statements(script)
    assert len(statements) == 2
    assert statements[0].query.expressions[0].this.this == "a;b"


def test_one_statement_only() -> None:
    with pytest.raises(SqlParseError) as info:
        parse_statement("SELECT 1; SELECT 2")
    assert str(info.value).startswith("execute_sql takes exactly one statement; got 2 statements")


def test_parse_query_rejects_other_statements() -> None:
    with pytest.raises(SqlParseError, match="sql_query takes a query"):
        parse_query("SHOW TABLES")


@pytest.mark.parametrize(
    ("sql", "name"),
    [
        ("CREATE CATALOG c WITH ('type' = 'x')", "CREATE CATALOG"),
        ("ALTER TABLE t RENAME TO u", "ALTER TABLE"),
        ("ANALYZE TABLE t COMPUTE STATISTICS", "ANALYZE TABLE"),
        ("CREATE DATABASE d", "CREATE DATABASE"),
    ],
)
def test_unsupported_statements(sql: str, name: str) -> None:
    with pytest.raises(UnsupportedFeatureError, match=name):
        parse_statement(sql)


# -- exact error text -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        (
            "SELECT a FORM t",
            "SQL parse error at line 1, column 10: unexpected 'FORM'; did you mean FROM?\n"
            "  SELECT a FORM t\n"
            "           ^^^^",
        ),
        (
            "SELECT a\nFROM t WHERE (a = 1",
            "SQL parse error at line 2, column 20: expected ')' but found end of input\n"
            "  FROM t WHERE (a = 1\n"
            "                     ^",
        ),
        (
            "SELECT 'abc FROM t",
            "SQL parse error at line 1, column 8: unterminated string: ' has no closing '\n"
            "  SELECT 'abc FROM t\n"
            "         ^",
        ),
        (
            "SELECT a, b, FROM t",
            "SQL parse error at line 1, column 12: unexpected ',' before 'FROM'\n"
            "  SELECT a, b, FROM t\n"
            "             ^",
        ),
        (
            "SELEC a FROM t",
            "SQL parse error at line 1, column 1: unexpected 'SELEC' at start of statement; "
            "did you mean SELECT?\n"
            "  SELEC a FROM t\n"
            "  ^^^^^",
        ),
        (
            "SELECT a FROM t WHERE",
            "SQL parse error at line 1, column 22: expected an expression after 'WHERE'\n"
            "  SELECT a FROM t WHERE\n"
            "                       ^",
        ),
    ],
)
def test_error_messages(sql: str, message: str) -> None:
    with pytest.raises(SqlParseError) as info:
        parse_statements(sql)
    assert str(info.value) == message
    assert "\x1b" not in str(info.value)


def test_error_line_counts_from_script_start() -> None:
    with pytest.raises(SqlParseError, match="at line 3, column 10"):
        parse_statements("SELECT 1;\n\nSELECT a FORM t;")


def test_double_quotes_hint() -> None:
    with pytest.raises(SqlParseError, match="backticks"):
        parse_statement('SELECT "x" FROM t')


# -- types ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("STRING", T.VarCharType()),
        ("VARCHAR", T.VarCharType()),
        ("VARCHAR(10)", T.VarCharType(10)),
        ("CHAR", T.CharType(1)),
        ("CHAR(3)", T.CharType(3)),
        ("BOOLEAN", T.BooleanType()),
        ("TINYINT", T.TinyIntType()),
        ("SMALLINT", T.SmallIntType()),
        ("INTEGER", T.IntType()),
        ("INT NOT NULL", T.IntType(nullable=False)),
        ("BIGINT", T.BigIntType()),
        ("FLOAT", T.FloatType()),
        ("REAL", T.FloatType()),
        ("DOUBLE", T.DoubleType()),
        ("DOUBLE PRECISION", T.DoubleType()),
        ("DECIMAL", T.DecimalType(10, 0)),
        ("DEC(5, 2)", T.DecimalType(5, 2)),
        ("NUMERIC(7)", T.DecimalType(7, 0)),
        ("BINARY(4)", T.BinaryType(4)),
        ("VARBINARY(4)", T.VarBinaryType(4)),
        ("BYTES", T.VarBinaryType()),
        ("DATE", T.DateType()),
        ("TIME(3)", T.TimeType(3)),
        ("TIMESTAMP", T.TimestampType(6)),
        ("TIMESTAMP(3)", T.TimestampType(3)),
        ("TIMESTAMP_LTZ(3)", T.LocalZonedTimestampType(3)),
        ("TIMESTAMP(3) WITH LOCAL TIME ZONE", T.LocalZonedTimestampType(3)),
        ("ARRAY<INT NOT NULL>", T.ArrayType(T.IntType(nullable=False))),
        ("MAP<STRING, INT>", T.MapType(T.VarCharType(), T.IntType())),
        (
            "ROW<a INT, b STRING>",
            T.RowType((T.RowField("a", T.IntType()), T.RowField("b", T.VarCharType()))),
        ),
        (
            "ROW(a INT NOT NULL) NOT NULL",
            T.RowType((T.RowField("a", T.IntType(nullable=False)),), nullable=False),
        ),
    ],
)
def test_parse_data_type(text: str, expected: T.DataType) -> None:
    assert parse_data_type(text) == expected


def test_unknown_type_lists_supported() -> None:
    with pytest.raises(SqlParseError, match="unsupported data type 'RAW'.*supported types: CHAR"):
        parse_data_type("RAW")


# -- legacy string expressions ----------------------------------------------------------------


def test_legacy_expressions() -> None:
    assert isinstance(parse_expression("a > 0.5"), exp.GT)
    items = parse_expression_list("id, interpolate(id, temperature) as temperature, a.sum as total")
    assert isinstance(items[1], exp.Alias) and items[1].this.name == "interpolate"
    assert isinstance(items[2].this, exp.Sum) and items[2].alias == "total"
    for suffix, node in [
        ("count", exp.Count),
        ("avg", exp.Avg),
        ("max", exp.Max),
        ("min", exp.Min),
    ]:
        assert isinstance(parse_expression(f"a.{suffix}"), node)
    assert parse_expression("t.a.max").this.table == "t"
    assert isinstance(parse_expression("count(a)"), exp.Count)
    ordered = parse_expression("b.desc")
    assert isinstance(ordered, exp.Ordered) and ordered.args["desc"]
    assert isinstance(parse_expression("`x`.`sum`"), exp.Column)  # quoted: a real field


def test_expression_errors() -> None:
    with pytest.raises(SqlParseError, match="expected one expression"):
        parse_expression("a, b")
    with pytest.raises(SqlParseError, match="column 4: expected an expression after '>'"):
        parse_expression("a >")


def test_create_temporary_table_without_if_not_exists() -> None:
    """``TABLE`` after ``TEMPORARY`` is the statement's word, not a table-function argument."""
    stmt = parse_statement("CREATE TEMPORARY TABLE sink (auction BIGINT) WITH ('connector' = 'blackhole')")
    assert isinstance(stmt, CreateTable)
    assert (stmt.name, stmt.temporary) == ("sink", True)
    assert [c.name for c in stmt.table.columns] == ["auction"]
