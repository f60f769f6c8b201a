"""Binding windows: the window table functions in FROM, and window aggregation.

``TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '10' MINUTE[, offset]))``, ``HOP(..., slide,
size[, offset])``, ``CUMULATE(..., step, max_size[, offset])`` and ``SESSION(TABLE t [PARTITION BY
k], DESCRIPTOR(ts), gap)``, positionally or with Flink's named arguments (``DATA => TABLE t,
TIMECOL => DESCRIPTOR(ts), SIZE => ...``), become a ``WindowTableFunction``.

A GROUP BY becomes a ``WindowAggregate`` in two cases:

* over a window table function, when it groups by ``window_start`` and ``window_end`` (and maybe
  ``window_time``): the projections and filters between the function and the aggregation move
  below it, so that the aggregation assigns the windows itself. Anything else (grouping by one
  bound only, an aggregate of a window column) stays a regular, updating aggregation, as in
  Flink;
* with a legacy group window in GROUP BY: ``TUMBLE(ts, size)``, ``HOP(ts, slide, size)`` or
  ``SESSION(ts, gap)``, whose bounds the select list reads with ``TUMBLE_START(ts, size)``,
  ``_END``, ``_ROWTIME`` and ``_PROCTIME`` (and the ``HOP_``/``SESSION_`` ones, with the same
  arguments as the window). The Table API's group windows are written in this form.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sqlglot import exp

from volley.errors import PlanError
from volley.plan import nodes as n
from volley.plan.calls import AggCall, WindowSpec
from volley.plan.expressions import Call, Cast, Expr, InputRef, Literal, UdfCall, input_refs
from volley.plan.types import DataType, LocalZonedTimestampType, TimestampType
from volley.plan.windows import WINDOW_COLUMNS, WindowAggregate, WindowTableFunction
from volley.sql.binder_expr import ExprBinder, Scope, ScopeColumn

# the arguments of each window table function, in order (Flink's parameter names)
TVF_PARAMETERS = {
    "TUMBLE": ("DATA", "TIMECOL", "SIZE", "OFFSET"),
    "HOP": ("DATA", "TIMECOL", "SLIDE", "SIZE", "OFFSET"),
    "CUMULATE": ("DATA", "TIMECOL", "STEP", "SIZE", "OFFSET"),
    "SESSION": ("DATA", "TIMECOL", "GAP"),
}
_OPTIONAL = {"OFFSET"}

# the legacy group windows: their arguments after the time attribute
GROUP_WINDOWS = {"TUMBLE": ("size",), "HOP": ("slide", "size"), "SESSION": ("gap",)}
PROPERTIES = {"START": "window_start", "END": "window_end", "ROWTIME": "window_time",
              "PROCTIME": "window_time"}
#: set on a group window call built by the Table API (its properties are typed as there)
TABLE_API_META = "volley_table_api_window"


def _name(node: exp.Expression) -> str:
    return str(node.this).upper() if isinstance(node, exp.Anonymous) else ""


# -- window table functions ----------------------------------------------------------------------


def window_tvf_call(node: exp.Expression) -> exp.Anonymous | None:
    """The TUMBLE/HOP/CUMULATE/SESSION call of ``FROM TABLE(...)``, or None."""
    if not isinstance(node, exp.Table) or _name(node.this) != "TABLE":
        return None
    args = node.this.expressions
    if len(args) == 1 and _name(args[0]) in TVF_PARAMETERS:
        return args[0]
    return None


def bind_window_tvf(call: exp.Anonymous, table_plan: Callable[[str], n.Node],
                    functions: Callable[[str], Any]) -> n.Node:
    """``TUMBLE(TABLE t, DESCRIPTOR(ts), ...)`` (or the other three) as a plan."""
    kind = _name(call)
    args = _arguments(call, kind)
    data = args["DATA"]
    if not isinstance(data, exp.Table) or data.args.get("this") is None:
        raise PlanError(f"the first argument of {kind} must be a table, as in {kind}(TABLE t, "
                        f"DESCRIPTOR(ts), ...); got {data.sql()!r}")
    name = ".".join(p.name for p in data.parts) if data.parts else data.name
    plan = table_plan(name)
    scope = Scope.of(plan.schema, functions=functions)
    binder = ExprBinder(scope, context=f"{kind}(...)")
    descriptor = args["TIMECOL"]
    if _name(descriptor) != "DESCRIPTOR" or len(descriptor.expressions) != 1:
        raise PlanError(f"the time column of {kind} is given as DESCRIPTOR(column); got "
                        f"{descriptor.sql()!r}")
    time = binder.bind(descriptor.expressions[0])
    assert isinstance(time, InputRef)
    partition = data.args.get("partition")
    if partition is not None and kind != "SESSION":
        raise PlanError(f"PARTITION BY is only for SESSION windows; {kind} has none")
    keys = tuple(_column(binder, k, "PARTITION BY").index
                 for k in (partition.expressions if partition is not None else []))

    def millis(param: str) -> int:
        return interval(binder, args[param], f"{param} of {kind}") if param in args else 0

    proctime = getattr(time.type, "time_attribute", None) == "proctime"
    spec = {"TUMBLE": lambda: WindowSpec("tumble", time.index, proctime, size=millis("SIZE"),
                                         offset=millis("OFFSET")),
            "HOP": lambda: WindowSpec("hop", time.index, proctime, size=millis("SIZE"),
                                      slide=millis("SLIDE"), offset=millis("OFFSET")),
            "CUMULATE": lambda: WindowSpec("cumulate", time.index, proctime,
                                           size=millis("SIZE"), slide=millis("STEP"),
                                           offset=millis("OFFSET")),
            "SESSION": lambda: WindowSpec("session", time.index, proctime, gap=millis("GAP"),
                                          partition_keys=keys)}[kind]()
    return WindowTableFunction(plan, spec)


def _arguments(call: exp.Anonymous, kind: str) -> dict[str, exp.Expression]:
    """The call's arguments by parameter name, whether passed by position or by name."""
    names = TVF_PARAMETERS[kind]
    args: dict[str, exp.Expression] = {}
    for position, arg in enumerate(call.expressions):
        if isinstance(arg, exp.Kwarg):
            name, value = arg.this.name.upper(), arg.expression
        elif position < len(names):
            name, value = names[position], arg
        else:
            raise PlanError(f"{kind} takes at most {len(names)} arguments "
                            f"({', '.join(names)}); got {len(call.expressions)}")
        if name not in names:
            raise PlanError(f"{kind} has no parameter {name!r}; its parameters are "
                            f"{', '.join(names)}")
        if name in args:
            raise PlanError(f"the parameter {name} of {kind} is given twice")
        args[name] = value
    missing = [p for p in names if p not in args and p not in _OPTIONAL]
    if missing:
        raise PlanError(f"{kind} needs the argument(s) {', '.join(missing)}; write "
                        f"{kind}({', '.join(p for p in names if p not in _OPTIONAL)})")
    return args


def interval(binder: ExprBinder, node: exp.Expression, what: str) -> int:
    """An INTERVAL literal in milliseconds."""
    value = binder.bind(node)
    if not isinstance(value, Literal) or not isinstance(value.value, int) \
            or not isinstance(node, exp.Interval):
        raise PlanError(f"the {what} must be an interval literal such as INTERVAL '10' MINUTE; "
                        f"got {node.sql()!r}")
    return value.value


def _column(binder: ExprBinder, node: exp.Expression, what: str) -> InputRef:
    ref = binder.bind(node)
    if not isinstance(ref, InputRef):
        raise PlanError(f"{what} takes column names; got {node.sql()!r}")
    return ref


# -- window aggregation --------------------------------------------------------------------------


def split_group_window(groups: list[exp.Expression]
                       ) -> tuple[exp.Anonymous | None, list[exp.Expression]]:
    """The legacy group window of a GROUP BY (``TUMBLE(ts, ...)``, ...) and the other keys."""
    windows = [g for g in groups if _name(g) in GROUP_WINDOWS]
    if len(windows) > 1:
        raise PlanError(f"a GROUP BY can have one group window; got "
                        f"{', '.join(w.sql() for w in windows)}")
    if not windows:
        return None, groups
    return windows[0], [g for g in groups if g is not windows[0]]


def window_aggregate(plan: n.Node, scope: Scope, window_call: exp.Anonymous | None,
                     group_exprs: list[Expr], pre_exprs: list[Expr], aggs: list[AggCall],
                     sources: list[exp.Expression]
                     ) -> tuple[n.Node, list[ScopeColumn], list[tuple]] | None:
    """The window aggregation of a GROUP BY, or None when it is a regular one.

    ``pre_exprs`` are the group keys, then the aggregates' arguments (``aggs`` index them),
    bound over ``plan``. Returns a plan whose columns are the group keys and the aggregates, as
    the binder lays out a regular aggregation, then any window bounds the legacy property
    functions read (``extra columns``), and the substitutions of those functions."""
    legacy = _LegacyWindow(window_call, scope) if window_call is not None else None
    if legacy is not None:
        base, columns, window = plan, list(range(len(plan.schema.fields))), legacy.window
        roles: list[str | None] = [None] * len(group_exprs)
    else:
        split = split_window(plan)
        if split is None:
            return None
        base, window, columns = split
        roles = [columns[e.index] if isinstance(e, InputRef) and isinstance(columns[e.index], str)
                 else None for e in group_exprs]
        if "window_start" not in roles or "window_end" not in roles:
            return None
    remapped: list[Expr] = []
    for i, e in enumerate(pre_exprs):
        if i < len(group_exprs) and roles[i] is not None:
            remapped.append(e)  # a window bound: the aggregation's own output
            continue
        if any(isinstance(columns[r], str) for r in input_refs(e)):
            return None  # it reads a window column: a regular aggregation over the windows
        remapped.append(remap_refs(e, columns))
    plain = [i for i in range(len(group_exprs)) if roles[i] is None]
    args = list(range(len(group_exprs), len(pre_exprs)))
    position = {old: new for new, old in enumerate(plain + args)}
    if any(a.arg is not None and a.arg not in position for a in aggs):
        return None  # an aggregate of a window bound
    pre_list = [remapped[i] for i in plain + args]
    time = InputRef(window.time_col, base.schema.names[window.time_col],
                    base.schema.types[window.time_col])
    pre_list.append(time)
    keys = {window.time_col: len(pre_list) - 1}
    for k in window.partition_keys:
        key = next((j for j, i in enumerate(plain)
                    if isinstance(remapped[i], InputRef) and remapped[i].index == k), None)
        if key is None:
            return None  # sessions apart by a column not grouped by: regular, as in Flink
        keys[k] = key
    pre = n.Project(base, tuple(pre_list),
                    tuple(f"$k{i}" for i in range(len(plain))) + tuple(
                        f"$a{i}" for i in range(len(args))) + ("$time",))
    window = window.remap(keys)
    if legacy is not None and window.kind == "session":
        window = replace(window, partition_keys=tuple(range(len(plain))))
    aggs = [replace(a, arg=None if a.arg is None else position[a.arg]) for a in aggs]
    aggregate = WindowAggregate(pre, window, tuple(range(len(plain))), tuple(aggs))
    return _layout(aggregate, roles, plain, legacy, sources)


def _layout(aggregate: WindowAggregate, roles: list[str | None], plain: list[int],
            legacy: _LegacyWindow | None, sources: list[exp.Expression]
            ) -> tuple[n.Node, list[ScopeColumn], list[tuple]]:
    """The aggregation's output as the binder lays out a grouping: the group keys in GROUP BY
    order (window bounds among them), the aggregates; for a legacy window, its bounds after."""
    fields = aggregate.schema.fields
    n_keys, n_aggs = len(plain), len(aggregate.aggs)
    bound = {name: n_keys + n_aggs + i for i, name in enumerate(WINDOW_COLUMNS)}
    exprs: list[Expr] = []
    for i, role in enumerate(roles):
        index = plain.index(i) if role is None else bound[role]
        exprs.append(InputRef(index, fields[index].name, fields[index].data_type))
    exprs += [InputRef(n_keys + j, fields[n_keys + j].name, fields[n_keys + j].data_type)
              for j in range(n_aggs)]
    names = [f"$g{i}" for i in range(len(roles))] + [a.name for a in aggregate.aggs]
    columns: list[ScopeColumn] = []
    subs: list[tuple] = []
    if legacy is not None:
        for node, role, data_type in legacy.properties(sources, aggregate):
            index = bound[role]
            ref = InputRef(len(exprs), f"${role}", data_type)
            exprs.append(InputRef(index, fields[index].name, data_type))
            names.append(f"${role}{len(exprs)}")
            columns.append(ScopeColumn(ref.name, data_type))
            subs.append((node, ref))
    return n.Project(aggregate, tuple(exprs), tuple(names)), columns, subs


class _LegacyWindow:
    """A GROUP BY's ``TUMBLE(ts, size)``/``HOP(ts, slide, size)``/``SESSION(ts, gap)``."""

    def __init__(self, call: exp.Anonymous, scope: Scope) -> None:
        self.call, self.kind = call, _name(call)
        expected = GROUP_WINDOWS[self.kind]
        if len(call.expressions) != 1 + len(expected):
            raise PlanError(
                f"{self.kind}(...) in GROUP BY takes a time attribute and "
                f"{' and '.join(expected)}, e.g. {self.kind}(ts, "
                f"{', '.join(['INTERVAL ' + repr('1') + ' HOUR'] * len(expected))}); got "
                f"{call.sql()!r}"
            )
        binder = ExprBinder(scope, context=f"{self.kind}(...)")
        self.time = _column(binder, call.expressions[0], f"the time attribute of {self.kind}")
        values = [interval(binder, a, f"{name} of {self.kind}")
                  for a, name in zip(call.expressions[1:], expected, strict=True)]
        proctime = getattr(self.time.type, "time_attribute", None) == "proctime"
        self.values = values
        if self.kind == "TUMBLE":
            self.window = WindowSpec("tumble", self.time.index, proctime, size=values[0])
        elif self.kind == "HOP":
            self.window = WindowSpec("hop", self.time.index, proctime, slide=values[0],
                                     size=values[1])
        else:
            # sessions per group key: the partition keys are set once the keys are known
            self.window = WindowSpec("session", self.time.index, proctime, gap=values[0])
        self.scope = scope

    def properties(self, sources: list[exp.Expression], aggregate: WindowAggregate
                   ) -> list[tuple[exp.Expression, str, DataType]]:
        """The property calls (``TUMBLE_START(ts, size)``, ...) in ``sources``: the node, the
        window column it reads, its type."""
        found = []
        for source in sources:
            for node in source.find_all(exp.Anonymous):
                name = _name(node)
                family, _, what = name.rpartition("_")
                if family not in GROUP_WINDOWS or what not in PROPERTIES:
                    continue
                if family != self.kind or not self._same_arguments(node):
                    raise PlanError(f"{node.sql()!r} does not match the group window "
                                    f"{self.call.sql()!r} of the GROUP BY; use "
                                    f"{self.kind}_{what}{self.call.sql()[len(self.kind):]}")
                found.append((node, PROPERTIES[what], self._type(what, aggregate)))
        return found

    def _same_arguments(self, node: exp.Anonymous) -> bool:
        if len(node.expressions) != len(self.call.expressions):
            return False
        binder = ExprBinder(self.scope, context=_name(node))
        time = binder.bind(node.expressions[0])
        values = [interval(binder, a, _name(node)) for a in node.expressions[1:]]
        return isinstance(time, InputRef) and time.index == self.time.index \
            and values == self.values

    def _type(self, what: str, aggregate: WindowAggregate) -> DataType:
        proctime = aggregate.window.proctime
        table_api = bool(self.call.meta.get(TABLE_API_META))
        if what in ("START", "END"):
            return TimestampType(3, nullable=table_api)
        if what == "PROCTIME" and not proctime or what == "ROWTIME" and proctime:
            raise PlanError(f"{self.kind}_{what} needs a window over "
                            f"{'processing' if what == 'PROCTIME' else 'event'} time; this "
                            f"one is over {'processing' if proctime else 'event'} time: use "
                            f"{self.kind}_{'PROCTIME' if proctime else 'ROWTIME'}")
        window_time = aggregate.schema.fields[-1].data_type
        if what == "PROCTIME":
            return window_time
        kind = getattr(window_time, "time_attribute", None)
        if isinstance(window_time, LocalZonedTimestampType):
            return LocalZonedTimestampType(3, time_attribute=kind)
        return TimestampType(3, time_attribute=kind)


# -- window columns through projections and filters ------------------------------------------------


def split_window(node: n.Node) -> tuple[n.Node, WindowSpec, list[int | str]] | None:
    """``node`` is projections and filters over a window table function: the same projections
    and filters over the function's input (``base``), the window (its columns indexing
    ``base``), and where each column of ``node`` comes from: a column of ``base``, or a window
    column's name. None when ``node`` is not that, or a projection computes from window bounds.
    """
    if isinstance(node, WindowTableFunction):
        width = len(node.input.schema.fields)
        return node.input, node.window, [*range(width), *WINDOW_COLUMNS]
    if isinstance(node, n.Filter):
        inner = split_window(node.input)
        if inner is None:
            return None
        base, window, columns = inner
        if any(isinstance(columns[i], str) for i in input_refs(node.condition)):
            return None
        return n.Filter(base, remap_refs(node.condition, columns)), window, columns
    if isinstance(node, n.Project):
        inner = split_window(node.input)
        if inner is None:
            return None
        base, window, columns = inner
        exprs: list[Expr] = []
        names: list[str] = []
        out: list[int | str] = []
        for e, name in zip(node.exprs, node.names, strict=True):
            if isinstance(e, InputRef) and isinstance(columns[e.index], str):
                out.append(columns[e.index])
                continue
            if any(isinstance(columns[i], str) for i in input_refs(e)):
                return None
            out.append(len(exprs))
            exprs.append(remap_refs(e, columns))
            names.append(name)
        # the window's own columns stay, under names of their own
        kept = {window.time_col, *window.partition_keys}
        moved = {}
        for k in sorted(kept):
            same = [j for j, e in enumerate(exprs) if isinstance(e, InputRef) and e.index == k]
            if same:
                moved[k] = same[0]
            else:
                moved[k] = len(exprs)
                exprs.append(InputRef(k, base.schema.names[k], base.schema.types[k]))
                names.append(f"$window{k}")
        return n.Project(base, tuple(exprs), tuple(names)), window.remap(moved), out
    return None


def remap_refs(e: Expr, columns: list[int | str]) -> Expr:
    """``e`` with each column reference ``i`` pointing at ``columns[i]`` (an int)."""
    if isinstance(e, InputRef):
        target = columns[e.index]
        assert isinstance(target, int)
        return e if target == e.index else replace(e, index=target)
    if isinstance(e, Call):
        return replace(e, args=tuple(remap_refs(a, columns) for a in e.args))
    if isinstance(e, UdfCall):
        return replace(e, args=tuple(remap_refs(a, columns) for a in e.args))
    if isinstance(e, Cast):
        return replace(e, operand=remap_refs(e.operand, columns))
    return e

