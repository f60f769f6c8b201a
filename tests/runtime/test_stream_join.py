"""The streaming inner join (``StreamInnerJoinOp``) against a nested-loop join, over both
inputs cut into batches that arrive interleaved in any order, and the bound on how many runs
each side's hashed history (``GrowingBuildSide``) is kept in."""

from __future__ import annotations

import math

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st
from operator_harness import OperatorHarness

from volley.physical.job_graph import OperatorSpec
from volley.plan.expressions import Call, InputRef
from volley.plan.types import BigIntType, BooleanType
from volley.runtime.join import GrowingBuildSide

SIDE = st.lists(st.tuples(st.one_of(st.none(), st.integers(0, 4)), st.integers(0, 9)),
                max_size=30)
SCHEMA = pa.schema([("k", pa.int64()), ("v", pa.int64())])
OUT = pa.schema([pa.field(n, pa.int64()) for n in ["k", "v", "k0", "v0"]])
# The non-equi part of ``l.k = r.k AND l.v < r.v``: columns are left k, v, then right k, v.
LEFT_V_BELOW_RIGHT_V = Call("lt", (InputRef(1, "v", BigIntType()), InputRef(3, "v0", BigIntType())),
                            BooleanType())


def _join_spec(residual, schemas=(SCHEMA, SCHEMA), out=OUT) -> OperatorSpec:
    return OperatorSpec("stream_join", "join-0", "Join",
                        {"left_keys": (0,), "right_keys": (0,), "residual": residual},
                        tuple(schemas), out)


def _batches(rows: list[tuple], sizes: list[int]) -> list[pa.RecordBatch]:
    batches, start = [], 0
    for size in sizes:
        if start >= len(rows):
            break
        chunk = rows[start:start + size]
        batches.append(pa.RecordBatch.from_pylist([{"k": k, "v": v} for k, v in chunk],
                                                  schema=SCHEMA))
        start += size
    if start < len(rows):
        batches.append(pa.RecordBatch.from_pylist([{"k": k, "v": v} for k, v in rows[start:]],
                                                  schema=SCHEMA))
    return batches


@settings(max_examples=150, deadline=None)
@given(left=SIDE, right=SIDE, sizes=st.lists(st.integers(1, 7), max_size=12),
       order=st.lists(st.booleans(), max_size=40), residual=st.booleans())
def test_stream_join_emits_each_matching_pair_once(left, right, sizes, order, residual) -> None:
    harness = OperatorHarness(_join_spec(LEFT_V_BELOW_RIGHT_V if residual else None))
    pending = [_batches(left, sizes), _batches(right, sizes)]
    schedule = [int(b) for b in order] + [0] * len(pending[0]) + [1] * len(pending[1])
    emitted = []
    for port in schedule:
        if pending[port]:
            emitted += harness.process(pending[port].pop(0), port)
    got = sorted(tuple(r.values()) for b in emitted for r in b.to_pylist())
    expected = sorted(
        lrow + rrow for lrow in left for rrow in right
        if lrow[0] is not None and lrow[0] == rrow[0] and (not residual or lrow[1] < rrow[1])
    )
    assert got == expected


def test_history_is_kept_in_logarithmically_many_runs() -> None:
    """A stream of one-row batches: a rebuild of the whole side per batch would hash it n times;
    the runs keep a probe to O(log n) lookups."""
    side = GrowingBuildSide(SCHEMA, [0], [pa.int64()])
    n = 1000
    for i in range(n):
        side.add(pa.RecordBatch.from_pylist([{"k": i % 7, "v": i}], schema=SCHEMA))
        assert len(side.runs) <= math.log2(i + 1) + 1
    assert sum(run.table.num_rows for run in side.runs) == n
    sizes = [run.table.num_rows for run in side.runs]
    assert sizes == sorted(sizes, reverse=True)
