"""Column pruning, filters moved below joins, and sub-plan reuse: the plans they give, and that
results stay those of the query as written (checked against pandas over the same CSV files)."""

import pandas as pd
import pytest

from volley.errors import PlanError
from volley.optimizer import optimize
from volley.plan import nodes as n
from volley.plan.windows import WindowAggregate
from volley.table import EnvironmentSettings, TableEnvironment


@pytest.fixture
def t_env(tmp_path) -> TableEnvironment:
    env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    orders = tmp_path / "orders.csv"
    orders.write_text("".join(
        f"{i},{i % 4},{i * 10},note-{i},2024-01-01 00:00:{i % 60:02d}.000\n" for i in range(40)))
    people = tmp_path / "people.csv"
    people.write_text("".join(f"{k},name-{k},{'OR' if k % 2 else 'CA'},x\n" for k in range(4)))
    env.execute_sql(f"""CREATE TABLE orders (id INT, person INT, amount BIGINT, note STRING,
        ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
        WITH ('connector' = 'filesystem', 'path' = '{orders}', 'format' = 'csv')""")
    env.execute_sql(f"""CREATE TABLE people (id INT, name STRING, state STRING, extra STRING)
        WITH ('connector' = 'filesystem', 'path' = '{people}', 'format' = 'csv')""")
    env.orders = pd.read_csv(orders, names=["id", "person", "amount", "note", "ts"])  # type: ignore[attr-defined]
    env.people = pd.read_csv(people, names=["id", "name", "state", "extra"])  # type: ignore[attr-defined]
    return env


def _nodes(plan: n.Node) -> list[n.Node]:
    seen: dict[int, n.Node] = {}
    stack = [plan]
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen[id(node)] = node
            stack.extend(node.inputs)
    return list(seen.values())


def _scans(plan: n.Node) -> list[n.Scan]:
    return [x for x in _nodes(plan) if isinstance(x, n.Scan)]


JOIN = ("SELECT p.name, o.amount FROM orders AS o JOIN people AS p ON o.person = p.id "
        "WHERE p.state = 'OR' AND o.amount > 100")


def test_scans_read_only_the_columns_the_query_uses(t_env):
    plan = optimize(t_env.sql_query(JOIN)._plan)
    fields = sorted(tuple(s.schema.names) for s in _scans(plan))
    # the watermark's column is read too: the rowtime is declared on it
    assert fields == [("id", "name", "state"), ("person", "amount", "ts")]
    assert t_env.sql_query(JOIN).get_schema().get_field_names() == ["name", "amount"]


def test_filters_on_one_side_move_below_the_join(t_env):
    plan = optimize(t_env.sql_query(JOIN)._plan)
    (join,) = [x for x in _nodes(plan) if isinstance(x, n.Join)]
    assert str(join.condition) == "eq($0:person, $3:id)"
    assert isinstance(join.left, n.Filter) and isinstance(join.right, n.Filter)


def test_a_non_deterministic_condition_stays_in_the_join(t_env):
    plan = optimize(t_env.sql_query(
        "SELECT o.id FROM orders AS o JOIN people AS p ON o.person = p.id AND RAND() < 2")._plan)
    (join,) = [x for x in _nodes(plan) if isinstance(x, n.Join)]
    assert "rand()" in str(join.condition) and not isinstance(join.left, n.Filter)


@pytest.mark.parametrize("parallelism", [1, 2])
def test_pruned_and_pushed_join_gives_the_results_as_written(t_env, parallelism):
    t_env.get_config().set("parallelism.default", str(parallelism))
    got = t_env.sql_query(JOIN).to_pandas().sort_values(["name", "amount"])
    o, p = t_env.orders, t_env.people
    want = o.merge(p, left_on="person", right_on="id")
    want = want[(want.state == "OR") & (want.amount > 100)][["name", "amount"]]
    assert got.values.tolist() == want.sort_values(["name", "amount"]).values.tolist()


WINDOWS = """
SELECT c.person, c.n FROM (
  SELECT person, COUNT(*) AS n, window_start AS ws
  FROM TABLE(TUMBLE(TABLE orders, DESCRIPTOR(ts), INTERVAL '10' SECOND))
  GROUP BY person, window_start, window_end) AS c
JOIN (
  SELECT MAX(n) AS top, ws FROM (
    SELECT person, COUNT(*) AS n, window_start AS ws
    FROM TABLE(TUMBLE(TABLE orders, DESCRIPTOR(ts), INTERVAL '10' SECOND))
    GROUP BY person, window_start, window_end)
  GROUP BY ws) AS m
ON c.ws = m.ws AND c.n >= m.top"""


def test_a_sub_plan_written_twice_is_one_node(t_env):
    plan = optimize(t_env.sql_query(WINDOWS)._plan)
    assert len([x for x in _nodes(plan) if isinstance(x, WindowAggregate)]) == 1
    assert len(_scans(plan)) == 1


@pytest.mark.parametrize("parallelism", [1, 2])
def test_a_shared_sub_plan_feeds_both_consumers(t_env, parallelism):
    t_env.get_config().set("parallelism.default", str(parallelism))
    got = sorted(map(tuple, t_env.sql_query(WINDOWS).to_pandas().values.tolist()))
    o = t_env.orders.assign(ws=pd.to_datetime(t_env.orders.ts).dt.floor("10s"))
    counts = o.groupby(["person", "ws"]).size().rename("n").reset_index()
    top = counts.groupby("ws").n.transform("max")
    want = sorted(map(tuple, counts[counts.n >= top][["person", "n"]].values.tolist()))
    assert got == want and got


def test_different_literals_are_not_shared(t_env):
    plan = optimize(t_env.sql_query(
        "SELECT id FROM orders WHERE amount > 1 UNION ALL SELECT id FROM orders WHERE amount > 2"
    )._plan)
    assert len([x for x in _nodes(plan) if isinstance(x, n.Filter)]) == 2


def test_sub_plan_reuse_can_be_switched_off_as_in_flink(t_env):
    t_env.get_config().set("table.optimizer.reuse-sub-plan-enabled", "false")
    plan = t_env._optimize(t_env.sql_query(WINDOWS)._plan)
    assert len([x for x in _nodes(plan) if isinstance(x, WindowAggregate)]) == 2
    t_env.get_config().set("table.optimizer.reuse-sub-plan-enabled", "maybe")
    with pytest.raises(PlanError, match="reuse-sub-plan-enabled' must be true or false"):
        t_env.sql_query(WINDOWS).to_pandas()
