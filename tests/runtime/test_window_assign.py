"""Window assignment (TUMBLE, HOP, CUMULATE) against a row-at-a-time model of Flink's
assigners, and session merging against a model that merges intervals one by one."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from volley.plan.calls import WindowSpec
from volley.runtime.sessions import merge_intervals
from volley.runtime.window_assign import assign

times = st.lists(st.integers(-10_000, 10_000), max_size=30)


def _model(window: WindowSpec, t: int) -> list[tuple[int, int]]:
    """Flink's assigners for one timestamp: (start, end) of every window containing it."""
    def start_with_offset(ts: int, size: int) -> int:
        remainder = (ts - window.offset) % size
        return ts - remainder if remainder >= 0 else ts - (remainder + size)

    if window.kind == "tumble":
        start = start_with_offset(t, window.size)
        return [(start, start + window.size)]
    if window.kind == "hop":
        out = []
        last = start_with_offset(t, window.slide)
        start = last
        while start > t - window.size:
            out.append((start, start + window.size))
            start -= window.slide
        return out
    cycle = start_with_offset(t, window.size)
    return [(cycle, end) for end in range(cycle + window.slide, cycle + window.size + 1,
                                          window.slide) if end > t]


@settings(max_examples=200, deadline=None)
@given(ts=times, kind=st.sampled_from(["tumble", "hop", "cumulate"]),
       slide=st.integers(1, 50), factor=st.integers(1, 6), offset=st.integers(-40, 40),
       extra=st.integers(0, 30))
def test_windows_are_those_of_flinks_assigners(ts, kind, slide, factor, offset, extra):
    size = slide * factor + (extra if kind == "hop" else 0)
    offset = offset % size if kind != "hop" else offset % slide
    window = WindowSpec(kind, 0, size=size, slide=slide, offset=offset)
    rows, starts, ends = assign(window, np.array(ts, dtype=np.int64))
    got = sorted(zip(rows.tolist(), starts.tolist(), ends.tolist(), strict=True))
    expected = sorted((i, s, e) for i, t in enumerate(ts) for s, e in _model(window, t))
    assert got == expected
    if kind == "hop":  # Flink lists a row's hopping windows latest start first
        for i in set(rows.tolist()):
            mine = starts[rows == i]
            assert (np.diff(mine) < 0).all()


def _merge_model(kid, start, end):
    """Intervals merged one by one: an interval joins every session it intersects."""
    sessions: dict[int, list[list[int]]] = {}
    for k, s, e in zip(kid, start, end, strict=True):
        merged = [s, e]
        keep = []
        for other in sessions.get(k, []):
            if other[0] <= merged[1] and merged[0] <= other[1]:  # TimeWindow.intersects
                merged = [min(merged[0], other[0]), max(merged[1], other[1])]
            else:
                keep.append(other)
        # merging can make the new session reach one it missed before
        changed = True
        while changed:
            changed = False
            for other in list(keep):
                if other[0] <= merged[1] and merged[0] <= other[1]:
                    merged = [min(merged[0], other[0]), max(merged[1], other[1])]
                    keep.remove(other)
                    changed = True
        sessions[k] = keep + [merged]
    return sorted((k, s, e) for k, items in sessions.items() for s, e in items)


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 100)), max_size=40),
       gap=st.integers(1, 20))
def test_sessions_merge_as_flink_merges_windows(rows, gap):
    kid = np.array([k for k, _ in rows], dtype=np.int64)
    start = np.array([t for _, t in rows], dtype=np.int64)
    end = start + gap
    m_kid, m_start, m_end, into = merge_intervals(kid, start, end)
    assert sorted(zip(m_kid.tolist(), m_start.tolist(), m_end.tolist(), strict=True)) \
        == _merge_model(kid.tolist(), start.tolist(), end.tolist())
    for i in range(len(rows)):  # each interval lies in the session it went into
        j = into[i]
        assert m_kid[j] == kid[i] and m_start[j] <= start[i] and end[i] <= m_end[j]
