"""Binding time-bounded joins: which join conditions make an interval join (and with which
bounds, as Flink's IntervalJoinUtil computes them), ``FOR SYSTEM_TIME AS OF`` temporal and lookup
joins, and the errors for what Flink refuses."""

from __future__ import annotations

import pytest

from volley.errors import PlanError, UnsupportedFeatureError
from volley.plan import nodes as n
from volley.plan.time_joins import IntervalJoin, LookupJoin, TemporalJoin
from volley.table import EnvironmentSettings, TableEnvironment
from volley.table.expressions import col


@pytest.fixture
def t_env(tmp_path) -> TableEnvironment:
    env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    for name in ("a", "b"):
        path = tmp_path / f"{name}.csv"
        path.write_text("")
        env.execute_sql(f"""CREATE TABLE {name} (id INT, v STRING, ts TIMESTAMP(3),
            pt AS PROCTIME(), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
            WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'csv')""")
    env.execute_sql(f"""CREATE TABLE plain (id INT, ts TIMESTAMP(3))
        WITH ('connector' = 'filesystem', 'path' = '{tmp_path / "a.csv"}', 'format' = 'csv')""")
    env.execute_sql(f"""CREATE TABLE rates (id INT, rate DOUBLE, ts TIMESTAMP(3),
        PRIMARY KEY (id) NOT ENFORCED, WATERMARK FOR ts AS ts)
        WITH ('connector' = 'filesystem', 'path' = '{tmp_path / "a.csv"}', 'format' = 'csv')""")
    env.execute_sql(f"""CREATE TABLE dim (id INT, name STRING, PRIMARY KEY (id) NOT ENFORCED)
        WITH ('connector' = 'filesystem', 'path' = '{tmp_path / "a.csv"}', 'format' = 'csv')""")
    env.execute_sql("""CREATE TABLE gen (id INT, name STRING)
        WITH ('connector' = 'datagen', 'rows-per-second' = '10')""")
    return env


def _join_of(plan: n.Node) -> n.Node:
    while not isinstance(plan, (IntervalJoin, TemporalJoin, LookupJoin, n.Join)):
        plan = plan.inputs[0]
    return plan


def _bounds(t_env, condition: str, kind: str = "JOIN") -> tuple[int, int] | None:
    plan = t_env.sql_query(f"SELECT * FROM a {kind} b ON {condition}")._plan
    join = _join_of(plan)
    return (join.bounds.lower, join.bounds.upper) if isinstance(join, IntervalJoin) else None


@pytest.mark.parametrize("condition,bounds", [
    ("a.id = b.id AND a.ts BETWEEN b.ts - INTERVAL '1' HOUR AND b.ts + INTERVAL '10' MINUTE",
     (-3_600_000, 600_000)),
    ("a.id = b.id AND a.ts >= b.ts - INTERVAL '1' HOUR AND a.ts <= b.ts", (-3_600_000, 0)),
    ("a.id = b.id AND a.ts > b.ts AND a.ts < b.ts + INTERVAL '1' SECOND", (1, 999)),
    # the right input's time on the left of the comparison: the bounds are mirrored
    ("a.id = b.id AND b.ts BETWEEN a.ts - INTERVAL '2' SECOND AND a.ts + INTERVAL '5' SECOND",
     (-5000, 2000)),
    ("a.id = b.id AND b.ts > a.ts AND b.ts < a.ts + INTERVAL '1' MINUTE", (-59_999, -1)),
    ("a.id = b.id AND a.ts = b.ts", (0, 0)),
    ("a.ts BETWEEN b.ts AND b.ts + INTERVAL '1' MINUTE - INTERVAL '1' SECOND", (0, 59_000)),
    ("a.pt BETWEEN b.pt - INTERVAL '1' MINUTE AND b.pt", (-60_000, 0)),
])
def test_time_bounds_make_an_interval_join_with_flinks_bounds(t_env, condition, bounds):
    assert _bounds(t_env, condition) == bounds


@pytest.mark.parametrize("condition", [
    "a.id = b.id",
    "a.id = b.id AND a.ts > b.ts",  # one bound only
    "a.id = b.id AND a.ts BETWEEN b.pt - INTERVAL '1' MINUTE AND b.pt",  # rowtime vs proctime
    "a.id = b.id AND a.ts >= b.ts AND a.ts <= b.ts + INTERVAL '1' MINUTE AND a.ts < b.ts",
    "a.id = b.id AND a.ts BETWEEN b.ts - a.id AND b.ts",  # not a constant offset
    "a.id = b.id AND a.ts = b.ts AND a.ts > b.ts",  # an equality with a range
])
def test_other_conditions_stay_regular_joins(t_env, condition):
    assert _bounds(t_env, condition) is None


def test_plain_timestamps_are_not_time_attributes(t_env):
    plan = t_env.sql_query("SELECT * FROM plain p JOIN plain q ON p.id = q.id AND "
                           "p.ts BETWEEN q.ts - INTERVAL '1' SECOND AND q.ts")._plan
    assert isinstance(_join_of(plan), n.Join)


@pytest.mark.parametrize("kind", ["LEFT JOIN", "RIGHT JOIN", "FULL JOIN"])
def test_outer_joins_with_bounds_are_interval_joins_too(t_env, kind):
    assert _bounds(t_env, "a.id = b.id AND a.ts BETWEEN b.ts AND b.ts", kind) == (0, 0)


def test_an_interval_join_keeps_both_time_attributes_and_is_insert_only(t_env):
    table = t_env.sql_query("SELECT a.v, b.v, a.ts, b.ts FROM a LEFT JOIN b ON a.id = b.id AND "
                            "a.ts BETWEEN b.ts - INTERVAL '1' MINUTE AND b.ts")
    assert [str(t) for t in table.get_schema().get_field_data_types()] == [
        "STRING", "STRING", "TIMESTAMP(3) *ROWTIME*", "TIMESTAMP(3) *ROWTIME*"]
    assert table.get_schema().get_field_names() == ["v", "v0", "ts", "ts0"]
    assert table._plan.changelog_mode() is n.INSERT_ONLY
    regular = t_env.sql_query("SELECT a.ts, b.ts FROM a JOIN b ON a.id = b.id")
    assert [str(t) for t in regular.get_schema().get_field_data_types()] == [
        "TIMESTAMP(3)", "TIMESTAMP(3)"]


def test_where_conditions_over_a_comma_join_make_an_interval_join(t_env):
    plan = t_env.sql_query("SELECT a.v FROM a, b WHERE a.id = b.id AND "
                           "a.ts BETWEEN b.ts - INTERVAL '4' HOUR AND b.ts")._plan
    join = _join_of(plan)
    assert isinstance(join, IntervalJoin)
    assert (join.bounds.lower, join.bounds.upper) == (-14_400_000, 0)


def test_table_api_join_and_where_make_an_interval_join(t_env):
    a = t_env.from_path("a")
    b = t_env.from_path("b").rename_columns(col("id").alias("bid"), col("v").alias("bv"),
                                            col("ts").alias("bts"), col("pt").alias("bpt"))
    condition = (col("id") == col("bid")) & (col("ts") >= col("bts")) & (col("ts") <= col("bts"))
    for table in (a.join(b, condition), a.join(b).where(condition)):
        join = _join_of(table._plan)
        assert isinstance(join, IntervalJoin)
        assert (join.bounds.lower, join.bounds.upper) == (0, 0)
        assert str(table.get_schema().get_field_data_types()[2]) == "TIMESTAMP(3) *ROWTIME*"


def test_explain_shows_the_window_bounds(t_env):
    text = t_env.sql_query("SELECT a.v FROM a JOIN b ON a.id = b.id AND "
                           "a.ts BETWEEN b.ts - INTERVAL '1' SECOND AND b.ts").explain()
    assert ("IntervalJoin(joinType=[inner], windowBounds=[isRowTime=true, leftLowerBound=-1000, "
            "leftUpperBound=0, leftTimeIndex=2, rightTimeIndex=2]") in text


# -- FOR SYSTEM_TIME AS OF -------------------------------------------------------------------------

def test_as_of_a_rowtime_is_a_temporal_join_against_the_versioned_table(t_env):
    table = t_env.sql_query("SELECT a.v, r.rate, a.ts, r.ts FROM a LEFT JOIN rates FOR "
                            "SYSTEM_TIME AS OF a.ts AS r ON a.id = r.id")
    join = _join_of(table._plan)
    assert isinstance(join, TemporalJoin) and join.kind == "left"
    assert [str(t) for t in table.get_schema().get_field_data_types()] == [
        "STRING", "DOUBLE", "TIMESTAMP(3) *ROWTIME*", "TIMESTAMP(3) *ROWTIME*"]


def test_as_of_a_proctime_is_a_lookup_join(t_env):
    table = t_env.sql_query("SELECT a.v, d.name FROM a JOIN dim FOR SYSTEM_TIME AS OF a.pt AS d "
                            "ON a.id = d.id")
    assert isinstance(_join_of(table._plan), LookupJoin)


@pytest.mark.parametrize("sql,error,message", [
    ("SELECT * FROM a JOIN plain FOR SYSTEM_TIME AS OF a.ts AS r ON a.id = r.id", PlanError,
     "an event-time temporal join needs a versioned table, but 'plain' has no primary key"),
    ("SELECT * FROM a JOIN dim FOR SYSTEM_TIME AS OF a.ts AS r ON a.id = r.id", PlanError,
     "an event-time temporal join needs a versioned table with a rowtime attribute, but 'dim' "
     "has none"),
    ("SELECT * FROM a JOIN rates FOR SYSTEM_TIME AS OF a.ts AS r ON a.id = r.rate", PlanError,
     "the temporal join with 'rates' must join on its primary key; the ON condition has no "
     "equality on id"),
    ("SELECT * FROM a JOIN rates FOR SYSTEM_TIME AS OF a.ts AS r ON a.id > r.id", PlanError,
     "the temporal join with 'rates' has no equality between left and right columns"),
    ("SELECT * FROM a JOIN rates FOR SYSTEM_TIME AS OF a.ts - INTERVAL '1' SECOND AS r "
     "ON a.id = r.id", PlanError, "FOR SYSTEM_TIME AS OF must name a time attribute of the "
     "left table"),
    ("SELECT * FROM plain p JOIN rates FOR SYSTEM_TIME AS OF p.ts AS r ON p.id = r.id",
     PlanError, "FOR SYSTEM_TIME AS OF must name a time attribute of the left table"),
    ("SELECT * FROM a RIGHT JOIN rates FOR SYSTEM_TIME AS OF a.ts AS r ON a.id = r.id",
     UnsupportedFeatureError, "a RIGHT JOIN ... FOR SYSTEM_TIME AS OF is not supported"),
    ("SELECT * FROM a JOIN gen FOR SYSTEM_TIME AS OF a.pt AS g ON a.id = g.id",
     UnsupportedFeatureError, "expected a bounded table, but 'gen' is unbounded"),
    ("SELECT * FROM a JOIN counts FOR SYSTEM_TIME AS OF a.pt AS g ON a.id = g.id",
     UnsupportedFeatureError, "needs a lookup table, but 'counts' is a query"),
    ("SELECT * FROM rates FOR SYSTEM_TIME AS OF TIMESTAMP '2024-01-01 00:00:00'",
     UnsupportedFeatureError, "outside a join (time travel) is not supported"),
    # MAX over a rowtime in a GROUP BY is a plain TIMESTAMP (as in Flink), so no time attribute
    ("SELECT * FROM (SELECT id, COUNT(*) AS c, MAX(ts) AS ts FROM a GROUP BY id) AS x JOIN rates "
     "FOR SYSTEM_TIME AS OF x.ts AS r ON x.id = r.id", PlanError,
     "FOR SYSTEM_TIME AS OF must name a time attribute of the left table"),
])
def test_what_flink_refuses_is_refused_with_a_reason(t_env, sql, error, message):
    t_env.execute_sql("CREATE TEMPORARY VIEW counts AS SELECT id, COUNT(*) AS c FROM dim "
                      "GROUP BY id")
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace(".", r"\.").replace("*", r"\*")):
        t_env.sql_query(sql)


def test_a_left_input_made_updating_by_a_rewrite_is_refused_when_planned(t_env):
    """A ROW_NUMBER() = 1 filter keeping the last row becomes an updating deduplication only
    when optimized; the job is refused then, not run with retractions treated as inserts."""
    table = t_env.sql_query(
        "SELECT * FROM (SELECT * FROM (SELECT id, v, ts, ROW_NUMBER() OVER (PARTITION BY id "
        "ORDER BY ts DESC) AS rn FROM a) WHERE rn = 1) AS x JOIN rates FOR SYSTEM_TIME AS OF "
        "x.ts AS r ON x.id = r.id")
    with pytest.raises(UnsupportedFeatureError, match="left input of a join ... FOR SYSTEM_TIME "
                       "AS OF is an updating stream"):
        table.execute().collect()


def test_a_view_over_a_versioned_table_keeps_its_key(t_env):
    t_env.execute_sql("CREATE TEMPORARY VIEW rv AS SELECT ts, rate * 2 AS r2, id FROM rates")
    plan = t_env.sql_query("SELECT * FROM a JOIN rv FOR SYSTEM_TIME AS OF a.ts AS r "
                           "ON a.id = r.id")._plan
    join = _join_of(plan)
    assert isinstance(join, TemporalJoin) and join.right_key == (2,)


def test_a_keep_last_deduplication_is_a_versioned_table(t_env):
    t_env.execute_sql("CREATE TEMPORARY VIEW latest AS SELECT id, v, ts FROM (SELECT *, "
                      "ROW_NUMBER() OVER (PARTITION BY id ORDER BY ts DESC) AS rn FROM b) "
                      "WHERE rn = 1")
    plan = t_env.sql_query("SELECT * FROM a JOIN latest FOR SYSTEM_TIME AS OF a.ts AS l "
                           "ON a.id = l.id")._plan
    assert isinstance(_join_of(plan), TemporalJoin)
