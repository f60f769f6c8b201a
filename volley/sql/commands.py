"""Statements sqlglot has no grammar for, parsed from tokens: SHOW, SET, USE, CREATE FUNCTION, ...

These are short, fixed keyword sequences, so a cursor over the token list is clearer than
grammar rules. Working on tokens (not raw text) keeps quoted strings and comments intact.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot.tokens import Token, TokenType

from volley.errors import UnsupportedFeatureError
from volley.sql.diagnostics import error_at
from volley.sql.statements import CreateFunction, Describe, Drop, Reset, Set, Show, Use

SHOW_KINDS = (
    "TABLES",
    "VIEWS",
    "FUNCTIONS",
    "USER FUNCTIONS",
    "CATALOGS",
    "DATABASES",
    "CURRENT CATALOG",
    "CURRENT DATABASE",
    "MODULES",
    "FULL MODULES",
)
_NAME_PUNCTUATION = {
    TokenType.DOT,
    TokenType.COMMA,
    TokenType.L_PAREN,
    TokenType.R_PAREN,
    TokenType.STRING,
    TokenType.EQ,
}


class Cursor:
    """Reads keywords and names off one statement's tokens; errors point into ``sql``."""

    def __init__(self, sql: str, tokens: list[Token]) -> None:
        self.sql, self.tokens, self.i = sql, tokens, 0

    @property
    def done(self) -> bool:
        return self.i >= len(self.tokens)

    def peek(self, offset: int = 0) -> str:
        j = self.i + offset
        return self.tokens[j].text.upper() if j < len(self.tokens) else ""

    def accept(self, *words: str) -> bool:
        """Consume ``words`` if the next tokens are exactly them (case-insensitive)."""
        if all(self.peek(k) == w for k, w in enumerate(words)):
            self.i += len(words)
            return True
        return False

    def expect(self, *words: str) -> None:
        if not self.accept(*words):
            self.fail(f"expected {' '.join(words)}")

    def name(self) -> str:
        """A possibly qualified, possibly backtick-quoted name, rendered for Catalog.normalize."""
        parts = [self._name_part()]
        while self.peek() == ".":
            self.i += 1
            parts.append(self._name_part())
        return ".".join(parts)

    def _name_part(self) -> str:
        if self.done or self.tokens[self.i].token_type in _NAME_PUNCTUATION:
            self.fail("expected a name")
        token = self.tokens[self.i]
        self.i += 1
        text = token.text
        if token.token_type == TokenType.IDENTIFIER and ("." in text or "`" in text):
            return f"`{text.replace('`', '``')}`"
        return text

    def string(self) -> str:
        if self.done or self.tokens[self.i].token_type != TokenType.STRING:
            self.fail("expected a string literal in single quotes")
        self.i += 1
        return self.tokens[self.i - 1].text

    def rest_text(self) -> str:
        """The remaining statement text verbatim (one string literal: its value)."""
        rest = self.tokens[self.i :]
        self.i = len(self.tokens)
        if len(rest) == 1 and rest[0].token_type == TokenType.STRING:
            return rest[0].text
        return self.sql[rest[0].start : rest[-1].end + 1] if rest else ""

    def end(self) -> None:
        if not self.done:
            self.fail(f"unexpected {self.tokens[self.i].text!r}")

    def fail(self, message: str) -> None:
        if self.done:
            last = self.tokens[-1]
            raise error_at(self.sql, last.end + 1, last.end + 1, f"{message} at end of statement")
        token = self.tokens[self.i]
        found = f" but found {token.text!r}" if message.startswith("expected") else ""
        raise error_at(self.sql, token.start, token.end, message + found)


def parse_show(c: Cursor) -> Show:
    c.expect("SHOW")
    for kind in SHOW_KINDS:
        if c.accept(*kind.split()):
            c.end()
            return Show(kind.lower())
    if c.accept("COLUMNS"):
        if not (c.accept("FROM") or c.accept("IN")):
            c.fail("expected FROM or IN")
        name = c.name()
        c.end()
        return Show("columns", name)
    for kind in ("TABLE", "VIEW"):
        if c.accept("CREATE", kind):
            name = c.name()
            c.end()
            return Show(f"create {kind.lower()}", name)
    raise UnsupportedFeatureError(
        f"SHOW {c.peek()} is not supported; supported: "
        + ", ".join(f"SHOW {k}" for k in SHOW_KINDS)
        + ", SHOW COLUMNS FROM t, SHOW CREATE TABLE t, SHOW CREATE VIEW v"
    )


def parse_describe(c: Cursor) -> Describe:
    if not (c.accept("DESCRIBE") or c.accept("DESC")):
        c.fail("expected DESCRIBE")
    c.accept("EXTENDED")
    name = c.name()
    c.end()
    return Describe(name)


def parse_set(c: Cursor) -> Set:
    """``SET 'k' = 'v'``; the SQL client's older unquoted ``SET k = v`` is accepted too."""
    c.expect("SET")
    if c.done:
        return Set()
    eq = next(
        (j for j in range(c.i, len(c.tokens)) if c.tokens[j].token_type == TokenType.EQ), None
    )
    if eq is None or eq == c.i or eq == len(c.tokens) - 1:
        c.fail("expected 'key' = 'value'")
    key = Cursor(c.sql, c.tokens[c.i : eq]).rest_text()
    value = Cursor(c.sql, c.tokens[eq + 1 :]).rest_text()
    return Set(key, value)


def parse_reset(c: Cursor) -> Reset:
    c.expect("RESET")
    return Reset(c.rest_text() or None)


def parse_use(c: Cursor) -> Use:
    c.expect("USE")
    if c.accept("CATALOG"):
        catalog = c.name()
        c.end()
        return Use(catalog, None)
    if c.accept("MODULES"):
        raise UnsupportedFeatureError("USE MODULES is not supported; Volley has no module system")
    parts = c.name().split(".")
    c.end()
    if len(parts) > 2:
        c.fail("USE takes [catalog.]database")
    return Use(parts[0] if len(parts) == 2 else None, parts[-1])


def _temporary_system(c: Cursor) -> tuple[bool, bool]:
    temporary = c.accept("TEMPORARY")
    system = c.accept("SYSTEM")
    return temporary, system


def parse_create_function(c: Cursor) -> CreateFunction:
    c.expect("CREATE")
    temporary, system = _temporary_system(c)
    c.expect("FUNCTION")
    if_not_exists = c.accept("IF", "NOT", "EXISTS")
    name = c.name()
    c.expect("AS")
    class_path = c.string()
    language = "JAVA"
    if c.accept("LANGUAGE"):
        language = c.name().upper()
    if c.accept("USING"):
        raise UnsupportedFeatureError("CREATE FUNCTION ... USING JAR is not supported")
    c.end()
    return CreateFunction(name, class_path, language, if_not_exists, temporary, system)


def parse_drop(c: Cursor) -> Drop:
    c.expect("DROP")
    temporary, system = _temporary_system(c)
    kind = c.peek()
    if kind not in ("TABLE", "VIEW", "FUNCTION"):
        raise UnsupportedFeatureError(
            f"DROP {kind} is not supported; supported: DROP TABLE, DROP VIEW, DROP FUNCTION"
        )
    c.i += 1
    if_exists = c.accept("IF", "EXISTS")
    name = c.name()
    c.end()
    return Drop(kind.lower(), name, if_exists, temporary, system)


COMMANDS: dict[str, Callable[[Cursor], object]] = {
    "SHOW": parse_show,
    "DESCRIBE": parse_describe,
    "DESC": parse_describe,
    "SET": parse_set,
    "RESET": parse_reset,
    "USE": parse_use,
    "DROP": parse_drop,
}
