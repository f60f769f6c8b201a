"""Streaming Top-N, deduplication and ORDER BY time, through the real task, against batch mode.

Random inputs cut into random batches: the changelog a Top-N emits is consistent (it retracts
only rows it emitted) and materializes to the rows batch mode ranks in; over an updating input
(random consistent changelogs) to the ranks of the rows left; deduplication keeps the rows Flink
keeps; a time ORDER BY emits every row once in order. A checkpoint and restore in between changes
nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from operator_harness import OperatorHarness

from volley.common.changelog import ROW_KIND_COLUMN
from volley.physical.job_graph import OperatorSpec
from volley.plan.calls import SortKey

SCHEMA = pa.schema([("k", pa.int64()), ("v", pa.int32()), ("s", pa.string()),
                    pa.field("ts", pa.timestamp("ms"), nullable=False)])
K, V, S, TS = range(4)
KINDS = pa.schema([*SCHEMA, pa.field(ROW_KIND_COLUMN, pa.int8(), nullable=False)])
BASE = dt.datetime(2024, 1, 1)
DELAY = 5
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ROWS = st.lists(st.tuples(st.integers(0, 3), st.one_of(st.none(), st.integers(0, 6)),
                          st.sampled_from(["x", "y", None]), st.integers(0, DELAY - 1)),
                max_size=40)


def _timed(rows) -> list[tuple]:
    """Times that run ahead with jitter below the watermark delay (never late)."""
    return [(k, v, s, BASE + dt.timedelta(milliseconds=i + jitter))
            for i, (k, v, s, jitter) in enumerate(rows)]


def _batches(rows, cuts, schema=SCHEMA) -> list[pa.RecordBatch]:
    table = pa.Table.from_pylist([dict(zip(schema.names, r, strict=True)) for r in rows],
                                 schema=schema)
    out, start = [], 0
    for size in [*cuts, len(rows)]:
        if start >= len(rows):
            break
        out.append(table.slice(start, size).combine_chunks().to_batches()[0])
        start += size
    return out


def _run(spec, batches, cut=None, watermarks=False) -> list[tuple]:
    """Every batch (a watermark after each, when asked), with a checkpoint and restore before
    batch ``cut``; the rows emitted, with their kind when the output has one."""
    cut = len(batches) if cut is None else cut
    highest = [-(2**63)]

    def feed(harness, part):
        for batch in part:
            harness.process(batch)
            if watermarks:
                times = batch.column(TS).to_pylist()
                highest[0] = max(highest[0], *(int((t - dt.datetime(1970, 1, 1))
                                                   .total_seconds() * 1000) for t in times))
                harness.watermark(highest[0] - DELAY)

    first = OperatorHarness(spec, checkpointing=True)
    feed(first, batches[:cut])
    restore = first.checkpoint(1)
    first.close()
    second = OperatorHarness(spec, checkpointing=True, restore=restore)
    feed(second, batches[cut:])
    second.end()
    return first.rows() + second.rows()


def _materialize(changes) -> Counter:
    """Apply a changelog; a retraction must remove a row that is there."""
    rows: Counter = Counter()
    for change in changes:
        *values, kind = change
        if kind in (0, 2):
            rows[tuple(values)] += 1
        else:
            assert rows[tuple(values)] > 0, f"retracted a row never emitted: {change}"
            rows[tuple(values)] -= 1
    return +rows


def _ranked(rows, start, end, output_rank) -> Counter:
    """Batch semantics: ROW_NUMBER by v DESC (NULLs last), ties in arrival order, per k."""
    by_key: dict = {}
    for r in rows:
        by_key.setdefault(r[K], []).append(r)
    out: Counter = Counter()
    for members in by_key.values():
        ordered = sorted(members, key=lambda r: (r[V] is None, -(r[V] or 0)))
        for rank, r in enumerate(ordered, 1):
            if start <= rank <= end:
                out[tuple(r) + ((rank,) if output_rank else ())] += 1
    return out


def _top_n_spec(start, end, output_rank, schema=SCHEMA) -> OperatorSpec:
    out_fields = list(SCHEMA) + ([pa.field("rn", pa.int64(), nullable=False)]
                                 if output_rank else [])
    out = pa.schema([*out_fields, pa.field(ROW_KIND_COLUMN, pa.int8(), nullable=False)])
    params = {"partition_keys": (K,), "order_keys": (SortKey(V, False),), "start": start,
              "end": end, "output_rank": output_rank}
    return OperatorSpec("top_n", "top-1", "Rank", params, (schema,), out)


@SETTINGS
@given(rows=ROWS, cuts=st.lists(st.integers(1, 9), max_size=8), where=st.floats(0, 1),
       start=st.integers(1, 3), size=st.integers(0, 3), output_rank=st.booleans())
def test_top_n_materializes_to_batch_ranking(rows, cuts, where, start, size, output_rank):
    timed = _timed(rows)
    batches = _batches(timed, cuts)
    spec = _top_n_spec(start, start + size, output_rank)
    changes = _run(spec, batches, round(where * len(batches)))
    assert _materialize(changes) == _ranked(timed, start, start + size, output_rank)
    assert changes == _run(spec, batches)  # the restore changed nothing


@st.composite
def changelogs(draw):
    """A consistent changelog (+I, -U/+U pairs, -D of rows present) and its final rows in the
    order they were (last) inserted; a retraction takes back the earliest equal row."""
    live: list[tuple] = []
    out = []
    for i in range(draw(st.integers(0, 40))):
        if live and draw(st.booleans()):
            old = live[draw(st.integers(0, len(live) - 1))]
            live.remove(old)  # the earliest equal row: list.remove takes the first
            if draw(st.booleans()):
                out.append((*old, 3))
                continue
            new = (old[K], draw(st.one_of(st.none(), st.integers(0, 6))), old[S], old[TS])
            out += [(*old, 1), (*new, 2)]
            live.append(new)
        else:
            row = (draw(st.integers(0, 2)), draw(st.one_of(st.none(), st.integers(0, 6))),
                   draw(st.sampled_from(["x", "y"])), BASE + dt.timedelta(milliseconds=i))
            out.append((*row, 0))
            live.append(row)
    return out, live


@SETTINGS
@given(log=changelogs(), cuts=st.lists(st.integers(1, 9), max_size=8), where=st.floats(0, 1),
       end=st.integers(1, 3), output_rank=st.booleans())
def test_top_n_of_an_updating_input_ranks_the_rows_left(log, cuts, where, end, output_rank):
    changes, live = log
    batches = _batches(changes, cuts, KINDS)
    spec = _top_n_spec(1, end, output_rank, KINDS)
    emitted = _run(spec, batches, round(where * len(batches)))
    assert _materialize(emitted) == _ranked(live, 1, end, output_rank)


# -- deduplication ---------------------------------------------------------------------------------

def _dedup_spec(keep_last: bool, rowtime: bool) -> OperatorSpec:
    out = SCHEMA if not keep_last else KINDS
    params = {"partition_keys": (K,), "time_index": TS, "keep_last": keep_last,
              "rowtime": rowtime}
    return OperatorSpec("deduplicate", "dedup-1", "Deduplicate", params, (SCHEMA,), out)


def _kept(rows, keep_last: bool, by_time: bool) -> Counter:
    kept: dict = {}
    for r in rows:
        held = kept.get(r[K])
        if held is None or (keep_last and (not by_time or r[TS] >= held[TS])) or \
                (not keep_last and by_time and r[TS] < held[TS]):
            kept[r[K]] = r
    return Counter(kept.values())


@SETTINGS
@given(rows=ROWS, cuts=st.lists(st.integers(1, 9), max_size=8), where=st.floats(0, 1),
       keep_last=st.booleans(), rowtime=st.booleans())
def test_deduplication_keeps_flinks_rows(rows, cuts, where, keep_last, rowtime):
    timed = _timed(rows)
    batches = _batches(timed, cuts)
    spec = _dedup_spec(keep_last, rowtime)
    emitted = _run(spec, batches, round(where * len(batches)), watermarks=rowtime)
    if keep_last:
        assert _materialize(emitted) == _kept(timed, True, rowtime)
    else:  # insert-only, each key once
        assert Counter(emitted) == _kept(timed, False, rowtime)
        assert len({r[K] for r in emitted}) == len(emitted)


def test_first_row_by_event_time_waits_for_the_watermark_and_drops_late_rows():
    spec = _dedup_spec(keep_last=False, rowtime=True)
    harness = OperatorHarness(spec)

    def rows(*values):
        return _batches([(k, v, None, BASE + dt.timedelta(milliseconds=t)) for k, v, t in values],
                        [])[0]

    assert harness.process(rows((1, 10, 30), (1, 11, 20), (2, 20, 50))) == []
    harness.watermark(int((BASE - dt.datetime(1970, 1, 1)).total_seconds() * 1000) + 40)
    assert [r[V] for r in harness.rows()] == [11]  # the earliest of key 1; key 2 still waits
    harness.process(rows((1, 12, 5), (3, 30, 39), (3, 31, 45)))  # all before the watermark but one
    harness.end()
    assert [r[V] for r in harness.rows()] == [11, 31, 20]  # by time: 31 at 45, 20 at 50
    assert harness.task.counters()["dedup-1.numLateRecordsDropped"] == 2


# -- ORDER BY a time attribute ---------------------------------------------------------------------

@SETTINGS
@given(rows=ROWS, cuts=st.lists(st.integers(1, 9), max_size=8), where=st.floats(0, 1))
def test_time_order_by_emits_every_row_once_in_order(rows, cuts, where):
    timed = _timed(rows)
    batches = _batches(timed, cuts)
    keys = (SortKey(TS), SortKey(V, False))
    spec = OperatorSpec("temporal_sort", "sort-1", "Sort", {"keys": keys, "rowtime": True},
                        (SCHEMA,), SCHEMA)
    emitted = _run(spec, batches, round(where * len(batches)), watermarks=True)
    expected = sorted(timed, key=lambda r: (r[TS], r[V] is None, -(r[V] or 0)))
    assert emitted == [tuple(r) for r in expected]


@pytest.mark.parametrize("end", [1, 2])
def test_top_n_one_row_at_a_time_is_flinks_append_only_changelog(end):
    """Flink's AppendOnlyTopNFunction, row by row: a row entering rank r shifts the rows below
    it (-U/+U per rank) and fills the next free rank (+I); without the rank, the row pushed out
    is deleted (-D) before the new one is inserted (+I)."""
    rows = [(1, 5, "a"), (1, 7, "b"), (1, 6, "c"), (1, 9, "d"), (1, 1, "e")]
    batches = [_batches([(k, v, s, BASE)], [])[0] for k, v, s in rows]
    with_rank = OperatorHarness(_top_n_spec(1, end, True))
    without = OperatorHarness(_top_n_spec(1, end, False))
    for b in batches:
        with_rank.process(b)
        without.process(b)

    def shown(h):
        return [(kind, values[S], values[-1] if len(values) > 4 else None)
                for *values, kind in h.rows()]

    if end == 2:
        assert shown(with_rank) == [
            (0, "a", 1), (1, "a", 1), (2, "b", 1), (0, "a", 2), (1, "a", 2), (2, "c", 2),
            (1, "b", 1), (2, "d", 1), (1, "c", 2), (2, "b", 2)]
        assert [(kind, values[S]) for *values, kind in without.rows()] == [
            (0, "a"), (0, "b"), (3, "a"), (0, "c"), (3, "c"), (0, "d")]
    else:
        assert [(kind, values[S]) for *values, kind in without.rows()] == [
            (0, "a"), (3, "a"), (0, "b"), (3, "b"), (0, "d")]
