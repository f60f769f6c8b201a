"""Turn a filter on a ROW_NUMBER into a Top-N, and ``ORDER BY ... LIMIT`` into one (streams).

Before::

    Filter(condition=[and(le($3:rn, 3), gt($1:v, 1))])
       +- Project($0:k, $1:v, $2:s, $3:$over3 AS rn)
          +- Rank(row_number, partitionBy=[k], orderBy=[v DESC])

After::

    Filter(condition=[gt($1:v, 1)])
       +- Project($0:k, $1:v, $2:s, $3:$over3 AS rn)
          +- TopN(rankRange=[1..3], partitionBy=[k], orderBy=[v DESC], outputRank=[true])

A stream cannot rank all its rows at the end; a Top-N keeps each partition's best rows and
updates its result as they change (Flink's Rank operator). The bounds of the rank come from the
conjuncts ``rn <= N``, ``rn < N``, ``rn = N``, ``rn >= M``, ``rn > M`` (either side); the other
conjuncts stay in a filter above. A ranking without an upper bound, or by RANK/DENSE_RANK, is
left alone (the physical planner says why it cannot run on a stream).

Rank 1 by a single time attribute over an insert-only input is a deduplication, as in Flink:
``Deduplicate`` keeps the first (ASC) or last (DESC) row of each key, and the rank is the
constant 1.
"""

from __future__ import annotations

from volley.plan import nodes as n
from volley.plan.expressions import Call, Expr, InputRef, Literal, input_refs
from volley.plan.ranking import Deduplicate, TopN, time_attribute
from volley.plan.types import BooleanType
from volley.plan.windows import window_rank

_FLIPPED = {"le": "ge", "lt": "gt", "ge": "le", "gt": "lt", "eq": "eq"}


def rank_to_top_n(node: n.Node) -> n.Node:
    if isinstance(node, n.Sort) and node.keys and node.fetch is not None:
        return TopN(node.input, (), node.keys, node.offset + 1, node.offset + node.fetch,
                    output_rank=False)
    if not isinstance(node, n.Filter):
        return node
    project, rank = (node.input, node.input.input) if isinstance(node.input, n.Project) \
        else (None, node.input)
    if not isinstance(rank, n.Rank) or rank.function != "row_number" or window_rank(rank):
        return node  # a ranking within window bounds is a window Top-N (plan.windows)
    rank_column = len(rank.schema.fields) - 1
    if project is None:
        seen_as = rank_column
    else:
        refs = [i for i, e in enumerate(project.exprs)
                if isinstance(e, InputRef) and e.index == rank_column]
        uses = [e for e in project.exprs if rank_column in input_refs(e)]
        if len(refs) != 1 or len(uses) != 1:
            return node
        seen_as = refs[0]
    start, end, residual = 1, None, []
    for conjunct in _conjuncts(node.condition):
        bound = _rank_bound(conjunct, seen_as)
        if bound is None:
            residual.append(conjunct)
            continue
        low, high = bound
        start = max(start, low)
        end = high if end is None else (min(end, high) if high is not None else end)
    if end is None:
        return node
    ranked = _deduplicate(rank) if (start, end) == (1, 1) else None
    if ranked is None:
        ranked = TopN(rank.input, rank.partition_keys, rank.order_keys, start,
                      max(end, start - 1), output_rank=True, rank_name=rank.name)
    result: n.Node = ranked if project is None else n.Project(ranked, project.exprs, project.names)
    if residual:
        condition = residual[0]
        for c in residual[1:]:
            condition = Call("and", (condition, c), BooleanType())
        result = n.Filter(result, condition)
    return result


def _deduplicate(rank: n.Rank) -> n.Node | None:
    """The rank-1 rows of ``rank`` as a deduplication (with the constant rank), if Flink
    deduplicates them."""
    if len(rank.order_keys) != 1 or rank.input.changelog_mode() is not n.INSERT_ONLY:
        return None
    key = rank.order_keys[0]
    kind = time_attribute(rank.input, key.index)
    if kind is None:
        return None
    dedup = Deduplicate(rank.input, rank.partition_keys, key.index, keep_last=not key.ascending,
                        rowtime=kind == "rowtime")
    fields = dedup.schema.fields
    refs = tuple(InputRef(i, f.name, f.data_type) for i, f in enumerate(fields))
    one = Literal(1, rank.schema.fields[-1].data_type)
    return n.Project(dedup, (*refs, one), (*(f.name for f in fields), rank.name))


def _conjuncts(e: Expr) -> list[Expr]:
    if isinstance(e, Call) and e.fn == "and":
        return [c for a in e.args for c in _conjuncts(a)]
    return [e]


def _rank_bound(e: Expr, rank: int) -> tuple[int, int | None] | None:
    """(lowest, highest) rank a conjunct ``rank <op> literal`` allows, or None."""
    if not (isinstance(e, Call) and e.fn in _FLIPPED and len(e.args) == 2):
        return None
    left, right = e.args
    fn = e.fn
    if isinstance(right, InputRef) and isinstance(left, Literal):
        left, right, fn = right, left, _FLIPPED[fn]
    if not (isinstance(left, InputRef) and left.index == rank and isinstance(right, Literal)
            and isinstance(right.value, int) and not isinstance(right.value, bool)):
        return None
    v = right.value
    return {"le": (1, v), "lt": (1, v - 1), "eq": (v, v), "ge": (v, None),
            "gt": (v + 1, None)}[fn]
