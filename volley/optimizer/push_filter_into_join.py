"""Merge a filter over an inner join into the join condition.

Before::

    Filter(condition=[eq($0:a, $2:b)])
       +- Join(joinType=[inner], where=[None])

After::

    Join(joinType=[inner], where=[eq($0:a, $2:b)])

This turns ``FROM a, b WHERE a.x = b.y`` (a cross join plus a filter) into a hash join.
"""

from __future__ import annotations

from volley.plan import nodes as n
from volley.plan.expressions import Call
from volley.plan.types import BooleanType


def push_filter_into_join(node: n.Node) -> n.Node:
    if isinstance(node, n.Filter) and isinstance(node.input, n.Join) and node.input.kind == "inner":
        join = node.input
        condition = node.condition if join.condition is None else Call(
            "and", (join.condition, node.condition), BooleanType()
        )
        return n.Join(join.left, join.right, "inner", condition)
    return node
