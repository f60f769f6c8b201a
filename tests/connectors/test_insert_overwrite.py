"""INSERT OVERWRITE (and ``execute_insert(..., overwrite=True)``) replaces a filesystem table's
rows when the job commits, as in Flink: batch mode only, filesystem tables only. Expected rows
as PyFlink 2.3 gives them for the same statements (INSERT INTO 1, 2, 3 then INSERT OVERWRITE 9
reads back [9])."""

from __future__ import annotations

import pytest

from volley.errors import UnsupportedFeatureError, VolleyError
from volley.table import DataTypes, EnvironmentSettings, TableEnvironment
from volley.table.udf import udf


def _env(tmp_path, streaming: bool = False, parallelism: int = 1) -> TableEnvironment:
    settings = EnvironmentSettings.in_streaming_mode() if streaming else \
        EnvironmentSettings.in_batch_mode()
    t_env = TableEnvironment.create(settings)
    t_env.get_config().set("parallelism.default", str(parallelism))
    t_env.execute_sql(f"CREATE TABLE s (x INT) WITH ('connector' = 'filesystem', "
                      f"'path' = '{tmp_path / 's'}', 'format' = 'csv')")
    return t_env


def _rows(t_env) -> list[int]:
    return sorted(r[0] for r in t_env.execute_sql("SELECT * FROM s").collect())


@pytest.mark.parametrize("parallelism", [1, 2])
def test_overwrite_replaces_the_rows(tmp_path, parallelism):
    t_env = _env(tmp_path, parallelism=parallelism)
    t_env.execute_sql("INSERT INTO s VALUES (1), (2), (3)").wait()
    t_env.execute_sql("INSERT OVERWRITE s VALUES (9)").wait()
    assert _rows(t_env) == [9]
    t_env.execute_sql("INSERT INTO s VALUES (4)").wait()
    assert _rows(t_env) == [4, 9]


def test_execute_insert_with_overwrite_replaces_the_rows(tmp_path):
    t_env = _env(tmp_path)
    t_env.execute_sql("INSERT INTO s VALUES (1), (2)").wait()
    t_env.from_elements([(7,)], ["x"]).execute_insert("s", overwrite=True).wait()
    assert _rows(t_env) == [7]


def test_an_empty_overwrite_empties_the_table(tmp_path):
    t_env = _env(tmp_path)
    t_env.execute_sql("INSERT INTO s VALUES (1), (2)").wait()
    t_env.execute_sql("INSERT OVERWRITE s SELECT x FROM s WHERE x > 5").wait()
    assert _rows(t_env) == []


def test_a_failed_overwrite_leaves_the_rows_as_they_were(tmp_path):
    t_env = _env(tmp_path)
    t_env.execute_sql("INSERT INTO s VALUES (1), (2), (3)").wait()

    @udf(result_type=DataTypes.INT())
    def explode(x):
        raise ValueError("no")

    t_env.create_temporary_function("explode", explode)
    with pytest.raises(VolleyError):
        t_env.execute_sql("INSERT OVERWRITE s SELECT explode(x) FROM s").wait()
    assert _rows(t_env) == [1, 2, 3]


def test_overwrite_is_refused_in_streaming_mode_and_for_other_connectors(tmp_path):
    t_env = _env(tmp_path, streaming=True)
    with pytest.raises(UnsupportedFeatureError, match="not supported in streaming mode"):
        t_env.execute_sql("INSERT OVERWRITE s VALUES (9)").wait()
    batch = _env(tmp_path)
    batch.execute_sql("CREATE TABLE b (x INT) WITH ('connector' = 'blackhole')")
    with pytest.raises(UnsupportedFeatureError, match="connector 'blackhole' cannot replace"):
        batch.execute_sql("INSERT OVERWRITE b VALUES (9)").wait()
