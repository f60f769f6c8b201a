"""The Flink SQL dialect for sqlglot.

Flink SQL is Calcite's grammar with Flink's choices: identifiers are case-sensitive and quoted with
backticks, strings use ``''`` escapes (no backslash escapes), ``STRING``/``BYTES``/
``TIMESTAMP_LTZ`` types, ``ROW<...>`` types and ``ROW(...)`` values, 1-based ``arr[i]``, and DDL
with ``WATERMARK FOR`` and ``PRIMARY KEY ... NOT ENFORCED``. Defining the class registers it, so
``sqlglot.parse_one(sql, read="flink")`` works too.

The parser keeps sqlglot's node classes wherever one fits, so the binder sees the same tree shapes
it would from any dialect; where Flink syntax has no sqlglot node the result is stated in the
method's docstring (and pinned in ``tests/sql/test_dialect.py``).
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp, tokens
from sqlglot.dialects.dialect import Dialect, NormalizationStrategy
from sqlglot.generator import Generator
from sqlglot.parsers.base import BaseParser
from sqlglot.tokens import Token, TokenType


class MetadataColumnConstraint(exp.Expression, exp.ColumnConstraintKind):
    """``col TYPE METADATA [FROM 'key'] [VIRTUAL]``: parsed so DDL can reject it by name."""

    arg_types = {"this": False, "virtual": False}


def _build_timestampadd(args: list[exp.Expression]) -> exp.Expression:
    """``TIMESTAMPADD(unit, n, ts)`` -> ``TimestampAdd(this=ts, expression=n, unit=Var)``."""
    if len(args) != 3:
        return exp.Anonymous(this="TIMESTAMPADD", expressions=args)
    return exp.TimestampAdd(this=args[2], expression=args[1], unit=_unit(args[0]))


def _build_timestampdiff(args: list[exp.Expression]) -> exp.Expression:
    """``TIMESTAMPDIFF(unit, a, b)`` is ``b - a``: ``TimestampDiff(this=b, expression=a)``.

    sqlglot's ``TimestampDiff`` means ``this - expression`` in ``unit``, so the operands swap.
    """
    if len(args) != 3:
        return exp.Anonymous(this="TIMESTAMPDIFF", expressions=args)
    return exp.TimestampDiff(this=args[2], expression=args[1], unit=_unit(args[0]))


def _unit(node: exp.Expression) -> exp.Expression:
    """A time unit written as a bare word (parsed as a column) becomes an upper-case ``Var``."""
    if isinstance(node, (exp.Column, exp.Var, exp.Identifier)):
        return exp.var(node.name.upper())
    return node


def _build_log(args: list[exp.Expression]) -> exp.Expression:
    """Flink's ``LOG(x)`` is the natural log; ``LOG(b, x)`` is ``Log(this=b, expression=x)``."""
    if len(args) == 1:
        return exp.Ln(this=args[0])
    if len(args) == 2:
        return exp.Log(this=args[0], expression=args[1])
    return exp.Anonymous(this="LOG", expressions=args)


# Flink built-ins whose sqlglot node has Flink's arguments and meaning. Every other function name
# (user functions, and Flink built-ins sqlglot has no node for) parses as exp.Anonymous with the
# name as written, so a UDF called e.g. ``split`` or ``explode`` is never mistaken for a built-in
# of some other SQL dialect.
TYPED_FUNCTIONS = frozenset(
    """
    ABS MOD POWER SQRT LN LOG10 LOG2 EXP CEIL CEILING FLOOR SIN COS TAN COT ASIN ACOS ATAN ATAN2
    SINH COSH TANH DEGREES RADIANS SIGN ROUND PI RAND UUID HEX UNHEX TRUNCATE
    CHAR_LENGTH CHARACTER_LENGTH UPPER LOWER LTRIM RTRIM REPEAT REGEXP_REPLACE REPLACE
    REGEXP_EXTRACT INITCAP CONCAT CONCAT_WS LPAD RPAD FROM_BASE64 TO_BASE64 ASCII CHR ENCODE
    INSTR LEFT RIGHT LOCATE PARSE_URL REVERSE STR_TO_MAP SUBSTR SUBSTRING ELT STARTSWITH ENDSWITH
    TRANSLATE REGEXP_COUNT REGEXP_EXTRACT_ALL
    YEAR QUARTER MONTH WEEK DAYOFYEAR DAYOFMONTH DAYOFWEEK HOUR MINUTE SECOND
    NULLIF COALESCE IF IFNULL GREATEST LEAST TYPEOF
    ARRAY_CONTAINS ARRAY_DISTINCT ARRAY_POSITION ARRAY_REMOVE ARRAY_REVERSE ARRAY_SLICE
    ARRAY_CONCAT ARRAY_MAX ARRAY_MIN ARRAY_JOIN ARRAY_SORT ARRAY_EXCEPT ARRAY_INTERSECT MAP_KEYS
    MD5 SHA1 SHA2
    COUNT AVG SUM MAX MIN STDDEV_POP STDDEV_SAMP VAR_POP VAR_SAMP ARRAY_AGG FIRST_VALUE LAST_VALUE
    RANK DENSE_RANK ROW_NUMBER PERCENT_RANK CUME_DIST NTILE LEAD LAG GROUPING GROUPING_ID
    """.split()
)

# Special-syntax functions Flink has (CAST(x AS T), SUBSTRING(s FROM 1 FOR 2), ...).
SPECIAL_SYNTAX_FUNCTIONS = frozenset(
    """
    CAST TRY_CAST EXTRACT SUBSTRING POSITION TRIM OVERLAY CEIL FLOOR JSON_OBJECT JSON_OBJECTAGG
    DECODE CHR INITCAP
    """.split()
)


class FlinkParser(BaseParser):
    """sqlglot's parser with Flink's types, constructors and DDL clauses."""

    FUNCTIONS = {
        **{k: v for k, v in BaseParser.FUNCTIONS.items() if k in TYPED_FUNCTIONS},
        "LOG": _build_log,
        "ROW": lambda args: exp.Struct(expressions=args),
        "TIMESTAMPADD": _build_timestampadd,
        "TIMESTAMPDIFF": _build_timestampdiff,
    }

    # ``TABLE t`` is a table argument of a table function (window TVFs), not ``SELECT * FROM t``.
    SUPPORTS_TABLE_QUERY = False
    NO_PAREN_FUNCTION_PARSERS = {
        **BaseParser.NO_PAREN_FUNCTION_PARSERS,
        "TABLE": lambda self: self._parse_table_argument(),
    }

    FUNCTION_PARSERS = {
        k: v for k, v in BaseParser.FUNCTION_PARSERS.items() if k in SPECIAL_SYNTAX_FUNCTIONS
    }

    CONSTRAINT_PARSERS = {
        **BaseParser.CONSTRAINT_PARSERS,
        "WATERMARK": lambda self: self._parse_watermark(),
        "METADATA": lambda self: self._parse_metadata_column(),
    }

    SCHEMA_UNNAMED_CONSTRAINTS = {*BaseParser.SCHEMA_UNNAMED_CONSTRAINTS, "WATERMARK"}

    # ``SELECT a FROM t MINUS SELECT ...``: MINUS is tokenized as EXCEPT; it must not be an alias.
    ID_VAR_TOKENS = BaseParser.ID_VAR_TOKENS - {TokenType.EXCEPT}
    TABLE_ALIAS_TOKENS = BaseParser.TABLE_ALIAS_TOKENS - {TokenType.EXCEPT}

    def _parse_table_argument(self) -> exp.Expression | None:
        """``TABLE t [PARTITION BY k | PARTITION BY (k1, k2)]`` as an argument -> ``exp.Table``.

        ``PARTITION BY`` (session windows) lands in the table's ``partition`` arg as
        ``Partition(expressions=[Column, ...])``. ``TABLE(f(...))`` stays a function call. In
        ``CREATE TEMPORARY TABLE`` the word is the statement's, not an argument.
        """
        before = self._tokens[self._index - 2] if self._index >= 2 else None
        if before is not None and before.text.upper() == "TEMPORARY":
            self._retreat(self._index - 1)
            return None
        if self._curr and self._curr.token_type == TokenType.L_PAREN:
            self._retreat(self._index - 1)
            return self._parse_function(optional_parens=False)
        table = self._parse_table_parts()
        if self._match(TokenType.PARTITION_BY):
            if self._match(TokenType.L_PAREN, advance=False):
                keys = self._parse_wrapped_csv(self._parse_column)
            else:
                keys = [self._parse_column()]
            table.set("partition", exp.Partition(expressions=keys))
        return table

    def _parse_watermark(self) -> exp.Expression:
        """``WATERMARK FOR ts AS e`` -> ``WatermarkColumnConstraint(this=Column, expression=e)``."""
        if not self._match(TokenType.FOR):
            self.raise_error("Expected FOR after WATERMARK")
        column = self._parse_column()
        if not self._match(TokenType.ALIAS):
            self.raise_error("Expected AS after WATERMARK FOR <column>")
        return self.expression(
            exp.WatermarkColumnConstraint(this=column, expression=self._parse_disjunction())
        )

    def _parse_metadata_column(self) -> exp.Expression:
        key = self._parse_string() if self._match(TokenType.FROM) else None
        virtual = self._match_text_seq("VIRTUAL")
        return self.expression(MetadataColumnConstraint(this=key, virtual=virtual))

    def _parse_types(
        self,
        check_func: bool = False,
        schema: bool = False,
        allow_identifiers: bool = True,
        with_collation: bool = False,
    ) -> exp.Expression | None:
        """Adds ``ROW<a INT>`` / ``ROW(a INT)`` types and a ``NOT NULL`` / ``NULL`` suffix.

        ``ROW`` types become ``DataType(STRUCT, expressions=[ColumnDef(this, kind)])`` as sqlglot's
        own ``STRUCT<...>`` does. ``INT NOT NULL`` sets ``nullable=False`` on the ``DataType``;
        ``INT NULL`` sets ``nullable=True`` (the suffix is not read where a type starts a typed
        literal, e.g. ``DATE '2020-01-01'``).
        """
        this = self._parse_row_type()
        if this is None:
            this = super()._parse_types(check_func, schema, allow_identifiers, with_collation)
        if isinstance(this, exp.DataType) and not check_func:
            if self._match_pair(TokenType.NOT, TokenType.NULL):
                this.set("nullable", False)
            elif not schema and self._match(TokenType.NULL):
                this.set("nullable", True)
        return this

    def _parse_row_type(self) -> exp.Expression | None:
        curr, nxt = self._curr, self._next
        if not (curr and nxt and curr.token_type == TokenType.ROW):
            return None
        closing = {TokenType.LT: TokenType.GT, TokenType.L_PAREN: TokenType.R_PAREN}.get(
            nxt.token_type
        )
        if closing is None:
            return None
        index = self._index
        self._advance(2)

        def fields() -> list[exp.Expression]:
            parsed = self._parse_csv(self._parse_row_field)
            if not self._match(closing):
                self.raise_error(f"Expected {'>' if closing == TokenType.GT else ')'}")
            return parsed

        if closing == TokenType.R_PAREN:
            # ROW(1, 'a') is a value constructor, ROW(a INT) a type: try the type first.
            parsed = self._try_parse(fields)
            if parsed is None:
                self._retreat(index)
                return None
        elif self._match(TokenType.GT):
            parsed = []
        else:
            parsed = fields()
        return exp.DataType(this=exp.DType.STRUCT, expressions=parsed, nested=True)

    def _parse_row_field(self) -> exp.Expression | None:
        """One ``name TYPE ['description']`` of a ROW type, as a ``ColumnDef``."""
        name = self._parse_id_var(any_token=True)
        kind = self._parse_types(schema=False)
        if name is None or kind is None:
            self.raise_error("Expected a field name and type in ROW")
        description = self._parse_string()
        column = exp.ColumnDef(this=name, kind=kind)
        if description is not None:
            column.set(
                "constraints",
                [exp.ColumnConstraint(kind=exp.CommentColumnConstraint(this=description))],
            )
        return column

    def _parse_bracket(self, this: exp.Expression | None = None) -> exp.Expression | None:
        """``MAP['a', 1, 'b', 2]`` -> ``VarMap(keys=Array, values=Array)``.

        Any other ``x[i]`` stays ``Bracket(this=x, expressions=[i])`` with the index exactly as
        written: Flink arrays are 1-based and this dialect does not shift the index.
        """
        if (
            isinstance(this, exp.Column)
            and not this.table
            and not this.this.quoted
            and this.name.upper() == "MAP"
            and self._match(TokenType.L_BRACKET)
        ):
            items = self._parse_csv(self._parse_disjunction)
            if not self._match(TokenType.R_BRACKET):
                self.raise_error("Expected ]")
            if len(items) % 2:
                self.raise_error("MAP[...] needs an even number of arguments (key, value, ...)")
            varmap = self.expression(
                exp.VarMap(
                    keys=exp.Array(expressions=items[0::2]),
                    values=exp.Array(expressions=items[1::2]),
                )
            )
            return super()._parse_bracket(varmap)
        return super()._parse_bracket(this)

    def raise_error(self, message: str, token: Any = None) -> None:
        """Record the offending token's offsets so errors can point at the exact text."""
        at_end = not token and not self._curr
        token = token or self._curr or self._prev or Token.string("")
        try:
            super().raise_error(message, token)
        except Exception as error:
            _attach_span(error, token, at_end)
            raise
        if self.errors:
            _attach_span(self.errors[-1], token, at_end)


def _attach_span(error: Any, token: Token, at_end: bool) -> None:
    """Add ``start``/``end`` offsets and ``at_end`` (input ran out) to sqlglot's error details."""
    for detail in getattr(error, "errors", []):
        detail.setdefault("start", token.start)
        detail.setdefault("end", token.end)
        detail.setdefault("at_end", at_end)


class FlinkGenerator(Generator):
    """Prints trees back as Flink SQL (used by ``explain`` and error messages)."""

    TYPE_MAPPING = {
        **Generator.TYPE_MAPPING,
        exp.DType.TEXT: "STRING",
        exp.DType.VARBINARY: "BYTES",
        exp.DType.TIMESTAMPLTZ: "TIMESTAMP_LTZ",
        exp.DType.STRUCT: "ROW",
    }


class Flink(Dialect):
    """Flink SQL: case-sensitive backtick identifiers, ``''`` escapes, 1-based arrays."""

    NORMALIZATION_STRATEGY = NormalizationStrategy.CASE_SENSITIVE
    INDEX_OFFSET = 0  # indexes are kept as written (1-based); see FlinkParser._parse_bracket

    class Tokenizer(tokens.Tokenizer):
        QUOTES = ["'"]
        IDENTIFIERS = ["`"]
        IDENTIFIER_ESCAPES = ["`"]
        STRING_ESCAPES = ["'"]
        # sqlglot swallows the rest of e.g. ``SHOW ...`` / ``EXECUTE ...`` into one string token;
        # Volley parses those statements itself and needs their real tokens.
        COMMANDS: set[TokenType] = set()
        KEYWORDS = {
            # SESSION names a window function in Flink: GROUP BY SESSION(..), TABLE(SESSION(..))
            **{k: v for k, v in tokens.Tokenizer.KEYWORDS.items() if k != "SESSION"},
            "BYTES": TokenType.VARBINARY,
            "MINUS": TokenType.EXCEPT,
            "STRING": TokenType.TEXT,
            "TIMESTAMP_LTZ": TokenType.TIMESTAMPLTZ,
        }

    Parser = FlinkParser
    Generator = FlinkGenerator
