"""SQL text -> statements, queries, expressions and types.

The script is tokenized once with the Flink dialect and split on ``;`` tokens, so semicolons in
strings, quoted names and comments never split a statement, and every error position is an offset
into the text the user wrote (line numbers count from the top of the script). Each statement is
then dispatched on its first keywords: grammar-heavy ones (queries, INSERT, CREATE TABLE/VIEW) go
to sqlglot's parser, fixed-form commands to ``commands``.
"""

from __future__ import annotations

import difflib

from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import Token, TokenType

from volley.errors import SqlParseError, UnsupportedFeatureError
from volley.plan.types import DataType
from volley.sql import commands, diagnostics
from volley.sql.datatypes import SUPPORTED_TYPES, to_data_type
from volley.sql.ddl import create_statement, table_name
from volley.sql.dialect import Flink
from volley.sql.legacy import rewrite_legacy_expression
from volley.sql.statements import Explain, Insert, Query, Statement, StatementSet

DIALECT = Flink()

QUERY_STARTS = {"SELECT", "WITH", "VALUES", "("}
STATEMENT_STARTS = (
    "SELECT WITH VALUES INSERT CREATE DROP SHOW DESCRIBE DESC EXPLAIN SET RESET USE EXECUTE BEGIN"
).split()
UNSUPPORTED = {
    "ALTER",
    "ANALYZE",
    "LOAD",
    "UNLOAD",
    "ADD",
    "REMOVE",
    "TRUNCATE",
    "UPDATE",
    "DELETE",
    "CALL",
    "COMPILE",
    "STOP",
    "MERGE",
}
EXPLAIN_DETAILS = {"ESTIMATED_COST", "CHANGELOG_MODE", "JSON_EXECUTION_PLAN", "PLAN_ADVICE"}


# -- public entry points ----------------------------------------------------------------------


def parse_statements(sql: str) -> list[Statement]:
    """Every statement of a script, in order; empty and comment-only statements are skipped.

    ``BEGIN STATEMENT SET; INSERT ...; INSERT ...; END;`` and ``EXECUTE STATEMENT SET BEGIN
    INSERT ...; INSERT ...; END`` each become one ``StatementSet``.
    """
    result: list[Statement] = []
    open_set: list[Insert] | None = None
    opener: Token | None = None
    for chunk in _split(tokenize(sql)):
        words = [t.text.upper() for t in chunk[:4]]
        if open_set is None and (words[:3] == ["BEGIN", "STATEMENT", "SET"] and len(chunk) == 3):
            open_set, opener = [], chunk[0]
            continue
        if open_set is None and words == ["EXECUTE", "STATEMENT", "SET", "BEGIN"]:
            open_set, opener = [], chunk[0]
            chunk = chunk[4:]
            if not chunk:
                continue
        if open_set is not None:
            if words == ["END"]:
                result.append(StatementSet(tuple(open_set)))
                open_set = None
                continue
            statement = _statement(sql, chunk)
            if not isinstance(statement, Insert):
                raise diagnostics.error_at(
                    sql,
                    chunk[0].start,
                    chunk[-1].end,
                    "a statement set may only contain INSERT statements",
                )
            open_set.append(statement)
            continue
        result.append(_statement(sql, chunk))
    if open_set is not None and opener is not None:
        raise diagnostics.error_at(
            sql, opener.start, opener.end, "statement set is not closed; add 'END;' after it"
        )
    return result


def parse_statement(sql: str) -> Statement:
    """Exactly one statement, as ``TableEnvironment.execute_sql`` takes."""
    statements = parse_statements(sql)
    if len(statements) != 1:
        got = "no statement" if not statements else f"{len(statements)} statements"
        raise SqlParseError(
            f"execute_sql takes exactly one statement; got {got}. Call execute_sql once per "
            "statement, or group INSERTs with create_statement_set() or "
            "'EXECUTE STATEMENT SET BEGIN ...; END'"
        )
    return statements[0]


def parse_query(sql: str) -> exp.Expression:
    """One query (SELECT, VALUES, WITH, set operation), as ``sql_query`` takes."""
    statement = parse_statement(sql)
    if not isinstance(statement, Query):
        raise SqlParseError(
            f"sql_query takes a query (SELECT, VALUES, WITH ...); got a "
            f"{type(statement).__name__} statement; use execute_sql for it"
        )
    return statement.query


def parse_expression(text: str) -> exp.Expression:
    """One scalar expression, e.g. a filter predicate ``"a > 0.5"`` (legacy forms accepted)."""
    expressions = parse_expression_list(text)
    if len(expressions) != 1:
        raise SqlParseError(f"expected one expression; got {len(expressions)} in {text!r}")
    return expressions[0]


def parse_expression_list(text: str) -> list[exp.Expression]:
    """A comma-separated list with optional aliases, e.g. ``"id, f(id) AS x, a.sum AS total"``.

    Legacy Table API suffixes are rewritten so the binder sees plain SQL: ``a.sum`` -> ``SUM(a)``
    (also count, avg, max, min, stddevPop, stddevSamp, varPop, varSamp), ``a.desc`` /
    ``a.asc`` -> ``Ordered``.
    """
    tokens = tokenize(text)
    if not tokens:
        raise SqlParseError("expected an expression; got empty text")
    diagnostics.check_trailing_commas(text, tokens)
    select = Token(TokenType.SELECT, "SELECT", start=0, end=-1)
    tree = _parse_tokens(text, [select, *tokens])
    if not isinstance(tree, exp.Select) or any(
        tree.args.get(k) for k in ("from_", "where", "group", "order", "limit", "having")
    ):
        raise SqlParseError(f"expected expressions like 'a, f(b) AS c'; got {text!r}")
    return [rewrite_legacy_expression(e) for e in tree.expressions]


def parse_data_type(text: str) -> DataType:
    """A SQL type string such as ``'DECIMAL(10, 2) NOT NULL'`` or ``'ROW<a INT, b STRING>'``."""
    tokens = tokenize(text)
    if not tokens:
        raise SqlParseError("expected a data type; got empty text")
    parser = DIALECT.parser()
    try:
        node = parser.parse_into(exp.DataType, tokens, text)[0]
    except ParseError as e:
        detail = e.errors[0] if e.errors else {}
        if detail.get("start") == tokens[0].start:
            raise SqlParseError(
                f"unsupported data type {tokens[0].text!r}; supported types: {SUPPORTED_TYPES}"
            ) from None
        raise diagnostics.from_parse_error(e, text, tokens) from None
    if node is None:
        raise SqlParseError(f"expected a data type; got {text!r}")
    return to_data_type(node)


def tokenize(sql: str) -> list[Token]:
    try:
        return DIALECT.tokenize(sql)
    except TokenError:
        raise diagnostics.locate_tokenize_error(sql) from None


# -- dispatch ---------------------------------------------------------------------------------


def _split(tokens: list[Token]) -> list[list[Token]]:
    chunks: list[list[Token]] = [[]]
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            chunks.append([])
        else:
            chunks[-1].append(token)
    return [c for c in chunks if c]


def _statement(sql: str, chunk: list[Token]) -> Statement:
    first = chunk[0].text.upper()
    words = [t.text.upper() for t in chunk[:4]]
    if first in QUERY_STARTS:
        tree = _parse_tokens(sql, chunk)
        if not _is_query(tree):
            raise diagnostics.error_at(sql, chunk[0].start, chunk[-1].end, "expected a query")
        return Query(tree)
    if first == "INSERT":
        return _insert(sql, chunk)
    if first == "EXECUTE" and len(chunk) > 1 and words[1] == "INSERT":
        return _insert(sql, chunk[1:])
    if first == "CREATE":
        kind = next((w for w in words[1:] if w not in ("TEMPORARY", "SYSTEM")), "")
        if kind == "FUNCTION":
            return commands.parse_create_function(commands.Cursor(sql, chunk))
        if kind in ("TABLE", "VIEW"):
            tree = _parse_tokens(sql, chunk)
            if not isinstance(tree, exp.Create):
                raise diagnostics.error_at(sql, chunk[0].start, chunk[-1].end, "bad CREATE")
            return create_statement(tree)
        raise UnsupportedFeatureError(
            f"CREATE {kind} is not supported; supported: CREATE TABLE, CREATE VIEW, CREATE FUNCTION"
        )
    if first == "EXPLAIN":
        return _explain(sql, chunk)
    if first in commands.COMMANDS:
        return commands.COMMANDS[first](commands.Cursor(sql, chunk))  # type: ignore[return-value]
    if first in UNSUPPORTED:
        name = " ".join(t.text.upper() for t in chunk[:2] if t.token_type != TokenType.STRING)
        raise UnsupportedFeatureError(f"{name} statements are not supported")
    close = difflib.get_close_matches(first, STATEMENT_STARTS, n=1, cutoff=0.6)
    hint = (
        f"; did you mean {close[0]}?"
        if close
        else f"; expected one of {', '.join(STATEMENT_STARTS)}"
    )
    raise diagnostics.error_at(
        sql,
        chunk[0].start,
        chunk[0].end,
        f"unexpected {chunk[0].text!r} at start of statement{hint}",
    )


def _parse_tokens(sql: str, chunk: list[Token]) -> exp.Expression:
    diagnostics.check_trailing_commas(sql, chunk)
    try:
        trees = DIALECT.parser().parse(chunk, sql)
    except ParseError as e:
        raise diagnostics.from_parse_error(e, sql, chunk) from None
    tree = trees[0] if trees else None
    if tree is None or isinstance(tree, exp.Command):
        raise diagnostics.error_at(sql, chunk[0].start, chunk[-1].end, "cannot parse statement")
    return tree


def _is_query(tree: exp.Expression) -> bool:
    return isinstance(tree, (exp.Query, exp.Values))


def _insert(sql: str, chunk: list[Token]) -> Insert:
    tree = _parse_tokens(sql, chunk)
    if not isinstance(tree, exp.Insert):
        raise diagnostics.error_at(sql, chunk[0].start, chunk[-1].end, "expected INSERT")
    target = tree.this
    columns = None
    if isinstance(target, exp.Schema):
        columns = tuple(c.name for c in target.expressions)
        target = target.this
    static_partition = None
    partition = target.args.get("partition") if isinstance(target, exp.Table) else None
    if partition is not None:
        static_partition = {}
        for item in partition.expressions:
            if not isinstance(item, exp.EQ) or not isinstance(item.expression, exp.Literal):
                raise SqlParseError(
                    f"PARTITION takes key = literal pairs; got {item.sql(dialect='flink')!r}"
                )
            literal = item.expression
            static_partition[item.this.name] = (
                literal.this if literal.is_string else literal.to_py()
            )
    query = tree.expression
    if not _is_query(query):
        raise SqlParseError("INSERT needs a query (SELECT ... or VALUES ...)")
    return Insert(
        table_name(target), columns, query, bool(tree.args.get("overwrite")), static_partition
    )


def _explain(sql: str, chunk: list[Token]) -> Explain:
    c = commands.Cursor(sql, chunk)
    c.expect("EXPLAIN")
    details: list[str] = []
    if not c.accept("PLAN", "FOR"):
        while c.peek() in EXPLAIN_DETAILS:
            details.append(c.peek())
            c.i += 1
            c.accept(",")
    if c.done:
        c.fail("expected a statement to explain")
    rest = chunk[c.i :]
    words = [t.text.upper() for t in rest[:4]]
    if words[:3] == ["STATEMENT", "SET", "BEGIN"]:
        raise UnsupportedFeatureError("EXPLAIN STATEMENT SET is not supported; explain each INSERT")
    return Explain(_statement(sql, rest), tuple(details))
