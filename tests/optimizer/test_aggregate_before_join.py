"""Eager aggregation below a join: when the rule fires, and that it keeps the results.

Results are checked against DuckDB in tests/test_duckdb_differential.py (the eager_agg_* queries);
here: the plans."""

import pyarrow as pa
import pytest

from volley.table import EnvironmentSettings, TableEnvironment

FACT = pa.table({"dim_id": pa.array([1, 2, 2, 3, None, 1], pa.int64()),
                 "amount": pa.array([1.0, 2.0, 3.0, 4.0, 5.0, None])})
DIM = pa.table({"id": pa.array([1, 2, 2, 4], pa.int64()),
                "category": pa.array(["a", "b", "b2", "d"])})


def _env(batch: bool) -> TableEnvironment:
    settings = (EnvironmentSettings.in_batch_mode() if batch
                else EnvironmentSettings.in_streaming_mode())
    t_env = TableEnvironment.create(settings)
    t_env.create_temporary_view("fact", t_env.from_pandas(FACT.to_pandas()))
    t_env.create_temporary_view("dim", t_env.from_pandas(DIM.to_pandas()))
    return t_env


def _optimized(t_env: TableEnvironment, sql: str) -> str:
    return t_env.explain_sql(sql).split("== Optimized Logical Plan ==")[1]


SPLIT = ("SELECT d.category, COUNT(*) AS n, SUM(f.amount) AS total, MIN(f.amount) AS lo "
         "FROM fact AS f JOIN dim AS d ON f.dim_id = d.id GROUP BY d.category")


def test_batch_aggregates_the_fact_side_by_its_join_key_first():
    plan = _optimized(_env(batch=True), SPLIT)
    lines = [line.strip(" |+-") for line in plan.strip().splitlines()]
    join = next(i for i, line in enumerate(lines) if line.startswith("Join("))
    assert lines[join + 1].startswith("Aggregate(groupBy=[dim_id], select=[count(*) AS $p0")
    assert "sum($1) AS $agg0" in plan  # the final aggregate sums the partial counts


def test_results_are_those_of_the_plain_join():
    rows = sorted(tuple(r) for r in _env(batch=True).execute_sql(SPLIT).collect())
    # dim repeats id 2 (b, b2): each fact row with dim_id 2 counts once for each
    assert rows == [("a", 2, 1.0, 1.0), ("b", 2, 5.0, 2.0), ("b2", 2, 5.0, 2.0)]


def test_streaming_keeps_the_join_first():
    assert "$p0" not in _optimized(_env(batch=False), SPLIT)


@pytest.mark.parametrize("sql", [
    # AVG would need a division after the merge
    "SELECT d.category, AVG(f.amount) FROM fact f JOIN dim d ON f.dim_id = d.id GROUP BY d.category",
    # arguments from both sides
    "SELECT d.category, SUM(f.amount), MAX(d.id) FROM fact f JOIN dim d ON f.dim_id = d.id "
    "GROUP BY d.category",
    # a global aggregate of no joined rows must count 0
    "SELECT COUNT(*) FROM fact f JOIN dim d ON f.dim_id = d.id",
    # an outer join and a non-equality condition
    "SELECT d.category, COUNT(*) FROM fact f LEFT JOIN dim d ON f.dim_id = d.id GROUP BY d.category",
    "SELECT d.category, COUNT(*) FROM fact f JOIN dim d ON f.dim_id < d.id GROUP BY d.category",
    "SELECT d.category, COUNT(DISTINCT f.amount) FROM fact f JOIN dim d ON f.dim_id = d.id "
    "GROUP BY d.category",
])
def test_the_rule_leaves_what_it_cannot_split(sql):
    assert "$p0" not in _optimized(_env(batch=True), sql)
