"""The Table API expression DSL (``col('a') + 1``, ``.alias``, ``.sum``, ...).

An ``Expression`` wraps a sqlglot syntax tree, the same kind of tree SQL text parses into, so the
Table API, PyFlink's legacy string expressions and SQL all go through one binder
(``volley.sql.binder``). Types given explicitly (``lit(1, DataTypes.BIGINT())``, ``.cast``) and
UDF objects ride along in the tree's ``meta``.
"""

from __future__ import annotations

import datetime
import decimal
from typing import TYPE_CHECKING, Any

from volley.errors import PlanError
from volley.lazy import lazy_module
from volley.plan.types import (
    BigIntType,
    BooleanType,
    CharType,
    DataType,
    DateType,
    DecimalType,
    DoubleType,
    IntType,
    TimestampType,
    TimeType,
    VarBinaryType,
)

if TYPE_CHECKING:
    from sqlglot import exp
else:
    exp = lazy_module("sqlglot.expressions")

TYPE_META = "volley_type"
UDF_META = "volley_udf"


def literal_node(value: Any, data_type: DataType | None = None) -> exp.Expression:
    """A literal with the type PyFlink's Table API gives a Python value."""
    if data_type is None:
        data_type = _python_literal_type(value)
    if value is None:
        node: exp.Expression = exp.Null()
    elif isinstance(value, bool):
        node = exp.Boolean(this=value)
    elif isinstance(value, (int, float, decimal.Decimal)):
        node = exp.Literal.number(str(value))
    else:
        node = exp.Literal.string(str(value))
    node.meta[TYPE_META] = data_type
    node.meta["volley_value"] = value
    return node


def _python_literal_type(value: Any) -> DataType:
    if value is None:
        from volley.plan.types import NullType

        return NullType()
    if isinstance(value, bool):
        return BooleanType(nullable=False)
    if isinstance(value, int):
        return (IntType if -(2**31) <= value < 2**31 else BigIntType)(nullable=False)
    if isinstance(value, float):
        return DoubleType(nullable=False)
    if isinstance(value, decimal.Decimal):
        sign, digits, exponent = value.as_tuple()
        scale = max(0, -int(exponent))
        return DecimalType(max(len(digits), scale, 1), scale, nullable=False)
    if isinstance(value, str):  # as Java's lit("abc"): CHAR(3) NOT NULL
        return CharType(max(len(value), 1), nullable=False)
    if isinstance(value, bytes):
        return VarBinaryType(nullable=False)
    if isinstance(value, datetime.datetime):
        return TimestampType(6, nullable=False)
    if isinstance(value, datetime.date):
        return DateType(nullable=False)
    if isinstance(value, datetime.time):
        return TimeType(0, nullable=False)
    raise TypeError(f"lit() does not take a {type(value).__name__} value: {value!r}")


def _fn(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


class Expression:
    """A Table API expression. Operators build bigger expressions; nothing is evaluated here."""

    __slots__ = ("_node",)

    def __init__(self, node: exp.Expression) -> None:
        self._node = node

    @property
    def node(self) -> exp.Expression:
        return self._node

    @staticmethod
    def wrap(value: Any) -> Expression:
        if isinstance(value, Expression):
            return value
        return Expression(literal_node(value))

    @staticmethod
    def node_of(value: Any) -> exp.Expression:
        return Expression.wrap(value)._node

    def _bin(self, cls: type[exp.Expression], other: Any, reverse: bool = False) -> Expression:
        a, b = self._node, Expression.node_of(other)
        if reverse:
            a, b = b, a
        return Expression(cls(this=_paren(a), expression=_paren(b)))

    # -- arithmetic -------------------------------------------------------------------------------
    def __add__(self, o: Any) -> Expression:
        return self._bin(exp.Add, o)

    def __radd__(self, o: Any) -> Expression:
        return self._bin(exp.Add, o, True)

    def __sub__(self, o: Any) -> Expression:
        return self._bin(exp.Sub, o)

    def __rsub__(self, o: Any) -> Expression:
        return self._bin(exp.Sub, o, True)

    def __mul__(self, o: Any) -> Expression:
        return self._bin(exp.Mul, o)

    def __rmul__(self, o: Any) -> Expression:
        return self._bin(exp.Mul, o, True)

    def __truediv__(self, o: Any) -> Expression:
        return self._bin(exp.Div, o)

    def __rtruediv__(self, o: Any) -> Expression:
        return self._bin(exp.Div, o, True)

    def __mod__(self, o: Any) -> Expression:
        return self._bin(exp.Mod, o)

    def __rmod__(self, o: Any) -> Expression:
        return self._bin(exp.Mod, o, True)

    def __pow__(self, o: Any) -> Expression:
        return Expression(exp.Pow(this=self._node, expression=Expression.node_of(o)))

    def __neg__(self) -> Expression:
        return Expression(exp.Neg(this=_paren(self._node)))

    def __pos__(self) -> Expression:
        return self

    # -- comparison and logic ---------------------------------------------------------------------
    def __eq__(self, o: Any) -> Expression:  # type: ignore[override]
        return self._bin(exp.EQ, o)

    def __ne__(self, o: Any) -> Expression:  # type: ignore[override]
        return self._bin(exp.NEQ, o)

    def __lt__(self, o: Any) -> Expression:
        return self._bin(exp.LT, o)

    def __le__(self, o: Any) -> Expression:
        return self._bin(exp.LTE, o)

    def __gt__(self, o: Any) -> Expression:
        return self._bin(exp.GT, o)

    def __ge__(self, o: Any) -> Expression:
        return self._bin(exp.GTE, o)

    def __and__(self, o: Any) -> Expression:
        return self._bin(exp.And, o)

    def __rand__(self, o: Any) -> Expression:
        return self._bin(exp.And, o, True)

    def __or__(self, o: Any) -> Expression:
        return self._bin(exp.Or, o)

    def __ror__(self, o: Any) -> Expression:
        return self._bin(exp.Or, o, True)

    def __invert__(self) -> Expression:
        """PyFlink's ``~e`` is ``e IS NOT TRUE``: a NULL condition becomes TRUE, not NULL."""
        return Expression(exp.Not(this=exp.Is(this=self._node, expression=exp.true())))

    __hash__ = None  # type: ignore[assignment]

    def __bool__(self) -> bool:
        raise TypeError(
            "a Table API expression has no truth value; combine conditions with & and | "
            "(not 'and'/'or') and put each comparison in parentheses"
        )

    # -- naming and types -------------------------------------------------------------------------
    def alias(self, name: str, *extra_names: str) -> Expression:
        if extra_names:
            from volley.errors import UnsupportedFeatureError

            raise UnsupportedFeatureError(
                "alias() with several names is only for table functions, which Volley does not "
                "support yet; give one name"
            )
        return Expression(exp.Alias(this=self._node, alias=exp.to_identifier(name)))

    def cast(self, data_type: DataType) -> Expression:
        node = exp.Cast(this=self._node, to=exp.DataType.build("VARCHAR"))
        node.meta[TYPE_META] = data_type
        return Expression(node)

    def try_cast(self, data_type: DataType) -> Expression:
        node = exp.TryCast(this=self._node, to=exp.DataType.build("VARCHAR"))
        node.meta[TYPE_META] = data_type
        return Expression(node)

    # -- predicates -------------------------------------------------------------------------------
    @property
    def is_null(self) -> Expression:
        return Expression(exp.Is(this=self._node, expression=exp.Null()))

    @property
    def is_not_null(self) -> Expression:
        return Expression(exp.Not(this=exp.Is(this=self._node, expression=exp.Null())))

    @property
    def is_true(self) -> Expression:
        return Expression(exp.Is(this=self._node, expression=exp.true()))

    @property
    def is_false(self) -> Expression:
        return Expression(exp.Is(this=self._node, expression=exp.false()))

    @property
    def is_not_true(self) -> Expression:
        return Expression(exp.Not(this=exp.Is(this=self._node, expression=exp.true())))

    @property
    def is_not_false(self) -> Expression:
        return Expression(exp.Not(this=exp.Is(this=self._node, expression=exp.false())))

    def in_(self, *values: Any) -> Expression:
        return Expression(exp.In(this=self._node, expressions=[Expression.node_of(v) for v in values]))

    def not_in(self, *values: Any) -> Expression:
        return Expression(exp.Not(this=self.in_(*values).node))

    def between(self, lower: Any, upper: Any) -> Expression:
        return Expression(exp.Between(this=self._node, low=Expression.node_of(lower),
                                      high=Expression.node_of(upper)))

    def not_between(self, lower: Any, upper: Any) -> Expression:
        return Expression(exp.Not(this=self.between(lower, upper).node))

    def like(self, pattern: Any) -> Expression:
        return Expression(exp.Like(this=self._node, expression=Expression.node_of(pattern)))

    def similar(self, pattern: Any) -> Expression:
        return Expression(_fn("regexp", self._node, Expression.node_of(pattern)))

    # -- aggregates (properties, as in PyFlink) ---------------------------------------------------
    @property
    def sum(self) -> Expression:
        return Expression(exp.Sum(this=self._node))

    @property
    def sum0(self) -> Expression:
        return Expression(exp.Coalesce(this=exp.Sum(this=self._node), expressions=[exp.Literal.number(0)]))

    @property
    def avg(self) -> Expression:
        return Expression(exp.Avg(this=self._node))

    @property
    def min(self) -> Expression:
        return Expression(exp.Min(this=self._node))

    @property
    def max(self) -> Expression:
        return Expression(exp.Max(this=self._node))

    @property
    def count(self) -> Expression:
        return Expression(exp.Count(this=self._node))

    @property
    def stddev_pop(self) -> Expression:
        return Expression(exp.StddevPop(this=self._node))

    @property
    def stddev_samp(self) -> Expression:
        return Expression(exp.StddevSamp(this=self._node))

    @property
    def var_pop(self) -> Expression:
        return Expression(exp.VariancePop(this=self._node))

    @property
    def var_samp(self) -> Expression:
        return Expression(exp.Variance(this=self._node))

    @property
    def distinct(self) -> Expression:
        """``col('a').count.distinct``: make the aggregate distinct (or a DISTINCT marker)."""
        node = self._node
        if isinstance(node, exp.AggFunc):
            inner = node.this
            new = node.copy()
            new.set("this", exp.Distinct(expressions=[inner.copy()]))
            return Expression(new)
        return Expression(exp.Distinct(expressions=[node]))

    # -- OVER windows -----------------------------------------------------------------------------
    def over(self, alias: Any) -> Expression:
        """``col('b').sum.over(col('w'))``: this aggregate over the over window named ``w``
        (see ``Table.over_window``)."""
        name = Expression.node_of(alias)
        if isinstance(name, exp.Column):
            name = name.this
        elif isinstance(name, exp.Literal) and name.is_string:
            name = exp.to_identifier(name.this)
        return Expression(exp.Window(this=self._node, alias=name, over="OVER"))

    # -- ordering ---------------------------------------------------------------------------------
    # The Table API orders NULLs last ascending and first descending (unlike Flink SQL).
    @property
    def asc(self) -> Expression:
        return Expression(ordered(self._node, desc=False, nulls_first=False))

    @property
    def desc(self) -> Expression:
        return Expression(ordered(self._node, desc=True, nulls_first=True))

    @property
    def nulls_first(self) -> Expression:
        base = self._node if isinstance(self._node, exp.Ordered) else ordered(self._node, False, True)
        return Expression(ordered(base.this, bool(base.args.get("desc")), True))

    @property
    def nulls_last(self) -> Expression:
        base = self._node if isinstance(self._node, exp.Ordered) else ordered(self._node, False, False)
        return Expression(ordered(base.this, bool(base.args.get("desc")), False))

    # -- strings ----------------------------------------------------------------------------------
    @property
    def upper_case(self) -> Expression:
        return Expression(exp.Upper(this=self._node))

    @property
    def lower_case(self) -> Expression:
        return Expression(exp.Lower(this=self._node))

    @property
    def char_length(self) -> Expression:
        return Expression(_fn("char_length", self._node))

    @property
    def init_cap(self) -> Expression:
        return Expression(_fn("initcap", self._node))

    @property
    def reverse(self) -> Expression:
        return Expression(_fn("reverse", self._node))

    def trim(self, character: Any = None) -> Expression:
        if character is None:
            return Expression(_fn("trim", self._node))
        return Expression(_fn("trim_chars", self._node, Expression.node_of(character)))

    def trim_leading(self, character: Any = None) -> Expression:
        if character is None:
            return Expression(_fn("ltrim", self._node))
        return Expression(_fn("ltrim_chars", self._node, Expression.node_of(character)))

    def trim_trailing(self, character: Any = None) -> Expression:
        if character is None:
            return Expression(_fn("rtrim", self._node))
        return Expression(_fn("rtrim_chars", self._node, Expression.node_of(character)))

    @property
    def ltrim(self) -> Expression:
        return Expression(_fn("ltrim", self._node))

    @property
    def rtrim(self) -> Expression:
        return Expression(_fn("rtrim", self._node))

    def substring(self, begin_index: Any, length: Any = None) -> Expression:
        args = [self._node, Expression.node_of(begin_index)]
        if length is not None:
            args.append(Expression.node_of(length))
        return Expression(_fn("substring", *args))

    substr = substring

    def replace(self, search: Any, replacement: Any) -> Expression:
        return Expression(_fn("replace", self._node, Expression.node_of(search),
                              Expression.node_of(replacement)))

    def position(self, haystack: Any) -> Expression:
        return Expression(_fn("position", self._node, Expression.node_of(haystack)))

    def lpad(self, length: Any, pad: Any) -> Expression:
        return Expression(_fn("lpad", self._node, Expression.node_of(length), Expression.node_of(pad)))

    def rpad(self, length: Any, pad: Any) -> Expression:
        return Expression(_fn("rpad", self._node, Expression.node_of(length), Expression.node_of(pad)))

    def repeat(self, n: Any) -> Expression:
        return Expression(_fn("repeat", self._node, Expression.node_of(n)))

    def regexp_replace(self, regex: Any, replacement: Any) -> Expression:
        return Expression(_fn("regexp_replace", self._node, Expression.node_of(regex),
                              Expression.node_of(replacement)))

    def regexp_extract(self, regex: Any, extract_index: Any = None) -> Expression:
        args = [self._node, Expression.node_of(regex)]
        if extract_index is not None:
            args.append(Expression.node_of(extract_index))
        return Expression(_fn("regexp_extract", *args))

    def split_index(self, separator: Any, index: Any) -> Expression:
        return Expression(_fn("split_index", self._node, Expression.node_of(separator),
                              Expression.node_of(index)))

    # -- math -------------------------------------------------------------------------------------
    @property
    def abs(self) -> Expression:
        return Expression(exp.Abs(this=self._node))

    @property
    def sqrt(self) -> Expression:
        return Expression(exp.Sqrt(this=self._node))

    @property
    def exp(self) -> Expression:
        return Expression(exp.Exp(this=self._node))

    @property
    def ln(self) -> Expression:
        return Expression(exp.Ln(this=self._node))

    @property
    def log10(self) -> Expression:
        return Expression(_fn("log10", self._node))

    @property
    def log2(self) -> Expression:
        return Expression(_fn("log2", self._node))

    def floor(self, time_interval_unit: Any = None) -> Expression:
        node = exp.Floor(this=self._node)
        if time_interval_unit is not None:
            node.set("to", exp.var(str(getattr(time_interval_unit, "name", time_interval_unit))))
        return Expression(node)

    def ceil(self, time_interval_unit: Any = None) -> Expression:
        node = exp.Ceil(this=self._node)
        if time_interval_unit is not None:
            node.set("to", exp.var(str(getattr(time_interval_unit, "name", time_interval_unit))))
        return Expression(node)

    @property
    def sign(self) -> Expression:
        return Expression(_fn("sign", self._node))

    def power(self, other: Any) -> Expression:
        return Expression(exp.Pow(this=self._node, expression=Expression.node_of(other)))

    def round(self, places: Any = 0) -> Expression:
        return Expression(_fn("round", self._node, Expression.node_of(places)))

    def truncate(self, places: Any = 0) -> Expression:
        return Expression(_fn("truncate", self._node, Expression.node_of(places)))

    def log(self, base: Any = None) -> Expression:
        if base is None:
            return self.ln
        return Expression(_fn("log", Expression.node_of(base), self._node))

    # -- time -------------------------------------------------------------------------------------
    @property
    def to_date(self) -> Expression:
        return Expression(_fn("to_date", self._node))

    @property
    def to_timestamp(self) -> Expression:
        return Expression(_fn("to_timestamp", self._node))

    # -- time intervals (``lit(10).minutes``) and group window properties (``col('w').start``) --
    def _interval(self, unit: str) -> Expression:
        node = self._node
        value = node.meta.get("volley_value", node.name) if isinstance(node, exp.Literal) else None
        if value is None or isinstance(value, bool):
            raise PlanError(f"an interval is a number literal with a unit, as in lit(10).minutes;"
                            f" got {node.sql()!r}.{unit.lower()}s")
        return Expression(exp.Interval(this=exp.Literal.string(str(value)), unit=exp.var(unit)))

    milli = millis = property(lambda self: self._interval("MILLISECOND"))
    second = seconds = property(lambda self: self._interval("SECOND"))
    minute = minutes = property(lambda self: self._interval("MINUTE"))
    hour = hours = property(lambda self: self._interval("HOUR"))
    day = days = property(lambda self: self._interval("DAY"))
    week = weeks = property(lambda self: self._interval("WEEK"))
    month = months = property(lambda self: self._interval("MONTH"))
    quarter = quarters = property(lambda self: self._interval("QUARTER"))
    year = years = property(lambda self: self._interval("YEAR"))

    @property
    def rows(self) -> Expression:
        """A row-count interval (``lit(10).rows``), for count windows."""
        return Expression(exp.Anonymous(this="ROW_INTERVAL", expressions=[self._node]))

    def _window_property(self, name: str) -> Expression:
        node = self._node
        if not isinstance(node, exp.Column) or node.table:
            raise PlanError(f"{name} is a property of a group window alias, as in "
                            f"col('w').{name}; got {node.sql()!r}.{name}")
        return Expression(exp.column(name, table=node.name, quoted=True))

    start = property(lambda self: self._window_property("start"))
    end = property(lambda self: self._window_property("end"))
    rowtime = property(lambda self: self._window_property("rowtime"))
    proctime = property(lambda self: self._window_property("proctime"))

    # -- nested -----------------------------------------------------------------------------------
    def get(self, name_or_index: Any) -> Expression:
        if isinstance(name_or_index, str):
            return Expression(exp.Dot(this=self._node, expression=exp.to_identifier(name_or_index)))
        return Expression(exp.Bracket(this=self._node, expressions=[Expression.node_of(name_or_index)]))

    def at(self, index: Any) -> Expression:
        return self.get(index)

    def __getitem__(self, index: Any) -> Expression:
        return self.get(index)

    def __str__(self) -> str:
        return self._node.sql()

    def __repr__(self) -> str:
        return f"Expression({self._node.sql()})"


def ordered(node: exp.Expression, desc: bool, nulls_first: bool) -> exp.Ordered:
    """An ORDER BY key whose NULL placement is explicit (not SQL's default)."""
    result = exp.Ordered(this=node, desc=desc, nulls_first=nulls_first)
    result.meta["explicit_nulls"] = True
    return result


def _paren(node: exp.Expression) -> exp.Expression:
    if isinstance(node, (exp.Binary, exp.Not, exp.Neg)) and not isinstance(node, exp.Paren):
        return exp.Paren(this=node)
    return node


def udf_call(udf: Any, args: list[Expression]) -> Expression:
    node = exp.Anonymous(this=udf.name, expressions=[a.node for a in args])
    node.meta[UDF_META] = udf
    return Expression(node)


def to_node(value: Any) -> exp.Expression:
    return Expression.node_of(value)
