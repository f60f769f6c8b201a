"""Property: results do not depend on how the input is split into batches, and streaming mode
agrees with batch mode on the final result of bounded input."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from volley.common.row import RowKind
from volley.table import EnvironmentSettings, TableEnvironment

ROWS = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c", None]), st.one_of(st.none(), st.integers(-50, 50))),
    min_size=1,
    max_size=40,
)
QUERY = (
    "SELECT k, COUNT(*) AS n, COUNT(v) AS nv, SUM(v) AS s, MIN(v) AS lo, MAX(v) AS hi, "
    "COUNT(DISTINCT v) AS d FROM t GROUP BY k"
)


def _split(rows: list[tuple], cuts: list[int]) -> pa.Table:
    keys = pa.array([r[0] for r in rows], pa.string())
    values = pa.array([r[1] for r in rows], pa.int64())
    table = pa.table({"k": keys, "v": values})
    bounds = sorted({0, len(rows), *[c % (len(rows) + 1) for c in cuts]})
    batches = [
        b
        for lo, hi in zip(bounds, bounds[1:], strict=False)
        for b in table.slice(lo, hi - lo).to_batches()
    ]
    return pa.Table.from_batches(batches, schema=table.schema)


def _final(env: TableEnvironment, data: pa.Table) -> list[tuple]:
    env.create_temporary_view("t", env.from_arrow(data))
    state: dict = {}
    for row in env.sql_query(QUERY).execute().collect():
        kind = row.get_row_kind()
        if kind in (RowKind.INSERT, RowKind.UPDATE_AFTER):
            state[row[0]] = tuple(row)
        elif kind is RowKind.DELETE:
            state.pop(row[0], None)
    return sorted(state.values(), key=repr)


@settings(max_examples=40, deadline=None)
@given(rows=ROWS, cuts=st.lists(st.integers(0, 40), max_size=6))
def test_streaming_changelog_converges_to_batch_result(rows, cuts) -> None:
    batch = _final(TableEnvironment.create(EnvironmentSettings.in_batch_mode()), _split(rows, []))
    streaming = _final(
        TableEnvironment.create(EnvironmentSettings.in_streaming_mode()), _split(rows, cuts)
    )
    assert streaming == batch
