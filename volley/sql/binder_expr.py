"""Bind sqlglot expression trees to the typed IR, against a scope of input columns.

The Table API DSL, PyFlink's string expressions and SQL all arrive here as sqlglot trees. Errors
are raised while binding, so they point at the user's call: an unknown column lists the columns
that exist; a type error names the operation and the operand types.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlglot import exp

from volley.errors import PlanError, TypeMismatchError, UnknownColumnError, UnsupportedFeatureError
from volley.plan import functions as F
from volley.plan import nodes as n
from volley.plan.expressions import Call, Cast, Expr, InputRef, Literal, UdfCall
from volley.plan.types import (
    BigIntType,
    BooleanType,
    CharType,
    DataType,
    DecimalType,
    DoubleType,
    IntType,
    NullType,
    RowType,
    TimestampType,
    VarCharType,
    common_type,
)

TYPE_META = "volley_type"
UDF_META = "volley_udf"

AGGREGATES: dict[type, str] = {
    exp.Count: "count",
    exp.Sum: "sum",
    exp.Avg: "avg",
    exp.Min: "min",
    exp.Max: "max",
    exp.StddevPop: "stddev_pop",
    exp.StddevSamp: "stddev_samp",
    exp.Stddev: "stddev_samp",
    exp.VariancePop: "var_pop",
    exp.Variance: "var_samp",
    exp.First: "first_value",
    exp.Last: "last_value",
    exp.FirstValue: "first_value",
    exp.LastValue: "last_value",
}
AGGREGATE_NAMES = {
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "stddev_pop",
    "stddev_samp",
    "var_pop",
    "var_samp",
    "first_value",
    "last_value",
    "collect",
    "listagg",
    "sum0",
}

_BINARY: dict[type, str] = {
    exp.Add: "plus",
    exp.Sub: "minus",
    exp.Mul: "times",
    exp.Div: "divide",
    exp.Mod: "mod",
    exp.EQ: "eq",
    exp.NEQ: "ne",
    exp.LT: "lt",
    exp.LTE: "le",
    exp.GT: "gt",
    exp.GTE: "ge",
    exp.And: "and",
    exp.Or: "or",
}
_UNARY_FN: dict[type, str] = {
    exp.Upper: "upper",
    exp.Lower: "lower",
    exp.Abs: "abs",
    exp.Sqrt: "sqrt",
    exp.Ln: "ln",
    exp.Exp: "exp",
    exp.Floor: "floor",
    exp.Ceil: "ceil",
    exp.Length: "char_length",
    exp.Initcap: "initcap",
}


@dataclass
class ScopeColumn:
    """One column an expression may name: its name, type and table qualifier (for joins)."""

    name: str
    type: DataType
    qualifier: str | None = None
    #: a column a join USING (or NATURAL) merged into its namesake of the other side: named only
    #: qualified (``b.id``), left out of ``*``
    hidden: bool = False


@dataclass
class Scope:
    """The columns an expression may refer to (with their table qualifiers, for joins)."""

    columns: list[ScopeColumn]
    functions: Callable[[str], Any] | None = None
    #: sub-trees already computed by an operator below (group keys, aggregates, window calls)
    substitutions: list[tuple[exp.Expression, InputRef]] = field(default_factory=list)
    #: set in an aggregate's scope: columns that may appear bare (the group keys)
    grouped: bool = False
    #: the columns ``*`` stands for, in order, when not all (a join USING puts its columns
    #: first and each once)
    star: list[int] | None = None

    @staticmethod
    def of(row_type: RowType, qualifier: str | None = None, functions=None) -> Scope:
        return Scope(
            [ScopeColumn(f.name, f.data_type, qualifier) for f in row_type.fields], functions
        )

    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def resolve(self, name: str, qualifier: str | None) -> InputRef:
        matches = [
            i
            for i, c in enumerate(self.columns)
            if c.name == name and (c.qualifier == qualifier if qualifier is not None
                                   else not c.hidden)
        ]
        if len(matches) == 1:
            i = matches[0]
            return InputRef(i, name, self.columns[i].type)
        shown = f"{qualifier}.{name}" if qualifier else name
        if len(matches) > 1:
            quals = sorted({str(self.columns[i].qualifier) for i in matches})
            raise PlanError(
                f"column {shown!r} is ambiguous; it exists in {', '.join(quals)}; qualify it "
                f"(e.g. {quals[0]}.{name}) or rename one side"
            )
        raise UnknownColumnError(unknown_column_message(shown, self.names()))


def unknown_column_message(name: str, available: list[str]) -> str:
    msg = f"column {name!r} not found; available columns are: {', '.join(available) or '(none)'}"
    lowered = [a for a in available if a.lower() == name.split(".")[-1].lower()]
    close = lowered or difflib.get_close_matches(name.split(".")[-1], available, n=1)
    if close:
        msg += f"; did you mean {close[0]!r}?"
    return msg


# ------------------------------------------------------------------------------------------------


def literal_type(node: exp.Literal) -> tuple[Any, DataType]:
    text = node.this
    if node.is_string:
        return text, CharType(max(len(text), 1), nullable=False) if text else CharType(
            1, nullable=False
        )
    if re.fullmatch(r"[+-]?\d+", text):
        value = int(text)
        if -(2**31) <= value < 2**31:
            return value, IntType(nullable=False)
        if -(2**63) <= value < 2**63:
            return value, BigIntType(nullable=False)
        return Decimal(text), DecimalType(min(38, len(text.lstrip("+-"))), 0, nullable=False)
    if "e" in text.lower():
        return float(text), DoubleType(nullable=False)
    d = Decimal(text)
    digits = text.lstrip("+-").replace(".", "")
    scale = len(text.split(".")[1]) if "." in text else 0
    # Calcite counts every digit written, leading zeros included: 0.908 is DECIMAL(4, 3).
    precision = min(38, max(len(digits), scale, 1))
    return d, DecimalType(precision, scale, nullable=False)


class ExprBinder:
    """Binds expression trees in one scope. ``aggregate_hook`` handles aggregate calls."""

    def __init__(
        self,
        scope: Scope,
        aggregate_hook: Callable[[exp.Expression], Expr] | None = None,
        context: str = "this expression",
    ) -> None:
        self.scope = scope
        self.aggregate_hook = aggregate_hook
        self.context = context

    def bind(self, node: exp.Expression) -> Expr:
        if node.args.get("negate"):  # sqlglot spells `x NOT LIKE y` as Like(negate=True)
            positive = node.copy()
            positive.set("negate", None)
            return self._call("not", [self.bind(positive)])
        for tree, ref in self.scope.substitutions:
            if node is tree or (type(node) is type(tree) and node == tree):
                return ref
        method = getattr(self, f"_bind_{type(node).__name__.lower()}", None)
        if method is not None:
            return method(node)
        cls = type(node)
        if cls in _BINARY:
            return self._call(_BINARY[cls], [self.bind(node.this), self.bind(node.expression)])
        if cls in _UNARY_FN:
            return self._call(_UNARY_FN[cls], [self.bind(node.this)])
        if cls in AGGREGATES or (
            isinstance(node, exp.Anonymous) and str(node.this).lower() in AGGREGATE_NAMES
        ):
            return self._aggregate(node)
        if isinstance(node, exp.Func):
            return self._function(node)
        raise UnsupportedFeatureError(
            f"the expression {node.sql()!r} ({type(node).__name__}) is not supported by Volley yet"
        )

    # -- helpers ----------------------------------------------------------------------------------
    def _call(self, fn: str, args: list[Expr], params: tuple = ()) -> Expr:
        args = self._coerce_args(fn, args)
        try:
            t = F.infer_type(fn, [a.type for a in args])
        except TypeMismatchError as exc:
            raise TypeMismatchError(f"{exc} in {self.context}") from None
        if fn in ("round", "truncate") and isinstance(args[0].type, DecimalType):
            t = _rounded_decimal(fn, args)
        return Call(fn, tuple(args), t, params)

    def _coerce_args(self, fn: str, args: list[Expr]) -> list[Expr]:
        # comparisons of a string literal with a time or number: cast the literal
        if fn in ("eq", "ne", "lt", "le", "gt", "ge", "in", "between") and len(args) >= 2:
            target = args[0].type
            out = [args[0]]
            for a in args[1:]:
                if (
                    isinstance(a, Literal)
                    and a.type.is_string
                    and (target.is_temporal or target.is_numeric)
                ):
                    out.append(_cast_literal(a, target))
                else:
                    out.append(a)
            if (
                isinstance(args[0], Literal)
                and args[0].type.is_string
                and len(args) == 2
                and (args[1].type.is_temporal or args[1].type.is_numeric)
            ):
                out[0] = _cast_literal(args[0], args[1].type)
            return out
        return args

    def _aggregate(self, node: exp.Expression) -> Expr:
        if self.aggregate_hook is None:
            raise PlanError(
                f"aggregate {node.sql()!r} is not allowed in {self.context}; aggregates belong in "
                "a SELECT list (with GROUP BY or over the whole table) or in HAVING"
            )
        return self.aggregate_hook(node)

    # -- leaves -----------------------------------------------------------------------------------
    def _bind_column(self, node: exp.Column) -> Expr:
        name = node.name
        qualifier = node.table or None
        if not name and isinstance(node.this, exp.Star):
            raise PlanError("'*' is only allowed as a whole SELECT item")
        if qualifier and not any(c.qualifier == qualifier for c in self.scope.columns):
            # ``a.b`` may be a nested field of column a
            if any(c.name == qualifier for c in self.scope.columns):
                base = self.scope.resolve(qualifier, None)
                return self._field_access(base, name)
        ref = self.scope.resolve(name, qualifier)
        if self.scope.grouped:
            raise PlanError(
                f"column {name!r} must appear in the GROUP BY clause or be used in an aggregate "
                f"function in {self.context}"
            )
        return ref

    def _bind_identifier(self, node: exp.Identifier) -> Expr:
        return self.scope.resolve(node.name, None)

    def _bind_literal(self, node: exp.Literal) -> Expr:
        explicit = node.meta.get(TYPE_META)
        if explicit is not None:
            return Literal(node.meta.get("volley_value", node.this), explicit)
        value, t = literal_type(node)
        return Literal(value, t)

    def _bind_boolean(self, node: exp.Boolean) -> Expr:
        return Literal(bool(node.this), BooleanType(nullable=False))

    def _bind_null(self, node: exp.Null) -> Expr:
        explicit = node.meta.get(TYPE_META)
        return Literal(None, explicit.as_nullable() if explicit is not None else NullType())

    def _bind_paren(self, node: exp.Paren) -> Expr:
        return self.bind(node.this)

    def _bind_alias(self, node: exp.Alias) -> Expr:
        return self.bind(node.this)

    def _bind_neg(self, node: exp.Neg) -> Expr:
        inner = node.this
        if isinstance(inner, exp.Literal) and not inner.is_string and TYPE_META not in inner.meta:
            value, t = literal_type(exp.Literal(this="-" + inner.this, is_string=False))
            return Literal(value, t)
        return self._call("negate", [self.bind(inner)])

    def _bind_not(self, node: exp.Not) -> Expr:
        inner = node.this
        if isinstance(inner, exp.Is):
            target = inner.expression
            operand = self.bind(inner.this)
            if isinstance(target, exp.Null):
                return self._call("is_not_null", [operand])
            if isinstance(target, exp.Boolean):
                return self._call("is_not_true" if target.this else "is_not_false", [operand])
        return self._call("not", [self.bind(inner)])

    def _bind_is(self, node: exp.Is) -> Expr:
        target = node.expression
        operand = self.bind(node.this)
        if isinstance(target, exp.Null):
            return self._call("is_null", [operand])
        if isinstance(target, exp.Boolean):
            return self._call("is_true" if target.this else "is_false", [operand])
        raise UnsupportedFeatureError(f"IS {target.sql()} is not supported")

    def _bind_nullsafeeq(self, node: exp.Expression) -> Expr:
        return self._call(
            "is_not_distinct_from", [self.bind(node.this), self.bind(node.expression)]
        )

    def _bind_nullsafeneq(self, node: exp.Expression) -> Expr:
        return self._call("is_distinct_from", [self.bind(node.this), self.bind(node.expression)])

    def _bind_dpipe(self, node: exp.DPipe) -> Expr:
        return self._call("concat", [self.bind(node.this), self.bind(node.expression)])

    def _bind_in(self, node: exp.In) -> Expr:
        if node.args.get("query") is not None:
            raise UnsupportedFeatureError(
                "IN (subquery) is only supported as a WHERE condition; rewrite it as a join"
            )
        args = [self.bind(node.this)] + [self.bind(e) for e in node.expressions]
        return self._call("in", args)

    def _bind_between(self, node: exp.Between) -> Expr:
        return self._call(
            "between",
            [self.bind(node.this), self.bind(node.args["low"]), self.bind(node.args["high"])],
        )

    def _bind_like(self, node: exp.Like) -> Expr:
        return self._call("like", [self.bind(node.this), self.bind(node.expression)])

    def _bind_escape(self, node: exp.Expression) -> Expr:
        like = node.this
        return self._call(
            "like", [self.bind(like.this), self.bind(like.expression), self.bind(node.expression)]
        )

    def _bind_case(self, node: exp.Case) -> Expr:
        subject = node.this
        args: list[Expr] = []
        for when in node.args.get("ifs", []):
            cond = self.bind(when.this)
            if subject is not None:
                cond = self._call("eq", [self.bind(subject), cond])
            args += [cond, self.bind(when.args["true"])]
        default = node.args.get("default")
        args.append(self.bind(default) if default is not None else Literal(None, NullType()))
        return self._case(args)

    def _case(self, args: list[Expr]) -> Expr:
        t = F.infer_type("case", [a.type for a in args])
        if isinstance(t, CharType):  # Flink: CASE over CHAR values is VARCHAR(longest)
            t = VarCharType(t.length, nullable=t.nullable)
        return Call("case", tuple(args), t)

    def _bind_if(self, node: exp.If) -> Expr:
        false = node.args.get("false")
        return self._case(
            [
                self.bind(node.this),
                self.bind(node.args["true"]),
                self.bind(false) if false is not None else Literal(None, NullType()),
            ]
        )

    def _bind_coalesce(self, node: exp.Coalesce) -> Expr:
        return self._call(
            "coalesce", [self.bind(node.this)] + [self.bind(e) for e in node.expressions]
        )

    def _bind_nullif(self, node: exp.Nullif) -> Expr:
        return self._call("nullif", [self.bind(node.this), self.bind(node.expression)])

    def _bind_cast(self, node: exp.Cast, safe: bool = False) -> Expr:
        target = node.meta.get(TYPE_META)
        if target is None:
            target = sql_type(node.args["to"])
        operand = self.bind(node.this)
        if isinstance(operand, Literal) and operand.value is None:
            return Literal(None, target.as_nullable())
        if _is_typed_literal(node) and isinstance(target, TimestampType):
            # TIMESTAMP '... 05.678' has the precision of its fraction, as in Flink
            text = str(operand.value)
            fraction = text.rsplit(".", 1)[1] if "." in text.split(" ")[-1] else ""
            target = TimestampType(len(fraction))
        return Cast(operand, target.with_nullability(operand.type.nullable or safe), safe)

    def _bind_trycast(self, node: exp.TryCast) -> Expr:
        return self._bind_cast(node, safe=True)

    def _bind_interval(self, node: exp.Interval) -> Expr:
        value = node.this.name if isinstance(node.this, exp.Literal) else node.this.sql()
        unit = (node.unit.name if node.unit is not None else "SECOND").upper()
        return Literal(interval_millis(value, unit), BigIntType(nullable=False))

    def _bind_dot(self, node: exp.Dot) -> Expr:
        return self._field_access(self.bind(node.this), node.name)

    def _field_access(self, base: Expr, name: str) -> Expr:
        if not isinstance(base.type, RowType) or name not in base.type.names:
            raise UnknownColumnError(unknown_column_message(name, getattr(base.type, "names", [])))
        raise UnsupportedFeatureError(
            f"access to the nested field {name!r} is not supported by Volley yet"
        )

    # -- functions --------------------------------------------------------------------------------
    def _bind_substring(self, node: exp.Substring) -> Expr:
        args = [self.bind(node.this), self.bind(node.args.get("start") or exp.Literal.number(1))]
        if node.args.get("length") is not None:
            args.append(self.bind(node.args["length"]))
        return self._call("substring", args)

    def _bind_trim(self, node: exp.Trim) -> Expr:
        position = (node.args.get("position") or "BOTH").upper()
        chars = node.expression
        fn = {"BOTH": "trim", "LEADING": "ltrim", "TRAILING": "rtrim"}[position]
        if chars is None:
            return self._call(fn, [self.bind(node.this)])
        return self._call(fn + "_chars", [self.bind(node.this), self.bind(chars)])

    def _bind_concat(self, node: exp.Concat) -> Expr:
        return self._call("concat", [self.bind(e) for e in node.expressions])

    def _bind_concatws(self, node: exp.ConcatWs) -> Expr:
        return self._call("concat_ws", [self.bind(e) for e in node.expressions])

    def _bind_pow(self, node: exp.Pow) -> Expr:
        return self._call("power", [self.bind(node.this), self.bind(node.expression)])

    def _bind_round(self, node: exp.Round) -> Expr:
        args = [self.bind(node.this)]
        if node.args.get("decimals") is not None:
            args.append(self.bind(node.args["decimals"]))
        return self._call("round", args)

    def _bind_log(self, node: exp.Log) -> Expr:
        if node.expression is None:
            return self._call("ln", [self.bind(node.this)])
        return self._call("log", [self.bind(node.this), self.bind(node.expression)])

    def _bind_extract(self, node: exp.Extract) -> Expr:
        unit = node.this.name.upper()
        return self._call("extract", [self.bind(node.expression)], (unit,))

    def _bind_floor(self, node: exp.Floor) -> Expr:
        return self._floor_ceil(node, "floor")

    def _bind_ceil(self, node: exp.Ceil) -> Expr:
        return self._floor_ceil(node, "ceil")

    def _floor_ceil(self, node: exp.Expression, fn: str) -> Expr:
        operand = self.bind(node.this)
        unit = node.args.get("to")
        if unit is not None:
            return self._call(f"{fn}_time", [operand], (unit.name.upper(),))
        if node.args.get("decimals") is not None:
            raise UnsupportedFeatureError(f"{fn.upper()} with a number of digits is not supported")
        return self._call(fn, [operand])

    def _bind_timestampadd(self, node: exp.Expression) -> Expr:
        unit = node.args["unit"].name.upper()
        return self._call("timestampadd", [self.bind(node.expression), self.bind(node.this)],
                          (unit,))

    def _bind_timestampdiff(self, node: exp.Expression) -> Expr:
        # sqlglot keeps TIMESTAMPDIFF(unit, a, b) as this=b, expression=a
        unit = node.args["unit"].name.upper()
        return self._call("timestampdiff", [self.bind(node.expression), self.bind(node.this)],
                          (unit,))

    def _bind_pad(self, node: exp.Expression) -> Expr:
        fn = "lpad" if node.args.get("is_left") else "rpad"
        fill = node.args.get("fill_pattern")
        args = [self.bind(node.this), self.bind(node.expression),
                self.bind(fill) if fill is not None else Literal(" ", CharType(1, nullable=False))]
        return self._call(fn, args)

    def _bind_trunc(self, node: exp.Expression) -> Expr:
        args = [self.bind(node.this)]
        decimals = node.args.get("decimals")
        if decimals is not None:
            args.append(self.bind(decimals))
        return self._call("truncate", args)

    def _bind_similarto(self, node: exp.Expression) -> Expr:
        pattern = node.expression
        if not isinstance(pattern, exp.Literal):
            raise UnsupportedFeatureError("SIMILAR TO needs a literal pattern")
        regex = "^" + pattern.this.replace("%", ".*").replace("_", ".") + "$"
        return self._call("regexp", [self.bind(node.this), Literal(regex, VarCharType(nullable=False))])

    def _bind_localtimestamp(self, node: exp.Expression) -> Expr:
        return self._call("localtimestamp", [])

    def _bind_currentdate(self, node: exp.Expression) -> Expr:
        return self._call("current_date", [])

    def _bind_currenttimestamp(self, node: exp.Expression) -> Expr:
        return self._call("current_timestamp", [])

    def _bind_strposition(self, node: exp.Expression) -> Expr:
        return self._call("position", [self.bind(node.args["substr"]), self.bind(node.this)])

    def _bind_regexpreplace(self, node: exp.Expression) -> Expr:
        return self._call(
            "regexp_replace",
            [self.bind(node.this), self.bind(node.expression), self.bind(node.args["replacement"])],
        )

    def _bind_regexpextract(self, node: exp.Expression) -> Expr:
        args = [self.bind(node.this), self.bind(node.expression)]
        if node.args.get("group") is not None:
            args.append(self.bind(node.args["group"]))
        return self._call("regexp_extract", args)

    def _bind_anonymous(self, node: exp.Anonymous) -> Expr:
        udf = node.meta.get(UDF_META)
        name = str(node.this)
        if udf is None and self.scope.functions is not None:
            udf = self.scope.functions(name)
        if udf is not None:
            return self._udf(udf, [self.bind(a) for a in node.expressions])
        if name.lower() in AGGREGATE_NAMES:
            return self._aggregate(node)
        return self._builtin(name.lower(), node.expressions, node)

    def _function(self, node: exp.Func) -> Expr:
        name = node.sql_name().lower() if hasattr(node, "sql_name") else type(node).__name__.lower()
        if self.scope.functions is not None:
            udf = self.scope.functions(name)
            if udf is not None:
                return self._udf(udf, [self.bind(a) for a in _func_args(node)])
        return self._builtin(name, _func_args(node), node)

    _ALIASES = {
        "char_length": "char_length",
        "character_length": "char_length",
        "length": "char_length",
        "substr": "substring",
        "ceiling": "ceil",
        "pow": "power",
        "dayofmonth": "day",
        "locate": "position",
        "lcase": "lower",
        "ucase": "upper",
        "if": "if",
        "ifnull": "coalesce",
        "nvl": "coalesce",
        "mod": "mod",
        "truncate": "truncate",
        "trunc": "truncate",
        "day_of_month": "day",
        "day_of_week": "dayofweek",
        "day_of_year": "dayofyear",
        "week_of_year": "week",
    }
    _EXTRACT_FNS = {
        "year",
        "month",
        "day",
        "hour",
        "minute",
        "second",
        "quarter",
        "week",
        "dayofyear",
        "dayofweek",
    }

    def _builtin(self, name: str, arg_nodes: list[exp.Expression], node: exp.Expression) -> Expr:
        name = self._ALIASES.get(name, name)
        if name in self._EXTRACT_FNS:
            unit = {"dayofyear": "DOY", "dayofweek": "DOW"}.get(name, name.upper())
            return self._call("extract", [self.bind(a) for a in arg_nodes], (unit,))
        if name == "if":
            return self._case([self.bind(a) for a in arg_nodes])
        if F.lookup(name) is None:
            known = sorted(F.FUNCTIONS)
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {close[0].upper()}?" if close else ""
            raise PlanError(
                f"unknown function {name!r} in {self.context}{hint}; register a Python "
                "function with create_temporary_function(name, udf) or check the name"
            )
        return self._call(name, [self.bind(a) for a in arg_nodes])

    def _udf(self, udf: Any, args: list[Expr]) -> Expr:
        from volley.udf.functions import UserDefinedScalarFunction

        if not isinstance(udf, UserDefinedScalarFunction):
            raise UnsupportedFeatureError(
                f"function {getattr(udf, 'name', udf)!r} is a {type(udf).__name__}; only scalar "
                "Python functions are supported by Volley yet"
            )
        declared = udf.input_types
        if declared is not None:
            if len(declared) != len(args):
                raise TypeMismatchError(
                    f"function {udf.name!r} declares {len(declared)} input types but is called "
                    f"with {len(args)} arguments in {self.context}"
                )
            args = [
                a
                if a.type.as_nullable() == t.as_nullable()
                else Cast(a, t.with_nullability(a.type.nullable))
                for a, t in zip(args, declared, strict=True)
            ]
        return UdfCall(udf, tuple(args), udf.result_type.as_nullable())


def _rounded_decimal(fn: str, args: list[Expr]) -> DataType:
    """Flink's ROUND(DECIMAL(p, s), r) is DECIMAL(p - s + r + 1, r); TRUNCATE keeps p."""
    t: DecimalType = args[0].type  # type: ignore[assignment]
    digits = 0
    if len(args) > 1:
        if not isinstance(args[1], Literal) or not isinstance(args[1].value, int):
            raise UnsupportedFeatureError(
                f"{fn.upper()} of a DECIMAL needs a literal number of digits"
            )
        digits = args[1].value
    r = max(digits, 0)
    precision = t.precision if fn == "truncate" else t.precision - t.scale + r + 1
    return DecimalType(max(1, min(38, precision)), min(r, 38), nullable=t.nullable)


def _is_typed_literal(node: exp.Cast) -> bool:
    """``TIMESTAMP '...'`` (sqlglot builds a Cast without CAST's optional arguments)."""
    return isinstance(node.this, exp.Literal) and "safe" not in node.args


def _func_args(node: exp.Func) -> list[exp.Expression]:
    args: list[exp.Expression] = []
    for key in node.arg_types:
        value = node.args.get(key)
        if value is None:
            continue
        if isinstance(value, list):
            args.extend(value)
        elif isinstance(value, exp.Expression):
            args.append(value)
    return args


def _cast_literal(lit: Literal, target: DataType) -> Expr:
    return Cast(lit, target.with_nullability(False))


_INTERVAL_MS = {
    "MILLISECOND": 1,
    "SECOND": 1000,
    "MINUTE": 60_000,
    "HOUR": 3_600_000,
    "DAY": 86_400_000,
    "WEEK": 604_800_000,
}


def interval_millis(value: str, unit: str) -> int:
    unit = unit.upper().rstrip("S") if unit.upper() not in ("MILLISECONDS",) else "MILLISECOND"
    if unit not in _INTERVAL_MS:
        raise UnsupportedFeatureError(
            f"INTERVAL ... {unit} is not supported by Volley yet; use SECOND, MINUTE, HOUR or DAY"
        )
    return int(Decimal(value.strip()) * _INTERVAL_MS[unit])


def sql_type(node: exp.Expression) -> DataType:
    """A sqlglot DataType node -> logical type (via the SQL layer's type parser)."""
    from volley.sql.datatypes import to_data_type

    return to_data_type(node)


def result_type_of_values(types: list[DataType]) -> DataType:
    t = common_type(types)
    if t is None:
        raise TypeMismatchError(
            f"values of types {', '.join(str(x) for x in types)} have no common type"
        )
    if isinstance(t, CharType) and len({getattr(x, "length", None) for x in types}) > 1:
        return VarCharType(t.length, nullable=t.nullable)
    return t


def bind_filter(plan: n.Node, scope: Scope, condition: exp.Expression, context: str) -> n.Node:
    """``plan`` filtered by ``condition`` (WHERE, HAVING, ``Table.filter``), which must be
    BOOLEAN. It lives here, not with the query binder, so that ``Table.filter`` loads only the
    expression binder."""
    cond = ExprBinder(scope, context=context).bind(condition)
    if not isinstance(cond.type, (BooleanType,)) and not (
        isinstance(cond, Literal) and cond.value is None
    ):
        raise PlanError(
            f"a filter condition must be BOOLEAN; got {cond.type} from {condition.sql()!r}"
        )
    if isinstance(plan, n.Join):  # FROM a, b WHERE a.ts BETWEEN b.ts - ... : an interval join
        from volley.plan.time_joins import filter_join

        joined = filter_join(plan, cond)
        if joined is not None:
            return joined
    return n.Filter(plan, cond)
