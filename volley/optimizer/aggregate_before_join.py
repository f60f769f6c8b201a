"""Batch mode: aggregate one side of a join before joining (eager aggregation).

Before::

    Aggregate(groupBy=[$g0], select=[count(*) AS n, sum($1) AS total])
       +- Project($3:category AS $g0, $1:amount AS $a0)
          +- Join(joinType=[inner], where=[eq($0:dim_id, $2:id)])
             +- Scan(table=[fact], fields=[dim_id, amount])
             +- Scan(table=[dim], fields=[id, category])

After::

    Aggregate(groupBy=[$g0], select=[sum($1) AS n, sum($2) AS total])
       +- Project($4:category AS $g0, $1:$p0, $2:$p1)
          +- Join(joinType=[inner], where=[eq($0:dim_id, $3:id)])
             +- Aggregate(groupBy=[dim_id], select=[count(*) AS $p0, sum($1) AS $p1])
             |  +- Scan(table=[fact], fields=[dim_id, amount])
             +- Scan(table=[dim], fields=[id, category])

A fact table joined to a dimension and grouped by a dimension attribute is the common shape of
an analytical query. Joining first probes the hash table once per fact row and gathers the
dimension attribute for every one of them; aggregating the fact rows by their join key first
(one cheap pass over dense integer keys) leaves one partial row per key, and the join and the
final aggregation then touch those few rows only. Flink's batch optimizer has the same rewrite
(Calcite's AggregateJoinTransposeRule).

It is exact, also when the other side repeats a key: a partial row stands for its rows in every
match, just as they would have matched one by one, so counts and sums add up and minima and
maxima are the same. It applies to a grouped aggregate (a global one over no joined rows must
give COUNT 0, which a sum of no partial counts would not) of COUNT, SUM, MIN and MAX without
DISTINCT, whose arguments all come from one side of an inner join on equal keys alone; AVG
keeps the plan as it was (it would need a division after the merge).
"""

from __future__ import annotations

from collections.abc import Callable

from volley.plan import nodes as n
from volley.plan.expressions import Call, InputRef
from volley.plan.join_keys import split_equi_condition
from volley.plan.types import BigIntType, BooleanType

#: the aggregate that merges partial results of each splittable aggregate
_MERGE = {"count": "sum", "sum": "sum", "min": "min", "max": "max"}


def aggregate_before_join(node: n.Node) -> n.Node:
    if not (isinstance(node, n.Aggregate) and node.group_keys):
        return node
    if any(a.distinct or a.udaf is not None or a.fn not in _MERGE for a in node.aggs):
        return node
    found = _references_over_join(node.input)
    if found is None:
        return node
    refs, join = found
    left_width = len(join.left.schema.fields)
    left_keys, right_keys, residual = split_equi_condition(join.condition, left_width)
    if join.kind != "inner" or residual is not None or not left_keys:
        return node
    on_left = [refs[a.arg] < left_width for a in node.aggs if a.arg is not None]
    if any(on_left) and not all(on_left):
        return node  # arguments from both sides
    # only COUNT(*): the left (probe) side, which a join's build side is meant to be smaller than
    return _rewrite(node, refs, join, eager_is_left=all(on_left), keys=(left_keys, right_keys))


def _references_over_join(node: n.Node) -> tuple[list[int], n.Join] | None:
    """The join under ``node`` and, per column of ``node``, the join column it is; None when
    ``node`` is neither a join nor a projection of plain columns of one."""
    if isinstance(node, n.Join):
        return list(range(len(node.schema.fields))), node
    if (isinstance(node, n.Project) and isinstance(node.input, n.Join)
            and all(isinstance(e, InputRef) for e in node.exprs)):
        return [e.index for e in node.exprs], node.input  # type: ignore[attr-defined]
    return None


def _rewrite(node: n.Aggregate, refs: list[int], join: n.Join, eager_is_left: bool,
             keys: tuple[list[int], list[int]]) -> n.Node:
    left_width = len(join.left.schema.fields)
    eager, other = (join.left, join.right) if eager_is_left else (join.right, join.left)
    offset = 0 if eager_is_left else left_width
    eager_keys = keys[0] if eager_is_left else keys[1]
    eager_width = len(eager.schema.fields)

    def local(i: int) -> int | None:  # a join column's index within the eager side, if it is one
        return i - offset if offset <= i < offset + eager_width else None

    group_columns = [refs[k] for k in node.group_keys]
    partial_keys = list(dict.fromkeys(
        eager_keys + [c for c in (local(g) for g in group_columns) if c is not None]))
    partial_aggs = tuple(
        n.AggCall(a.fn, None if a.arg is None else local(refs[a.arg]), False,
                  BigIntType() if a.fn == "count" else a.type, f"$p{i}")
        for i, a in enumerate(node.aggs)
    )
    names = [eager.schema.fields[k].name for k in partial_keys] + [a.name for a in partial_aggs]
    if len(set(names)) < len(names):
        return node  # a column of the eager side is called like a partial result
    partial = n.Aggregate(eager, tuple(partial_keys), partial_aggs)
    partial_width = len(partial.schema.fields)

    def moved(i: int) -> int:
        """Where join column ``i`` is in the new join (eager columns: partial group keys)."""
        e = local(i)
        if e is not None:
            position = partial_keys.index(e)
            return position if eager_is_left else left_width + position
        return i + partial_width - eager_width if eager_is_left else i

    new_join = n.Join(*((partial, other) if eager_is_left else (other, partial)),
                      "inner", _equalities(join, keys, moved))
    new_fields = new_join.schema.fields
    in_fields = node.input.schema.fields
    group_refs = [InputRef(i, new_fields[i].name, in_fields[k].data_type)
                  for k, i in ((k, moved(refs[k])) for k in node.group_keys)]
    first_partial = (0 if eager_is_left else left_width) + len(partial_keys)
    partial_refs = [InputRef(first_partial + i, a.name, new_fields[first_partial + i].data_type)
                    for i, a in enumerate(partial_aggs)]
    project_names = [in_fields[k].name for k in node.group_keys] + [a.name for a in partial_aggs]
    if len(set(project_names)) < len(project_names):
        return node
    project = n.Project(new_join, tuple(group_refs + partial_refs), tuple(project_names))
    width = len(group_refs)
    final_aggs = tuple(
        n.AggCall(_MERGE[a.fn], width + i, False, a.type, a.name)
        for i, a in enumerate(node.aggs)
    )
    return n.Aggregate(project, tuple(range(width)), final_aggs)


def _equalities(join: n.Join, keys: tuple[list[int], list[int]],
                moved: Callable[[int], int]) -> Call:
    """The join's key equalities over the new join's columns."""
    left_width = len(join.left.schema.fields)
    fields = join.schema.fields
    condition: Call | None = None
    for lk, rk in zip(*keys, strict=True):
        r = rk + left_width
        nullable = fields[lk].data_type.nullable or fields[r].data_type.nullable
        eq = Call("eq", (InputRef(moved(lk), fields[lk].name, fields[lk].data_type),
                         InputRef(moved(r), fields[r].name, fields[r].data_type)),
                  BooleanType(nullable=nullable))
        condition = eq if condition is None else Call("and", (condition, eq), BooleanType())
    assert condition is not None
    return condition
