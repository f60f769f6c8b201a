"""Build logical plans from SELECT-shaped requests.

``build_select`` is shared by SQL (``SELECT ... FROM ... WHERE ... GROUP BY ... HAVING ...
ORDER BY ... LIMIT``) and the Table API (``select``, ``group_by(...).select``, ``filter``), so both
get the same aggregate handling, naming and errors. ``QueryBinder`` turns a whole SQL query tree
(FROM clauses, joins, set operations, VALUES, CTEs, subqueries) into a plan.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from sqlglot import exp

from volley.errors import PlanError, UnknownTableError, UnsupportedFeatureError
from volley.plan import nodes as n
from volley.plan.expressions import Call, Cast, Expr, InputRef, Literal
from volley.plan.time_joins import join_node
from volley.plan.types import BigIntType, BooleanType, RowField, RowType, common_type
from volley.plan.windows import as_window_join
from volley.sql import binder_windows
from volley.sql.binder_expr import (
    AGGREGATE_NAMES,
    AGGREGATES,
    ExprBinder,
    Scope,
    ScopeColumn,
    bind_filter,
    result_type_of_values,
)

# ------------------------------------------------------------------------------------------------
# naming
# ------------------------------------------------------------------------------------------------


def output_name(node: exp.Expression, position: int, auto_prefix: str) -> str:
    """The name Flink gives a select item: its alias, its column name, or ``EXPR$n``/``_cn``."""
    if isinstance(node, exp.Alias):
        return node.alias
    inner = node
    while isinstance(inner, exp.Paren):
        inner = inner.this
    if isinstance(inner, exp.Column) and inner.name:
        return inner.name
    if isinstance(inner, exp.Dot):
        return inner.name
    return f"{auto_prefix}{position}"


def is_aggregate(node: exp.Expression) -> bool:
    if isinstance(node, exp.Filter):
        return is_aggregate(node.this)
    return type(node) in AGGREGATES or (
        isinstance(node, exp.Anonymous) and str(node.this).lower() in AGGREGATE_NAMES
        and "volley_udf" not in node.meta
    )


def contains_aggregate(node: exp.Expression) -> bool:
    if isinstance(node, exp.Window):
        return False
    if is_aggregate(node):
        return True
    return any(contains_aggregate(c) for c in _children(node))


def _children(node: exp.Expression) -> list[exp.Expression]:
    out = []
    for v in node.args.values():
        if isinstance(v, exp.Expression):
            out.append(v)
        elif isinstance(v, list):
            out.extend(x for x in v if isinstance(x, exp.Expression))
    return out


def _find(node: exp.Expression, pred: Callable[[exp.Expression], bool],
          stop: Callable[[exp.Expression], bool] = lambda e: False) -> list[exp.Expression]:
    found = []
    if pred(node):
        return [node]
    if stop(node):
        return []
    for c in _children(node):
        found.extend(_find(c, pred, stop))
    return found


# ------------------------------------------------------------------------------------------------
# SELECT core
# ------------------------------------------------------------------------------------------------


@dataclass
class SelectRequest:
    """The clauses of one SELECT, as sqlglot trees, handed from the SQL front end and the Table
    API to the same binder."""

    items: list[exp.Expression]
    where: exp.Expression | None = None
    group_by: list[exp.Expression] | None = None
    having: exp.Expression | None = None
    distinct: bool = False
    order_by: list[exp.Expression] = field(default_factory=list)
    offset: int = 0
    fetch: int | None = None
    auto_prefix: str = "EXPR$"
    #: the WINDOW clause: named windows that OVER may refer to
    named_windows: list[exp.Expression] = field(default_factory=list)


def build_select(plan: n.Node, scope: Scope, req: SelectRequest) -> tuple[n.Node, Scope]:
    if req.where is not None:
        plan = bind_filter(plan, scope, req.where, "WHERE")
        if not isinstance(plan, n.Filter):  # the WHERE made a join an interval join
            scope = Scope([ScopeColumn(c.name, f.data_type, c.qualifier)
                           for c, f in zip(scope.columns, plan.schema.fields, strict=True)],
                          scope.functions, scope.substitutions, scope.grouped)
    items = _expand_stars(req.items, scope)
    names = _unique_names([output_name(it, i, req.auto_prefix) for i, it in enumerate(items)])
    has_agg = req.group_by is not None or any(contains_aggregate(i) for i in items) or (
        req.having is not None
    )
    windows = [w for it in items for w in _find(it, lambda e: isinstance(e, exp.Window))]
    windows = [w for i, w in enumerate(windows) if not any(w == v for v in windows[:i])]
    if has_agg:
        plan, scope = _aggregate(plan, scope, items, req)
    if windows:
        plan, scope = _windows(plan, scope, windows, req.named_windows)
    binder = ExprBinder(scope, context="SELECT")
    exprs = [binder.bind(_strip_alias(it)) for it in items]
    # ORDER BY may use select aliases, or input columns not selected (kept hidden, then dropped)
    hidden: list[Expr] = []
    sort_keys: list[n.SortKey] = []
    for o in req.order_by:
        ordered = o if isinstance(o, exp.Ordered) else exp.Ordered(this=o)
        target = ordered.this
        index = _order_target(target, items, names, exprs, binder)
        if index is None:
            hidden.append(binder.bind(target))
            index = len(exprs) + len(hidden) - 1
        desc = bool(ordered.args.get("desc"))
        nulls_first = ordered.args.get("nulls_first")
        explicit = _explicit_nulls(ordered)
        sort_keys.append(n.SortKey(index, not desc, nulls_first if explicit else None))
    all_exprs = exprs + hidden
    all_names = names + [f"$hidden{i}" for i in range(len(hidden))]
    plan = n.Project(plan, tuple(all_exprs), tuple(all_names))
    if req.distinct:
        plan = n.Aggregate(plan, tuple(range(len(all_exprs))), ())
    if sort_keys or req.offset or req.fetch is not None:
        plan = n.Sort(plan, tuple(sort_keys), req.offset, req.fetch)
    if hidden:
        plan = n.Project(plan, tuple(InputRef(i, names[i], e.type) for i, e in enumerate(exprs)),
                         tuple(names))
    return plan, Scope.of(plan.schema, functions=scope.functions)


def _explicit_nulls(ordered: exp.Ordered) -> bool:
    return ordered.meta.get("explicit_nulls", False) or "NULLS" in ordered.sql().upper()


def _order_target(target: exp.Expression, items: list[exp.Expression], names: list[str],
                  exprs: list[Expr], binder: ExprBinder) -> int | None:
    if isinstance(target, exp.Literal) and not target.is_string:
        return int(target.this) - 1
    if isinstance(target, exp.Column) and not target.table and target.name in names:
        return names.index(target.name)
    for i, it in enumerate(items):
        if _strip_alias(it) == target:
            return i
    return None


def _strip_alias(node: exp.Expression) -> exp.Expression:
    return node.this if isinstance(node, exp.Alias) else node


def _unique_names(names: list[str]) -> list[str]:
    """Repeated names get a counter from 0, as Calcite uniquifies them: ``v, v0, v1``."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        if name in seen:
            seen[name] += 1
            candidate = f"{name}{seen[name] - 2}"
            while candidate in seen:
                seen[name] += 1
                candidate = f"{name}{seen[name] - 2}"
            seen[candidate] = 1
            out.append(candidate)
        else:
            seen[name] = 1
            out.append(name)
    return out


def _expand_stars(items: list[exp.Expression], scope: Scope) -> list[exp.Expression]:
    out: list[exp.Expression] = []
    for it in items:
        if isinstance(it, exp.Star):
            shown = scope.star if scope.star is not None else [
                i for i, c in enumerate(scope.columns) if not c.hidden]
            out.extend(_column_node(scope.columns[i]) for i in shown)
        elif isinstance(it, exp.Column) and isinstance(it.this, exp.Star):
            q = it.table
            cols = [c for c in scope.columns if c.qualifier == q]
            if not cols:
                raise UnknownTableError(f"table {q!r} not found in FROM for {it.sql()!r}")
            out.extend(_column_node(c) for c in cols)
        else:
            out.append(it)
    return out


def _column_node(c: ScopeColumn) -> exp.Expression:
    return exp.column(c.name, table=c.qualifier, quoted=True) if c.qualifier else exp.column(
        c.name, quoted=True
    )


# -- aggregation -----------------------------------------------------------------------------------


def _aggregate(plan: n.Node, scope: Scope, items: list[exp.Expression],
               req: SelectRequest) -> tuple[n.Node, Scope]:
    binder = ExprBinder(scope, context="GROUP BY")
    group_nodes = [_strip_alias(g) for g in (req.group_by or [])]
    # GROUP BY may name a select alias
    alias_map = {it.alias: it.this for it in items if isinstance(it, exp.Alias)}
    resolved_groups = []
    for g in group_nodes:
        if isinstance(g, exp.Column) and not g.table and g.name not in scope.names() and (
            g.name in alias_map
        ):
            resolved_groups.append(alias_map[g.name])
        else:
            resolved_groups.append(g)
    window_call, resolved_groups = binder_windows.split_group_window(resolved_groups)
    group_exprs = [binder.bind(g) for g in resolved_groups]
    for g, e in zip(resolved_groups, group_exprs, strict=True):
        if isinstance(e.type, RowType) or e.type.type_name().startswith(("ARRAY", "MAP")):
            raise PlanError(f"cannot group by {g.sql()!r} of type {e.type}")
    agg_nodes: list[exp.Expression] = []
    sources = items + ([req.having] if req.having is not None else []) + [
        (o.this if isinstance(o, exp.Ordered) else o) for o in req.order_by
    ]
    for it in sources:
        for a in _find(it, is_aggregate, stop=lambda e: isinstance(e, exp.Window)):
            if not any(a == b for b in agg_nodes):
                agg_nodes.append(a)
    pre_exprs: list[Expr] = list(group_exprs)
    aggs: list[n.AggCall] = []
    agg_binder = ExprBinder(scope, context="an aggregate argument")
    for j, a in enumerate(agg_nodes):
        fn, arg_node, distinct = _agg_parts(a)
        if arg_node is not None and contains_aggregate(arg_node):
            raise PlanError(f"aggregate calls cannot be nested: {a.sql()!r}")
        arg_index = None
        arg_type = None
        if arg_node is not None:
            arg = agg_binder.bind(arg_node)
            arg_index = _pre_column(pre_exprs, arg)
            arg_type = arg.type
        grouped = bool(group_exprs) or window_call is not None
        aggs.append(n.AggCall(fn, arg_index, distinct, agg_result_type(fn, arg_type, grouped),
                              f"$agg{j}"))
    windowed = binder_windows.window_aggregate(plan, scope, window_call, group_exprs, pre_exprs,
                                               aggs, sources)
    window_cols: list[ScopeColumn] = []
    subs: list[tuple[exp.Expression, InputRef]] = []
    agg_plan: n.Node
    if windowed is not None:
        agg_plan, window_cols, subs = windowed
    else:
        if window_call is not None:
            raise PlanError(f"internal: the group window {window_call.sql()!r} was not planned")
        if not pre_exprs:  # e.g. COUNT(*) alone: keep a column so batches keep their row count
            pre_exprs.append(Literal(True, BooleanType(nullable=False)))
        pre_names = [f"$g{i}" for i in range(len(group_exprs))] + [
            f"$a{i}" for i in range(len(pre_exprs) - len(group_exprs))
        ]
        pre = n.Project(plan, tuple(pre_exprs), tuple(pre_names))
        agg_plan = n.Aggregate(pre, tuple(range(len(group_exprs))), tuple(aggs))
    # the scope after aggregation: group keys and aggregates are substitutions
    key_types = agg_plan.schema.types  # group keys as the aggregate emits them (materialized)
    out_cols = [ScopeColumn(f"$g{i}", key_types[i]) for i in range(len(group_exprs))] + [
        ScopeColumn(a.name, a.type) for a in aggs
    ] + window_cols
    for i, g in enumerate(resolved_groups):
        ref = InputRef(i, _group_name(g, i), key_types[i])
        subs.append((g, ref))
        if isinstance(g, exp.Column):
            subs.append((exp.column(g.name, quoted=True), ref))
            subs.append((exp.column(g.name), ref))
    for j, a in enumerate(aggs):
        subs.append((agg_nodes[j], InputRef(len(group_exprs) + j, a.name, a.type)))
    agg_scope = Scope(out_cols, scope.functions, subs, grouped=True)
    result: n.Node = agg_plan
    if req.having is not None:
        result = bind_filter(result, agg_scope, req.having, "HAVING")
    return result, agg_scope


def _pre_column(pre_exprs: list[Expr], arg: Expr) -> int:
    """The position of an aggregate's argument among the columns computed before aggregating.

    A plain column that several aggregates share (``SUM(v), AVG(v), MIN(v)``) is one column,
    so the aggregation sees one argument and folds, say, one running sum for SUM and AVG.
    Computed arguments each get their own column: they may be non-deterministic (``RAND()``,
    a UDF), and then two calls are two different values.
    """
    if isinstance(arg, InputRef) and arg in pre_exprs:
        return pre_exprs.index(arg)
    pre_exprs.append(arg)
    return len(pre_exprs) - 1


def _group_name(g: exp.Expression, i: int) -> str:
    return g.name if isinstance(g, exp.Column) else f"$g{i}"


def _agg_parts(node: exp.Expression) -> tuple[str, exp.Expression | None, bool]:
    if isinstance(node, exp.Filter):
        # AGG(x) FILTER (WHERE c) == AGG(CASE WHEN c THEN x END); COUNT(*) counts CASE ... THEN 1
        fn, arg, distinct = _agg_parts(node.this)
        condition = node.expression.this if isinstance(node.expression, exp.Where) else node.expression
        value = arg if arg is not None else exp.Literal.number(1)
        case = exp.Case(ifs=[exp.If(this=condition, true=value)])
        return fn, case, distinct
    if isinstance(node, exp.Anonymous):
        fn = str(node.this).lower()
        args = node.expressions
        arg = args[0] if args else None
    else:
        fn = AGGREGATES[type(node)]
        arg = node.this
    distinct = False
    if isinstance(arg, exp.Distinct):
        distinct = True
        arg = arg.expressions[0]
    if isinstance(arg, exp.Star) or (fn == "count" and arg is None):
        return "count", None, False
    if fn == "sum0":
        fn = "sum"
    return fn, arg, distinct


def agg_result_type(fn: str, arg_type, grouped: bool = False):
    """An aggregate's result type. Grouped, SUM/AVG/MIN/MAX of a NOT NULL argument are NOT NULL
    (every group has a row), as in Flink; over all rows they are NULL for no rows."""
    from volley.plan.types import DecimalType, DoubleType

    if fn == "count":
        return BigIntType(nullable=False)
    assert arg_type is not None
    if hasattr(arg_type, "materialized"):  # MAX(rowtime) is a plain TIMESTAMP, as in Flink
        arg_type = arg_type.materialized()
    nullable = arg_type.nullable or not grouped
    if fn in ("sum",):
        if isinstance(arg_type, DecimalType):
            return DecimalType(38, arg_type.scale, nullable=nullable)
        return arg_type.with_nullability(nullable)
    if fn == "avg":
        if isinstance(arg_type, DecimalType):
            return DecimalType(38, max(6, arg_type.scale), nullable=nullable)
        return arg_type.with_nullability(nullable)
    if fn in ("stddev_pop", "stddev_samp", "var_pop", "var_samp"):
        return DoubleType() if not arg_type.is_integral else arg_type.as_nullable()
    if fn in ("min", "max"):
        return arg_type.with_nullability(nullable)
    return arg_type.as_nullable()


# -- window functions (ROW_NUMBER/RANK/DENSE_RANK and aggregates OVER): see binder_over -------


def _windows(plan: n.Node, scope: Scope, windows: list[exp.Expression],
             named: list[exp.Expression]) -> tuple[n.Node, Scope]:
    from volley.sql.binder_over import WindowCall, bind_windows, check_aggregate

    calls = []
    for w in windows:
        fn = w.this
        rank = _rank_function(fn)
        if rank is not None:
            calls.append(WindowCall(w, rank=rank))
            continue
        if not is_aggregate(fn):
            raise UnsupportedFeatureError(
                f"the window function {fn.sql()!r} is not supported by Volley yet; supported: "
                "ROW_NUMBER(), RANK(), DENSE_RANK(), and COUNT/SUM/AVG/MIN/MAX OVER (...)"
            )
        name, arg, distinct = _agg_parts(fn)
        call = WindowCall(w, fn=name, arg=arg, distinct=distinct)
        check_aggregate(call)
        calls.append(call)
    return bind_windows(plan, scope, calls, named, agg_result_type)


def _rank_function(fn: exp.Expression) -> str | None:
    name = type(fn).__name__.lower() if not isinstance(fn, exp.Anonymous) else str(fn.this).lower()
    name = {"rownumber": "row_number", "denserank": "dense_rank"}.get(name, name)
    return name if name in n.RANK_FUNCTIONS else None


# ------------------------------------------------------------------------------------------------
# whole SQL queries
# ------------------------------------------------------------------------------------------------


class QueryBinder:
    """Turns a parsed SQL query into a plan, resolving table names through ``lookup_table``."""

    def __init__(self, lookup_table: Callable[[str], n.Node], functions: Callable[[str], Any]):
        self.lookup_table = lookup_table
        self.functions = functions
        self.ctes: dict[str, n.Node] = {}

    def bind(self, node: exp.Expression) -> n.Node:
        plan, _ = self._query(node)
        return plan

    def _query(self, node: exp.Expression) -> tuple[n.Node, Scope]:
        with_ = node.args.get("with_") or node.args.get("with")
        if with_ is not None:
            for cte in with_.expressions:
                plan, _ = self._query(cte.this)
                self.ctes[cte.alias] = plan
        if isinstance(node, exp.Select):
            return self._select(node)
        if isinstance(node, (exp.Union, exp.Intersect, exp.Except)):
            return self._set_op(node)
        if isinstance(node, exp.Subquery):
            return self._query(node.this)
        if isinstance(node, exp.Paren):
            return self._query(node.this)
        if isinstance(node, exp.Values):
            plan = self._values(node)
            return plan, Scope.of(plan.schema, functions=self.functions)
        raise UnsupportedFeatureError(f"the query form {type(node).__name__} is not supported yet")

    def _set_op(self, node: exp.Expression) -> tuple[n.Node, Scope]:
        left, _ = self._query(node.this)
        right, _ = self._query(node.expression)
        kind = {exp.Union: "union", exp.Intersect: "intersect", exp.Except: "minus"}[type(node)]
        all_rows = not node.args.get("distinct", True)
        plan: n.Node = set_operation(left, right, kind, all_rows)
        order = node.args.get("order")
        limit, offset = _limit_offset(node)
        if order is not None or limit is not None or offset:
            scope = Scope.of(plan.schema, functions=self.functions)
            keys = []
            for o in (order.expressions if order is not None else []):
                e = ExprBinder(scope, context="ORDER BY").bind(o.this)
                if not isinstance(e, InputRef):
                    raise UnsupportedFeatureError("ORDER BY of a set operation must name columns")
                keys.append(n.SortKey(e.index, not o.args.get("desc"),
                                      o.args.get("nulls_first") if _explicit_nulls(o) else None))
            plan = n.Sort(plan, tuple(keys), offset, limit)
        return plan, Scope.of(plan.schema, functions=self.functions)

    def _select(self, node: exp.Select) -> tuple[n.Node, Scope]:
        from_ = node.args.get("from_") or node.args.get("from")
        if from_ is None:
            plan = _one_row()
            scope = Scope([], self.functions)
        else:
            plan, scope = self._from(from_.this)
        for join in node.args.get("joins") or []:
            plan, scope = self._join(plan, scope, join)
        where = node.args.get("where")
        condition = where.this if where is not None else None
        if condition is not None:
            plan, scope, condition = self._subquery_conditions(plan, scope, condition)
        group = node.args.get("group")
        having = node.args.get("having")
        order = node.args.get("order")
        limit, offset = _limit_offset(node)
        plan, scope, items = self._scalar_subqueries(plan, scope, list(node.expressions))
        req = SelectRequest(
            items=items,
            where=condition,
            group_by=list(group.expressions) if group is not None else None,
            having=having.this if having is not None else None,
            distinct=bool(node.args.get("distinct")),
            order_by=list(order.expressions) if order is not None else [],
            offset=offset,
            fetch=limit,
            named_windows=list(node.args.get("windows") or []),
        )
        return build_select(plan, scope, req)

    def _scalar_subqueries(self, plan: n.Node, scope: Scope, items: list[exp.Expression]):
        """Uncorrelated scalar subqueries in the select list: cross join their single row."""
        new_items = []
        for it in items:
            subs = _find(it, lambda e: isinstance(e, exp.Subquery))
            for sq in subs:
                plan, scope, ref_node = self._scalar_subquery(plan, scope, sq.this)
                it = it.transform(lambda x, sq=sq, r=ref_node: r.copy() if x == sq else x)
            new_items.append(it)
        return plan, scope, new_items

    def _scalar_subquery(self, plan: n.Node, scope: Scope, sub: exp.Expression):
        """A scalar subquery becomes a left join: on nothing (one row), or, when correlated by
        equalities, on those columns after grouping the subquery by them."""
        if not (isinstance(sub, exp.Select) and _is_correlated(sub, scope)):
            sub_plan, _ = self._query(sub)
            return self._attach_scalar(plan, scope, sub_plan)
        uncorrelated, pairs = _decorrelate(sub, scope)
        items = uncorrelated.expressions
        if len(items) != 1 or not contains_aggregate(items[0]):
            raise UnsupportedFeatureError(
                "a correlated scalar subquery must select one aggregate (e.g. SELECT COUNT(*) "
                "... WHERE inner.k = outer.k); rewrite it as a join"
            )
        value = items[0].this if isinstance(items[0], exp.Alias) else items[0]
        keys = [p[1].copy() for p in pairs]
        uncorrelated.set("expressions", keys + [value.copy()])
        uncorrelated.set("group", exp.Group(expressions=[k.copy() for k in keys]))
        sub_plan, _ = self._query(uncorrelated)
        width = len(scope.columns)
        condition = _pairs_condition(scope, pairs, sub_plan)
        plan = n.Join(plan, sub_plan, "left", condition)
        sub_fields = sub_plan.schema.fields
        name = f"$scalar{width}"
        columns = scope.columns + [
            ScopeColumn(f"$key{width + i}", f.data_type.as_nullable(), "$scalar")
            for i, f in enumerate(sub_fields[:-1])
        ] + [ScopeColumn(name, sub_fields[-1].data_type.as_nullable(), "$scalar")]
        scope = Scope(columns, scope.functions, scope.substitutions)
        ref: exp.Expression = exp.column(name, table="$scalar", quoted=True)
        if _is_count(value):  # no matching rows: COUNT is 0, not NULL
            ref = exp.Case(ifs=[exp.If(this=exp.Is(this=ref.copy(), expression=exp.Null()),
                                       true=exp.Literal.number(0))], default=ref)
        return plan, scope, ref

    def _attach_scalar(self, plan: n.Node, scope: Scope, sub_plan: n.Node):
        if len(sub_plan.schema.fields) != 1:
            raise PlanError("a scalar subquery must return exactly one column")
        name = f"$scalar{len(scope.columns)}"
        plan = n.Join(plan, sub_plan, "left", None)
        f = sub_plan.schema.fields[0]
        scope = Scope(scope.columns + [ScopeColumn(name, f.data_type.as_nullable(), "$scalar")],
                      scope.functions, scope.substitutions)
        return plan, scope, exp.column(name, table="$scalar", quoted=True)

    def _subquery_conditions(self, plan: n.Node, scope: Scope, condition: exp.Expression):
        """IN (SELECT ...) / NOT IN / EXISTS conjuncts become semi and anti joins."""
        conjuncts = _split_and(condition)
        rest = []
        for c in conjuncts:
            negate = isinstance(c, exp.Not) or bool(c.args.get("negate"))
            inner = c.this if isinstance(c, exp.Not) else c
            if isinstance(inner, exp.In) and inner.args.get("query") is not None:
                sub_plan, _ = self._query(inner.args["query"].this if isinstance(
                    inner.args["query"], exp.Subquery) else inner.args["query"])
                if len(sub_plan.schema.fields) != 1:
                    raise PlanError("an IN subquery must return exactly one column")
                left_expr = ExprBinder(scope, context="IN").bind(inner.this)
                width = len(scope.columns)
                rf = sub_plan.schema.fields[0]
                right_ref = InputRef(width, rf.name, rf.data_type)
                cond = Call("eq", (left_expr, right_ref), BooleanType())
                plan = n.Join(plan, sub_plan, "null_aware_anti" if negate else "semi", cond)
                continue
            if isinstance(inner, exp.Exists):
                sub = inner.this
                kind = "anti" if negate else "semi"
                if _is_correlated(sub, scope):
                    uncorrelated, pairs = _decorrelate(sub, scope)
                    uncorrelated.set("expressions", [p[1].copy() for p in pairs])
                    sub_plan, _ = self._query(uncorrelated)
                    plan = as_window_join(
                        n.Join(plan, sub_plan, kind, _pairs_condition(scope, pairs, sub_plan)))
                else:
                    sub_plan, _ = self._query(sub)
                    plan = n.Join(plan, n.Sort(sub_plan, (), 0, 1), kind, None)
                continue
            scalar = _find(c, lambda e: isinstance(e, exp.Subquery))
            if scalar:
                for sq in scalar:
                    plan, scope, ref_node = self._scalar_subquery(plan, scope, sq.this)
                    c = c.transform(lambda x, sq=sq, r=ref_node: r.copy() if x == sq else x)
            rest.append(c)
        condition = None
        for c in rest:
            condition = c if condition is None else exp.And(this=condition, expression=c)
        return plan, scope, condition

    def _from(self, node: exp.Expression) -> tuple[n.Node, Scope]:
        if isinstance(node, exp.Table):
            name = ".".join(p.name for p in node.parts) if node.parts else node.name
            tvf = binder_windows.window_tvf_call(node)
            if tvf is not None:
                plan = binder_windows.bind_window_tvf(
                    tvf, lambda t: self.ctes.get(t) or self.lookup_table(t), self.functions)
                return self._aliased(plan, node, node.alias or None)
            if isinstance(node.this, exp.Anonymous) or node.args.get("this") is None:
                raise UnsupportedFeatureError(f"table function {node.sql()!r} is not supported yet")
            if node.args.get("version") is not None:
                from volley.sql.binder_time import version_outside_join

                version_outside_join(node)
            plan = self.ctes.get(name) or self.lookup_table(name)
            qualifier = node.alias or node.name
            return self._aliased(plan, node, qualifier)
        if isinstance(node, exp.Subquery):
            inner = node.this
            if isinstance(inner, exp.Values):
                plan = self._values(inner)
            else:
                plan, _ = self._query(inner)
            return self._aliased(plan, node, node.alias or None)
        if isinstance(node, exp.Values):
            plan = self._values(node)
            return self._aliased(plan, node, node.alias or None)
        raise UnsupportedFeatureError(f"FROM {node.sql()!r} is not supported by Volley yet")

    def _aliased(self, plan: n.Node, node: exp.Expression, qualifier: str | None):
        alias = node.args.get("alias")
        columns = alias.columns if alias is not None and hasattr(alias, "columns") else []
        if columns:
            names = [c.name for c in columns]
            if len(names) != len(plan.schema.fields):
                raise PlanError(
                    f"{qualifier!r} has {len(plan.schema.fields)} columns but the alias names "
                    f"{len(names)}"
                )
            refs = [InputRef(i, f.name, f.data_type) for i, f in enumerate(plan.schema.fields)]
            plan = n.Project(plan, tuple(refs), tuple(names))
        scope = Scope.of(plan.schema, qualifier, self.functions)
        return plan, scope

    def _values(self, node: exp.Values) -> n.Node:
        rows = node.expressions
        empty = Scope([], self.functions)
        binder = ExprBinder(empty, context="VALUES")
        bound = [[binder.bind(v) for v in (r.expressions if isinstance(r, exp.Tuple) else [r])]
                 for r in rows]
        width = len(bound[0])
        types = [result_type_of_values([r[i].type for r in bound]) for i in range(width)]
        alias = node.args.get("alias")
        names = [c.name for c in alias.columns] if alias is not None and alias.columns else [
            f"EXPR${i}" for i in range(width)
        ]
        from volley.runtime.evaluator import EvalContext, broadcast, compile_expr

        one = pa.record_batch([pa.array([0])], names=["x"])
        columns = []
        for i, t in enumerate(types):
            values = []
            for r in bound:
                e = r[i]
                if e.type != t:
                    e = Cast(e, t)
                values.append(broadcast(compile_expr(e, EvalContext())(one), 1))
            columns.append(pa.concat_arrays([v.cast(t.to_arrow()) for v in values]))
        row_type = RowType(tuple(RowField(nm, t) for nm, t in zip(names, types, strict=True)))
        table = pa.Table.from_arrays(columns, schema=row_type.to_arrow_schema())
        return n.Values(row_type, table)

    def _join(self, plan: n.Node, scope: Scope, join: exp.Join) -> tuple[n.Node, Scope]:
        target = join.this
        version = target.args.get("version") if isinstance(target, exp.Table) else None
        if version is not None:  # bound below; _from reads the table itself
            target = target.copy()
            target.set("version", None)
        right, right_scope = self._from(target)
        side = (join.side or "").lower()
        kind = {"": "inner", "left": "left", "right": "right", "full": "full"}.get(side)
        if join.kind and join.kind.upper() == "CROSS":
            kind = "inner"
        if kind is None:
            raise UnsupportedFeatureError(f"{join.side} JOIN is not supported")
        combined = Scope(scope.columns + [
            ScopeColumn(c.name, c.type.as_nullable() if kind in ("left", "full") else c.type, c.qualifier)
            for c in right_scope.columns
        ], self.functions)
        if kind in ("right", "full"):
            combined.columns[: len(scope.columns)] = [
                ScopeColumn(c.name, c.type.as_nullable(), c.qualifier) for c in scope.columns
            ]
        on = join.args.get("on")
        using = [ident.name for ident in join.args.get("using") or []]
        natural = str(join.args.get("method") or "").upper() == "NATURAL"
        if natural:
            if on is not None or using:
                raise PlanError("a NATURAL JOIN takes no ON or USING clause; remove it, or "
                                "drop NATURAL")
            right_names = {c.name for c in right_scope.columns if not c.hidden}
            using = [c.name for c in scope.columns if not c.hidden and c.name in right_names]
        elif on is None and not using and "pivots" in join.args and \
                not (join.kind and join.kind.upper() == "CROSS"):
            # ``a JOIN b`` with nothing after it (``a, b`` is a cross join and has no pivots)
            raise PlanError(
                f"{(join.side or 'inner').upper()} JOIN {target.sql(dialect='flink')} needs a "
                "condition (as in Flink): add ON ... or USING (...), write NATURAL JOIN to join "
                "on the columns both sides have, or CROSS JOIN for every pair"
            )
        condition = None
        if on is not None:
            condition = ExprBinder(Scope(scope.columns + right_scope.columns, self.functions),
                                   context="ON").bind(on)
        elif using:
            width = len(scope.columns)
            cond = None
            for name in using:
                lref = scope.resolve(name, None)
                r = right_scope.resolve(name, None)
                eq = Call("eq", (lref, InputRef(width + r.index, name, r.type)), BooleanType())
                cond = eq if cond is None else Call("and", (cond, eq), BooleanType())
            condition = cond
        if version is not None:
            from volley.sql.binder_time import temporal_join

            node = temporal_join(plan, scope, right, target, version, kind, condition)
        else:
            node = join_node(plan, right, kind, condition)
            if isinstance(node, n.Join):
                node = as_window_join(node)
        # the scope has the join's own types (a regular join's time attributes are plain
        # timestamps; a time-bounded join keeps them)
        combined.columns = [ScopeColumn(c.name, f.data_type, c.qualifier, c.hidden)
                            for c, f in zip(combined.columns, node.schema.fields, strict=True)]
        if using and on is None:
            node = _merge_using_columns(node, combined, scope, right_scope, using, kind)
        return node, combined


def _merge_using_columns(node: n.Node, combined: Scope, left: Scope, right: Scope,
                         using: list[str], kind: str) -> n.Node:
    """USING (and NATURAL) columns appear once, as in Flink: ``*`` gives them first, then the
    other columns of the left side and of the right; a bare name means the side whose rows
    every result row has (the left one, the right one of a RIGHT JOIN, ``COALESCE`` of both for
    a FULL JOIN, computed in a projection over the join), and each side's own column stays
    reachable qualified (``b.id``)."""
    width = len(left.columns)
    pairs = [(left.resolve(name, None).index, width + right.resolve(name, None).index)
             for name in using]
    if kind == "full":
        fields = node.schema.fields
        exprs: list[Expr] = [InputRef(i, f.name, f.data_type) for i, f in enumerate(fields)]
        kept = []
        for name, (lref, rref) in zip(using, pairs, strict=True):
            a = InputRef(lref, fields[lref].name, fields[lref].data_type)
            b = InputRef(rref, fields[rref].name, fields[rref].data_type)
            t = common_type([a.type, b.type])
            if t is None:
                raise PlanError(f"USING ({name}): the two sides' {name!r} columns have types "
                                f"{a.type} and {b.type}, which have no common type")
            exprs.append(Call("coalesce", (a, b), t.as_nullable()))
            kept.append(len(exprs) - 1)
            combined.columns.append(ScopeColumn(name, t.as_nullable(), None))
        # a join's sides may share names; a projection's columns may not
        names = _unique_names(list(node.schema.names) + using)
        node = n.Project(node, tuple(exprs), tuple(names))
        hidden = [i for pair in pairs for i in pair]
    else:
        kept = [r if kind == "right" else lf for lf, r in pairs]
        hidden = [lf if kind == "right" else r for lf, r in pairs]
    for i in hidden:
        c = combined.columns[i]
        combined.columns[i] = ScopeColumn(c.name, c.type, c.qualifier, hidden=True)
    rest = [i for i, c in enumerate(combined.columns) if not c.hidden and i not in kept]
    combined.star = kept + rest
    return node


def _is_correlated(sub: exp.Expression, scope: Scope) -> bool:
    return bool(_outer_columns(sub, scope))


def _inner_qualifiers(sub: exp.Expression) -> set[str]:
    names = set()
    for t in sub.find_all(exp.Table):
        names.add(t.alias_or_name)
    return names


def _outer_columns(sub: exp.Expression, scope: Scope) -> list[exp.Column]:
    """Columns of ``sub`` qualified by a table of the outer query (and not of ``sub`` itself)."""
    outer = {c.qualifier for c in scope.columns if c.qualifier} - _inner_qualifiers(sub)
    return [col for col in sub.find_all(exp.Column) if col.table and col.table in outer]


def _decorrelate(sub: exp.Select, scope: Scope) -> tuple[exp.Select, list[tuple]]:
    """Split ``inner = outer`` conjuncts out of the subquery's WHERE.

    Returns the subquery without them and the (outer column, inner expression) pairs.
    """
    if not isinstance(sub, exp.Select):
        raise UnsupportedFeatureError("a correlated subquery must be a simple SELECT")
    copy = sub.copy()
    where = copy.args.get("where")
    outer_names = {(c.table, c.name) for c in _outer_columns(copy, scope)}

    def is_outer(e: exp.Expression) -> bool:
        return isinstance(e, exp.Column) and (e.table, e.name) in outer_names

    pairs, rest = [], []
    for c in _split_and(where.this) if where is not None else []:
        refs_outer = any(is_outer(col) for col in c.find_all(exp.Column))
        if not refs_outer:
            rest.append(c)
            continue
        if isinstance(c, exp.EQ) and is_outer(c.expression) and not any(
            is_outer(col) for col in c.this.find_all(exp.Column)
        ):
            pairs.append((c.expression, c.this))
        elif isinstance(c, exp.EQ) and is_outer(c.this) and not any(
            is_outer(col) for col in c.expression.find_all(exp.Column)
        ):
            pairs.append((c.this, c.expression))
        else:
            raise UnsupportedFeatureError(
                f"the correlated condition {c.sql()!r} is not supported by Volley yet; only "
                "equalities between an inner and an outer column are; rewrite it as a join"
            )
    remaining = None
    for c in rest:
        remaining = c if remaining is None else exp.And(this=remaining, expression=c)
    copy.set("where", exp.Where(this=remaining) if remaining is not None else None)
    if any(is_outer(col) for col in copy.find_all(exp.Column)):
        raise UnsupportedFeatureError(
            "outer columns are only supported in the WHERE equalities of a correlated subquery"
        )
    return copy, pairs


def _pairs_condition(scope: Scope, pairs: list[tuple], sub_plan: n.Node) -> Expr:
    """``outer_i = sub.column_i`` for each correlation pair, over the joined columns."""
    width = len(scope.columns)
    binder = ExprBinder(scope, context="a correlated subquery")
    condition: Expr | None = None
    for i, (outer, _inner) in enumerate(pairs):
        left = binder.bind(outer)
        f = sub_plan.schema.fields[i]
        eq = Call("eq", (left, InputRef(width + i, f.name, f.data_type)), BooleanType())
        condition = eq if condition is None else Call("and", (condition, eq), BooleanType())
    assert condition is not None
    return condition


def _is_count(node: exp.Expression) -> bool:
    return isinstance(node, exp.Count) or (
        isinstance(node, exp.Anonymous) and str(node.this).lower() == "count"
    )


def _split_and(node: exp.Expression) -> list[exp.Expression]:
    if isinstance(node, exp.And):
        return _split_and(node.this) + _split_and(node.expression)
    if isinstance(node, exp.Paren) and isinstance(node.this, exp.And):
        return _split_and(node.this)
    return [node]


def _limit_offset(node: exp.Expression) -> tuple[int | None, int]:
    limit = node.args.get("limit")
    fetch = None
    if limit is not None:
        value = limit.expression if isinstance(limit, exp.Limit) else limit.args.get("count")
        fetch = int(value.this) if value is not None else None
    off = node.args.get("offset")
    offset = int(off.expression.this) if off is not None else 0
    return fetch, offset


def _one_row() -> n.Node:
    row_type = RowType((RowField("$one", BigIntType(nullable=False)),))
    return n.Values(row_type, pa.table({"$one": pa.array([0], pa.int64())}))


def set_operation(left: n.Node, right: n.Node, kind: str, all_rows: bool) -> n.SetOp:
    lf, rf = left.schema.fields, right.schema.fields
    if len(lf) != len(rf):
        raise PlanError(
            f"{kind.upper()} needs inputs with the same number of columns; got {len(lf)} "
            f"({', '.join(f.name for f in lf)}) and {len(rf)} ({', '.join(f.name for f in rf)})"
        )
    fields = []
    for a, b in zip(lf, rf, strict=True):
        t = common_type([a.data_type, b.data_type])
        if t is None:
            raise PlanError(
                f"{kind.upper()} column {a.name!r} has type {a.data_type} on the left and "
                f"{b.data_type} on the right; cast one side"
            )
        fields.append(RowField(a.name, t))
    return n.SetOp(left, right, kind, all_rows, RowType(tuple(fields)))
