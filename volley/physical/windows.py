"""Planning windowed nodes: window table functions, window aggregation, window Top-N and
window joins, and how their inputs are partitioned.

``translate`` is the planner's hook: it returns the operator for a windowed node, or None for a
node that is not one (a Rank or Join whose inputs carry no window bounds). Every windowed
operator keys its state by its partition, group or join keys, so its input is hash-partitioned
by them (gathered into one subtask when there are none).
"""

from __future__ import annotations

from typing import Any

from volley.errors import UnsupportedFeatureError
from volley.physical.job_graph import Forward, Hash, Partitioning, Single
from volley.physical.plan_op import PlanOp
from volley.plan import nodes as n
from volley.plan import windows as w
from volley.plan.calls import key_types
from volley.plan.expressions import Call, Expr, InputRef, Literal
from volley.plan.join_keys import split_equi_condition

#: the ``physical.planner.PhysicalPlanner`` calling in (not imported: it imports this module)
PhysicalPlanner = Any



def translate(planner: PhysicalPlanner, node: n.Node) -> PlanOp | None:
    if isinstance(node, n.Filter):
        _note_rank_limit(planner, node)
        return None
    if isinstance(node, n.Rank):
        return _window_rank(planner, node, planner.window_rank_limits.get(id(node)))
    if isinstance(node, w.WindowJoin):
        return _window_join(planner, node)
    if isinstance(node, w.WindowTableFunction):
        _check_mode(planner, node.window, node.input.schema, f"{node.window.kind.upper()}(...)")
        kind = "session_window" if node.window.kind == "session" else "window_table_function"
        return planner._op(kind, node, {"window": node.window}, [node.input])
    if isinstance(node, w.WindowAggregate):
        return _window_aggregate(planner, node)
    return None


def _check_mode(planner: PhysicalPlanner, window, schema, what: str) -> None:
    if planner.streaming:
        w.check_streaming_window(window, schema, what)
    else:
        w.check_batch_window(window, what)


def _window_aggregate(planner: PhysicalPlanner, node: w.WindowAggregate) -> PlanOp:
    _check_mode(planner, node.window, node.input.schema, "a window aggregation")
    params = {"group_keys": node.group_keys, "aggs": node.aggs,
              "proctime": node.window.proctime}
    if node.window.kind != "session":
        params["window"] = node.window
        return planner._op("window_aggregate", node, params, [node.input])
    # sessions are assigned first (they depend on the other rows of their partition); the
    # aggregation then reads the bounds each row carries
    sessions = w.WindowTableFunction(node.input, node.window)
    session_op = planner._op("session_window", sessions, {"window": node.window}, [node.input],
                             name=f"SessionWindow({node.window.describe(node.input.schema.names)})")
    width = len(node.input.schema.fields)
    params["assigned"] = (width, width + 1)
    return planner._op("window_aggregate", node, params, [sessions], input_ops=[session_op])


# -- window Top-N and deduplication ---------------------------------------------------------------


def _window_rank(planner: PhysicalPlanner, node: n.Rank, limit: int | None = None
                 ) -> PlanOp | None:
    columns = w.window_rank(node)
    if columns is None or not planner.streaming:
        return None  # a regular ranking; in batch mode every ranking sees all its rows
    if node.function != "row_number":
        raise UnsupportedFeatureError(
            f"{node.function.upper()}() is not supported in a window Top-N (as in Flink); use "
            "ROW_NUMBER()"
        )
    order = node.order_keys
    time_type = node.input.schema.fields[order[0].index].data_type if len(order) == 1 else None
    keep_last = (limit == 1 and time_type is not None and not order[0].ascending
                 and getattr(time_type, "time_attribute", None) is not None)
    params = {"partition_keys": node.partition_keys, "order_keys": order,
              "window_end": columns.end, "proctime": columns.proctime, "limit": limit,
              "keep_last": keep_last}
    return planner._op("window_rank", node, params, [node.input])


def _note_rank_limit(planner: PhysicalPlanner, node: n.Filter) -> None:
    """``WHERE rn <= N`` over a window ranking (through projections of its columns): the
    ranking, planned here before the filter plans its input, keeps the first N rows of each
    partition only (the filter still applies). The limit is noted on the planner for when the
    ranking is translated."""
    column = None
    inner: n.Node = node.input
    mapping: dict[int, int] | None = None
    while isinstance(inner, n.Project):
        refs = {j: e.index for j, e in enumerate(inner.exprs) if isinstance(e, InputRef)}
        mapping = refs if mapping is None else {j: refs[i] for j, i in mapping.items()
                                                if i in refs}
        inner = inner.input
    if not isinstance(inner, n.Rank) or w.window_rank(inner) is None:
        return
    rank_column = len(inner.schema.fields) - 1
    for conjunct in _conjuncts(node.condition):
        bound = _rank_bound(conjunct)
        if bound is None:
            continue
        index, limit = bound
        column = index if mapping is None else mapping.get(index)
        if column == rank_column and planner.streaming:
            planner.window_rank_limits.setdefault(id(inner), limit)
            return


def _conjuncts(e: Expr) -> list[Expr]:
    if isinstance(e, Call) and e.fn == "and":
        return [c for a in e.args for c in _conjuncts(a)]
    return [e]


def _rank_bound(e: Expr) -> tuple[int, int] | None:
    """``rn <= N``, ``rn < N``, ``rn = 1`` (or mirrored): the column and the largest rank kept."""
    if not isinstance(e, Call) or e.fn not in ("le", "lt", "eq", "ge", "gt") or len(e.args) != 2:
        return None
    a, b = e.args
    fn = e.fn
    if isinstance(a, Literal) and isinstance(b, InputRef):
        a, b, fn = b, a, {"le": "ge", "lt": "gt", "ge": "le", "gt": "lt", "eq": "eq"}[fn]
    if not isinstance(a, InputRef) or not isinstance(b, Literal) or not isinstance(b.value, int) \
            or isinstance(b.value, bool) or fn in ("ge", "gt"):
        return None
    return a.index, b.value - 1 if fn == "lt" else b.value


# -- window joins ---------------------------------------------------------------------------------


def _window_join(planner: PhysicalPlanner, node: w.WindowJoin) -> PlanOp:
    if not planner.streaming:  # all rows at once: the window bounds are plain join keys
        return planner._join(node)  # type: ignore[arg-type]
    left, right = w.window_columns(node.left), w.window_columns(node.right)
    assert left is not None and right is not None
    left_keys, right_keys, residual = split_equi_condition(node.condition,
                                                           len(node.left.schema.fields))
    params = {"kind": node.kind, "left_keys": tuple(left_keys), "right_keys": tuple(right_keys),
              "residual": residual, "left_end": left.end, "right_end": right.end,
              "proctime": left.proctime}
    return planner._op("window_join", node, params, [node.left, node.right])


def requirements(spec) -> list[Partitioning] | None:
    """How the inputs of a windowed operator are partitioned; None for other kinds."""
    p = spec.params
    if spec.kind == "window_table_function":
        return [Forward()]
    if spec.kind == "session_window":
        keys = tuple(p["window"].partition_keys)
        return [Hash(keys) if keys else Single()]
    if spec.kind == "window_aggregate":
        keys = tuple(p["group_keys"])
        return [Hash(keys) if keys else Single()]
    if spec.kind == "window_rank":
        return [Hash(tuple(p["partition_keys"]))]
    if spec.kind == "window_join":
        left, right = spec.input_schemas
        types = tuple(key_types(left, right, list(p["left_keys"]), list(p["right_keys"])))
        return [Hash(tuple(p["left_keys"]), types), Hash(tuple(p["right_keys"]), types)]
    return None
