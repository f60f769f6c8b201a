"""The streaming outer join (``stream_join`` with ``kind`` left/right/full) against Flink's
``StreamingJoinOperator`` written out row by row (its documented pseudo code): the same rows,
kinds and order, over updating inputs cut into batches that arrive interleaved in any order."""

from __future__ import annotations

import random

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st
from operator_harness import OperatorHarness

from volley.common.changelog import DELETE, INSERT, ROW_KIND_COLUMN, UPDATE_AFTER, UPDATE_BEFORE
from volley.physical.job_graph import OperatorSpec
from volley.plan.expressions import Call, InputRef
from volley.plan.types import BigIntType, BooleanType

KIND = pa.field(ROW_KIND_COLUMN, pa.int8(), nullable=False)
SCHEMA = pa.schema([("k", pa.int64()), ("v", pa.int64()), KIND])
OUT = pa.schema([pa.field(n, pa.int64()) for n in ["k", "v", "k0", "v0"]] + [KIND])
LEFT_V_BELOW_RIGHT_V = Call("lt", (InputRef(1, "v", BigIntType()), InputRef(3, "v0", BigIntType())),
                            BooleanType())


def _spec(kind: str, residual) -> OperatorSpec:
    return OperatorSpec("stream_join", "join-0", "Join",
                        {"kind": kind, "left_keys": (0,), "right_keys": (0,),
                         "residual": residual}, (SCHEMA, SCHEMA), OUT)


def _changelog(rng: random.Random, n: int) -> list[tuple]:
    """A consistent changelog of (k, v, kind): inserts, and -U/+U or -D of live rows."""
    rows, live = [], []
    for _ in range(n):
        if live and rng.random() < 0.4:
            old = live.pop(rng.randrange(len(live)))
            if rng.random() < 0.5:
                rows.append(old + (DELETE,))
            else:
                new = (rng.choice([None, 0, 1, 2]), rng.randint(0, 4))
                rows += [old + (UPDATE_BEFORE,), new + (UPDATE_AFTER,)]
                live.append(new)
        else:
            row = (rng.choice([None, 0, 1, 2]), rng.randint(0, 4))
            live.append(row)
            rows.append(row + (INSERT,))
    return rows


def flink_outer_join(events: list[tuple[int, tuple, int]], kind: str, residual: bool) -> list:
    """Flink's StreamingJoinOperator.processElement, one row at a time. A side's state is a
    list of [row, number of associations] in arrival order; a retraction removes the oldest
    equal row."""
    outer = (kind in ("left", "full"), kind in ("right", "full"))
    state: list[list[list]] = [[], []]
    out = []

    def matches(port: int, row: tuple, other: tuple) -> bool:
        left, right = (row, other) if port == 0 else (other, row)
        return left[0] is not None and left[0] == right[0] and (not residual or left[1] < right[1])

    def line(port: int, row: tuple | None, other: tuple | None) -> tuple:
        left, right = (row, other) if port == 0 else (other, row)
        return (left or (None, None)) + (right or (None, None))

    for port, row, row_kind in events:
        accumulate = row_kind in (INSERT, UPDATE_AFTER)
        in_outer, other_outer = outer[port], outer[1 - port]
        found = [entry for entry in state[1 - port] if matches(port, row, entry[0])]
        if accumulate:
            if not found and in_outer:
                out.append(line(port, row, None) + (INSERT,))
            for entry in found:
                if other_outer:
                    if entry[1] == 0:
                        out.append(line(port, None, entry[0]) + (DELETE,))
                    entry[1] += 1
                joined_kind = INSERT if in_outer or other_outer else row_kind
                out.append(line(port, row, entry[0]) + (joined_kind,))
            state[port].append([row, len(found)])
        else:
            for entry in state[port]:
                if entry[0] == row:
                    state[port].remove(entry)
                    break
            if not found and in_outer:
                out.append(line(port, row, None) + (DELETE,))
            for entry in found:
                out.append(line(port, row, entry[0]) + (DELETE if in_outer else row_kind,))
                if other_outer:
                    if entry[1] == 1:
                        out.append(line(port, None, entry[0]) + (INSERT,))
                    entry[1] -= 1
    return out


def _batches(rows: list[tuple], sizes: list[int]) -> list[pa.RecordBatch]:
    batches, start = [], 0
    for size in sizes + [len(rows)]:
        if start >= len(rows):
            break
        chunk = rows[start:start + size]
        batches.append(pa.RecordBatch.from_pylist(
            [{"k": k, "v": v, ROW_KIND_COLUMN: kind} for k, v, kind in chunk], schema=SCHEMA))
        start += size
    return batches


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32), kind=st.sampled_from(["left", "right", "full"]),
       residual=st.booleans(), sizes=st.lists(st.integers(1, 6), max_size=10),
       order=st.lists(st.booleans(), max_size=30))
def test_outer_join_emits_flinks_changelog(seed, kind, residual, sizes, order) -> None:
    rng = random.Random(seed)
    sides = [_changelog(rng, rng.randint(0, 25)), _changelog(rng, rng.randint(0, 25))]
    pending = [_batches(sides[0], sizes), _batches(sides[1], sizes)]
    schedule = [int(b) for b in order] + [0] * len(pending[0]) + [1] * len(pending[1])
    harness = OperatorHarness(_spec(kind, LEFT_V_BELOW_RIGHT_V if residual else None))
    emitted, events = [], []
    for port in schedule:
        if pending[port]:
            batch = pending[port].pop(0)
            events += [(port, (r["k"], r["v"]), r[ROW_KIND_COLUMN]) for r in batch.to_pylist()]
            emitted += harness.process(batch, port)
    got = [tuple(r.values()) for b in emitted for r in b.to_pylist()]
    assert got == flink_outer_join(events, kind, residual)


def test_a_padded_row_is_retracted_by_its_first_match_and_comes_back_after_its_last() -> None:
    harness = OperatorHarness(_spec("left", None))

    def batch(*rows):
        return pa.RecordBatch.from_pylist(
            [{"k": k, "v": v, ROW_KIND_COLUMN: kind} for k, v, kind in rows], schema=SCHEMA)

    def rows(batches):
        return [tuple(r.values()) for b in batches for r in b.to_pylist()]

    assert rows(harness.process(batch((1, 10, INSERT), (None, 11, INSERT)), 0)) == [
        (1, 10, None, None, INSERT), (None, 11, None, None, INSERT)]
    assert rows(harness.process(batch((1, 20, INSERT), (1, 21, INSERT)), 1)) == [
        (1, 10, None, None, DELETE), (1, 10, 1, 20, INSERT), (1, 10, 1, 21, INSERT)]
    assert rows(harness.process(batch((1, 20, DELETE)), 1)) == [(1, 10, 1, 20, DELETE)]
    assert rows(harness.process(batch((1, 21, UPDATE_BEFORE)), 1)) == [
        (1, 10, 1, 21, UPDATE_BEFORE), (1, 10, None, None, INSERT)]
    assert rows(harness.process(batch((None, 11, DELETE)), 0)) == [
        (None, 11, None, None, DELETE)]


LEFT_OUT = pa.schema([pa.field("k", pa.int64()), pa.field("v", pa.int64()), KIND])


def flink_semi_anti_join(events: list[tuple[int, tuple, int]], anti: bool,
                         residual: bool) -> list:
    """Flink's StreamingSemiAntiJoinOperator, one row at a time: the left state is a list of
    [row, number of associations], the right a list of rows, oldest first."""
    lefts: list[list] = []
    rights: list[tuple] = []
    out = []

    def matches(left: tuple, right: tuple) -> bool:
        return left[0] is not None and left[0] == right[0] and (not residual or left[1] < right[1])

    for port, row, row_kind in events:
        accumulate = row_kind in (INSERT, UPDATE_AFTER)
        if port == 0:
            matched = sum(1 for right in rights if matches(row, right))
            if (matched > 0) != anti:
                out.append(row + (row_kind,))
            if accumulate:
                lefts.append([row, matched])
            else:
                lefts.remove(next(e for e in lefts if e[0] == row))
            continue
        if accumulate:
            rights.append(row)
        else:
            rights.remove(row)
        for entry in [e for e in lefts if matches(e[0], row)]:
            if accumulate:
                if entry[1] == 0:
                    out.append(entry[0] + (DELETE if anti else row_kind,))
                entry[1] += 1
            else:
                if entry[1] == 1:
                    out.append(entry[0] + (INSERT if anti else row_kind,))
                entry[1] -= 1
    return out


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32), anti=st.booleans(), residual=st.booleans(),
       sizes=st.lists(st.integers(1, 6), max_size=10), order=st.lists(st.booleans(), max_size=30))
def test_semi_and_anti_joins_emit_flinks_changelog(seed, anti, residual, sizes, order) -> None:
    rng = random.Random(seed)
    sides = [_changelog(rng, rng.randint(0, 25)), _changelog(rng, rng.randint(0, 25))]
    pending = [_batches(sides[0], sizes), _batches(sides[1], sizes)]
    schedule = [int(b) for b in order] + [0] * len(pending[0]) + [1] * len(pending[1])
    spec = OperatorSpec("stream_join", "join-0", "Join",
                        {"kind": "anti" if anti else "semi", "left_keys": (0,),
                         "right_keys": (0,),
                         "residual": LEFT_V_BELOW_RIGHT_V if residual else None},
                        (SCHEMA, SCHEMA), LEFT_OUT)
    harness = OperatorHarness(spec)
    emitted, events = [], []
    for port in schedule:
        if pending[port]:
            batch = pending[port].pop(0)
            events += [(port, (r["k"], r["v"]), r[ROW_KIND_COLUMN]) for r in batch.to_pylist()]
            emitted += harness.process(batch, port)
    got = [tuple(r.values()) for b in emitted for r in b.to_pylist()]
    assert got == flink_semi_anti_join(events, anti, residual)
