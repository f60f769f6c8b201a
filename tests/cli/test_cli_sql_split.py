"""Statement splitting for ``volley sql``: ``;`` ends a statement only outside quotes/comments."""

from __future__ import annotations

import pytest

from volley.cli.sql_split import (
    Statement,
    group_statement_sets,
    leading_keyword,
    split_statements,
)


def texts(script: str) -> list[str]:
    return [s.text for s in split_statements(script)]


def test_splits_on_semicolons_and_drops_empty_statements() -> None:
    assert texts("SELECT 1; SELECT 2;;\n  ;") == ["SELECT 1", "SELECT 2"]


def test_last_statement_needs_no_semicolon() -> None:
    assert texts("CREATE TABLE t (a INT);\nSELECT a FROM t") == [
        "CREATE TABLE t (a INT)",
        "SELECT a FROM t",
    ]


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT 'a;b' AS s",
        "SELECT 'it''s; fine' AS s",
        'SELECT 1 AS "odd;name"',
        "SELECT 1 AS `odd;name`",
        "SELECT 'C:\\dir\\' AS path",
        "SELECT 1 -- trailing; comment\n + 1",
        "SELECT /* a; b */ 1",
    ],
)
def test_semicolons_inside_quotes_and_comments_do_not_split(statement: str) -> None:
    assert texts(f"{statement};SELECT 2") == [statement, "SELECT 2"]


def test_comment_only_chunks_are_dropped() -> None:
    assert texts("SELECT 1;\n-- the end;\n/* really; */\n") == ["SELECT 1"]


def test_statements_know_their_starting_line() -> None:
    script = "SELECT 1;\n\n  SELECT 2;\nSELECT\n3"
    assert [s.line for s in split_statements(script)] == [1, 3, 4]


@pytest.mark.parametrize(
    ("statement", "keyword"),
    [
        ("select 1", "SELECT"),
        ("  (SELECT 1) UNION (SELECT 2)", "SELECT"),
        ("-- note\nSHOW TABLES", "SHOW"),
        ("/* x */ insert into t values (1)", "INSERT"),
        ("WITH q AS (SELECT 1) SELECT * FROM q", "WITH"),
    ],
)
def test_leading_keyword(statement: str, keyword: str) -> None:
    assert leading_keyword(statement) == keyword


def test_statement_set_is_one_statement() -> None:
    script = (
        "CREATE TABLE a (x INT);\n"
        "EXECUTE STATEMENT SET BEGIN\n"
        "INSERT INTO a VALUES (1);\n"
        "INSERT INTO a VALUES (2);\n"
        "END;\n"
        "SELECT * FROM a;"
    )
    grouped = group_statement_sets(split_statements(script))
    assert grouped == [
        Statement("CREATE TABLE a (x INT)", 1),
        Statement(
            "EXECUTE STATEMENT SET BEGIN\nINSERT INTO a VALUES (1);\nINSERT INTO a VALUES (2);\nEND",
            2,
        ),
        Statement("SELECT * FROM a", 6),
    ]
