"""How a declared table describes itself: DESCRIBE and ``print_schema`` of ``from_path`` show
time attributes (``*ROWTIME*``, ``*PROCTIME*``), computed columns and the watermark exactly as
PyFlink 2.3 does. The expected texts were printed by real PyFlink 2.3.0 (Java 17) for the same
DDL."""

from __future__ import annotations

import datetime

import pytest

import volley.table
from volley.errors import UnsupportedFeatureError
from volley.table import EnvironmentSettings, TableEnvironment
from volley.table.expressions import col

DDL = """CREATE TABLE src (price INT, name STRING, s STRING, p2 AS price * 2,
    u AS upper(name), c AS CAST(price AS BIGINT), t AS TO_TIMESTAMP(s), pt AS proctime(),
    WATERMARK FOR t AS t - INTERVAL '5' SECOND) WITH ('connector' = 'datagen')"""

PYFLINK_DESCRIBE_ROWS = [
    ("price", "INT", True, None, None, None),
    ("name", "STRING", True, None, None, None),
    ("s", "STRING", True, None, None, None),
    ("p2", "INT", True, None, "AS `price` * 2", None),
    ("u", "STRING", True, None, "AS UPPER(`name`)", None),
    ("c", "BIGINT", True, None, "AS CAST(`price` AS BIGINT)", None),
    ("t", "TIMESTAMP(3) *ROWTIME*", True, None, "AS TO_TIMESTAMP(`s`)",
     "`t` - INTERVAL '5' SECOND"),
    ("pt", "TIMESTAMP_LTZ(3) *PROCTIME*", False, None, "AS PROCTIME()", None),
]

PYFLINK_PRINT_SCHEMA = """(
  `price` INT,
  `name` STRING,
  `s` STRING,
  `p2` INT AS `price` * 2,
  `u` STRING AS UPPER(`name`),
  `c` BIGINT AS CAST(`price` AS BIGINT),
  `t` TIMESTAMP(3) *ROWTIME* AS TO_TIMESTAMP(`s`),
  `pt` TIMESTAMP_LTZ(3) NOT NULL *PROCTIME* AS PROCTIME(),
  WATERMARK FOR `t`: TIMESTAMP(3) AS `t` - INTERVAL '5' SECOND
)
"""

# PyFlink prints a metadata result's NULLs as empty cells.
PYFLINK_DESCRIBE_PRINT = """\
+------+-----------------------------+-------+---------+---------------+----------------------------+
| name |                        type |  null |     key |        extras |                  watermark |
+------+-----------------------------+-------+---------+---------------+----------------------------+
|   id |                      BIGINT | FALSE | PRI(id) |               |                            |
|   ts |      TIMESTAMP(3) *ROWTIME* |  TRUE |         |               | `ts` - INTERVAL '5' SECOND |
|   pt | TIMESTAMP_LTZ(3) *PROCTIME* | FALSE |         | AS PROCTIME() |                            |
+------+-----------------------------+-------+---------+---------------+----------------------------+
3 rows in set
"""


def stream_env() -> TableEnvironment:
    return TableEnvironment.create(EnvironmentSettings.in_streaming_mode())


def test_describe_marks_time_attributes_and_quotes_expressions() -> None:
    t_env = stream_env()
    t_env.execute_sql(DDL)
    assert [tuple(r) for r in t_env.execute_sql("DESCRIBE src").collect()] == PYFLINK_DESCRIBE_ROWS


def test_print_schema_of_a_declared_table(capsys) -> None:
    t_env = stream_env()
    t_env.execute_sql(DDL)
    t_env.from_path("src").print_schema()
    assert capsys.readouterr().out == PYFLINK_PRINT_SCHEMA


def test_a_projection_prints_plain_columns(capsys) -> None:
    """Only the table read whole prints its declaration; a projection prints its own columns."""
    t_env = stream_env()
    t_env.execute_sql(DDL)
    t_env.from_path("src").select(col("price"), col("p2")).print_schema()
    assert capsys.readouterr().out == "(\n  `price` INT,\n  `p2` INT\n)\n"


def test_describe_prints_nulls_as_empty_cells(capsys) -> None:
    t_env = stream_env()
    t_env.execute_sql("""CREATE TABLE k (id BIGINT NOT NULL, ts TIMESTAMP(3), pt AS PROCTIME(),
        WATERMARK FOR ts AS ts - INTERVAL '5' SECOND, PRIMARY KEY (id) NOT ENFORCED)
        WITH ('connector' = 'datagen')""")
    t_env.execute_sql("DESCRIBE k").print()
    assert capsys.readouterr().out == PYFLINK_DESCRIBE_PRINT


def test_proctime_is_the_current_instant() -> None:
    t_env = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
    t_env.execute_sql("CREATE TABLE nums (x INT, pt AS PROCTIME()) WITH ("
                      "'connector' = 'datagen', 'number-of-rows' = '3')")
    before = datetime.datetime.now(datetime.UTC)
    rows = list(t_env.sql_query("SELECT x, pt FROM nums").execute().collect())
    after = datetime.datetime.now(datetime.UTC)
    assert len(rows) == 3
    for row in rows:
        stamp = row[1]
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=datetime.UTC)
        assert before - datetime.timedelta(milliseconds=1) <= stamp <= after


def test_expressions_is_an_attribute_of_the_package() -> None:
    """PyFlink's ``pyflink.table`` exposes its ``expressions`` module as an attribute."""
    assert volley.table.expressions.col is col


def test_an_aggregate_of_a_rowtime_column_is_a_plain_timestamp(tmp_path):
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    t_env.execute_sql(f"CREATE TABLE s (id BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) "
                      f"WITH ('connector' = 'filesystem', 'path' = '{tmp_path}', "
                      "'format' = 'csv')")
    types = t_env.sql_query("SELECT id, MAX(ts) AS m FROM s GROUP BY id").get_schema()
    assert [str(t) for t in types.get_field_data_types()] == ["BIGINT", "TIMESTAMP(3)"]


def test_source_watermark_is_declared_but_no_connector_of_volleys_emits_one(tmp_path):
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    t_env.execute_sql(f"CREATE TABLE s (id BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS "
                      f"SOURCE_WATERMARK()) WITH ('connector' = 'filesystem', "
                      f"'path' = '{tmp_path}', 'format' = 'csv')")
    table = t_env.from_path("s")
    assert "WATERMARK FOR `ts`: TIMESTAMP(3) AS `SOURCE_WATERMARK`()" in str(table.get_schema())
    with pytest.raises(UnsupportedFeatureError, match="SOURCE_WATERMARK.*'filesystem'"):
        table.execute()
