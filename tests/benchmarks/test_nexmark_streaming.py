"""Nexmark q3, q4, q5, q7 and q8 on Volley in streaming mode: the materialized changelog equals
the pandas computation of each query (benchmarks/suite/nexmark_streaming.py), over enough events
(1,500,000: 15 seconds of event time) for several tumbling and sliding windows to fire."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.suite import nexmark, nexmark_streaming
from volley.table import EnvironmentSettings, TableEnvironment


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("nexmark-streaming")
    nexmark.generate(1_500_000, out, seed=3)
    return out


def _result(directory: Path, query: str, parallelism: int = 1):
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    t_env.get_config().set("parallelism.default", str(parallelism))
    for kind in nexmark.KINDS:
        t_env.execute_sql(nexmark.ddl(kind, kind, directory / f"{kind}.csv"))
    return t_env.sql_query(nexmark_streaming.QUERIES[query]).to_pandas()


@pytest.mark.parametrize("query", sorted(nexmark_streaming.QUERIES))
def test_streaming_result_equals_pandas(directory, query):
    want = nexmark_streaming.pandas_result(query, directory)
    ok, line = nexmark_streaming.same_rows(_result(directory, query), want)
    assert ok, line
    assert len(want) > 0


@pytest.mark.slow
@pytest.mark.parametrize("query", ["q4", "q5"])
def test_parallel_result_equals_pandas(directory, query):
    want = nexmark_streaming.pandas_result(query, directory)
    ok, line = nexmark_streaming.same_rows(_result(directory, query, parallelism=2), want)
    assert ok, line


def test_rows_read_counts_the_files_a_query_reads():
    assert nexmark_streaming.rows_read("q5", 10_000_000) == 9_200_000
    assert nexmark_streaming.rows_read("q3", 10_000_000) == 800_000
