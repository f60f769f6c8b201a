"""Rewrite rules over logical plans, applied bottom-up by ``optimize``.

Each rule is a function ``Node -> Node`` in a module of its own, named after what it does. The
layer may import plan/ only.
"""

from __future__ import annotations

from dataclasses import fields, replace

from volley.optimizer.aggregate_before_join import aggregate_before_join
from volley.optimizer.drop_unused_rank_number import drop_unused_rank_number
from volley.optimizer.prune_columns import prune_columns
from volley.optimizer.prune_join_output import prune_join_output
from volley.optimizer.push_filter_into_join import push_filter_into_join
from volley.optimizer.rank_to_top_n import rank_to_top_n
from volley.optimizer.reuse_sub_plans import reuse_sub_plans as reuse_equal_sub_plans
from volley.plan import nodes as n

RULES = (push_filter_into_join, prune_join_output)
#: rules that hold for bounded input only: a streaming aggregate below a join would turn the
#: join's input into an updating stream
BATCH_RULES = RULES + (aggregate_before_join,)
#: rules for unbounded input: a stream is ranked by a Top-N that updates its result
STREAMING_RULES = RULES + (rank_to_top_n, drop_unused_rank_number)


def optimize(node: n.Node, batch: bool = False, reuse_sub_plans: bool = True) -> n.Node:
    """Apply every rule bottom-up, once; shared sub-plans stay shared. Then read and carry only
    the columns the query uses, and (``reuse_sub_plans``) compute a sub-plan written twice
    once."""
    rules = BATCH_RULES if batch else STREAMING_RULES
    pruned = prune_columns(_rewrite(node, {}, rules))
    return reuse_equal_sub_plans(pruned) if reuse_sub_plans else pruned


def _rewrite(node: n.Node, memo: dict[int, n.Node], rules: tuple) -> n.Node:
    key = id(node)
    if key in memo:
        return memo[key]
    changes = {}
    for f in fields(node):  # type: ignore[arg-type]
        value = getattr(node, f.name)
        if isinstance(value, n.Node):
            new = _rewrite(value, memo, rules)
            if new is not value:
                changes[f.name] = new
    result = replace(node, **changes) if changes else node  # type: ignore[type-var]
    for rule in rules:
        result = rule(result)
    memo[key] = result
    return result


__all__ = ["optimize", "RULES", "BATCH_RULES", "STREAMING_RULES"]
