"""Pin the text of the errors users hit most often."""

from __future__ import annotations

import pytest

from volley import errors as E
from volley.table import DataTypes, EnvironmentSettings, TableEnvironment
from volley.table.expressions import col
from volley.table.udf import udf


@pytest.fixture
def t_env():
    env = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
    env.create_temporary_view("t", env.from_elements([(1, "a", 1.5), (0, "b", 2.0)], ["id", "s", "x"]))
    return env


@pytest.fixture
def s_env():
    env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    env.create_temporary_view("t", env.from_elements([(1, "a", 1.5), (1, "b", 2.0)], ["id", "s", "x"]))
    return env


# -- unknown names ------------------------------------------------------------------------------


def test_unknown_column_sql(t_env):
    with pytest.raises(E.UnknownColumnError) as ei:
        t_env.sql_query("SELECT nope FROM t")
    assert str(ei.value) == "column 'nope' not found; available columns are: id, s, x"
    # also catchable as the builtins it subclasses
    assert isinstance(ei.value, KeyError) and isinstance(ei.value, ValueError)


def test_unknown_column_table_api(t_env):
    with pytest.raises(E.UnknownColumnError, match=r"^column 'nope' not found; available columns are: id, s, x$"):
        t_env.from_path("t").select(col("nope"))


def test_unknown_table(t_env):
    with pytest.raises(E.UnknownTableError) as ei:
        t_env.sql_query("SELECT * FROM missing")
    msg = str(ei.value)
    assert msg.startswith("table 'missing' not found")
    assert "known tables: t" in msg


def test_unknown_table_message_separator(t_env):
    with pytest.raises(E.UnknownTableError) as ei:
        t_env.sql_query("SELECT * FROM missing")
    assert "not found; " in str(ei.value)


def test_insert_into_unknown_table(t_env):
    with pytest.raises(E.UnknownTableError, match=r"^table 'nosink' not found"):
        t_env.execute_sql("INSERT INTO nosink SELECT id FROM t")


def test_unknown_function(t_env):
    with pytest.raises(E.PlanError) as ei:
        t_env.sql_query("SELECT no_such_fn(id) FROM t")
    msg = str(ei.value)
    assert msg.lower().startswith("unknown function 'no_such_fn' in select")
    assert "create_temporary_function(name, udf)" in msg


def test_unknown_function_message_separator(t_env):
    with pytest.raises(E.PlanError) as ei:
        t_env.sql_query("SELECT no_such_fn(id) FROM t")
    assert "in SELECT; " in str(ei.value)


# -- syntax ---------------------------------------------------------------------------------------


def test_syntax_error_end_of_input(t_env):
    with pytest.raises(E.SqlParseError) as ei:
        t_env.sql_query("SELECT id FROM t WHERE")
    assert str(ei.value) == (
        "SQL parse error at line 1, column 23: expected an expression after 'WHERE'\n"
        "  SELECT id FROM t WHERE\n"
        "                        ^"
    )


def test_syntax_error_multiline_caret(t_env):
    with pytest.raises(E.SqlParseError) as ei:
        t_env.sql_query("SELECT id,\nFROM t")
    lines = str(ei.value).splitlines()
    assert lines[0] == "SQL parse error at line 1, column 10: unexpected ',' before 'FROM'"
    assert lines[1] == "  SELECT id,"
    assert lines[2] == "           ^"
    assert lines[2].index("^") == lines[1].index(",")


def test_syntax_error_is_value_error(t_env):
    with pytest.raises(ValueError, match=r"^SQL parse error at line \d+, column \d+"):
        t_env.execute_sql("SELEC 1")


# -- types ----------------------------------------------------------------------------------------


def test_string_plus_int(t_env):
    with pytest.raises(E.TypeMismatchError) as ei:
        t_env.sql_query("SELECT 'a' + 1 FROM t")
    assert str(ei.value) == (
        "cannot apply PLUS to (CHAR(1) NOT NULL, INT NOT NULL); expected two numeric operands in SELECT"
    )
    assert isinstance(ei.value, TypeError)


def test_string_column_plus_int(t_env):
    with pytest.raises(E.TypeMismatchError, match=r"^cannot apply PLUS to \(STRING, INT NOT NULL\)"):
        t_env.sql_query("SELECT s + 1 FROM t")


def test_upper_on_int_sql(t_env):
    with pytest.raises(E.TypeMismatchError) as ei:
        t_env.sql_query("SELECT UPPER(id) FROM t")
    assert str(ei.value) == "cannot apply UPPER to (BIGINT); expected a string operand in SELECT"


def test_upper_on_int_table_api(t_env):
    with pytest.raises(E.TypeMismatchError, match=r"^cannot apply UPPER to \(BIGINT\); expected a string operand"):
        t_env.from_path("t").select(col("id").upper_case)


def test_non_boolean_where(t_env):
    with pytest.raises(E.PlanError) as ei:
        t_env.sql_query("SELECT id FROM t WHERE s")
    assert str(ei.value) == "a filter condition must be BOOLEAN; got STRING from 's'"


# -- sinks ----------------------------------------------------------------------------------------


def test_insert_column_count_mismatch_sql(t_env):
    t_env.execute_sql("CREATE TABLE snk (a BIGINT, b STRING) WITH ('connector'='blackhole')")
    with pytest.raises(E.PlanError) as ei:
        t_env.execute_sql("INSERT INTO snk SELECT id, s, x FROM t").wait()
    assert str(ei.value) == (
        "cannot insert into 'snk': the query has 3 columns (id BIGINT, s STRING, x DOUBLE) "
        "but the table has 2 (a BIGINT, b STRING)"
    )


def test_insert_column_count_mismatch_table_api(t_env):
    t_env.execute_sql("CREATE TABLE snk (a BIGINT, b STRING) WITH ('connector'='blackhole')")
    with pytest.raises(E.PlanError, match=r"^cannot insert into 'snk': the query has 3 columns"):
        t_env.from_path("t").execute_insert("snk").wait()


def test_streaming_group_by_into_filesystem_sink(s_env, tmp_path):
    s_env.execute_sql(
        f"CREATE TABLE fs (id BIGINT, c BIGINT) WITH ('connector'='filesystem', "
        f"'path'='{tmp_path / 'out'}', 'format'='csv')"
    )
    with pytest.raises(E.ChangelogModeError) as ei:
        s_env.execute_sql("INSERT INTO fs SELECT id, COUNT(*) FROM t GROUP BY id").wait()
    msg = str(ei.value)
    # Flink's message, then what to do instead
    assert msg.startswith(
        "Table sink 'default_catalog.default_database.fs' doesn't support consuming update "
        "changes which is produced by node Aggregate(groupBy=["
    )
    assert msg.endswith("; write to a sink that takes updates (e.g. 'print', or 'blackhole'), "
                        "or run the job in batch mode")
    assert isinstance(ei.value, E.PlanError)


def test_aggregate_over_aggregate_into_filesystem_sink_names_its_deletes(s_env, tmp_path):
    s_env.execute_sql(
        f"CREATE TABLE fs (c BIGINT, n BIGINT) WITH ('connector'='filesystem', "
        f"'path'='{tmp_path / 'out'}', 'format'='csv')"
    )
    with pytest.raises(E.ChangelogModeError, match=r"^Table sink 'default_catalog\.default_"
                       r"database\.fs' doesn't support consuming update and delete changes "):
        s_env.execute_sql("INSERT INTO fs SELECT c, COUNT(*) FROM "
                          "(SELECT id, COUNT(*) AS c FROM t GROUP BY id) GROUP BY c")


def test_upsert_sink_whose_primary_key_is_not_the_upsert_key(s_env):
    s_env.execute_sql("CREATE TABLE pk (id BIGINT, c BIGINT, PRIMARY KEY (c) NOT ENFORCED) "
                      "WITH ('connector'='print')")
    with pytest.raises(E.ChangelogModeError) as ei:
        s_env.execute_sql("INSERT INTO pk SELECT id, COUNT(*) FROM t GROUP BY id")
    assert str(ei.value).startswith(
        "The query has an upsert key that differs from the primary key of the sink table "
        "'default_catalog.default_database.pk'. Primary key: [c], upsert key: [id]. This can "
        "lead to non-deterministic results when multiple records with different upsert keys "
        "map to the same primary key.")
    assert "declare the PRIMARY KEY on the query's upsert key" in str(ei.value)


def test_streaming_group_by_into_print_sink_is_fine(s_env, capsys):
    s_env.execute_sql("CREATE TABLE p (id BIGINT, c BIGINT) WITH ('connector'='print')")
    s_env.execute_sql("INSERT INTO p SELECT id, COUNT(*) FROM t GROUP BY id").wait()
    out = capsys.readouterr().out
    assert "+I[1, 1]" in out or "+I[1, 2]" in out


# -- malformed input --------------------------------------------------------------------------------


def _csv_source(env, path, extra=""):
    env.execute_sql(
        "CREATE TABLE src (id BIGINT, name STRING, score DOUBLE) WITH ('connector'='filesystem', "
        f"'path'='{path}', 'format'='csv'{extra})"
    )


def test_malformed_csv_row(t_env, tmp_path):
    p = tmp_path / "in.csv"
    p.write_text("1,a,1.5\n2,b,notanumber\n")
    _csv_source(t_env, p)
    with pytest.raises(E.MalformedRowError) as ei:
        list(t_env.sql_query("SELECT * FROM src").execute().collect())
    assert str(ei.value) == (
        f"malformed row in '{p}' line 2, column 'score': cannot parse 'notanumber' as DOUBLE; "
        "fix the row or set 'csv.ignore-parse-errors' = 'true' to skip malformed rows"
    )


def test_malformed_csv_row_in_bigint(t_env, tmp_path):
    p = tmp_path / "in.csv"
    p.write_text("1,a,1.5\n2,b,2.5\nx3,c,3.5\n")
    _csv_source(t_env, p)
    with pytest.raises(E.MalformedRowError, match=r"line 3, column 'id': cannot parse 'x3' as BIGINT"):
        t_env.sql_query("SELECT * FROM src").to_pandas()


def test_malformed_csv_row_ignored(t_env, tmp_path):
    p = tmp_path / "in.csv"
    p.write_text("1,a,1.5\n2,b,notanumber\n3,c,2.5\n")
    _csv_source(t_env, p, ", 'csv.ignore-parse-errors'='true'")
    got = [tuple(r) for r in t_env.sql_query("SELECT id FROM src").execute().collect()]
    assert (1,) in got and (3,) in got


# -- UDFs -----------------------------------------------------------------------------------------


def _inverse(x):
    return 1 // x


def test_failing_udf(t_env):
    t_env.create_temporary_function("inv", udf(_inverse, result_type=DataTypes.BIGINT()))
    with pytest.raises(E.UdfError) as ei:
        list(t_env.sql_query("SELECT inv(id) FROM t").execute().collect())
    msg = str(ei.value)
    assert msg.startswith("user-defined function '_inverse' (defined at ")
    assert f"{__file__}:" in msg
    assert "raised ZeroDivisionError: integer division or modulo by zero on arguments (0,)" in msg
    assert "see the chained exception above for your traceback" in msg
    assert isinstance(ei.value.__cause__, ZeroDivisionError)
    assert isinstance(ei.value, RuntimeError)


def test_udf_without_result_type():
    with pytest.raises(E.PlanError, match=r"has no result_type; declare it"):
        udf(_inverse)


def test_udf_given_a_class():
    class F:
        def __call__(self, x):
            return x

    with pytest.raises(E.PlanError, match=r"^udf\(\) got the class F; pass an instance"):
        udf(F, result_type=DataTypes.BIGINT())


def _returns_str(x):
    return "str"


def test_udf_wrong_return_type(t_env):
    f = udf(_returns_str, result_type=DataTypes.BIGINT())
    with pytest.raises(E.UdfError) as ei:
        list(t_env.from_path("t").select(f(col("id"))).execute().collect())
    msg = str(ei.value)
    assert msg.startswith("user-defined function '_returns_str' (defined at ")
    assert "returned 'str' of type str, which does not fit its result_type BIGINT" in msg


def _first_only(x):
    return x[:1]


def test_pandas_udf_wrong_length(t_env):
    f = udf(_first_only, result_type=DataTypes.BIGINT(), func_type="pandas")
    with pytest.raises(E.UdfError) as ei:
        list(t_env.from_path("t").select(f(col("id"))).execute().collect())
    msg = str(ei.value)
    assert msg.startswith("pandas UDF '_first_only' (defined at ")
    assert "returned 1 values for 2 input rows; a pandas UDF must return one value per row" in msg
