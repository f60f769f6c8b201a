"""``volley sql``: statements from -e / -f / stdin run through a TableEnvironment.

All but the argument checks need the engine (volley.table); they use only standard Flink SQL.
"""

from __future__ import annotations

import re
from pathlib import Path

from cli_helpers import run_cli


def table_cells(output: str) -> list[list[str]]:
    """The data rows of a tableau-printed result, as lists of stripped cell strings."""
    rows = []
    for line in output.splitlines():
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows[1:]  # the first `|` line is the header


def test_needs_a_script_source() -> None:
    result = run_cli("sql")
    assert result.returncode == 2
    assert "one of the arguments -f/--file -e/--execute is required" in result.stderr


def test_empty_script_is_an_error() -> None:
    result = run_cli("sql", "-e", " ; -- nothing\n")
    assert result.returncode == 2
    assert "error: no SQL statements to run" in result.stderr


def test_unreadable_file_is_an_error(tmp_path: Path) -> None:
    result = run_cli("sql", "-f", str(tmp_path / "missing.sql"))
    assert result.returncode == 2
    assert "error: cannot read SQL script" in result.stderr


def test_select_prints_its_result() -> None:
    result = run_cli("sql", "-e", "SELECT 1 + 1 AS two, 'a;b' AS s")
    assert result.returncode == 0, result.stderr
    assert "two" in result.stdout
    assert table_cells(result.stdout) == [["2", "a;b"]]


def test_streaming_flag_prints_a_changelog() -> None:
    result = run_cli("sql", "--streaming", "-e", "SELECT 1 AS one")
    assert result.returncode == 0, result.stderr
    assert table_cells(result.stdout) == [["+I", "1"]]


def test_script_file_with_ddl_query_and_insert(tmp_path: Path) -> None:
    (tmp_path / "words.csv").write_text("hello\nworld\nhello\n", encoding="utf-8")
    out_dir = tmp_path / "out"
    script = tmp_path / "job.sql"
    script.write_text(
        f"""
        -- a source over a CSV file; statements span lines and end with ';'
        CREATE TABLE words (word STRING) WITH (
            'connector' = 'filesystem',
            'path' = '{tmp_path / "words.csv"}',
            'format' = 'csv'
        );
        CREATE TABLE counts (word STRING, cnt BIGINT) WITH (
            'connector' = 'filesystem',
            'path' = '{out_dir}',
            'format' = 'csv'
        );
        SELECT word, COUNT(*) AS cnt FROM words GROUP BY word ORDER BY word;
        INSERT INTO counts SELECT word, COUNT(*) AS cnt FROM words GROUP BY word;
        """,
        encoding="utf-8",
    )
    result = run_cli("sql", "-f", str(script))
    assert result.returncode == 0, result.stderr
    assert table_cells(result.stdout) == [["hello", "2"], ["world", "1"]]
    written = sorted(
        line
        for part in out_dir.rglob("*")
        if part.is_file() and not part.name.startswith(".")
        for line in part.read_text(encoding="utf-8").splitlines()
    )
    assert written == ["hello,2", "world,1"]


def test_script_from_stdin() -> None:
    result = run_cli("sql", "-f", "-", stdin="SELECT 3 AS three;")
    assert result.returncode == 0, result.stderr
    assert table_cells(result.stdout) == [["3"]]


def test_show_tables_after_ddl() -> None:
    result = run_cli(
        "sql",
        "-e",
        "CREATE TABLE t (a INT) WITH ('connector' = 'blackhole'); SHOW TABLES",
    )
    assert result.returncode == 0, result.stderr
    assert ["t"] in table_cells(result.stdout)


def test_failing_statement_stops_the_script() -> None:
    result = run_cli("sql", "-e", "SELECT 1 AS one;\nSELECT * FROM no_such_table;\nSELECT 2 AS two")
    assert result.returncode == 1
    assert re.search(r"^error: .*no_such_table", result.stderr, re.MULTILINE), result.stderr
    assert "in statement 2 (line 2): SELECT * FROM no_such_table" in result.stderr
    assert "Traceback" not in result.stderr
    assert "two" not in result.stdout


def test_explain_prints_the_plan_as_plain_text() -> None:
    result = run_cli("sql", "-e", "EXPLAIN SELECT 1 AS one")
    assert result.returncode == 0, result.stderr
    assert "== Abstract Syntax Tree ==" in result.stdout
    assert not result.stdout.startswith("+")
