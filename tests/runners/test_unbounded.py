"""Unbounded queries end to end: a window-free streaming aggregation over an endless datagen
table read through ``collect()`` (closing the iterator cancels the job), and
``TableResult.wait(timeout)``, which for a query waits for its first row, as in PyFlink."""

from __future__ import annotations

import pytest

from volley.common import JobStatus
from volley.common.row import RowKind
from volley.table import EnvironmentSettings, TableEnvironment


def _env(parallelism: str) -> TableEnvironment:
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    t_env.get_config().set("parallelism.default", parallelism)
    t_env.execute_sql("""CREATE TABLE gen (id INT, v INT) WITH ('connector' = 'datagen',
        'rows-per-second' = '2000', 'fields.id.min' = '0', 'fields.id.max' = '4',
        'fields.v.min' = '0', 'fields.v.max' = '9')""")
    return t_env


@pytest.mark.parametrize("parallelism", ["1", "2"])
def test_an_endless_aggregation_streams_its_changelog_until_closed(parallelism):
    t_env = _env(parallelism)
    result = t_env.execute_sql("SELECT id, COUNT(*) AS n, SUM(v) AS s FROM gen GROUP BY id")
    result.wait(60_000)  # the first row can be read (the job itself never ends)
    client = result.get_job_client()
    assert client.get_job_status() is JobStatus.RUNNING
    counts: dict[int, int] = {}  # the count each key shows now
    last: dict[int, int] = {}  # the count each key showed last (across retractions)
    with result.collect() as rows:
        for row in rows:
            kind = row.get_row_kind()
            if kind is RowKind.UPDATE_BEFORE:
                assert counts.pop(row[0]) == row[1]  # retracts what it said before
                continue
            assert row[0] not in counts  # inserted once, then updated after a retraction
            assert (kind is RowKind.INSERT) == (row[0] not in last)
            assert row[1] > last.get(row[0], 0)
            counts[row[0]] = last[row[0]] = row[1]
            if len(counts) == 5 and min(counts.values()) > 50:
                break
    with pytest.raises(Exception):  # noqa: B017 - cancelled: JobCancelledError
        client.wait(60)
    assert client.get_job_status() is JobStatus.CANCELED


def test_wait_on_a_query_returns_at_its_first_row_and_times_out_without_one():
    t_env = _env("1")
    result = t_env.execute_sql("SELECT id, v FROM gen WHERE v > 5")
    result.wait(60_000)
    with result.collect() as rows:
        assert next(rows)[1] > 5  # the rows are still there to read
    nothing = t_env.execute_sql("SELECT id FROM gen WHERE v > 100")
    with pytest.raises(TimeoutError):
        nothing.wait(300)
    nothing.collect().close()
    assert nothing.get_job_client().get_job_status() is JobStatus.CANCELED


def test_wait_on_a_bounded_query_keeps_its_rows_and_raises_its_error():
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    result = t_env.execute_sql("SELECT * FROM (VALUES (1), (2)) AS t(x)")
    result.wait()
    assert sorted(r[0] for r in result.collect()) == [1, 2]
    failing = t_env.execute_sql("SELECT 1 / x FROM (VALUES (0)) AS t(x)")
    with pytest.raises(Exception, match="zero"):  # noqa: B017
        failing.wait()
