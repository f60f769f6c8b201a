"""Planning windowed nodes: window table functions, window aggregation, window Top-N and
window joins, and how their inputs are partitioned.

``translate`` is the planner's hook: it returns the operator for a windowed node, or None for a
node that is not one (a Rank or Join whose inputs carry no window bounds). Every windowed
operator keys its state by its partition, group or join keys, so its input is hash-partitioned
by them (gathered into one subtask when there are none).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from volley.physical.job_graph import Forward, Hash, Partitioning, Single
from volley.physical.plan_op import PlanOp
from volley.plan import nodes as n
from volley.plan import windows as w

if TYPE_CHECKING:
    from volley.physical.planner import PhysicalPlanner

#: the operator kinds planned here
KINDS = ("window_table_function", "session_window", "window_aggregate")


def translate(planner: PhysicalPlanner, node: n.Node) -> PlanOp | None:
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
    return None
