"""Group windows of the Table API, as ``pyflink.table.window`` has them.

``table.window(Tumble.over(lit(10).minutes).on(col('ts')).alias('w'))`` groups rows into
windows of their time attribute; ``.group_by(col('w'), col('k')).select(col('k'),
col('w').start, col('w').end, col('w').rowtime, col('v').sum)`` aggregates each window and key
and emits it once, when the window closes. ``Slide.over(size).every(slide)`` makes hopping
windows, ``Session.with_gap(gap)`` session windows per key. PyFlink 1.x's strings work too:
``Tumble.over("10.minutes").on("ts").alias("w")``, ``group_by("w, k")``, ``select("k, w.start,
v.sum")``.

A group window is planned as the SQL group window it is (``GROUP BY TUMBLE(ts, INTERVAL '10'
MINUTE), k`` with ``TUMBLE_START(...)``): one window aggregation serves both. Count windows
(``lit(10).rows``) are not supported.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from volley.errors import PlanError, UnsupportedFeatureError
from volley.lazy import lazy_module
from volley.table.expression import Expression

if TYPE_CHECKING:
    from sqlglot import exp
else:
    exp = lazy_module("sqlglot.expressions")

#: a ``volley.table.table.Table`` (not imported: its ``window`` method imports this module)
Table = Any

binder_query = lazy_module("volley.sql.binder_query")
binder_windows = lazy_module("volley.sql.binder_windows")

__all__ = [
    "GroupWindow",
    "Session",
    "SessionWithGap",
    "SessionWithGapOnTime",
    "Slide",
    "SlideWithSize",
    "SlideWithSizeAndSlide",
    "SlideWithSizeAndSlideOnTime",
    "Tumble",
    "TumbleWithSize",
    "TumbleWithSizeOnTime",
]
# Over windows (``Over.partition_by(...).order_by(...).preceding(...)``) live in
# ``volley.table.over_window``; they are re-exported here, as pyflink.table.window has them.
from volley.table.over_window import (  # noqa: E402
    Over,
    OverWindow,
    OverWindowPartitioned,
    OverWindowPartitionedOrdered,
    OverWindowPartitionedOrderedPreceding,
)

__all__ += [
    "Over",
    "OverWindow",
    "OverWindowPartitioned",
    "OverWindowPartitionedOrdered",
    "OverWindowPartitionedOrderedPreceding",
]

_PROPERTIES = {"start": "START", "end": "END", "rowtime": "ROWTIME", "proctime": "PROCTIME"}
_LEGACY_DURATION = re.compile(
    r"^\s*(\d+(?:\.\d+)?)\s*\.\s*(milli|millis|second|seconds|minute|minutes|hour|hours|day|"
    r"days|week|weeks|rows?)\s*$", re.IGNORECASE)
_UNITS = {"milli": "MILLISECOND", "second": "SECOND", "minute": "MINUTE", "hour": "HOUR",
          "day": "DAY", "week": "WEEK"}


def _interval(value: Any, what: str) -> exp.Expression:
    """An interval given as ``lit(10).minutes`` or as PyFlink 1.x's ``"10.minutes"``."""
    if isinstance(value, str):
        match = _LEGACY_DURATION.match(value)
        if match is None:
            raise PlanError(f"the {what} of a group window must be an interval such as "
                            f"lit(10).minutes or '10.minutes'; got {value!r}")
        number, unit = match.group(1), match.group(2).lower()
        if unit.startswith("row"):
            node = exp.Anonymous(this="ROW_INTERVAL", expressions=[exp.Literal.number(number)])
        else:
            node = exp.Interval(this=exp.Literal.string(number),
                                unit=exp.var(_UNITS[unit.rstrip("s")]))
    elif isinstance(value, Expression):
        node = value.node
    else:
        raise PlanError(f"the {what} of a group window must be an interval such as "
                        f"lit(10).minutes; got {value!r}")
    if isinstance(node, exp.Anonymous) and str(node.this).upper() == "ROW_INTERVAL":
        raise UnsupportedFeatureError(
            "count windows (lit(n).rows) are not supported by Volley yet; use a time interval "
            "such as lit(10).minutes"
        )
    return node


def _to_nodes(fields: tuple[Any, ...]) -> list[exp.Expression]:
    """Expressions, or PyFlink 1.x strings ("w, k"), as syntax trees (as ``Table`` takes them)."""
    nodes: list[exp.Expression] = []
    for f in fields:
        if isinstance(f, str):
            from volley.sql.parser import parse_expression_list

            nodes.extend(parse_expression_list(f))
        elif isinstance(f, Expression):
            nodes.append(f.node)
        else:
            raise PlanError(f"expected a column expression such as col('a'), got {f!r} of type "
                            f"{type(f).__name__}")
    return nodes


def _time_field(value: Any) -> exp.Expression:
    if isinstance(value, str):
        from volley.sql.parser import parse_expression

        return parse_expression(value)
    if isinstance(value, Expression):
        return value.node
    raise PlanError(f"on() takes the time attribute column, as in on(col('ts')); got {value!r}")


class GroupWindow:
    """A group window with its time attribute and alias: what ``Table.window`` takes."""

    def __init__(self, kind: str, arguments: list[exp.Expression], time_field: exp.Expression,
                 alias: Any) -> None:
        alias_node = alias.node if isinstance(alias, Expression) else None
        name = alias_node.name if isinstance(alias_node, exp.Column) else alias
        if not isinstance(name, str) or not name:
            raise PlanError(f"alias() takes the window's name, as in alias('w'); got {alias!r}")
        self.kind, self.arguments, self.time_field, self.alias = kind, arguments, time_field, name

    def _call(self, suffix: str = "") -> exp.Anonymous:
        node = exp.Anonymous(this=f"{self.kind}{suffix}",
                             expressions=[self.time_field.copy()] + [a.copy()
                                                                     for a in self.arguments])
        node.meta[binder_windows.TABLE_API_META] = True
        return node

    def __repr__(self) -> str:
        return f"{self._call().sql()} AS {self.alias}"


class Tumble:
    """Tumbling windows: ``Tumble.over(lit(10).minutes).on(col('ts')).alias('w')``."""

    @staticmethod
    def over(size: Any) -> TumbleWithSize:
        return TumbleWithSize(_interval(size, "size"))


class TumbleWithSize:
    def __init__(self, size: exp.Expression) -> None:
        self._size = size

    def on(self, time_field: Any) -> TumbleWithSizeOnTime:
        return TumbleWithSizeOnTime(self._size, _time_field(time_field))


class TumbleWithSizeOnTime:
    def __init__(self, size: exp.Expression, time_field: exp.Expression) -> None:
        self._size, self._time = size, time_field

    def alias(self, alias: Any) -> GroupWindow:
        return GroupWindow("TUMBLE", [self._size], self._time, alias)


class Slide:
    """Sliding (hopping) windows: ``Slide.over(size).every(slide).on(col('ts')).alias('w')``."""

    @staticmethod
    def over(size: Any) -> SlideWithSize:
        return SlideWithSize(_interval(size, "size"))


class SlideWithSize:
    def __init__(self, size: exp.Expression) -> None:
        self._size = size

    def every(self, slide: Any) -> SlideWithSizeAndSlide:
        return SlideWithSizeAndSlide(self._size, _interval(slide, "slide"))


class SlideWithSizeAndSlide:
    def __init__(self, size: exp.Expression, slide: exp.Expression) -> None:
        self._size, self._slide = size, slide

    def on(self, time_field: Any) -> SlideWithSizeAndSlideOnTime:
        return SlideWithSizeAndSlideOnTime(self._size, self._slide, _time_field(time_field))


class SlideWithSizeAndSlideOnTime:
    def __init__(self, size: exp.Expression, slide: exp.Expression,
                 time_field: exp.Expression) -> None:
        self._size, self._slide, self._time = size, slide, time_field

    def alias(self, alias: Any) -> GroupWindow:
        return GroupWindow("HOP", [self._slide, self._size], self._time, alias)


class Session:
    """Session windows per key: ``Session.with_gap(lit(5).minutes).on(col('ts')).alias('w')``."""

    @staticmethod
    def with_gap(gap: Any) -> SessionWithGap:
        return SessionWithGap(_interval(gap, "gap"))


class SessionWithGap:
    def __init__(self, gap: exp.Expression) -> None:
        self._gap = gap

    def on(self, time_field: Any) -> SessionWithGapOnTime:
        return SessionWithGapOnTime(self._gap, _time_field(time_field))


class SessionWithGapOnTime:
    def __init__(self, gap: exp.Expression, time_field: exp.Expression) -> None:
        self._gap, self._time = gap, time_field

    def alias(self, alias: Any) -> GroupWindow:
        return GroupWindow("SESSION", [self._gap], self._time, alias)


# -- the windowed table ----------------------------------------------------------------------------


class GroupWindowedTable:
    """``table.window(w)``: group it by the window (and keys) next."""

    def __init__(self, table: Table, window: Any) -> None:
        if not isinstance(window, GroupWindow):
            raise PlanError(f"window() takes a group window such as Tumble.over(lit(10).minutes)"
                            f".on(col('ts')).alias('w'); got {window!r}")
        self._table, self._window = table, window

    def group_by(self, *fields: Any) -> WindowGroupedTable:
        keys, found = [], False
        for node in _to_nodes(fields):
            if isinstance(node, exp.Column) and not node.table and node.name == self._window.alias:
                keys.append(self._window._call())
                found = True
            else:
                keys.append(node)
        if not found:
            raise PlanError(f"group_by() of a windowed table must name the window alias "
                            f"{self._window.alias!r}, as in group_by(col('{self._window.alias}'), "
                            f"col('k'))")
        return WindowGroupedTable(self._table, self._window, keys)


class WindowGroupedTable:
    """A windowed table grouped by its window and keys: ``select`` the aggregates."""

    def __init__(self, table: Table, window: GroupWindow, keys: list[exp.Expression]) -> None:
        self._table, self._window, self._keys = table, window, keys

    def select(self, *fields: Any) -> Table:
        items = []
        counter = 0  # Flink names unnamed window properties and aggregates EXPR$0, EXPR$1, ...
        for node in _to_nodes(fields):
            node = node.transform(self._property, copy=True)
            if isinstance(node, exp.Column) and not node.table:
                if node.name == self._window.alias:
                    raise PlanError(f"the window {node.name!r} cannot be selected itself; select "
                                    f"its properties: {node.name}.start, {node.name}.end, "
                                    f"{node.name}.rowtime or {node.name}.proctime")
                items.append(node)
                continue
            if not isinstance(node, exp.Alias):
                node = exp.alias_(node, f"EXPR${counter}", quoted=True)
            counter += 1
            items.append(node)
        req = binder_query.SelectRequest(items=items, group_by=self._keys, auto_prefix="EXPR$")
        return self._table._select(req)

    def _property(self, node: exp.Expression) -> exp.Expression:
        """``w.start`` -> ``TUMBLE_START(ts, size)`` (and the other properties)."""
        if isinstance(node, exp.Column) and node.table == self._window.alias:
            what = _PROPERTIES.get(node.name.lower())
            if what is None:
                raise PlanError(f"a group window has the properties start, end, rowtime and "
                                f"proctime; got {node.sql()!r}")
            return self._window._call(f"_{what}")
        return node

    def aggregate(self, func: Any) -> Any:
        raise UnsupportedFeatureError(
            "aggregate() with a Python aggregate function over a group window is not supported "
            "by Volley yet; use select() with built-in aggregates"
        )

    def flat_aggregate(self, func: Any) -> Any:
        raise UnsupportedFeatureError("table aggregate functions over a group window are not "
                                      "supported by Volley yet")
