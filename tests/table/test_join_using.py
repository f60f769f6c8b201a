"""JOIN ... USING and NATURAL JOIN give each common column once (first in ``*``), as Flink 2.3
does, and a JOIN with no condition is refused as Flink refuses it (it ran as a cross join).
Expected rows and column names are PyFlink 2.3's for the same statements."""

from __future__ import annotations

import pandas as pd
import pytest

from volley.errors import PlanError
from volley.table import EnvironmentSettings, TableEnvironment


@pytest.fixture(params=["batch", "streaming"])
def t_env(request) -> TableEnvironment:
    settings = EnvironmentSettings.in_batch_mode() if request.param == "batch" else \
        EnvironmentSettings.in_streaming_mode()
    env = TableEnvironment.create(settings)
    env.create_temporary_view("a", env.from_elements([(1, "x"), (2, "y"), (3, "z")], ["id", "v"]))
    env.create_temporary_view("b", env.from_elements([(1, 10), (2, 20), (4, 40)], ["id", "w"]))
    env.create_temporary_view("c", env.from_elements([("x", 2), ("q", 4)], ["v", "id"]))
    return env


def _result(t_env, sql):
    """Column names and the materialized rows (a streaming outer join retracts on the way)."""
    table = t_env.sql_query(sql)
    frame = table.to_pandas()
    rows = [tuple(None if pd.isna(x) else x for x in r) for r in frame.itertuples(index=False)]
    return table.get_schema().get_field_names(), sorted(rows, key=str)


@pytest.mark.parametrize("sql,names,rows", [
    ("SELECT * FROM a JOIN b USING (id)", ["id", "v", "w"], [(1, "x", 10), (2, "y", 20)]),
    ("SELECT * FROM a NATURAL JOIN b", ["id", "v", "w"], [(1, "x", 10), (2, "y", 20)]),
    ("SELECT id, w FROM a JOIN b USING (id) WHERE w > 10", ["id", "w"], [(2, 20)]),
    ("SELECT a.id, b.id, v FROM a JOIN b USING (id)", ["id", "id0", "v"],
     [(1, 1, "x"), (2, 2, "y")]),
    # USING columns come first in *, then the rest of each side
    ("SELECT * FROM a JOIN c USING (id)", ["id", "v", "v0"], [(2, "y", "x")]),
    ("SELECT * FROM a NATURAL JOIN c", ["id", "v"], []),
    ("SELECT * FROM a FULL JOIN b USING (id)", ["id", "v", "w"],
     [(1, "x", 10), (2, "y", 20), (3, "z", None), (4, None, 40)]),
    ("SELECT id, a.id, b.id FROM a FULL JOIN b USING (id)", ["id", "id0", "id1"],
     [(1, 1, 1), (2, 2, 2), (3, 3, None), (4, None, 4)]),
    ("SELECT * FROM b RIGHT JOIN a USING (id)", ["id", "w", "v"],
     [(1, 10, "x"), (2, 20, "y"), (3, None, "z")]),
])
def test_common_columns_appear_once(t_env, sql, names, rows):
    assert _result(t_env, sql) == (names, sorted(rows, key=str))


def test_left_join_using_keeps_the_left_key(t_env):
    assert _result(t_env, "SELECT * FROM a LEFT JOIN b USING (id)") == (
        ["id", "v", "w"], sorted([(1, "x", 10), (2, "y", 20), (3, "z", None)], key=str))


@pytest.mark.parametrize("sql,error,message", [
    ("SELECT * FROM a JOIN b", PlanError, "INNER JOIN b needs a condition"),
    ("SELECT * FROM a LEFT JOIN b", PlanError, "LEFT JOIN b needs a condition"),
    ("SELECT * FROM a NATURAL JOIN b USING (id)", PlanError, "takes no ON or USING"),
])
def test_what_flink_refuses_is_refused(t_env, sql, error, message):
    with pytest.raises(error, match=message):
        t_env.sql_query(sql)


def test_comma_and_cross_joins_stay_cross_joins(t_env):
    assert _result(t_env, "SELECT COUNT(*) AS n FROM a, b")[1] == [(9,)]
    assert _result(t_env, "SELECT COUNT(*) AS n FROM a CROSS JOIN b")[1] == [(9,)]
