"""Windows end to end, through SQL and the Table API: streaming equals batch on bounded input,
parallelism 2 equals 1, the plans windows make, and the errors users meet (text pinned).

PyFlink's own answers for these queries are the goldens (``tests/golden``, cases ``win_*``);
this file checks what goldens cannot: mode and parallelism agreement, explain, error text, the
PyFlink 1.x string forms (PyFlink 2.x no longer takes them).
"""

from __future__ import annotations

import datetime
from collections import Counter

import pytest

from volley.errors import PlanError, UnsupportedFeatureError, VolleyError
from volley.table import EnvironmentSettings, TableEnvironment
from volley.table.expressions import col, lit
from volley.table.window import Session, Slide, Tumble

ROWS = [  # (k, v, ts): out of order by up to 90 s, with a watermark 2 minutes behind
    ("a", 1, "10:00:05"), ("b", 2, "10:01:30"), ("a", 3, "10:00:50"), ("c", 4, "10:03:10"),
    ("b", 5, "10:04:59.999"), ("a", 6, "10:04:00"), ("c", 7, "10:06:00"), ("c", 8, "10:04:30"),
    ("a", 9, "10:07:45"), ("b", 10, "10:06:30"), ("a", 11, "10:12:00"), ("c", 12, "10:11:15"),
    ("b", 13, "10:15:00"), ("a", 14, "10:21:00"), ("c", 15, "10:20:10"), ("b", 16, "10:30:00"),
]


def _env(tmp_path, mode: str, parallelism: int = 1) -> TableEnvironment:
    settings = EnvironmentSettings.in_streaming_mode() if mode == "streaming" \
        else EnvironmentSettings.in_batch_mode()
    t_env = TableEnvironment.create(settings)
    t_env.get_config().set("parallelism.default", str(parallelism))
    path = tmp_path / "bids.csv"
    if not path.exists():
        path.write_text("".join(f"{k},{v},2024-01-01 {t}\n" for k, v, t in ROWS))
    t_env.execute_sql(f"""CREATE TABLE bids (k STRING, v BIGINT, ts TIMESTAMP(3),
        WATERMARK FOR ts AS ts - INTERVAL '2' MINUTE) WITH ('connector' = 'filesystem',
        'path' = '{path}', 'format' = 'csv')""")
    t_env.execute_sql(f"""CREATE TABLE bids_pt (k STRING, v BIGINT, ts TIMESTAMP(3),
        pt AS PROCTIME()) WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'csv')""")
    return t_env


def _materialized(table) -> Counter:
    rows: Counter = Counter()
    with table.execute().collect() as it:
        for row in it:
            kind = row.get_row_kind().value
            rows[tuple(row)] += 1 if kind in (0, 2) else -1
    return +rows


TUMBLE = "TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), INTERVAL '5' MINUTES))"
BOUNDED_QUERIES = [
    f"SELECT k, window_start, window_end, COUNT(*) AS n, SUM(v) AS s, AVG(v) AS a, "
    f"COUNT(DISTINCT v % 3) AS d FROM {TUMBLE} GROUP BY k, window_start, window_end",
    "SELECT window_start, window_end, MAX(v) AS m FROM TABLE(HOP(TABLE bids, DESCRIPTOR(ts), "
    "INTERVAL '2' MINUTES, INTERVAL '6' MINUTES)) GROUP BY window_start, window_end",
    "SELECT k, window_start, window_end, SUM(v) AS s FROM TABLE(CUMULATE(TABLE bids, "
    "DESCRIPTOR(ts), INTERVAL '3' MINUTES, INTERVAL '9' MINUTES)) GROUP BY k, window_start, "
    "window_end",
    "SELECT k, window_start, window_end, COUNT(*) AS n FROM TABLE(SESSION(TABLE bids PARTITION "
    "BY k, DESCRIPTOR(ts), INTERVAL '2' MINUTES)) GROUP BY k, window_start, window_end",
    "SELECT k, v, window_start, window_end FROM TABLE(SESSION(TABLE bids PARTITION BY k, "
    "DESCRIPTOR(ts), INTERVAL '90' SECONDS))",
    "SELECT k, HOP_START(ts, INTERVAL '5' MINUTE, INTERVAL '15' MINUTE) AS ws, COUNT(*) AS n "
    "FROM bids GROUP BY HOP(ts, INTERVAL '5' MINUTE, INTERVAL '15' MINUTE), k",
    f"SELECT * FROM (SELECT k, v, window_start, ROW_NUMBER() OVER (PARTITION BY window_start, "
    f"window_end ORDER BY v DESC) AS rn FROM {TUMBLE}) WHERE rn <= 2",
    f"SELECT l.k, l.v, r.v AS rv FROM (SELECT * FROM {TUMBLE}) l LEFT JOIN (SELECT * FROM "
    f"{TUMBLE}) r ON l.window_start = r.window_start AND l.window_end = r.window_end AND "
    f"l.k = r.k AND l.v < r.v",
]


@pytest.mark.parametrize("sql", BOUNDED_QUERIES)
def test_streaming_results_equal_batch_results_on_bounded_input(tmp_path, sql):
    streaming = _materialized(_env(tmp_path, "streaming").sql_query(sql))
    batch = _materialized(_env(tmp_path, "batch").sql_query(sql))
    assert streaming == batch
    assert sum(batch.values()) > 3


@pytest.mark.parametrize("sql", BOUNDED_QUERIES[:4] + BOUNDED_QUERIES[6:])
def test_parallelism_two_gives_the_rows_of_parallelism_one(tmp_path, sql):
    one = _materialized(_env(tmp_path, "streaming").sql_query(sql))
    two = _materialized(_env(tmp_path, "streaming", parallelism=2).sql_query(sql))
    assert one == two


def test_a_window_aggregation_emits_inserts_only_and_each_window_once(tmp_path):
    t_env = _env(tmp_path, "streaming")
    table = t_env.sql_query(f"SELECT k, window_start, COUNT(*) AS n FROM {TUMBLE} "
                            "GROUP BY k, window_start, window_end")
    with table.execute().collect() as it:
        rows = list(it)
    assert {r.get_row_kind().value for r in rows} == {0}
    keys = [(r[0], r[1]) for r in rows]
    assert len(keys) == len(set(keys))
    assert (("a", datetime.datetime(2024, 1, 1, 10, 0)), 3) in [((r[0], r[1]), r[2]) for r in rows]


def test_grouping_by_window_start_alone_is_a_regular_updating_aggregation(tmp_path):
    t_env = _env(tmp_path, "streaming")
    table = t_env.sql_query(f"SELECT window_start, COUNT(*) AS n FROM {TUMBLE} "
                            "GROUP BY window_start")
    assert "WindowAggregate" not in table.explain()
    assert str(table._plan.changelog_mode()) == "retract"


def test_explain_shows_the_window(tmp_path):
    t_env = _env(tmp_path, "streaming")
    plan = t_env.sql_query(f"SELECT k, window_start, window_end, COUNT(*) AS n FROM {TUMBLE} "
                           "WHERE v > 1 GROUP BY k, window_start, window_end").explain()
    assert "WindowAggregate(window=[TUMBLE(time_col=[$time], size=[5 min])], groupBy=[$k0], " \
           "select=[count(*) AS $agg0])" in plan
    assert "Filter(condition=[gt($1:v, 1)])" in plan
    session = t_env.sql_query("SELECT * FROM TABLE(SESSION(TABLE bids PARTITION BY k, "
                              "DESCRIPTOR(ts), INTERVAL '1' MINUTES))").explain()
    assert "WindowTableFunction(SESSION(time_col=[ts], gap=[1 min], partitionBy=[k]))" in session


def test_the_table_api_takes_pyflink_1_string_forms(tmp_path):
    t_env = _env(tmp_path, "streaming")
    bids = t_env.from_path("bids")
    expressions = bids.window(Tumble.over(lit(5).minutes).on(col("ts")).alias("w")) \
        .group_by(col("w"), col("k")).select(col("k"), col("w").start, col("v").sum)
    strings = bids.window(Tumble.over("5.minutes").on("ts").alias("w")) \
        .group_by("w, k").select("k, w.start, v.sum")
    assert _materialized(strings) == _materialized(expressions)
    assert strings.get_schema().get_field_names() == ["k", "EXPR$0", "EXPR$1"]


def test_table_api_group_windows_equal_the_sql_ones(tmp_path):
    t_env = _env(tmp_path, "streaming")
    bids = t_env.from_path("bids")
    slide = bids.window(Slide.over(lit(6).minutes).every(lit(2).minutes).on(col("ts"))
                        .alias("w")).group_by(col("w")).select(col("w").start, col("v").max)
    sql = t_env.sql_query("SELECT window_start, MAX(v) FROM TABLE(HOP(TABLE bids, "
                          "DESCRIPTOR(ts), INTERVAL '2' MINUTES, INTERVAL '6' MINUTES)) "
                          "GROUP BY window_start, window_end")
    assert _materialized(slide) == _materialized(sql)
    session = bids.window(Session.with_gap(lit(2).minutes).on(col("ts")).alias("s")) \
        .group_by(col("k"), col("s")).select(col("k"), col("s").end, col("v").count)
    legacy = t_env.sql_query("SELECT k, SESSION_END(ts, INTERVAL '2' MINUTE), COUNT(v) FROM bids "
                             "GROUP BY SESSION(ts, INTERVAL '2' MINUTE), k")
    assert _materialized(session) == _materialized(legacy)


def test_a_window_aggregation_can_read_the_window_time_of_another(tmp_path):
    t_env = _env(tmp_path, "streaming")
    t_env.create_temporary_view("per_key", t_env.sql_query(
        f"SELECT k, window_time AS wt, COUNT(*) AS n FROM {TUMBLE} "
        "GROUP BY k, window_start, window_end, window_time"))
    table = t_env.sql_query("SELECT window_start, SUM(n) AS n FROM TABLE(TUMBLE(TABLE per_key, "
                            "DESCRIPTOR(wt), INTERVAL '10' MINUTES)) GROUP BY window_start, "
                            "window_end")
    assert sorted(_materialized(table)) == [
        (datetime.datetime(2024, 1, 1, 10, 0), 10), (datetime.datetime(2024, 1, 1, 10, 10), 3),
        (datetime.datetime(2024, 1, 1, 10, 20), 2), (datetime.datetime(2024, 1, 1, 10, 30), 1)]


# -- errors (text pinned) -------------------------------------------------------------------------


def _error(t_env, sql: str, error=VolleyError) -> str:
    with pytest.raises(error) as info:
        table = t_env.sql_query(sql)
        with table.execute().collect() as it:
            list(it)
    return str(info.value)


def test_a_streaming_window_needs_a_time_attribute(tmp_path):
    t_env = _env(tmp_path, "streaming")
    message = _error(t_env, "SELECT * FROM TABLE(TUMBLE(TABLE bids_pt, DESCRIPTOR(ts), "
                            "INTERVAL '1' MINUTE))", PlanError)
    assert message == (
        "the time column 'ts' of TUMBLE(...) must be a time attribute in streaming mode (a "
        "column with a WATERMARK, or one computed AS PROCTIME()); got TIMESTAMP(3); declare "
        "`WATERMARK FOR ts AS ts - INTERVAL '5' SECOND` on the table, or run the query in batch "
        "mode")
    batch = _env(tmp_path, "batch")  # batch mode windows any timestamp column, as Flink's
    rows = _materialized(batch.sql_query("SELECT window_start, COUNT(*) FROM TABLE(TUMBLE(TABLE "
                                         "bids_pt, DESCRIPTOR(ts), INTERVAL '10' MINUTE)) "
                                         "GROUP BY window_start, window_end"))
    assert sum(n for (_, n) in rows) == len(ROWS)


def test_processing_time_windows_are_refused_in_batch_mode(tmp_path):
    message = _error(_env(tmp_path, "batch"), "SELECT * FROM TABLE(TUMBLE(TABLE bids_pt, "
                     "DESCRIPTOR(pt), INTERVAL '1' MINUTE))", UnsupportedFeatureError)
    assert message.startswith("TUMBLE(...) over processing time is not supported in batch mode")


@pytest.mark.parametrize("sql,expected", [
    ("SELECT * FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts)))",
     "TUMBLE needs the argument(s) SIZE; write TUMBLE(DATA, TIMECOL, SIZE)"),
    ("SELECT * FROM TABLE(HOP(DATA => TABLE bids, TIMECOL => DESCRIPTOR(ts), "
     "WIDTH => INTERVAL '1' MINUTE))",
     "HOP has no parameter 'WIDTH'; its parameters are DATA, TIMECOL, SLIDE, SIZE, OFFSET"),
    ("SELECT * FROM TABLE(TUMBLE(TABLE bids PARTITION BY k, DESCRIPTOR(ts), INTERVAL '1' MINUTE))",
     "PARTITION BY is only for SESSION windows; TUMBLE has none"),
    ("SELECT * FROM TABLE(TUMBLE(TABLE bids, ts, INTERVAL '1' MINUTE))",
     "the time column of TUMBLE is given as DESCRIPTOR(column); got 'ts'"),
    ("SELECT * FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(ts), 60000))",
     "the SIZE of TUMBLE must be an interval literal such as INTERVAL '10' MINUTE; got '60000'"),
    ("SELECT * FROM TABLE(CUMULATE(TABLE bids, DESCRIPTOR(ts), INTERVAL '2' MINUTE, "
     "INTERVAL '5' MINUTE))",
     "a CUMULATE window's max size must be an integral multiple of its step; got max size "
     "300000 ms and step 120000 ms"),
    ("SELECT * FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(k), INTERVAL '1' MINUTE))",
     "the time column 'k' of TUMBLE(...) must be a TIMESTAMP(3) or TIMESTAMP_LTZ(3) time "
     "attribute; got STRING"),
    ("SELECT TUMBLE_START(ts, INTERVAL '2' MINUTE), COUNT(*) FROM bids "
     "GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE)",
     "\"TUMBLE_START(ts, INTERVAL '2' MINUTE)\" does not match the group window "
     "\"TUMBLE(ts, INTERVAL '1' MINUTE)\" of the GROUP BY; use "
     "TUMBLE_START(ts, INTERVAL '1' MINUTE)"),
    ("SELECT TUMBLE_PROCTIME(ts, INTERVAL '1' MINUTE) FROM bids "
     "GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE)",
     "TUMBLE_PROCTIME needs a window over processing time; this one is over event time: use "
     "TUMBLE_ROWTIME"),
])
def test_window_mistakes_are_named(tmp_path, sql, expected):
    assert _error(_env(tmp_path, "streaming"), sql, PlanError) == expected


def test_a_window_over_an_updating_input_is_refused(tmp_path):
    t_env = _env(tmp_path, "streaming")
    t_env.create_temporary_view("totals", t_env.sql_query(
        "SELECT k, MAX(ts) AS ts FROM bids GROUP BY k"))
    message = _error(t_env, "SELECT * FROM TABLE(TUMBLE(TABLE totals, DESCRIPTOR(ts), "
                     "INTERVAL '1' MINUTE))", UnsupportedFeatureError)
    assert message.startswith("a TUMBLE window over an updating input")


def test_table_api_window_mistakes(tmp_path):
    bids = _env(tmp_path, "streaming").from_path("bids")
    window = Tumble.over(lit(5).minutes).on(col("ts")).alias("w")
    with pytest.raises(PlanError, match="must name the window alias 'w'"):
        bids.window(window).group_by(col("k"))
    with pytest.raises(PlanError, match="cannot be selected itself"):
        bids.window(window).group_by(col("w")).select(col("w"))
    with pytest.raises(UnsupportedFeatureError, match="count windows"):
        Tumble.over(lit(10).rows)


def test_a_null_event_time_is_an_error_naming_the_column(tmp_path):
    path = tmp_path / "nulls.csv"
    path.write_text("a,1,2024-01-01 10:00:00\nb,2,\n")
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    t_env.execute_sql(f"""CREATE TABLE n (k STRING, v BIGINT, ts TIMESTAMP(3),
        WATERMARK FOR ts AS ts) WITH ('connector' = 'filesystem', 'path' = '{path}',
        'format' = 'csv')""")
    message = _error(t_env, "SELECT * FROM TABLE(TUMBLE(TABLE n, DESCRIPTOR(ts), "
                            "INTERVAL '1' MINUTE))")
    assert "the time attribute 'ts' is NULL in a row; a window needs a time for every row; " \
           "filter such rows out first (WHERE ts IS NOT NULL)" in message
