"""Let an aggregation over a join say which of the join's columns it reads.

Before::

    Aggregate(groupBy=[$5], select=[count(*), sum($2)])
       +- Join(joinType=[inner], where=[eq($0, $3)])

After::

    Aggregate(groupBy=[$1], select=[count(*), sum($0)])
       +- Project($2, $5)
          +- Join(joinType=[inner], where=[eq($0, $3)])

A join gathers every column of every matched row; the physical planner fuses a projection of
plain column references into the join, which then gathers only those (for a fact table joined to
a dimension to count by category: two columns instead of four).
"""

from __future__ import annotations

from dataclasses import replace

from volley.plan import nodes as n
from volley.plan.expressions import InputRef


def prune_join_output(node: n.Node) -> n.Node:
    if not (isinstance(node, n.Aggregate) and isinstance(node.input, n.Join)):
        return node
    join = node.input
    fields = join.schema.fields
    used = sorted(set(node.group_keys) | {a.arg for a in node.aggs if a.arg is not None})
    names = [fields[i].name for i in used]
    if len(used) == len(fields) or len(set(names)) < len(names):
        return node  # nothing to prune, or names the projection could not keep apart
    position = {old: new for new, old in enumerate(used)}
    project = n.Project(
        join,
        tuple(InputRef(i, fields[i].name, fields[i].data_type) for i in used),
        tuple(names),
    )
    return replace(
        node,
        input=project,
        group_keys=tuple(position[k] for k in node.group_keys),
        aggs=tuple(a if a.arg is None else replace(a, arg=position[a.arg]) for a in node.aggs),
    )
