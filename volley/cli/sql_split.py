"""Split a SQL script into statements on ``;`` outside quotes and comments.

Flink SQL scripts put ``;`` inside string literals (``'a;b'``), quoted identifiers and comments;
a naive ``split(';')`` breaks those. This is a small scanner, not a parser: it only needs to know
where a statement ends, and it keeps the text of each statement verbatim for the real parser.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Statement:
    """One statement of a script, and the 1-based line it starts on (for error messages)."""

    text: str
    line: int


def split_statements(script: str) -> list[Statement]:
    """Split ``script`` into statements, dropping empty and comment-only ones.

    >>> [s.text for s in split_statements("SELECT 'a;b'; -- c;\\nSELECT 2;")]
    ["SELECT 'a;b'", '-- c;\\nSELECT 2']
    """
    statements: list[Statement] = []
    start = 0
    i = 0
    n = len(script)
    while i < n:
        ch = script[i]
        if ch in "'\"`":
            i = _skip_quoted(script, i, ch)
        elif script.startswith("--", i):
            end = script.find("\n", i)
            i = n if end < 0 else end + 1
        elif script.startswith("/*", i):
            end = script.find("*/", i + 2)
            i = n if end < 0 else end + 2
        elif ch == ";":
            _append(statements, script, start, i)
            start = i = i + 1
        else:
            i += 1
    _append(statements, script, start, n)
    return statements


def _skip_quoted(script: str, i: int, quote: str) -> int:
    """Return the index after the quoted run starting at ``i``.

    A doubled quote is an escape (``'it''s'``); backslash is an ordinary character, as in Flink.
    """
    j = i + 1
    n = len(script)
    while j < n:
        if script[j] == quote:
            if j + 1 < n and script[j + 1] == quote:
                j += 2
                continue
            return j + 1
        j += 1
    return n  # unterminated: let the parser report it with position


def _append(statements: list[Statement], script: str, start: int, end: int) -> None:
    chunk = script[start:end]
    text = chunk.strip()
    if not text or not strip_comments(text).strip():
        return
    leading = len(chunk) - len(chunk.lstrip())
    line = script.count("\n", 0, start + leading) + 1
    statements.append(Statement(text, line))


def strip_comments(text: str) -> str:
    """Remove ``--`` and ``/* */`` comments outside quotes (used to classify statements)."""
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch in "'\"`":
            j = _skip_quoted(text, i, ch)
            out.append(text[i:j])
            i = j
        elif text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
            out.append(" ")
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            out.append(" ")
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def leading_keyword(text: str) -> str:
    """The statement's first keyword, upper-cased: ``SELECT``, ``INSERT``, ``SHOW``...

    >>> leading_keyword("/* hi */ (select 1)")
    'SELECT'
    """
    body = strip_comments(text).lstrip()
    while body.startswith("("):
        body = body[1:].lstrip()
    word = []
    for ch in body:
        if not (ch.isalnum() or ch == "_"):
            break
        word.append(ch)
    return "".join(word).upper()


_SET_OPENERS = (("EXECUTE", "STATEMENT", "SET", "BEGIN"), ("BEGIN", "STATEMENT", "SET"))


def group_statement_sets(statements: list[Statement]) -> list[Statement]:
    """Re-join ``EXECUTE STATEMENT SET BEGIN ...; ...; END`` into one statement.

    Inside a statement set ``;`` separates the INSERTs, yet the whole block is one statement for
    ``execute_sql``. An unterminated block is left as is and fails in the parser, with its text.
    """
    grouped: list[Statement] = []
    block: list[Statement] = []
    for stmt in statements:
        words = tuple(strip_comments(stmt.text).upper().split()[:4])
        if not block and any(words[: len(o)] == o for o in _SET_OPENERS):
            block.append(stmt)
        elif block:
            block.append(stmt)
            if words[:1] == ("END",):
                text = ";\n".join(s.text for s in block)
                grouped.append(Statement(text, block[0].line))
                block = []
        else:
            grouped.append(stmt)
    grouped.extend(block)
    return grouped
