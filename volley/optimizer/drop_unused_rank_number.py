"""A Top-N whose rank nobody reads does not output it; one that keeps the first row by a time
attribute becomes a deduplication.

Before::

    Project($0:k, $1:v)
       +- Project($0:k, $1:v, $3:$over3 AS rn)
          +- TopN(rankRange=[1..1], partitionBy=[k], orderBy=[ts ASC], outputRank=[true])

After::

    Project($0:k, $1:v)
       +- Project($0:k, $1:v)
          +- Deduplicate(keep=[FirstRow], key=[k], order=[ROWTIME])

Without its rank a Top-N's changes are whole rows entering (+I) and leaving (-D) the top, not
every row whose rank moved (Flink's ``outputRankNumber = false``). Deduplication follows Flink:
ROW_NUMBER over a single time attribute, rank 1, on an insert-only input.
"""

from __future__ import annotations

from dataclasses import fields, replace

from volley.plan import nodes as n
from volley.plan.expressions import Expr, InputRef, input_refs
from volley.plan.ranking import Deduplicate, TopN, time_attribute


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
        deduplicate_or_top_n(replace(top_n, output_rank=False)),
        tuple(e for i, e in enumerate(inner.exprs) if i != dropped),
        tuple(name for i, name in enumerate(inner.names) if i != dropped))
    below: n.Node = new_inner
    if filter_ is not None:
        below = n.Filter(new_inner, remap(filter_.condition, mapping))
    return n.Project(below, tuple(remap(e, mapping) for e in node.exprs), node.names)


def deduplicate_or_top_n(top_n: TopN) -> n.Node:
    """A Deduplicate where Flink deduplicates instead of ranking, else ``top_n``."""
    if top_n.output_rank or (top_n.start, top_n.end) != (1, 1) or len(top_n.order_keys) != 1:
        return top_n
    key = top_n.order_keys[0]
    kind = time_attribute(top_n.input, key.index)
    if kind is None or top_n.input.changelog_mode() is not n.INSERT_ONLY:
        return top_n
    return Deduplicate(top_n.input, top_n.partition_keys, key.index, keep_last=not key.ascending,
                       rowtime=kind == "rowtime")


def remap(e: Expr, mapping: dict[int, int]) -> Expr:
    """``e`` with every column reference ``i`` moved to ``mapping[i]``."""
    if isinstance(e, InputRef):
        return replace(e, index=mapping[e.index])
    changes = {}
    for f in fields(e):  # type: ignore[arg-type]
        value = getattr(e, f.name)
        if isinstance(value, Expr):
            changes[f.name] = remap(value, mapping)
        elif isinstance(value, tuple) and value and all(isinstance(v, Expr) for v in value):
            changes[f.name] = tuple(remap(v, mapping) for v in value)
    return replace(e, **changes) if changes else e
