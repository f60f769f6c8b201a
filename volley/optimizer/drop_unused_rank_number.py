"""A Top-N whose rank nobody reads does not output it.

Before::

    Project($0:k, $1:v)
       +- Project($0:k, $1:v, $3:$over3 AS rn)
          +- TopN(rankRange=[1..2], partitionBy=[k], orderBy=[v DESC], outputRank=[true])

After::

    Project($0:k, $1:v)
       +- Project($0:k, $1:v)
          +- TopN(rankRange=[1..2], partitionBy=[k], orderBy=[v DESC], outputRank=[false])

Without its rank a Top-N's changes are whole rows entering (+I) and leaving (-D) the top, not
every row whose rank moved (Flink's ``outputRankNumber = false``).
"""

from __future__ import annotations

from dataclasses import replace

from volley.plan import nodes as n
from volley.plan.expressions import InputRef, input_refs, remap
from volley.plan.ranking import TopN


def drop_unused_rank_number(node: n.Node) -> n.Node:
    if not isinstance(node, n.Project):
        return node
    filter_ = node.input if isinstance(node.input, n.Filter) else None
    inner = filter_.input if filter_ is not None else node.input
    if not (isinstance(inner, n.Project) and isinstance(inner.input, TopN)
            and inner.input.output_rank):
        return node
    top_n = inner.input
    rank_column = len(top_n.schema.fields) - 1
    positions = [i for i, e in enumerate(inner.exprs) if rank_column in input_refs(e)]
    if len(positions) != 1 or not isinstance(inner.exprs[positions[0]], InputRef):
        return node
    dropped = positions[0]
    readers = [e for e in node.exprs] + ([filter_.condition] if filter_ is not None else [])
    if any(dropped in input_refs(e) for e in readers):
        return node
    mapping = {i: i - (i > dropped) for i in range(len(inner.exprs)) if i != dropped}
    new_inner = n.Project(
        replace(top_n, output_rank=False),
        tuple(e for i, e in enumerate(inner.exprs) if i != dropped),
        tuple(name for i, name in enumerate(inner.names) if i != dropped))
    below: n.Node = new_inner
    if filter_ is not None:
        below = n.Filter(new_inner, remap(filter_.condition, mapping))
    return n.Project(below, tuple(remap(e, mapping) for e in node.exprs), node.names)
