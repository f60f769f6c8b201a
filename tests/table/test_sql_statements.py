"""execute_sql end to end: DDL, DML, statement sets, catalog commands, connectors via SQL."""

from __future__ import annotations

import os
import sys
import textwrap

import pytest

from volley.errors import ChangelogModeError, PlanError, UnsupportedFeatureError
from volley.table import (
    DataTypes,
    EnvironmentSettings,
    Schema,
    TableDescriptor,
    TableEnvironment,
)
from volley.table.expressions import col


def batch_env() -> TableEnvironment:
    return TableEnvironment.create(EnvironmentSettings.in_batch_mode())


def stream_env() -> TableEnvironment:
    return TableEnvironment.create(EnvironmentSettings.in_streaming_mode())


def read_parts(directory) -> list[str]:
    lines = []
    for name in sorted(os.listdir(directory)):
        if not name.startswith((".", "_")):
            with open(os.path.join(directory, name)) as f:
                lines += f.read().splitlines()
    return lines


def test_create_table_insert_and_read_back(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("1,a,1.5\n2,b,\n3,c,4.0\n")
    out = tmp_path / "out"
    t_env = batch_env()
    t_env.execute_sql(f"""
        CREATE TABLE src (id BIGINT, name STRING, v DOUBLE)
        WITH ('connector' = 'filesystem', 'path' = '{src}', 'format' = 'csv')""")
    t_env.execute_sql(f"""
        CREATE TABLE dst (id BIGINT, name STRING, w DOUBLE)
        WITH ('connector' = 'filesystem', 'path' = '{out}', 'format' = 'csv')""")
    result = t_env.execute_sql("INSERT INTO dst SELECT id, UPPER(name), v * 2 FROM src WHERE id > 1")
    result.wait()
    assert sorted(read_parts(out)) == ["2,B,", "3,C,8.0"]
    rows = sorted(tuple(r) for r in t_env.execute_sql("SELECT * FROM dst").collect())
    assert rows == [(2, "B", None), (3, "C", 8.0)]


def test_legacy_options_write_one_file(tmp_path):
    src = tmp_path / "input"
    src.write_text("1,98.0\n1,\n")
    out = tmp_path / "output"
    t_env = stream_env()
    for name, path in (("s", src), ("k", out)):
        t_env.execute_sql(f"""
            create table {name} (id INT, temperature FLOAT) with (
                'connector.type' = 'filesystem', 'format.type' = 'csv',
                'connector.path' = '{path}')""")
    t_env.from_path("s").select("id, temperature").insert_into("k")
    t_env.execute("legacy")
    assert out.read_text().splitlines() == ["1,98.0", "1,"]


def test_computed_column_and_describe(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("1,2\n3,4\n")
    t_env = batch_env()
    t_env.execute_sql(f"""
        CREATE TABLE t (a INT, b INT, c AS a + b)
        WITH ('connector' = 'filesystem', 'path' = '{src}', 'format' = 'csv')""")
    assert sorted(tuple(r) for r in t_env.sql_query("SELECT c FROM t").execute().collect()) == [
        (3,), (7,)]
    described = [tuple(r)[:2] for r in t_env.execute_sql("DESCRIBE t").collect()]
    assert described == [("a", "INT"), ("b", "INT"), ("c", "INT")]


def test_views_show_and_drop():
    t_env = batch_env()
    t_env.create_temporary_view("base", t_env.from_elements([(1,), (2,)], ["x"]))
    t_env.execute_sql("CREATE TEMPORARY VIEW doubled AS SELECT x * 2 AS y FROM base")
    tables = [r[0] for r in t_env.execute_sql("SHOW TABLES").collect()]
    assert tables == ["base", "doubled"]
    assert sorted(r[0] for r in t_env.sql_query("SELECT y FROM doubled").execute().collect()) == [2, 4]
    t_env.execute_sql("DROP VIEW doubled")
    assert t_env.list_tables() == ["base"]


def test_create_function_language_python(tmp_path, monkeypatch):
    module = tmp_path / "my_udfs.py"
    module.write_text(textwrap.dedent("""
        from volley.table import DataTypes
        from volley.table.udf import udf

        @udf(result_type=DataTypes.BIGINT())
        def plus_one(x):
            return x + 1
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    t_env = batch_env()
    t_env.execute_sql("CREATE TEMPORARY FUNCTION plus_one AS 'my_udfs.plus_one' LANGUAGE PYTHON")
    rows = list(t_env.execute_sql("SELECT plus_one(41) AS v").collect())
    assert [tuple(r) for r in rows] == [(42,)]
    with pytest.raises(UnsupportedFeatureError, match="LANGUAGE PYTHON functions only"):
        t_env.execute_sql("CREATE FUNCTION f AS 'com.example.F'")
    sys.modules.pop("my_udfs", None)


def test_statement_set_sql_and_api(tmp_path):
    t_env = batch_env()
    t_env.create_temporary_view("src", t_env.from_elements([(1, "a"), (2, "b")], ["id", "s"]))
    for name in ("o1", "o2"):
        t_env.execute_sql(f"""
            CREATE TABLE {name} (id BIGINT, s STRING)
            WITH ('connector' = 'filesystem', 'path' = '{tmp_path / name}', 'format' = 'json')""")
    t_env.execute_sql("""
        EXECUTE STATEMENT SET BEGIN
            INSERT INTO o1 SELECT id, s FROM src WHERE id = 1;
            INSERT INTO o2 SELECT id, s FROM src WHERE id = 2;
        END""").wait()
    assert read_parts(tmp_path / "o1") == ['{"id":1,"s":"a"}']
    assert read_parts(tmp_path / "o2") == ['{"id":2,"s":"b"}']
    stmt_set = t_env.create_statement_set()
    stmt_set.add_insert_sql("INSERT INTO o1 SELECT id, s FROM src WHERE id = 2")
    stmt_set.add_insert("o2", t_env.from_path("src").filter(col("id") == 1))
    stmt_set.execute().wait()
    assert sorted(read_parts(tmp_path / "o1")) == ['{"id":1,"s":"a"}', '{"id":2,"s":"b"}']


def test_insert_column_count_mismatch_is_rejected(tmp_path):
    t_env = batch_env()
    t_env.execute_sql(f"""
        CREATE TABLE k (a BIGINT, b BIGINT)
        WITH ('connector' = 'filesystem', 'path' = '{tmp_path}', 'format' = 'csv')""")
    with pytest.raises(PlanError, match=r"the query has 1 columns .* but the table has 2"):
        t_env.execute_sql("INSERT INTO k SELECT 1")


def test_updating_result_into_append_only_sink_is_rejected(tmp_path):
    t_env = stream_env()
    t_env.create_temporary_view("src", t_env.from_elements([(1,), (1,)], ["k"]))
    t_env.execute_sql(f"""
        CREATE TABLE k (k BIGINT, c BIGINT)
        WITH ('connector' = 'filesystem', 'path' = '{tmp_path}', 'format' = 'csv')""")
    with pytest.raises(ChangelogModeError, match="doesn't support consuming update changes"):
        t_env.execute_sql("INSERT INTO k SELECT k, COUNT(*) FROM src GROUP BY k")
    # batch mode gives final results only, so the same insert is fine there
    b_env = batch_env()
    b_env.create_temporary_view("src", b_env.from_elements([(1,), (1,)], ["k"]))
    b_env.execute_sql(f"""
        CREATE TABLE k (k BIGINT, c BIGINT)
        WITH ('connector' = 'filesystem', 'path' = '{tmp_path / "b"}', 'format' = 'csv')""")
    b_env.execute_sql("INSERT INTO k SELECT k, COUNT(*) FROM src GROUP BY k").wait()
    assert read_parts(tmp_path / "b") == ["1,2"]


def test_streaming_aggregate_into_print_shows_changelog(capsys):
    import pyarrow as pa

    t_env = stream_env()
    batches = [pa.record_batch([pa.array(["a", "b"])], names=["w"]),
               pa.record_batch([pa.array(["a"])], names=["w"])]
    t_env.create_temporary_view("words", t_env.from_arrow(pa.Table.from_batches(batches)))
    t_env.execute_sql("CREATE TABLE out (w STRING, c BIGINT) WITH ('connector' = 'print')")
    t_env.execute_sql("INSERT INTO out SELECT w, COUNT(*) FROM words GROUP BY w").wait()
    printed = capsys.readouterr().out.splitlines()
    assert printed == ["+I[a, 1]", "+I[b, 1]", "-U[a, 1]", "+U[a, 2]"]


def test_datagen_bounded_into_blackhole_and_collect():
    t_env = batch_env()
    t_env.execute_sql("""
        CREATE TABLE gen (id BIGINT, v DOUBLE) WITH (
            'connector' = 'datagen', 'number-of-rows' = '1000',
            'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '1000')""")
    t_env.execute_sql("CREATE TABLE sink (id BIGINT, v DOUBLE) WITH ('connector' = 'blackhole')")
    t_env.execute_sql("INSERT INTO sink SELECT * FROM gen").wait()
    rows = list(t_env.execute_sql("SELECT COUNT(*), SUM(id) FROM gen").collect())
    assert [tuple(r) for r in rows] == [(1000, 500500)]


def test_table_descriptor_source_and_sink(tmp_path):
    t_env = batch_env()
    schema = Schema.new_builder().column("id", DataTypes.BIGINT()).column(
        "name", DataTypes.STRING()).build()
    t_env.create_temporary_table("out", TableDescriptor.for_connector("filesystem")
                                 .schema(schema).option("path", str(tmp_path / "o"))
                                 .format("csv").build())
    t_env.from_elements([(1, "x")], ["id", "name"]).execute_insert("out").wait()
    assert read_parts(tmp_path / "o") == ["1,x"]


def test_explain_and_set():
    t_env = batch_env()
    t_env.create_temporary_view("t", t_env.from_elements([(1,)], ["x"]))
    plan = list(t_env.execute_sql("EXPLAIN SELECT x + 1 FROM t WHERE x > 0").collect())[0][0]
    assert "Filter(condition=[gt($0:x, 0)])" in plan
    t_env.execute_sql("SET 'python.fn-execution.arrow.batch.size' = '7'")
    assert t_env.get_config().pandas_batch_size == 7


def test_unknown_connector_is_reported_when_used(tmp_path):
    t_env = batch_env()
    t_env.execute_sql("CREATE TABLE t (a INT) WITH ('connector' = 'kafkaa')")
    with pytest.raises(Exception, match="unknown connector 'kafkaa'"):
        t_env.from_path("t")
