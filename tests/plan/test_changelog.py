"""Changelog-mode inference (``volley.plan.changelog``), pinned to what PyFlink 2.3's
``EXPLAIN CHANGELOG_MODE`` shows for the same queries and sinks (recorded by hand from
``explain_sql(..., ExplainDetail.CHANGELOG_MODE)``), and its effect on the job: an upsert
sink gets no -U rows; a sink that cannot take the changelog is refused before anything runs."""

from __future__ import annotations

import re

import pytest

from volley.errors import ChangelogModeError
from volley.table import DataTypes, EnvironmentSettings, ExplainDetail, TableEnvironment

AGG = "SELECT k, COUNT(*) AS c FROM l GROUP BY k"


@pytest.fixture
def t_env():
    env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    env.execute_sql("CREATE TEMPORARY VIEW l AS SELECT * FROM (VALUES (1, 'a'), (2, 'b'), "
                    "(3, 'c'), (1, 'd')) AS x(k, v)")
    env.execute_sql("CREATE TEMPORARY VIEW r AS SELECT * FROM (VALUES (1, 'x'), (4, 'y'), "
                    "(1, 'z')) AS x(k, w)")
    for name, key, connector in [("p_k", "k", "print"), ("p_c", "c", "print"),
                                 ("p", None, "print"), ("b_k", "k", "blackhole"),
                                 ("b_c", "c", "blackhole"), ("b", None, "blackhole")]:
        pk = f", PRIMARY KEY ({key}) NOT ENFORCED" if key else ""
        env.execute_sql(f"CREATE TABLE {name} (k INT, c BIGINT{pk}) "
                        f"WITH ('connector' = '{connector}')")
    return env


def _modes(t_env, sink: str | None, query: str) -> list[tuple[str, str]]:
    """(node name, changelog mode) of each optimized node that is not a projection."""
    statement = f"INSERT INTO {sink} {query}" if sink else query
    text = t_env.execute_sql(f"EXPLAIN CHANGELOG_MODE {statement}").collect().__next__()[0]
    optimized = text.split("== Optimized Logical Plan ==")[1]
    return [(m.group(1), m.group(2)) for m in
            re.finditer(r"(\w+)\(.*changelogMode=\[([A-Z,]*)\]\)", optimized)
            if m.group(1) != "Project"]


@pytest.mark.parametrize("sink,query,expected", [
    # a query is explained as an upsert consumer would take it; print takes -U/+U pairs
    (None, AGG, [("Aggregate", "I,UA"), ("Values", "I")]),
    ("p_k", AGG, [("Aggregate", "I,UB,UA"), ("Values", "I")]),
    # blackhole is an upsert sink: without a key, or keyed on the upsert key, no -U
    ("b_k", AGG, [("Aggregate", "I,UA"), ("Values", "I")]),
    ("b", "SELECT k * 2, c FROM (SELECT k, COUNT(*) AS c FROM l GROUP BY k)",
     [("Aggregate", "I,UA"), ("Values", "I")]),
    # a filter over updates must see the -U (FLINK-9528)
    ("b_k", "SELECT k, c FROM (SELECT k, COUNT(*) AS c FROM l GROUP BY k) WHERE c > 1",
     [("Filter", "I,UB,UA"), ("Aggregate", "I,UB,UA"), ("Values", "I")]),
    # an outer join may emit anything; over insert-only inputs it needs no -U itself
    ("p", "SELECT l.k, CAST(r.k AS BIGINT) FROM l LEFT JOIN r ON l.k = r.k",
     [("Join", "I,UB,UA,D"), ("Values", "I"), ("Values", "I")]),
    (None, "SELECT l.k, CAST(r.k AS BIGINT) FROM l LEFT JOIN r ON l.k = r.k",
     [("Join", "I,UA,D"), ("Values", "I"), ("Values", "I")]),
    ("b", "SELECT l.k, CAST(r.k AS BIGINT) FROM l LEFT JOIN r ON l.k = r.k",
     [("Join", "I,UA,D"), ("Values", "I"), ("Values", "I")]),
    # an aggregate over an updating input also deletes, and needs its input's -U
    (None, "SELECT c, COUNT(*) AS n FROM (SELECT k, COUNT(*) AS c FROM l GROUP BY k) GROUP BY c",
     [("Aggregate", "I,UA,D"), ("Aggregate", "I,UB,UA"), ("Values", "I")]),
    # UNION is a distinct aggregation over both inputs; UNION ALL forwards its inputs' kinds
    (None, "SELECT k FROM l UNION SELECT k FROM r",
     [("Union", "I,UA"), ("Values", "I"), ("Values", "I")]),
    (None, f"SELECT k, c FROM ({AGG}) UNION ALL SELECT k, CAST(0 AS BIGINT) FROM r",
     [("Union", "I,UA"), ("Aggregate", "I,UA"), ("Values", "I"), ("Values", "I")]),
    (None, "SELECT k FROM l EXCEPT SELECT k FROM r",
     [("Minus", "I,UA,D"), ("Values", "I"), ("Values", "I")]),
])
def test_changelog_modes_are_flinks(t_env, sink, query, expected) -> None:
    assert _modes(t_env, sink, query) == expected


def test_an_upsert_sink_gets_no_update_before_rows(t_env) -> None:
    planner = t_env._planner(t_env._job_settings())
    plan = t_env._conform_to_sink(t_env._optimize(t_env.sql_query(AGG)._plan), "b_k",
                                  t_env._catalog.lookup("b_k"))
    update = t_env._sink_update_kind(planner.changelogs, plan, "b_k",
                                     t_env._catalog.lookup("b_k"))
    planner.add_sink(plan, t_env._spec("b_k", t_env._catalog.lookup("b_k")), False, update)
    specs = [s for v in planner.build("x").vertices for s in v.chain]
    aggregate = next(s for s in specs if s.kind == "group_aggregate")
    assert aggregate.params["update_before"] is False
    t_env.execute_sql(f"INSERT INTO b_k {AGG}").wait()  # and the job runs


def test_print_with_the_upsert_key_as_primary_key_shows_update_pairs(t_env, capsys) -> None:
    schema = DataTypes.ROW([DataTypes.FIELD("k", DataTypes.INT())])  # the sink's key type
    t_env.create_temporary_view("two", t_env.from_elements([(1,), (1,)], schema).union_all(
        t_env.from_elements([(1,)], schema)))
    t_env.execute_sql("INSERT INTO p_k SELECT k, COUNT(*) FROM two GROUP BY k").wait()
    assert capsys.readouterr().out.splitlines() == ["+I[1, 2]", "-U[1, 2]", "+U[1, 3]"]


@pytest.mark.parametrize("sink", ["p_c", "b_c", "p_k"])
def test_a_primary_key_that_is_not_an_upsert_key_is_refused(t_env, sink) -> None:
    """Flink 2.3's ValidationException (it asks for ON CONFLICT); a narrowing cast or an outer
    join over inputs without keys leaves no upsert key at all."""
    query = AGG if sink != "p_k" else "SELECT l.k, CAST(r.k AS BIGINT) FROM l LEFT JOIN r " \
                                      "ON l.k = r.k"
    key = "[k]" if sink != "p_k" else ""
    with pytest.raises(ChangelogModeError, match=re.escape(
            f"The query has an upsert key that differs from the primary key of the sink "
            f"table 'default_catalog.default_database.{sink}'. Primary key: "
            f"[{sink[-1]}], upsert key: {key}.")):
        t_env.execute_sql(f"INSERT INTO {sink} {query}")


def test_a_primary_key_that_contains_the_upsert_key_is_fine(t_env) -> None:
    t_env.execute_sql("CREATE TABLE p_kc (k BIGINT, c BIGINT, PRIMARY KEY (k, c) NOT ENFORCED) "
                      "WITH ('connector' = 'blackhole')")
    t_env.execute_sql(f"INSERT INTO p_kc {AGG}").wait()  # k INT -> BIGINT keeps the key


def test_insert_only_queries_go_into_any_primary_key_sink(t_env) -> None:
    t_env.execute_sql("INSERT INTO b_c SELECT k, CAST(1 AS BIGINT) FROM l").wait()


def test_explain_without_changelog_mode_is_unchanged_and_other_details_warn(t_env) -> None:
    plain = t_env.explain_sql(AGG)
    assert "changelogMode" not in plain
    with pytest.warns(UserWarning, match="does not show ESTIMATED_COST"):
        assert t_env.explain_sql(AGG, ExplainDetail.ESTIMATED_COST) == plain
