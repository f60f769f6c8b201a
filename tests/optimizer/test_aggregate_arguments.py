"""The columns computed before an aggregation: one per distinct plain-column argument.

Results are checked against DuckDB in tests/test_duckdb_differential.py (the agg_shared_args_*
queries); here: the plans, and that non-deterministic arguments are not merged."""

import pandas as pd

from volley.table import EnvironmentSettings, TableEnvironment
from volley.table.types import DataTypes
from volley.table.udf import udf


def _env() -> TableEnvironment:
    t_env = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
    frame = pd.DataFrame({"k": [1, 1, 2], "v": [1.0, 2.0, 3.0]})
    t_env.create_temporary_view("t", t_env.from_pandas(frame))
    return t_env


def _pre_aggregate_projection(t_env: TableEnvironment, sql: str) -> str:
    ast = t_env.explain_sql(sql).split("== Optimized Logical Plan ==")[0]
    return next(line for line in ast.splitlines() if "$a0" in line or "$g0 " in line).strip()


def test_aggregates_of_one_column_share_its_argument_column():
    projection = _pre_aggregate_projection(
        _env(), "SELECT k, SUM(v), AVG(v), MIN(v), MAX(v), COUNT(v), SUM(k) FROM t GROUP BY k"
    )
    assert projection.endswith("Project($0:k AS $g0, $1:v AS $a0)")


def test_computed_arguments_stay_apart():
    calls = []

    @udf(result_type=DataTypes.DOUBLE())
    def noisy(v):
        calls.append(v)
        return v + len(calls)

    t_env = _env()
    t_env.create_temporary_function("noisy", noisy)
    sql = "SELECT k, SUM(noisy(v)), MAX(noisy(v)) FROM t GROUP BY k"
    assert "$a1" in _pre_aggregate_projection(t_env, sql)
    rows = sorted(tuple(r) for r in t_env.execute_sql(sql).collect())
    assert len(calls) == 6  # each call evaluated once per row, not once for both aggregates
    assert [k for k, *_ in rows] == [1, 2]
