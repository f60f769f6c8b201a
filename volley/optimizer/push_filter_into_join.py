"""Merge a filter over an inner join into the join condition, then move the parts of the
condition that read one side only below the join, onto that side.

Before::

    Filter(condition=[and(eq($0:a, $2:b), eq($1:c, 10))])
       +- Join(joinType=[inner], where=[None])

After::

    Join(joinType=[inner], where=[eq($0:a, $2:b)])
       +- Filter(condition=[eq($1:c, 10)])
       +- ...

This turns ``FROM a, b WHERE a.x = b.y`` (a cross join plus a filter) into a hash join, and a
streaming join keeps in its state only the rows that can match (Nexmark q3: the auctions of one
category, the people of three states). Parts calling a non-deterministic function stay in the
join condition, where they run once per joined row as written.
"""

from __future__ import annotations

from volley.plan import nodes as n
from volley.plan.expressions import Call, Expr, UdfCall, input_refs, remap, walk
from volley.plan.time_joins import conjunction, conjuncts
from volley.plan.types import BooleanType

#: built-in functions whose result changes from call to call
_NON_DETERMINISTIC = frozenset({"rand", "rand_integer", "uuid"})


def push_filter_into_join(node: n.Node) -> n.Node:
    if isinstance(node, n.Filter) and isinstance(node.input, n.Join) and node.input.kind == "inner":
        join = node.input
        condition = node.condition if join.condition is None else Call(
            "and", (join.condition, node.condition), BooleanType()
        )
        return _push_into_inputs(n.Join(join.left, join.right, "inner", condition))
    if isinstance(node, n.Join) and node.kind == "inner":
        return _push_into_inputs(node)
    return node


def _push_into_inputs(join: n.Join) -> n.Node:
    left_width = len(join.left.schema.fields)
    left: list[Expr] = []
    right: list[Expr] = []
    rest: list[Expr] = []
    for part in conjuncts(join.condition):
        refs = input_refs(part)
        if not refs or not _deterministic(part):
            rest.append(part)
        elif max(refs) < left_width:
            left.append(part)
        elif min(refs) >= left_width:
            right.append(part)
        else:
            rest.append(part)
    if not left and not right:
        return join
    new_left = join.left if not left else n.Filter(join.left, conjunction(left))  # type: ignore[arg-type]
    shift = {i: i - left_width for i in range(left_width, len(join.schema.fields))}
    new_right = join.right if not right else n.Filter(
        join.right, remap(conjunction(right), shift))  # type: ignore[arg-type]
    return n.Join(new_left, new_right, "inner", conjunction(rest))


def _deterministic(e: Expr) -> bool:
    for sub in walk(e):
        if isinstance(sub, UdfCall) and not getattr(sub.function, "deterministic", True):
            return False
        if isinstance(sub, Call) and sub.fn in _NON_DETERMINISTIC:
            return False
    return True
