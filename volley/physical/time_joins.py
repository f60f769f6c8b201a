"""Planning time-bounded joins: interval joins, temporal joins and lookup joins.

In streaming mode an ``IntervalJoin`` becomes an ``interval_join`` operator (rows kept until the
watermark passes every time they could still match) and a ``TemporalJoin`` a ``temporal_join``
(versions kept per key until the watermark makes them unreachable), both hash-partitioned by
their equi-keys. A batch job has all its input at once, so there an interval join is a regular
hash join on the whole condition, as in Flink; a temporal join runs the same operator, which
sees the end of input as the watermark that makes every version final. A ``LookupJoin`` reads its
table when it opens (``lookup_join``) and joins each row as it passes, in either mode.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from volley.errors import UnsupportedFeatureError
from volley.plan import nodes as n
from volley.plan.join_keys import split_equi_condition
from volley.plan.time_joins import (
    IntervalJoin,
    LookupJoin,
    TemporalJoin,
    lookup_scan,
    unique_key,
    versions,
)

if TYPE_CHECKING:
    from volley.physical.plan_op import PlanOp

#: the ``Planner`` calling in (not imported: the planner imports this module)
Planner = Any

TIME_JOINS = (IntervalJoin, TemporalJoin, LookupJoin)


def plan_time_join(planner: Planner, node: n.Node) -> PlanOp:
    if isinstance(node, IntervalJoin):
        return _interval_join(planner, node)
    if isinstance(node, TemporalJoin):
        return _temporal_join(planner, node)
    assert isinstance(node, LookupJoin)
    return _lookup_join(planner, node)


def _interval_join(planner: Planner, node: IntervalJoin) -> PlanOp:
    if not planner.streaming:
        return planner._join(n.Join(node.left, node.right, node.kind, node.condition), node)
    for side, name in ((node.left, "left"), (node.right, "right")):
        if side.changelog_mode() is not n.INSERT_ONLY:
            raise UnsupportedFeatureError(
                f"the {name} input of an interval join is an updating stream; an interval join "
                "joins insert-only streams (as in Flink); join before aggregating, or drop the "
                "time bounds to make it a regular join"
            )
    left_keys, right_keys, residual = split_equi_condition(node.other,
                                                           len(node.left.schema.fields))
    b = node.bounds
    params = {"kind": node.kind, "left_keys": tuple(left_keys), "right_keys": tuple(right_keys),
              "residual": residual, "time_kind": b.kind, "left_time": b.left_time,
              "right_time": b.right_time, "lower": b.lower, "upper": b.upper}
    return planner._op("interval_join", node, params, [node.left, node.right])


def _refuse_updating_left(planner: Planner, node: TemporalJoin | LookupJoin) -> None:
    """The binder checks the left input as it was written; a rewrite (a ROW_NUMBER filter becoming
    a keep-last-row deduplication) can make it updating only later, so the check is made again
    on the optimized plan."""
    if planner.streaming and node.left.changelog_mode() is not n.INSERT_ONLY:
        raise UnsupportedFeatureError(
            "the left input of a join ... FOR SYSTEM_TIME AS OF is an updating stream; Volley "
            "supports temporal and lookup joins of insert-only left inputs; join before "
            "aggregating or deduplicating"
        )


def _temporal_join(planner: Planner, node: TemporalJoin) -> PlanOp:
    _refuse_updating_left(planner, node)
    left_keys, right_keys, residual = split_equi_condition(node.condition,
                                                           len(node.left.schema.fields))
    params = {"kind": node.kind, "left_keys": tuple(left_keys), "right_keys": tuple(right_keys),
              "residual": residual, "left_time": node.left_time, "right_time": node.right_time}
    right = versions(node.right)
    if right is node.right:
        return planner._op("temporal_join", node, params, [node.left, node.right])
    inputs = [node.left, right]
    return planner._op("temporal_join", node, params, inputs,
                       input_ops=[planner.plan(i) for i in inputs])


def _lookup_join(planner: Planner, node: LookupJoin) -> PlanOp:
    _refuse_updating_left(planner, node)
    scan = lookup_scan(node.right)
    assert scan is not None
    steps: list[tuple[str, object]] = []
    current = node.right
    while current is not scan:
        if isinstance(current, n.Project):
            steps.append(("project", current.exprs))
        elif isinstance(current, n.Filter):
            steps.append(("filter", current.condition))
        current = current.input  # type: ignore[attr-defined]
    left_keys, right_keys, residual = split_equi_condition(node.condition,
                                                           len(node.left.schema.fields))
    params = {"kind": node.kind, "left_keys": tuple(left_keys), "right_keys": tuple(right_keys),
              "residual": residual, "table": planner.table_spec_of(scan),
              "table_schema": scan.schema.to_arrow_schema(),
              "steps": tuple(reversed(steps)), "unique_key": unique_key(node.right),
              "right_schema": node.right.schema.to_arrow_schema()}
    return planner._op("lookup_join", node, params, [node.left])
