"""Streaming set operations (``stream_set_op``) against the plans Flink runs them as, written out
row by row: UNION as a group aggregation over both inputs; INTERSECT / EXCEPT as a semi / anti
join under a distinct aggregation; INTERSECT ALL / EXCEPT ALL as a group aggregation counting
each side, a filter and a row replication. Same rows, kinds and order, over updating inputs cut
into batches that arrive interleaved in any order; and the materialized result is the batch
result."""

from __future__ import annotations

import random
from collections import Counter

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st
from operator_harness import OperatorHarness

from volley.common.changelog import DELETE, INSERT, ROW_KIND_COLUMN, UPDATE_AFTER, UPDATE_BEFORE
from volley.physical.job_graph import OperatorSpec

KIND = pa.field(ROW_KIND_COLUMN, pa.int8(), nullable=False)
SCHEMA = pa.schema([("a", pa.int64()), ("b", pa.string()), KIND])
RIGHT = pa.schema([("x", pa.int32()), ("y", pa.string()), KIND])  # cast to the output's types
KINDS = [("union", False, False), ("intersect", False, False), ("intersect", True, False),
         ("minus", False, False), ("minus", True, False), ("intersect", False, True),
         ("minus", False, True)]


def _spec(kind: str, all_rows: bool, left_unique: bool) -> OperatorSpec:
    return OperatorSpec("stream_set_op", "set-0", "SetOp",
                        {"kind": kind, "all": all_rows, "left_unique": left_unique},
                        (SCHEMA, RIGHT), SCHEMA)


def _changelog(rng: random.Random, n: int) -> list[tuple]:
    rows, live = [], []
    values = [(1, "a"), (2, "b"), (None, "a"), (1, None), (3, "c")]
    for _ in range(n):
        if live and rng.random() < 0.35:
            old = live.pop(rng.randrange(len(live)))
            if rng.random() < 0.5:
                rows.append(old + (DELETE,))
            else:
                new = rng.choice(values)
                rows += [old + (UPDATE_BEFORE,), new + (UPDATE_AFTER,)]
                live.append(new)
        else:
            row = rng.choice(values)
            live.append(row)
            rows.append(row + (INSERT,))
    return rows


class _GroupCount:
    """Flink's GroupAggFunction over a row key with an accumulator function: +I for a new group,
    -U/+U when its result changes, -D when its last row goes, nothing when unchanged."""

    def __init__(self, result) -> None:
        self.rows: Counter = Counter()  # rows per group
        self.acc: dict = {}
        self.result = result

    def update(self, key, delta: tuple, accumulate: bool) -> list[tuple]:
        old_rows = self.rows[key]
        old = self.result(self.acc.get(key, (0, 0)))
        acc = tuple(a + d for a, d in zip(self.acc.get(key, (0, 0)), delta, strict=True))
        self.acc[key] = acc
        self.rows[key] += 1 if accumulate else -1
        new = self.result(acc)
        if old_rows == 0:
            return [(new, INSERT)]
        if self.rows[key] == 0:
            del self.acc[key]
            return [(old, DELETE)]
        return [] if old == new else [(old, UPDATE_BEFORE), (new, UPDATE_AFTER)]


def flink_set_op(events: list[tuple[int, tuple, int]], kind: str, all_rows: bool,
                 left_unique: bool = False) -> list:
    """Flink's plan, row by row. ``left_unique``: the left input has a key, and Flink drops the
    distinct aggregation over the semi / anti join: the join's output is the result."""
    out = []
    if kind == "union" or all_rows:
        # UNION: GroupAggregate(groupBy=[all]) over UNION ALL; the ALL variants count each side
        # (intersect: COUNT(left marker), COUNT(right marker); except: SUM(+1 / -1))
        agg = _GroupCount(lambda acc: () if kind == "union" else acc)  # UNION: no aggregates
        for port, row, row_kind in events:
            accumulate = row_kind in (INSERT, UPDATE_AFTER)
            sign = 1 if accumulate else -1
            delta = (sign, 0) if port == 0 else (0, sign)
            for result, out_kind in agg.update(row, delta, accumulate):
                if kind == "union":
                    out.append(row + (out_kind,))
                    continue
                left, right = result
                if kind == "intersect":  # Calc(where left >= 1 and right >= 1), min copies
                    copies = min(left, right) if left >= 1 and right >= 1 else 0
                else:  # Calc(where left - right > 0), that many copies
                    copies = max(left - right, 0)
                out += [row + (out_kind,)] * copies
        return out
    # INTERSECT / EXCEPT: a semi / anti join of the left on the right (the left keeps each
    # copy's number of matches), then GroupAggregate(groupBy=[all]) of what it emits
    lefts: list[list] = []  # [row, associations] per copy, oldest first
    rights: Counter = Counter()
    distinct: Counter = Counter()
    anti = kind == "minus"

    def emit(row: tuple, accumulate: bool, kind: int) -> None:
        if left_unique:
            out.append(row + (kind,))
            return
        before = distinct[row]
        distinct[row] += 1 if accumulate else -1
        if before == 0 and distinct[row] > 0:
            out.append(row + (INSERT,))
        elif before > 0 and distinct[row] == 0:
            out.append(row + (DELETE,))

    for port, row, row_kind in events:
        accumulate = row_kind in (INSERT, UPDATE_AFTER)
        if port == 0:
            matched = rights[row]
            if (matched > 0) != anti:
                emit(row, accumulate, row_kind)
            if accumulate:
                lefts.append([row, matched])
            else:
                lefts.remove(next(e for e in lefts if e[0] == row))
        else:
            rights[row] += 1 if accumulate else -1
            for entry in [e for e in lefts if e[0] == row]:
                if accumulate:
                    if entry[1] == 0:  # semi: the right row's kind; anti: -D
                        emit(row, not anti, DELETE if anti else row_kind)
                    entry[1] += 1
                else:
                    if entry[1] == 1:  # semi: the right row's kind; anti: +I
                        emit(row, anti, INSERT if anti else row_kind)
                    entry[1] -= 1
    return out


def _batches(rows: list[tuple], sizes: list[int], schema: pa.Schema) -> list[pa.RecordBatch]:
    batches, start = [], 0
    names = schema.names
    for size in sizes + [len(rows)]:
        if start >= len(rows):
            break
        batches.append(pa.RecordBatch.from_pylist(
            [dict(zip(names, r, strict=True)) for r in rows[start:start + size]], schema=schema))
        start += size
    return batches


def _final(rows: list[tuple]) -> Counter:
    final: Counter = Counter()
    for *values, kind in rows:
        final[tuple(values)] += 1 if kind in (INSERT, UPDATE_AFTER) else -1
    return +final


def _batch_result(left: Counter, right: Counter, kind: str, all_rows: bool) -> Counter:
    if kind == "union":
        return Counter(set(left) | set(right))
    if kind == "intersect":
        return (left & right) if all_rows else Counter(set(left) & set(right))
    return (left - right) if all_rows else Counter(set(left) - set(right))


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32), which=st.sampled_from(KINDS),
       sizes=st.lists(st.integers(1, 6), max_size=10), order=st.lists(st.booleans(), max_size=30))
def test_set_operation_emits_flinks_changelog(seed, which, sizes, order) -> None:
    kind, all_rows, left_unique = which
    rng = random.Random(seed)
    sides = [_changelog(rng, rng.randint(0, 25)), _changelog(rng, rng.randint(0, 25))]
    pending = [_batches(sides[0], sizes, SCHEMA), _batches(sides[1], sizes, RIGHT)]
    schedule = [int(b) for b in order] + [0] * len(pending[0]) + [1] * len(pending[1])
    harness = OperatorHarness(_spec(kind, all_rows, left_unique))
    emitted, events = [], []
    for port in schedule:
        if pending[port]:
            batch = pending[port].pop(0)
            events += [(port, tuple(r.values())[:2], tuple(r.values())[2])
                       for r in batch.to_pylist()]
            emitted += harness.process(batch, port)
    got = [tuple(r.values()) for b in emitted for r in b.to_pylist()]
    assert got == flink_set_op(events, kind, all_rows, left_unique)
    if not left_unique:  # (a left input with duplicates is not what Flink runs the join on)
        # the changelog applied is the batch result of the inputs' final rows
        assert _final(got) == _batch_result(_final(sides[0]), _final(sides[1]), kind, all_rows)
