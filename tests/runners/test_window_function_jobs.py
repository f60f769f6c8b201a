"""OVER windows, Top-N and deduplication as whole jobs: a job that fails half way restarts from its
last checkpoint and gives the rows of one that did not; at parallelism 2 (worker processes, hash
exchanges by partition key) a job gives the rows of parallelism 1."""

from __future__ import annotations

from collections import Counter

import pytest

from volley.table import EnvironmentSettings, TableEnvironment
from volley.table.types import DataTypes
from volley.table.udf import ScalarFunction, udf

N = 3000
QUERIES = [
    "SELECT k, id, SUM(x) OVER w AS s, MIN(x) OVER w AS m FROM events "
    "WINDOW w AS (PARTITION BY k ORDER BY ts ROWS 5 PRECEDING)",
    "SELECT k, id, COUNT(*) OVER (PARTITION BY k ORDER BY ts RANGE BETWEEN INTERVAL '20' SECOND "
    "PRECEDING AND CURRENT ROW) AS c FROM events",
    "SELECT k, id, AVG(x) OVER (ORDER BY ts) AS a FROM events",
    "SELECT * FROM (SELECT k, id, x, ROW_NUMBER() OVER (PARTITION BY k ORDER BY x DESC) AS rn "
    "FROM events) WHERE rn <= 3",
    "SELECT k, id FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY ts DESC) AS rn "
    "FROM events) WHERE rn = 1",
    "SELECT id, x FROM events ORDER BY ts, x DESC",
]


class FailsOnce(ScalarFunction):
    """The identity, except that it raises the first time it sees ``at`` in this process."""

    def __init__(self, at: int) -> None:
        self.at, self.failed = at, False

    def eval(self, x):
        if x == self.at and not self.failed:
            self.failed = True
            raise ValueError(f"boom at {x}")
        return x


def _env(parallelism: int = 1, **config: str) -> TableEnvironment:
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    t_env.get_config().set("parallelism.default", str(parallelism))
    for key, value in config.items():
        t_env.get_config().set(key, value)
    t_env.execute_sql(f"""CREATE TABLE numbers (id BIGINT, ts AS TO_TIMESTAMP_LTZ(id * 1000, 3),
        WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector' = 'datagen',
        'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '{N}',
        'batch-size' = '100')""")
    return t_env


def _rows(t_env: TableEnvironment, sql: str, x: str = "id * 7 % 3001",
          restarts: int = 0) -> Counter:
    """The materialized rows; ``x`` is unique per row (3001 is prime), so no rank has ties."""
    t_env.create_temporary_view("events", t_env.sql_query(
        f"SELECT id % 13 AS k, id, {x} AS x, ts FROM numbers"))
    result: Counter = Counter()
    table_result = t_env.sql_query(sql).execute()
    with table_result.collect() as rows:
        for row in rows:
            result[tuple(row)] += 1 if row.get_row_kind().value in (0, 2) else -1
    assert table_result.get_job_client()._handle.metrics.get("restarts", 0) == restarts
    return +result


@pytest.mark.parametrize("sql", QUERIES)
def test_a_failed_job_restarts_from_its_last_checkpoint_with_the_same_rows(sql, tmp_path):
    expected = _rows(_env(), sql)
    t_env = _env(**{"execution.checkpointing.interval": "1 ms",
                    "execution.checkpointing.dir": str(tmp_path / "ck"),
                    "restart-strategy.type": "fixed-delay",
                    "restart-strategy.fixed-delay.attempts": "1",
                    "restart-strategy.fixed-delay.delay": "0 s"})
    t_env.create_temporary_system_function(
        "fails_once", udf(FailsOnce(N // 2 * 7 % 3001), result_type=DataTypes.BIGINT()))
    assert _rows(t_env, sql, "fails_once(id * 7 % 3001)", restarts=1) == expected


@pytest.mark.parametrize("sql", QUERIES)
def test_parallelism_2_gives_the_rows_of_parallelism_1(sql):
    assert _rows(_env(parallelism=2), sql) == _rows(_env(), sql)
