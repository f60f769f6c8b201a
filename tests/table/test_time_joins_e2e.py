"""Time-bounded joins through whole jobs: on bounded input a streaming interval join gives what
batch mode gives, a streaming interval or temporal join at parallelism 2 what parallelism 1 gives;
a processing-time interval join; lookup joins reading their table's current content when the job
starts."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path

import pytest

from volley.errors import PlanError
from volley.table import EnvironmentSettings, TableEnvironment

GOLDEN = Path(__file__).parent.parent / "golden" / "pyflink"


def _cases():
    spec = importlib.util.spec_from_file_location("golden_cases_time", GOLDEN / "cases.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


CASES = _cases()
TIME_QUERIES = {c.name: c.note for c in CASES.CASES
                if c.name.startswith(("stream_interval_join", "stream_temporal_join"))
                and "no_primary_key" not in c.name}


def _rows(mode: str, sql: str, parallelism: str = "1") -> Counter:
    settings = EnvironmentSettings.in_batch_mode() if mode == "batch" \
        else EnvironmentSettings.in_streaming_mode()
    t_env = TableEnvironment.create(settings)
    t_env.get_config().set("parallelism.default", parallelism)
    CASES._time_tables(t_env)
    with t_env.sql_query(sql).execute().collect() as rows:
        return Counter(tuple(r) for r in rows)


@pytest.mark.parametrize("name", sorted(n for n in TIME_QUERIES if "interval" in n))
def test_streaming_gives_what_batch_gives(name):
    """In batch mode the bounds make a regular join (a batch job has no event time, as in
    Flink): the same rows."""
    sql = TIME_QUERIES[name]
    streaming = _rows("streaming", sql)
    assert streaming == _rows("batch", sql)
    assert streaming  # every query has rows to compare


def test_an_event_time_temporal_join_needs_streaming_mode_as_in_flink():
    with pytest.raises(PlanError, match="run an event-time temporal join in streaming mode"):
        _rows("batch", TIME_QUERIES["stream_temporal_join"])


@pytest.mark.parametrize("name", ["stream_interval_join_full", "stream_temporal_join_left"])
def test_parallelism_2_gives_what_parallelism_1_gives(name):
    sql = TIME_QUERIES[name]
    assert _rows("streaming", sql, "2") == _rows("streaming", sql)


@pytest.fixture
def t_env(tmp_path) -> TableEnvironment:
    env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    (tmp_path / "a.csv").write_text("1,a\n2,b\n3,c\n")
    (tmp_path / "b.csv").write_text("1,x\n3,y\n3,z\n4,w\n")
    for name in ("a", "b"):
        env.execute_sql(f"""CREATE TABLE {name} (id INT, s STRING, pt AS PROCTIME())
            WITH ('connector' = 'filesystem', 'path' = '{tmp_path / name}.csv',
            'format' = 'csv')""")
    return env


def test_a_processing_time_interval_join(t_env):
    """Rows are stamped with the clock as they arrive; a day either way covers the whole job."""
    result = t_env.sql_query("SELECT a.id, a.s, b.s FROM a FULL JOIN b ON a.id = b.id AND "
                             "a.pt BETWEEN b.pt - INTERVAL '1' DAY AND b.pt + INTERVAL '1' DAY")
    with result.execute().collect() as rows:
        got = Counter(tuple(r) for r in rows)
    assert got == Counter([(1, "a", "x"), (3, "c", "y"), (3, "c", "z"), (2, "b", None),
                           (None, None, "w")])


def test_a_lookup_join_reads_the_current_content_of_its_table(tmp_path, t_env):
    dim = tmp_path / "dim.csv"
    t_env.execute_sql(f"""CREATE TABLE dim (id INT, name STRING, PRIMARY KEY (id) NOT ENFORCED)
        WITH ('connector' = 'filesystem', 'path' = '{dim}', 'format' = 'csv')""")
    sql = ("SELECT a.id, d.name FROM a LEFT JOIN dim FOR SYSTEM_TIME AS OF a.pt AS d "
           "ON a.id = d.id")
    dim.write_text("1,one\n2,two\n2,zwei\n")  # the last row of a key is its current version
    assert sorted(tuple(r) for r in t_env.execute_sql(sql).collect()) == [
        (1, "one"), (2, "zwei"), (3, None)]
    dim.write_text("3,three\n")
    assert sorted(tuple(r) for r in t_env.execute_sql(sql).collect()) == [
        (1, None), (2, None), (3, "three")]


def test_a_lookup_join_through_a_view_applies_its_projection_and_filter(tmp_path, t_env):
    dim = tmp_path / "dim.csv"
    dim.write_text("1,one,10\n2,two,20\n3,three,30\n")
    t_env.execute_sql(f"""CREATE TABLE dim (id INT, name STRING, w INT)
        WITH ('connector' = 'filesystem', 'path' = '{dim}', 'format' = 'csv')""")
    t_env.execute_sql("CREATE TEMPORARY VIEW heavy AS SELECT UPPER(name) AS n, w * 2 AS w2, id "
                      "FROM dim WHERE w > 10")
    sql = ("SELECT a.id, h.n, h.w2 FROM a JOIN heavy FOR SYSTEM_TIME AS OF a.pt AS h "
           "ON a.id = h.id")
    assert sorted(tuple(r) for r in t_env.execute_sql(sql).collect()) == [
        (2, "TWO", 40), (3, "THREE", 60)]
