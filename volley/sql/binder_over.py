"""Window functions: ``ROW_NUMBER() / RANK() / DENSE_RANK()`` and aggregates ``OVER (...)``.

Each window call of a SELECT is resolved against the SELECT's named windows (``WINDOW w AS
(...)``, used as ``OVER w`` or refined as ``OVER (w ROWS 2 PRECEDING)``); calls that share a
window (partition, order and frame) become one ``OverAggregate`` node with several aggregates,
each ranking function a ``Rank`` node. The frame is read into an ``OverFrame``: ``ROWS`` offsets
count rows, ``RANGE`` offsets are numbers, or intervals (milliseconds) over a timestamp key.

Whether a window can run on a stream (ordered by a time attribute, one window per SELECT) is the
physical planner's question: batch mode runs any of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

from volley.errors import PlanError, UnsupportedFeatureError
from volley.plan import nodes as n
from volley.plan.calls import OverFrame
from volley.plan.expressions import Expr, InputRef
from volley.plan.types import (
    BigIntType,
    DataType,
    DateType,
    LocalZonedTimestampType,
    TimestampType,
)
from volley.plan.windows import as_window_rank
from volley.sql.binder_expr import ExprBinder, Scope, ScopeColumn, interval_millis

OVER_AGGREGATES = ("count", "sum", "avg", "min", "max")


@dataclass(frozen=True)
class WindowCall:
    """One window function call as the SELECT binder classified it: a ranking function
    (``rank`` is its name) or an aggregate ``fn(arg)``."""

    node: exp.Window
    rank: str | None = None
    fn: str = ""
    arg: exp.Expression | None = None
    distinct: bool = False


ResultType = Callable[[str, DataType | None], DataType]


def bind_windows(plan: n.Node, scope: Scope, calls: list[WindowCall],
                 named: list[exp.Window], result_type: ResultType) -> tuple[n.Node, Scope]:
    """Compute every window call; the scope after it substitutes each call's result."""
    definitions = _named_windows(named)
    resolved = [(c, _resolve(c.node, definitions)) for c in calls]
    groups: list[tuple[str, list[tuple[WindowCall, exp.Window]]]] = []
    for call, window in resolved:
        key = _window_key(window) if call.rank is None else f"rank{len(groups)}"
        for existing, members in groups:
            if existing == key:
                members.append((call, window))
                break
        else:
            groups.append((key, [(call, window)]))
    aggregate_windows = sum(1 for _, members in groups if members[0][0].rank is None)
    subs = list(scope.substitutions)
    columns = list(scope.columns)
    for _, members in groups:
        plan, columns, results = _bind_group(plan, scope, columns, subs, members,
                                             result_type, aggregate_windows)
        subs.extend(results)
    return plan, Scope(columns, scope.functions, subs, scope.grouped)


def _bind_group(plan: n.Node, scope: Scope, columns: list[ScopeColumn],
                subs: list[tuple[exp.Expression, InputRef]],
                members: list[tuple[WindowCall, exp.Window]], result_type: ResultType,
                aggregate_windows: int):
    """One node for the calls of one window: its extra input columns, then the node."""
    window = members[0][1]
    binder = ExprBinder(Scope(columns, scope.functions, subs, scope.grouped), context="OVER")
    width = len(columns)
    extra: list[Expr] = []

    def index_of(e: Expr) -> int:
        if isinstance(e, InputRef) and e.index < width:
            return e.index
        extra.append(e)
        return width + len(extra) - 1

    part_idx = tuple(index_of(binder.bind(p)) for p in window.args.get("partition_by") or [])
    order = window.args.get("order")
    order_keys = []
    order_types = []
    for o in (order.expressions if order is not None else []):
        bound = binder.bind(o.this)
        order_types.append(bound.type)
        order_keys.append(n.SortKey(index_of(bound), not o.args.get("desc"),
                                    o.args.get("nulls_first") if _explicit_nulls(o) else None))
    args = []
    for call, _ in members:
        arg = binder.bind(call.arg) if call.arg is not None else None
        args.append((None, None) if arg is None else (index_of(arg), arg.type))
    if extra:
        base = [InputRef(i, c.name, c.type) for i, c in enumerate(columns)]
        names = [f"$w{i}" for i in range(len(base) + len(extra))]
        plan = n.Project(plan, tuple(base + extra), tuple(names))
        columns = columns + [ScopeColumn(f"$w{width + i}", e.type) for i, e in enumerate(extra)]
    else:
        plan = _rename_positional(plan)
    results: list[tuple[exp.Expression, InputRef]] = []
    first = members[0][0]
    if first.rank is not None:
        out_name = f"$over{len(columns)}"
        plan = as_window_rank(n.Rank(plan, part_idx, tuple(order_keys), first.rank, out_name))
        out_type = BigIntType(nullable=False)
        results.append((first.node, InputRef(len(columns), out_name, out_type)))
        return plan, columns + [ScopeColumn(out_name, out_type)], results
    frame = window_frame(window, order_types)
    aggs = []
    for j, ((call, _), (arg_index, arg_type)) in enumerate(zip(members, args, strict=True)):
        out_name = f"$over{len(columns) + j}"
        aggs.append(n.AggCall(call.fn, arg_index, False, result_type(call.fn, arg_type), out_name))
    plan = n.OverAggregate(plan, part_idx, tuple(order_keys), tuple(aggs), frame,
                           aggregate_windows)
    for j, ((call, _), agg) in enumerate(zip(members, aggs, strict=True)):
        results.append((call.node, InputRef(len(columns) + j, agg.name, agg.type)))
    columns = columns + [ScopeColumn(a.name, a.type) for a in aggs]
    return plan, columns, results


def check_aggregate(call: WindowCall) -> None:
    if call.distinct or call.fn not in OVER_AGGREGATES:
        shown = call.node.this.sql()
        raise UnsupportedFeatureError(
            f"{shown!r} OVER (...) is not supported by Volley yet; use COUNT, SUM, AVG, MIN or "
            "MAX without DISTINCT, or ROW_NUMBER(), RANK(), DENSE_RANK()"
        )


# -- named windows -----------------------------------------------------------------------------


def _named_windows(named: list[exp.Window]) -> dict[str, exp.Window]:
    definitions: dict[str, exp.Window] = {}
    for w in named:
        name = w.this.name if isinstance(w.this, exp.Identifier) else str(w.this)
        if name in definitions:
            raise PlanError(f"window {name!r} is defined twice in the WINDOW clause; give the "
                            "windows distinct names")
        definitions[name] = w
    return definitions


def _resolve(window: exp.Window, definitions: dict[str, exp.Window]) -> exp.Window:
    """The window a call uses: its own specification, on top of the named window it refers
    to (``OVER w``, ``OVER (w ROWS 2 PRECEDING)``)."""
    reference = window.args.get("alias")
    if reference is None:
        return window
    name = reference.name
    if name not in definitions:
        known = ", ".join(sorted(definitions)) or "(none)"
        raise PlanError(f"window {name!r} is not defined; define it in the WINDOW clause "
                        f"(WINDOW {name} AS (PARTITION BY ... ORDER BY ...)); defined windows: "
                        f"{known}")
    base = definitions[name]
    merged = base.copy()
    for arg in ("partition_by", "order", "spec"):
        own = window.args.get(arg)
        if not own:
            continue
        if base.args.get(arg):
            what = {"partition_by": "PARTITION BY", "order": "ORDER BY", "spec": "frame"}[arg]
            raise PlanError(f"window {name!r} already has a {what}; OVER ({name} ...) cannot "
                            "give it another")
        merged.set(arg, own.copy() if isinstance(own, exp.Expression) else
                   [x.copy() for x in own])
    return merged


def _window_key(window: exp.Window) -> str:
    parts = [window.args.get("partition_by") or [], window.args.get("order"),
             window.args.get("spec")]
    return "|".join(
        ",".join(p.sql() for p in part) if isinstance(part, list) else
        (part.sql() if part is not None else "") for part in parts)


# -- frames ------------------------------------------------------------------------------------


def window_frame(window: exp.Window, order_types: list[DataType]) -> OverFrame:
    """The frame of a window; without a frame clause the running one (RANGE UNBOUNDED
    PRECEDING to CURRENT ROW) with an ORDER BY, else the whole partition."""
    spec = window.args.get("spec")
    if spec is None:
        return OverFrame("range", None, 0 if order_types else None)
    mode = str(spec.args.get("kind") or "").lower()
    if mode not in ("rows", "range"):
        raise UnsupportedFeatureError(f"the window frame {spec.sql()!r} is not supported; use "
                                      "ROWS or RANGE")
    start = _bound(spec, "start", mode, order_types)
    end = _bound(spec, "end", mode, order_types) if spec.args.get("end") is not None else 0
    if start is not None and end is not None and start > end or \
            spec.args.get("start") is not None and str(spec.args.get("start")).upper() == \
            "UNBOUNDED" and str(spec.args.get("start_side") or "").upper() == "FOLLOWING":
        raise PlanError(f"the window frame {spec.sql()!r} is empty: its start comes after its "
                        "end; e.g. ROWS BETWEEN 2 PRECEDING AND CURRENT ROW")
    return OverFrame(mode, start, end)


def _bound(spec: exp.WindowSpec, which: str, mode: str,
           order_types: list[DataType]) -> int | float | None:
    value = spec.args.get(which)
    side = str(spec.args.get(f"{which}_side") or "").upper()
    text = str(value).upper() if isinstance(value, str) else None
    if text == "UNBOUNDED":
        if (which == "start") != (side == "PRECEDING"):
            raise PlanError(f"UNBOUNDED {side} cannot be the {which} of a window frame; "
                            f"got {spec.sql()!r}")
        return None
    if text == "CURRENT ROW":
        return 0
    sign = -1 if side == "PRECEDING" else 1
    if mode == "rows":
        if not (isinstance(value, exp.Literal) and not value.is_string
                and value.this.isdigit()):
            raise PlanError(f"a ROWS frame counts rows: its offset must be a non-negative "
                            f"integer; got {value.sql() if value is not None else value!r}")
        return sign * int(value.this)
    if len(order_types) != 1:
        raise PlanError(f"a RANGE frame with an offset ({spec.sql()!r}) needs exactly one "
                        "ORDER BY key")
    key = order_types[0]
    is_time = isinstance(key, (TimestampType, LocalZonedTimestampType))
    if isinstance(value, exp.Interval):
        is_date = isinstance(key, DateType)
        if not (is_time or is_date):
            raise PlanError(f"Data Type mismatch between ORDER BY and RANGE clause: an "
                            f"INTERVAL offset needs a TIMESTAMP or DATE ORDER BY key; got {key}")
        unit = value.unit
        if not isinstance(unit, exp.Var):
            raise UnsupportedFeatureError(
                f"the interval {value.sql()!r} is not supported in a window frame; use a single "
                "unit, e.g. INTERVAL '90' MINUTE")
        millis = interval_millis(value.this.name, unit.name)
        if is_date:  # a DATE key counts days
            if millis % _DAY_MS:
                raise PlanError(f"a RANGE frame over a DATE moves in whole days; got "
                                f"{value.sql()!r}, e.g. use INTERVAL '1' DAY")
            return sign * (millis // _DAY_MS)
        return sign * millis
    if isinstance(value, exp.Literal) and not value.is_string and not is_time and \
            key.type_name().split("(")[0] in _NUMERIC_KEYS:
        number = float(value.this) if "." in value.this or "e" in value.this.lower() \
            else int(value.this)
        return sign * number
    raise PlanError(f"Data Type mismatch between ORDER BY and RANGE clause: the offset "
                    f"{value.sql() if value is not None else value!r} does not fit the ORDER BY "
                    f"key of type {key}; use a number for a numeric key, an INTERVAL for a "
                    "TIMESTAMP")


_DAY_MS = 86_400_000
_NUMERIC_KEYS = {"TINYINT", "SMALLINT", "INT", "INTEGER", "BIGINT", "FLOAT", "DOUBLE",
                 "DECIMAL", "REAL"}


def _explicit_nulls(ordered: exp.Ordered) -> bool:
    return ordered.meta.get("explicit_nulls", False) or "NULLS" in ordered.sql().upper()


def _rename_positional(plan: n.Node) -> n.Node:
    """Give columns unique internal names (a scope may hold duplicates, e.g. after a join)."""
    names = plan.schema.names
    if len(set(names)) == len(names):
        return plan
    refs = [InputRef(i, f.name, f.data_type) for i, f in enumerate(plan.schema.fields)]
    return n.Project(plan, tuple(refs), tuple(f"$c{i}" for i in range(len(refs))))
