"""Turn sqlglot's parse and tokenize errors into ``SqlParseError`` messages users can act on.

The message names the line and column, says what is wrong in words (not sqlglot's internal class
names), and shows the offending line with carets under the token, in plain text: errors end up in
logs and notebooks where ANSI escapes are noise.
"""

from __future__ import annotations

import difflib
import re

from sqlglot.errors import ParseError
from sqlglot.tokens import Token, TokenType

from volley.errors import SqlParseError

KEYWORDS = (
    "SELECT FROM WHERE GROUP BY HAVING ORDER LIMIT OFFSET FETCH JOIN LEFT RIGHT INNER OUTER FULL "
    "CROSS ON USING UNION INTERSECT EXCEPT AS AND OR NOT BETWEEN LIKE IN IS NULL DISTINCT CASE "
    "WHEN THEN ELSE END CAST INTERVAL INSERT INTO OVERWRITE VALUES TABLE CREATE VIEW FUNCTION "
    "WITH WINDOW PARTITION OVER LATERAL DESC ASC"
).split()

_MISSING_ARG = re.compile(r"Required keyword: '(\w+)' missing for <class '[\w.]*\.(\w+)'>")


def error_at(sql: str, start: int, end: int, message: str) -> SqlParseError:
    """A ``SqlParseError`` for ``sql[start:end + 1]``: position, message and a caret line."""
    start = max(0, min(start, len(sql)))
    line_no = sql.count("\n", 0, start) + 1
    line_start = sql.rfind("\n", 0, start) + 1
    line_end = sql.find("\n", start)
    line_end = len(sql) if line_end == -1 else line_end
    column = start - line_start + 1
    width = max(1, min(end, line_end - 1) - start + 1)
    line = sql[line_start:line_end].expandtabs(1)
    text = (
        f"SQL parse error at line {line_no}, column {column}: {message}\n"
        f"  {line}\n"
        f"  {' ' * (column - 1)}{'^' * width}"
    )
    return SqlParseError(text)


def from_parse_error(error: ParseError, sql: str, tokens: list[Token]) -> SqlParseError:
    """Rewrite a sqlglot ``ParseError`` raised while parsing ``tokens`` (offsets into ``sql``)."""
    detail = error.errors[0] if error.errors else {}
    start, end = detail.get("start"), detail.get("end")
    description = str(detail.get("description") or error)
    if start is None or end is None:
        return SqlParseError(f"SQL parse error: {description}")
    index = next((i for i, tok in enumerate(tokens) if tok.start == start), None)
    text = sql[start : end + 1]
    if description == "Invalid expression / Unexpected token":
        misspelled = _misspelled_keyword(tokens, index)
        if misspelled is not None:
            prev, keyword = misspelled
            return error_at(
                sql, prev.start, prev.end, f"unexpected {prev.text!r}; did you mean {keyword}?"
            )
        message = f"unexpected {text!r}"
        if text.startswith('"'):
            message += (
                "; Flink SQL quotes identifiers with backticks (`name`) and strings with "
                "single quotes ('text')"
            )
        return error_at(sql, start, end, message)
    if description.startswith("Expecting "):
        expected = description[len("Expecting ") :]
        if detail.get("at_end"):
            return error_at(sql, end + 1, end + 1, f"expected {expected!r} but found end of input")
        return error_at(sql, start, end, f"expected {expected!r} but found {text!r}")
    match = _MISSING_ARG.match(description)
    if match:
        if detail.get("at_end"):
            return error_at(sql, end + 1, end + 1, f"expected an expression after {text!r}")
        return error_at(sql, start, end, f"incomplete expression at {text!r}")
    return error_at(sql, start, end, description[:1].lower() + description[1:])


def _misspelled_keyword(tokens: list[Token], index: int | None) -> tuple[Token, str] | None:
    """``SELECT a FORM t``: sqlglot reads FORM as an alias and fails at ``t``; blame FORM."""
    if not index or tokens[index - 1].token_type != TokenType.VAR:
        return None
    prev = tokens[index - 1]
    close = difflib.get_close_matches(prev.text.upper(), KEYWORDS, n=1, cutoff=0.75)
    return (prev, close[0]) if close else None


def check_trailing_commas(sql: str, tokens: list[Token]) -> None:
    """Flink rejects ``SELECT a, FROM t`` and ``f(a,)``; sqlglot would accept them silently."""
    closers = {TokenType.FROM, TokenType.R_PAREN, TokenType.WHERE, TokenType.GROUP_BY}
    for comma, nxt in zip(tokens, tokens[1:], strict=False):
        if comma.token_type == TokenType.COMMA and nxt.token_type in closers:
            raise error_at(sql, comma.start, comma.end, f"unexpected ',' before {nxt.text!r}")
    if tokens and tokens[-1].token_type == TokenType.COMMA:
        raise error_at(sql, tokens[-1].start, tokens[-1].end, "unexpected ',' at end of input")


def locate_tokenize_error(sql: str) -> SqlParseError:
    """Find the unterminated string, identifier or comment that made tokenizing fail."""
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if sql.startswith("--", i):
            newline = sql.find("\n", i)
            i = n if newline == -1 else newline + 1
        elif sql.startswith("/*", i):
            close = sql.find("*/", i + 2)
            if close == -1:
                return error_at(sql, i, i + 1, "unterminated comment: '/*' has no closing '*/'")
            i = close + 2
        elif ch in "'`\"":
            j = i + 1
            while True:
                j = sql.find(ch, j)
                if j == -1:
                    what = {"'": "string", "`": "quoted identifier", '"': "quoted text"}[ch]
                    return error_at(sql, i, i, f"unterminated {what}: {ch} has no closing {ch}")
                if sql.startswith(ch * 2, j):
                    j += 2
                    continue
                break
            i = j + 1
        else:
            i += 1
    return SqlParseError(f"SQL parse error: cannot tokenize {sql[:80]!r}")
