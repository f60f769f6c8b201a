"""``volley sql -f script.sql`` / ``volley sql -e "stmt; stmt"``: run Flink SQL statements.

Statements run one by one through a ``TableEnvironment`` (batch mode unless ``--streaming``), as
``execute_sql`` would run them in a PyFlink program. Queries (SELECT, SHOW, DESCRIBE...) print
their result table and EXPLAIN its plan text; INSERTs are waited for, so the script's effects are
complete on exit; DDL prints nothing. The first failing statement stops the script with exit status 1.
"""

from __future__ import annotations

import re
import sys
from typing import Any, TextIO

from volley.cli.sql_split import Statement, group_statement_sets, leading_keyword, split_statements
from volley.errors import VolleyError

#: Statements whose result is a table to show rather than a status.
RESULT_KEYWORDS = frozenset({"SELECT", "WITH", "VALUES", "SHOW", "DESCRIBE", "DESC", "EXPLAIN"})
#: Statements that start a job; the CLI waits for it before running the next statement.
JOB_KEYWORDS = frozenset({"INSERT", "EXECUTE", "BEGIN"})

_SET = re.compile(
    r"^\s*SET\s+'((?:[^']|'')*)'\s*=\s*'((?:[^']|'')*)'\s*$", re.IGNORECASE | re.DOTALL
)


def read_script(file: str | None, inline: str | None) -> str:
    """The script text from ``-e`` or from ``-f`` (``-f -`` reads standard input)."""
    if inline is not None:
        return inline
    assert file is not None
    if file == "-":
        return sys.stdin.read()
    with open(file, encoding="utf-8") as fh:
        return fh.read()


def create_table_env(streaming: bool) -> Any:
    """A fresh TableEnvironment; imported here so the rest of the CLI works without the engine."""
    from volley.table import EnvironmentSettings, TableEnvironment

    settings = (
        EnvironmentSettings.in_streaming_mode()
        if streaming
        else EnvironmentSettings.in_batch_mode()
    )
    return TableEnvironment.create(settings)


def run_sql(script: str, *, streaming: bool = False, err: TextIO | None = None) -> int:
    """Run every statement of ``script``; return the exit status (0, or 1 at the first error)."""
    out = err if err is not None else sys.stderr
    statements = group_statement_sets(split_statements(script))
    if not statements:
        out.write("error: no SQL statements to run\n")
        return 2
    t_env = create_table_env(streaming)
    for number, stmt in enumerate(statements, start=1):
        try:
            run_statement(t_env, stmt)
        except VolleyError as exc:
            out.write(f"error: {exc}\n")
            out.write(f"  in statement {number} (line {stmt.line}): {_first_line(stmt.text)}\n")
            return 1
    return 0


def run_statement(t_env: Any, stmt: Statement) -> None:
    """Execute one statement and show or await its result according to its kind."""
    keyword = leading_keyword(stmt.text)
    if keyword == "SET":
        match = _SET.match(stmt.text)
        if match:
            # PyFlink's execute_sql has no SET (only its SQL client does); scripts rely on it.
            key, value = (g.replace("''", "'") for g in match.groups())
            t_env.get_config().set(key, value)
            return
    result = t_env.execute_sql(stmt.text)
    if keyword == "EXPLAIN":
        # A plan is multi-line text; boxed in a one-cell table it is unreadable (the SQL client
        # prints it plain too).
        with result.collect() as rows:
            for row in rows:
                print(row[0])
    elif keyword in RESULT_KEYWORDS:
        result.print()
    elif keyword in JOB_KEYWORDS and hasattr(result, "wait"):
        result.wait()


def _first_line(text: str, limit: int = 80) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."
