"""Functions that build Table API expressions: ``col``, ``lit``, ``call``, ``if_then_else``, ...

Mirrors ``pyflink.table.expressions``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from volley.lazy import lazy_module
from volley.plan.types import DataType
from volley.table.expression import UDF_META, Expression, literal_node, to_node

if TYPE_CHECKING:
    from sqlglot import exp
else:
    exp = lazy_module("sqlglot.expressions")


def col(name: str) -> Expression:
    if name == "*":
        return Expression(exp.Star())
    if "." in name and not name.startswith("`"):
        table, column = name.split(".", 1)
        return Expression(exp.column(column, table=table, quoted=True))
    return Expression(exp.column(name.strip("`"), quoted=True))


column = col


def lit(value: Any, data_type: DataType | None = None) -> Expression:
    return Expression(literal_node(value, data_type))


def call(f: Any, *args: Any) -> Expression:
    """Call a registered function by name, or a UDF object directly."""
    if isinstance(f, str):
        node = exp.Anonymous(this=f, expressions=[to_node(a) for a in args])
        return Expression(node)
    node = exp.Anonymous(this=f.name, expressions=[to_node(a) for a in args])
    node.meta[UDF_META] = f
    return Expression(node)


def call_sql(sql_expression: str) -> Expression:
    """An expression written in SQL, e.g. ``call_sql("UPPER(name)")``."""
    from volley.sql.parser import parse_expression

    return Expression(parse_expression(sql_expression))


def if_then_else(condition: Any, if_true: Any, if_false: Any) -> Expression:
    return Expression(exp.If(this=to_node(condition), true=to_node(if_true), false=to_node(if_false)))


def concat(first: Any, *others: Any) -> Expression:
    return Expression(exp.Anonymous(this="concat", expressions=[to_node(first)] + [to_node(o) for o in others]))


def concat_ws(separator: Any, first: Any, *others: Any) -> Expression:
    return Expression(exp.Anonymous(
        this="concat_ws", expressions=[to_node(separator), to_node(first)] + [to_node(o) for o in others]
    ))


def coalesce(*args: Any) -> Expression:
    nodes = [to_node(a) for a in args]
    return Expression(exp.Coalesce(this=nodes[0], expressions=nodes[1:]))


def and_(a: Any, b: Any, *rest: Any) -> Expression:
    result = Expression.wrap(a) & b
    for r in rest:
        result = result & r
    return result


def or_(a: Any, b: Any, *rest: Any) -> Expression:
    result = Expression.wrap(a) | b
    for r in rest:
        result = result | r
    return result


def not_(a: Any) -> Expression:
    return ~Expression.wrap(a)


def null_of(data_type: DataType) -> Expression:
    return Expression(literal_node(None, data_type))


def row(*values: Any) -> Expression:
    return Expression(exp.Anonymous(this="row", expressions=[to_node(v) for v in values]))


def current_date() -> Expression:
    return Expression(exp.CurrentDate())


def current_timestamp() -> Expression:
    return Expression(exp.CurrentTimestamp())


def local_timestamp() -> Expression:
    return Expression(exp.Anonymous(this="localtimestamp", expressions=[]))


def to_date(date_str: Any, format: Any = None) -> Expression:
    args = [to_node(date_str)] + ([to_node(format)] if format is not None else [])
    return Expression(exp.Anonymous(this="to_date", expressions=args))


def to_timestamp(timestamp_str: Any, format: Any = None) -> Expression:
    args = [to_node(timestamp_str)] + ([to_node(format)] if format is not None else [])
    return Expression(exp.Anonymous(this="to_timestamp", expressions=args))


def date_format(timestamp: Any, format: Any) -> Expression:
    return Expression(exp.Anonymous(this="date_format", expressions=[to_node(timestamp), to_node(format)]))


def pi() -> Expression:
    return Expression(exp.Anonymous(this="pi", expressions=[]))


def rand(seed: Any = None) -> Expression:
    return Expression(exp.Anonymous(this="rand", expressions=[] if seed is None else [to_node(seed)]))


def log(v: Any, base: Any = None) -> Expression:
    return Expression.wrap(v).log(base)


class _OverBound(Expression):
    """A bound of an over window (``Over...preceding(UNBOUNDED_RANGE)``); its syntax tree is
    built when first used, so importing this module does not load sqlglot."""

    __slots__ = ("_name", "_built")

    def __init__(self, name: str) -> None:
        self._name = name
        self._built: exp.Expression | None = None

    @property  # type: ignore[override]
    def _node(self) -> exp.Expression:
        if self._built is None:
            self._built = exp.Var(this=self._name)
        return self._built


#: Over window bounds, as in PyFlink: unbounded preceding counted in rows or in range (time), and
#: the current row (``CURRENT_ROW``) or the current row with its peers (``CURRENT_RANGE``)
UNBOUNDED_ROW = _OverBound("UNBOUNDED_ROW")
UNBOUNDED_RANGE = _OverBound("UNBOUNDED_RANGE")
CURRENT_ROW = _OverBound("CURRENT_ROW")
CURRENT_RANGE = _OverBound("CURRENT_RANGE")


def row_interval(rows: int) -> Expression:
    """An interval of ``rows`` rows, for ``Over...preceding(row_interval(2))``."""
    return Expression(exp.Anonymous(this="ROW_INTERVAL", expressions=[exp.Literal.number(rows)]))


__all__ = [
    "col", "column", "lit", "call", "call_sql", "if_then_else", "concat", "concat_ws", "coalesce",
    "and_", "or_", "not_", "null_of", "row", "current_date", "current_timestamp",
    "local_timestamp", "to_date", "to_timestamp", "date_format", "pi", "rand", "log",
    "UNBOUNDED_ROW", "UNBOUNDED_RANGE", "CURRENT_ROW", "CURRENT_RANGE", "row_interval",
]
