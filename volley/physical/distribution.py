"""The distribution pass: how rows move between operators, and each operator's parallelism.

An operator that needs the rows of one key in one place (a group aggregation, a join, a set
operation, a ranking) gets its inputs hash-partitioned by those keys; one that needs all rows in
one place (a global aggregate, a sort, a limit) gets them gathered into a single subtask and runs
at parallelism 1. Everything else reads its input where it is (forward), at the input's
parallelism — except after a source with fewer splits than subtasks (one file), whose rows are
spread over all of them again; a forward edge between different parallelisms is a rebalance.
"""

from __future__ import annotations

import pyarrow as pa

from volley.common.changelog import ROW_KIND_COLUMN
from volley.physical import windows
from volley.physical.job_graph import Forward, Hash, Partitioning, Rebalance, Single
from volley.physical.plan_op import PlanOp
from volley.plan.calls import key_types


def _requirements(op: PlanOp) -> list[Partitioning]:
    """What each input of ``op`` must look like."""
    spec = op.spec
    assert spec is not None
    p, arity = spec.params, spec.arity
    kind = spec.kind
    if kind in ("aggregate", "group_aggregate"):
        keys = tuple(p["group_keys"])
        return [Hash(keys) if keys else Single()]
    if kind in ("hash_join", "stream_join", "interval_join", "temporal_join"):
        if p["left_keys"]:
            left, right = (_values(s) for s in spec.input_schemas)
            types = tuple(key_types(left, right, list(p["left_keys"]), list(p["right_keys"])))
            return [Hash(tuple(p["left_keys"]), types), Hash(tuple(p["right_keys"]), types)]
        return [Single(), Single()]
    if kind in ("set_op", "stream_set_op"):
        # whole rows are the key; both inputs hash them as the output's column types
        out = _values(spec.output_schema)
        return [Hash(tuple(range(len(out))), tuple(out.types))] * arity
    if kind in ("rank", "over_aggregate", "stream_over_aggregate", "sorted_over_aggregate",
                "top_n", "deduplicate"):
        keys = tuple(p["partition_keys"])
        return [Hash(keys) if keys else Single()]
    if kind in ("sort", "limit", "temporal_sort"):
        return [Single()]
    windowed = windows.requirements(spec)
    if windowed is not None:
        return windowed
    return [Forward()] * arity


def _values(schema: pa.Schema) -> pa.Schema:
    index = schema.get_field_index(ROW_KIND_COLUMN)
    return schema if index < 0 else schema.remove(index)


def distribute(ops: list[PlanOp], parallelism: int) -> None:
    """Set ``partitioning`` and ``parallelism`` on every op (``ops`` in topological order)."""
    for op in ops:
        if op.source is not None:
            op.parallelism = min(parallelism, op.max_parallelism or parallelism)
            continue
        wanted = _requirements(op)
        if any(isinstance(w, Single) for w in wanted):
            op.parallelism = 1
        elif all(isinstance(w, Forward) for w in wanted):
            parallelisms = {i.parallelism for i in op.inputs}
            capped = any(i.source is not None and i.parallelism < parallelism for i in op.inputs)
            # after a source with fewer splits than subtasks, the work spreads out again
            op.parallelism = parallelisms.pop() if len(parallelisms) == 1 and not capped \
                else parallelism
        else:
            op.parallelism = parallelism
        op.partitioning = [
            Rebalance() if isinstance(w, Forward) and i.parallelism != op.parallelism else w
            for w, i in zip(wanted, op.inputs, strict=True)
        ]
