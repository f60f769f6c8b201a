"""Ranking on streams: a filter on a ROW_NUMBER becomes a Top-N (or a deduplication), an unread
rank is not output, ORDER BY ... LIMIT is a Top-N; batch plans keep their Rank and Filter."""

import pytest

from volley.table import EnvironmentSettings, TableEnvironment


def _optimized(sql: str, batch: bool = False) -> list[str]:
    settings = EnvironmentSettings.in_batch_mode() if batch \
        else EnvironmentSettings.in_streaming_mode()
    t_env = TableEnvironment.create(settings)
    t_env.execute_sql("CREATE TABLE t (k INT, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) "
                      "WITH ('connector' = 'filesystem', 'path' = '/nonexistent', "
                      "'format' = 'csv')")
    plan = t_env.explain_sql(sql).split("== Optimized Logical Plan ==")[1]
    return [line.strip(" |+-") for line in plan.strip().splitlines()]


def _ranked(order: str, condition: str, select: str = "*", function: str = "ROW_NUMBER()") -> str:
    return (f"SELECT {select} FROM (SELECT k, v, ts, {function} OVER (PARTITION BY k ORDER BY "
            f"{order}) AS rn FROM t) WHERE {condition}")


@pytest.mark.parametrize("condition,rank_range,residual", [
    ("rn <= 3", "1..3", None), ("rn < 3", "1..2", None), ("3 >= rn", "1..3", None),
    ("rn = 2", "2..2", None), ("rn > 1 AND rn <= 4", "2..4", None),
    ("rn <= 3 AND v > 1", "1..3", "Filter(condition=[gt($1:v, 1)])"),
])
def test_a_bounded_row_number_becomes_a_top_n(condition, rank_range, residual):
    plan = _optimized(_ranked("v DESC", condition))
    top_n = next(line for line in plan if line.startswith("TopN("))
    assert top_n == (f"TopN(rankRange=[{rank_range}], partitionBy=[k], orderBy=[v DESC], "
                     "outputRank=[true])")
    assert (residual in plan) if residual else not any(p.startswith("Filter") for p in plan)


def test_a_rank_nobody_reads_is_not_output():
    plan = _optimized(_ranked("v DESC", "rn <= 2", select="k, v"))
    assert any("outputRank=[false]" in line for line in plan)


@pytest.mark.parametrize("order,keep", [("ts", "FirstRow"), ("ts DESC", "LastRow")])
def test_the_first_row_by_time_is_a_deduplication(order, keep):
    for select in ("k, v", "k, v, rn"):  # with the rank shown, it is the constant 1
        plan = _optimized(_ranked(order, "rn = 1", select=select))
        assert f"Deduplicate(keep=[{keep}], key=[k], order=[ROWTIME])" in plan
    assert any(line.endswith("1 AS $over3)") for line in
               _optimized(_ranked(order, "rn = 1", select="k, v, rn")))


def test_order_by_with_a_limit_is_a_top_n_without_partitions():
    plan = _optimized("SELECT k, v FROM t ORDER BY v DESC LIMIT 3 OFFSET 1")
    assert "TopN(rankRange=[2..4], partitionBy=[], orderBy=[v DESC], outputRank=[false])" in plan


@pytest.mark.parametrize("sql", [
    _ranked("v DESC", "rn >= 2"),  # no upper bound
    _ranked("v DESC", "rn <= 2", function="RANK()"),  # not a ROW_NUMBER
])
def test_what_is_no_top_n_is_left_alone(sql):
    plan = _optimized(sql)
    assert any(line.startswith("Rank(") for line in plan)
    assert not any(line.startswith("TopN(") for line in plan)


def test_batch_plans_keep_their_rank_and_filter():
    plan = _optimized(_ranked("v DESC", "rn <= 3"), batch=True)
    assert any(line.startswith("Rank(") for line in plan)
    assert any(line.startswith("Filter(") for line in plan)
