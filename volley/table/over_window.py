"""Over windows of the Table API: ``Over.partition_by(...).order_by(...).preceding(...)
.alias('w')`` and ``table.over_window(w).select(col('b').sum.over(col('w')))``, as in PyFlink.

An over window becomes the SQL window ``WINDOW w AS (PARTITION BY ... ORDER BY ... ROWS|RANGE
BETWEEN ... AND ...)`` that the select's ``.over(col('w'))`` calls refer to, so the Table API and
SQL share one binder. Bounds are PyFlink's: ``UNBOUNDED_ROW``/``UNBOUNDED_RANGE`` (unbounded
preceding), ``row_interval(n)`` (rows), an interval such as ``lit(1).hours`` (time),
``CURRENT_ROW``/``CURRENT_RANGE``; the 1.11 strings (``"unbounded_range"``, ``"2.rows"``,
``"1.hours"``, ``"current_row"``) work too. Without ``preceding`` a window is
``UNBOUNDED_RANGE``; without ``following`` it ends at the current row (``CURRENT_ROW`` for rows,
``CURRENT_RANGE`` for range).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from volley.errors import PlanError
from volley.lazy import lazy_module
from volley.table.expression import Expression

if TYPE_CHECKING:
    from sqlglot import exp
else:
    exp = lazy_module("sqlglot.expressions")

_LEGACY_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*\.\s*([a-z]+)\s*$", re.IGNORECASE)
_UNITS = {"year": "YEAR", "quarter": "QUARTER", "month": "MONTH", "week": "WEEK", "day": "DAY",
          "hour": "HOUR", "minute": "MINUTE", "second": "SECOND", "milli": "MILLISECOND"}


def _node(value: Any, what: str) -> exp.Expression:
    if isinstance(value, Expression):
        return value.node
    if isinstance(value, str):
        text = value.strip()
        if text.upper() in ("UNBOUNDED_ROW", "UNBOUNDED_RANGE", "CURRENT_ROW", "CURRENT_RANGE"):
            return exp.Var(this=text.upper())
        legacy = _LEGACY_INTERVAL.match(text)
        if legacy:
            number, unit = legacy.group(1), legacy.group(2).lower()
            if unit in ("row", "rows"):
                return exp.Anonymous(this="ROW_INTERVAL", expressions=[exp.Literal.number(number)])
            unit = unit[:-1] if unit.endswith("s") else unit
            if unit in _UNITS:
                return exp.Interval(this=exp.Literal.string(number), unit=exp.var(_UNITS[unit]))
        from volley.sql.parser import parse_expression

        return parse_expression(text)
    raise PlanError(f"{what} takes an expression such as col('ts') or UNBOUNDED_RANGE; got "
                    f"{value!r} of type {type(value).__name__}")


class Over:
    """Builds an over window; see the module docstring."""

    @classmethod
    def order_by(cls, order_by: Any) -> OverWindowPartitionedOrdered:
        return OverWindowPartitionedOrdered([], _node(order_by, "Over.order_by()"))

    @classmethod
    def partition_by(cls, *partition_by: Any) -> OverWindowPartitioned:
        return OverWindowPartitioned([_node(p, "Over.partition_by()") for p in partition_by])


class OverWindowPartitioned:
    """An over window with partitioning, waiting for its order."""

    def __init__(self, partition_by: list[exp.Expression]) -> None:
        self._partition_by = partition_by

    def order_by(self, order_by: Any) -> OverWindowPartitionedOrdered:
        return OverWindowPartitionedOrdered(self._partition_by, _node(order_by, "order_by()"))


class OverWindowPartitionedOrdered:
    """An over window with (optional) partitioning and an order."""

    def __init__(self, partition_by: list[exp.Expression], order_by: exp.Expression) -> None:
        self._partition_by, self._order_by = partition_by, order_by

    def preceding(self, preceding: Any) -> OverWindowPartitionedOrderedPreceding:
        return OverWindowPartitionedOrderedPreceding(self._partition_by, self._order_by,
                                                     _node(preceding, "preceding()"), None)

    def alias(self, alias: str) -> OverWindow:
        return OverWindow(alias, self._partition_by, self._order_by,
                          exp.Var(this="UNBOUNDED_RANGE"), None)


class OverWindowPartitionedOrderedPreceding:
    """An over window with (optional) partitioning, an order and a start."""

    def __init__(self, partition_by: list[exp.Expression], order_by: exp.Expression,
                 preceding: exp.Expression, following: exp.Expression | None) -> None:
        self._args = (partition_by, order_by, preceding, following)

    def following(self, following: Any) -> OverWindowPartitionedOrderedPreceding:
        partition_by, order_by, preceding, _ = self._args
        return OverWindowPartitionedOrderedPreceding(partition_by, order_by, preceding,
                                                     _node(following, "following()"))

    def alias(self, alias: str) -> OverWindow:
        return OverWindow(alias, *self._args)


class OverWindow:
    """A complete over window, named ``alias`` for ``.over(col(alias))``."""

    def __init__(self, alias: str, partition_by: list[exp.Expression], order_by: exp.Expression,
                 preceding: exp.Expression, following: exp.Expression | None) -> None:
        self.alias = alias
        self._partition_by, self._order_by = partition_by, order_by
        self._preceding, self._following = preceding, following

    def definition(self) -> exp.Window:
        """The window as SQL's ``WINDOW <alias> AS (...)`` names it."""
        mode, start, start_side = _bound(self._preceding, "preceding")
        if self._following is None:
            end, end_side = "CURRENT ROW", None
        else:
            end_mode, end, end_side = _bound(self._following, "following")
            if end_mode != mode:
                raise PlanError(
                    f"the preceding and following bounds of over window {self.alias!r} must be "
                    f"of the same kind (rows or range); got {mode.upper()} and "
                    f"{end_mode.upper()}, e.g. row_interval(2) with CURRENT_ROW, or "
                    "UNBOUNDED_RANGE with CURRENT_RANGE")
        order = self._order_by
        if not isinstance(order, exp.Ordered):
            order = exp.Ordered(this=order.copy(), nulls_first=True)
        spec = exp.WindowSpec(kind=mode.upper(), start=start, start_side=start_side, end=end,
                              end_side=end_side)
        return exp.Window(this=exp.to_identifier(self.alias),
                          partition_by=[p.copy() for p in self._partition_by],
                          order=exp.Order(expressions=[order.copy()]), spec=spec)


def _bound(node: exp.Expression, where: str) -> tuple[str, Any, str | None]:
    """(rows|range, the bound as WindowSpec holds it, PRECEDING/FOLLOWING or None)."""
    side = "PRECEDING" if where == "preceding" else "FOLLOWING"
    if isinstance(node, exp.Var):
        name = node.name.upper()
        mode = "rows" if name.endswith("_ROW") else "range"
        if name.startswith("UNBOUNDED"):
            return mode, "UNBOUNDED", side
        return mode, "CURRENT ROW", None
    if isinstance(node, exp.Anonymous) and str(node.this).upper() == "ROW_INTERVAL":
        return "rows", node.expressions[0].copy(), side
    if isinstance(node, exp.Interval):
        return "range", node.copy(), side
    raise PlanError(
        f"the {where} bound of an over window must be UNBOUNDED_ROW, UNBOUNDED_RANGE, "
        f"CURRENT_ROW, CURRENT_RANGE, row_interval(n) or an interval such as lit(1).hours; got "
        f"{node.sql()!r}")


class OverWindowedTable:
    """A table with over windows defined; ``select`` computes aggregates over them."""

    def __init__(self, table: Any, windows: tuple[OverWindow, ...]) -> None:
        """``table``: the ``Table`` the windows are defined on."""
        for w in windows:
            if not isinstance(w, OverWindow):
                raise PlanError(f"over_window() takes windows built with Over...alias('w'); "
                                f"got {w!r}")
        self._table, self._windows = table, windows

    def select(self, *fields: Any) -> Any:
        from volley.sql.binder_query import SelectRequest
        from volley.sql.parser import parse_expression_list

        items: list[exp.Expression] = []
        for f in fields:
            if isinstance(f, str):  # PyFlink's legacy string expressions
                items.extend(parse_expression_list(f))
            else:
                items.append(_node(f, "select()"))
        req = SelectRequest(items=items, auto_prefix="_c",
                            named_windows=[w.definition() for w in self._windows])
        return self._table._select(req)
