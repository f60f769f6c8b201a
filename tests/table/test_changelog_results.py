"""Updating results where users meet them: ``collect()`` rows with their kinds, ``print()``,
``to_pandas()``/``to_arrow()`` materialized (PyFlink's order), upsert sinks; and streaming
outer joins and set operations against batch mode on the same bounded input, at parallelism
1 and 2."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from volley.common.changelog import ROW_KIND_COLUMN
from volley.errors import PlanError
from volley.table import EnvironmentSettings, TableEnvironment
from volley.table.materialize import materialize

RECORDED = json.loads((Path(__file__).parent / "pyflink_to_pandas.json").read_text())
KINDS = {"+I": 0, "-U": 1, "+U": 2, "-D": 3}


def _env(streaming: bool = True, parallelism: int = 1) -> TableEnvironment:
    settings_ = EnvironmentSettings.in_streaming_mode() if streaming \
        else EnvironmentSettings.in_batch_mode()
    t_env = TableEnvironment.create(settings_)
    if parallelism > 1:
        t_env.get_config().set("parallelism.default", str(parallelism))
    return t_env


def _changelog_table(log: list) -> pa.Table:
    width = len(log[0][1])
    columns = [pa.array([row[i] for _, row in log]) for i in range(width)]
    kinds = pa.array([KINDS[k] for k, _ in log], pa.int8())
    return pa.Table.from_arrays(columns + [kinds], names=[f"c{i}" for i in range(width)]
                                + [ROW_KIND_COLUMN])


@pytest.mark.parametrize("case", RECORDED["cases"], ids=[c["name"] for c in RECORDED["cases"]])
def test_materialize_gives_pyflinks_to_pandas_rows_in_its_order(case) -> None:
    table = materialize(_changelog_table(case["changelog"]))
    assert [list(r.values()) for r in table.to_pylist()] == case["pandas"]


def test_materialize_by_upsert_key_takes_an_upsert_stream() -> None:
    log = [("+I", [1, "a"]), ("+I", [2, "b"]), ("+U", [1, "c"]), ("-D", [2, "b"]),
           ("+I", [2, "d"]), ("+U", [1, "e"])]
    rows = materialize(_changelog_table(log), upsert_key=(0,)).to_pylist()
    # the key's latest row, where the key last appeared anew
    assert [list(r.values()) for r in rows] == [[1, "e"], [2, "d"]]
    # without -U the multiset reading keeps every +U: the key decides
    assert materialize(_changelog_table(log)).num_rows == 4


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32), keyed=st.booleans())
def test_materialize_is_the_changelog_applied(seed, keyed) -> None:
    rng = random.Random(seed)
    live: list = []
    log = []
    for i in range(rng.randint(1, 40)):
        if live and rng.random() < 0.4:
            row = live.pop(rng.randrange(len(live)))
            if rng.random() < 0.5:
                log.append(("-D", row))
            else:
                new = [row[0], rng.choice([None, "x", "y"])]
                log += [("-U", row), ("+U", new)]
                live.append(new)
        else:
            key = i if keyed else rng.randint(0, 3)
            row = [key, rng.choice([None, "x", "y"])]
            live.append(row)
            log.append(("+I", row))
    table = materialize(_changelog_table(log), upsert_key=(0,) if keyed else None)
    assert Counter(tuple(r.values()) for r in table.to_pylist()) == \
        Counter(tuple(r) for r in live)


def test_collect_rows_carry_their_kinds_and_to_pandas_the_final_table() -> None:
    t_env = _env()
    t_env.create_temporary_view("l", t_env.from_elements([(1, "a"), (2, "b")], ["k", "v"]))
    t_env.create_temporary_view("r", t_env.from_elements([(1, "x")], ["k", "w"]))
    query = "SELECT l.k, l.v, r.w FROM l LEFT JOIN r ON l.k = r.k"
    with t_env.execute_sql(query).collect() as rows:
        log = [(r.get_row_kind().short_string(), tuple(r)) for r in rows]
    assert log == [("+I", (1, "a", None)), ("+I", (2, "b", None)), ("-D", (1, "a", None)),
                   ("+I", (1, "a", "x"))]
    assert t_env.sql_query(query).to_arrow().to_pylist() == [
        {"k": 2, "v": "b", "w": None}, {"k": 1, "v": "a", "w": "x"}]
    frame = t_env.sql_query(query).to_pandas()
    assert list(frame["k"]) == [2, 1] and list(frame.columns) == ["k", "v", "w"]


def test_print_shows_the_kinds(capsys) -> None:
    t_env = _env()
    t_env.create_temporary_view("l", t_env.from_elements([(1, "a"), (2, "b")], ["k", "v"]))
    t_env.create_temporary_view("r", t_env.from_elements([(1, "x")], ["k", "w"]))
    t_env.execute_sql("SELECT l.k, r.w FROM l FULL JOIN r ON l.k = r.k").print()
    out = capsys.readouterr().out
    assert "| op |" in out
    assert [line.split("|")[1].strip() for line in out.splitlines()
            if line.startswith("| ") and "op" not in line] == ["+I", "+I", "-D", "+I"]


QUERIES = [
    "SELECT a.k, a.v, b.w FROM a LEFT JOIN b ON a.k = b.k",
    "SELECT a.k, a.v, b.w FROM a RIGHT JOIN b ON a.k = b.k AND a.v < b.w",
    "SELECT a.k, a.v, b.k AS bk, b.w FROM a FULL JOIN b ON a.k = b.k",
    "SELECT s.k, s.c, b.w FROM (SELECT k, COUNT(*) AS c FROM a GROUP BY k) s "
    "FULL JOIN b ON s.k = b.k",
    "SELECT x.k, x.c, y.n FROM (SELECT k, COUNT(*) AS c FROM a GROUP BY k) x "
    "LEFT JOIN (SELECT k, SUM(w) AS n FROM b GROUP BY k) y ON x.k = y.k",
    "SELECT y.n, COUNT(*) AS c, SUM(x.c) AS s FROM (SELECT k, COUNT(*) AS c FROM a GROUP BY k) x "
    "JOIN (SELECT k, SUM(w) AS n FROM b GROUP BY k) y ON x.k = y.k GROUP BY y.n",
    "SELECT k FROM a UNION SELECT k FROM b",
    "SELECT k, v FROM a INTERSECT SELECT k, w FROM b",
    "SELECT k, v FROM a INTERSECT ALL SELECT k, w FROM b",
    "SELECT k, v FROM a EXCEPT SELECT k, w FROM b",
    "SELECT k, v FROM a EXCEPT ALL SELECT k, w FROM b",
    "SELECT k FROM (SELECT k, COUNT(*) AS c FROM a GROUP BY k) EXCEPT SELECT k FROM b",
    "SELECT c FROM (SELECT k, COUNT(*) AS c FROM a GROUP BY k) INTERSECT ALL SELECT k FROM b",
    "SELECT k, c FROM (SELECT k, COUNT(*) AS c FROM a GROUP BY k) UNION ALL "
    "SELECT k, CAST(w AS BIGINT) FROM b",
]


def _data(seed: int) -> tuple[pa.Table, pa.Table]:
    rng = random.Random(seed)

    def table(n: int, other: str) -> pa.Table:
        rows = [(rng.choice([None, 1, 2, 3, 4]), rng.randint(0, 4)) for _ in range(n)]
        return pa.table({"k": pa.array([r[0] for r in rows], pa.int64()),
                         other: pa.array([r[1] for r in rows], pa.int64())})

    return table(rng.randint(0, 30), "v"), table(rng.randint(0, 30), "w")


def _result(query: str, a: pa.Table, b: pa.Table, streaming: bool, parallelism: int = 1,
            rows_per_batch: int | None = None) -> Counter:
    t_env = _env(streaming, parallelism)
    if rows_per_batch:  # several batches per input: updates across batches
        a = pa.Table.from_batches(a.to_batches(max_chunksize=rows_per_batch), a.schema)
        b = pa.Table.from_batches(b.to_batches(max_chunksize=rows_per_batch), b.schema)
    t_env.create_temporary_view("a", t_env.from_arrow(a))
    t_env.create_temporary_view("b", t_env.from_arrow(b))
    return Counter(tuple(r.values()) for r in t_env.sql_query(query).to_arrow().to_pylist())


@pytest.mark.parametrize("query", QUERIES)
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32), rows_per_batch=st.sampled_from([None, 1, 4]))
def test_streaming_materialized_equals_batch(query, seed, rows_per_batch) -> None:
    a, b = _data(seed)
    assert _result(query, a, b, True, rows_per_batch=rows_per_batch) == \
        _result(query, a, b, False)


@pytest.mark.parametrize("query", QUERIES)
def test_streaming_at_parallelism_2_equals_parallelism_1(query) -> None:
    a, b = _data(7)
    assert _result(query, a, b, True, parallelism=2) == _result(query, a, b, True)


@pytest.mark.parametrize("method", ["union", "intersect", "intersect_all", "minus", "minus_all"])
def test_table_api_set_operations_other_than_union_all_are_refused_on_streams(method) -> None:
    t_env = _env()
    a = t_env.from_elements([(1,)], ["k"])
    with pytest.raises(PlanError, match=r"^The (UNION|INTERSECT|MINUS) operation on two "
                                        r"unbounded tables is currently not supported\."):
        getattr(a, method)(a)
    assert _env(False).from_elements([(1,)], ["k"]).minus_all(
        _env(False).from_elements([(2,)], ["k"])) is not None


# PyFlink 2.3's output for the same statements (recorded with ``TableResult.print()``)
PYFLINK_PRINTED = """\
+----+-------------+--------------------------------+--------------------------------+--------+----------------------+---------------------+------------+--------------+
| op |           k |                              v |                              d |      b |                   bi |                  ts |         dt |           de |
+----+-------------+--------------------------------+--------------------------------+--------+----------------------+---------------------+------------+--------------+
| +I |           1 |                              a |                            1.5 |   TRUE |                    2 | 2024-01-01 00:00:00 | 2024-01-01 |         1.25 |
| +I |           2 | bbbbbbbbbbbbbbbbbbbbbbbbbbb... |                         <NULL> |  FALSE |               <NULL> |              <NULL> |     <NULL> |       <NULL> |
+----+-------------+--------------------------------+--------------------------------+--------+----------------------+---------------------+------------+--------------+
2 rows in set
+----+-------------+----------------------+
| op |           k |                    c |
+----+-------------+----------------------+
| +I |           1 |                    1 |
| +I |           2 |                    1 |
+----+-------------+----------------------+
2 rows in set
Empty set
+----+-------------+--------------------------------+--------------------------------+--------+----------------------+---------------------+------------+--------------+
| op |           k |                              v |                              d |      b |                   bi |                  ts |         dt |           de |
+----+-------------+--------------------------------+--------------------------------+--------+----------------------+---------------------+------------+--------------+
| +I |           1 |                              a |                            1.5 |   TRUE |                    2 | 2024-01-01 00:00:00 | 2024-01-01 |         1.25 |
+----+-------------+--------------------------------+--------------------------------+--------+----------------------+---------------------+------------+--------------+
1 row in set
"""


def test_streaming_print_is_pyflinks_tableau(capsys) -> None:
    """Columns sized by type, values cut at 30 characters, Flink's footers."""
    t_env = _env()
    t_env.execute_sql(
        "CREATE TEMPORARY VIEW l AS SELECT * FROM (VALUES (1,'a', 1.5, TRUE, CAST(2 AS BIGINT), "
        "TIMESTAMP '2024-01-01 00:00:00', DATE '2024-01-01', CAST(1.25 AS DECIMAL(10,2))),"
        "(2,'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', CAST(NULL AS DOUBLE), FALSE, "
        "CAST(NULL AS BIGINT), CAST(NULL AS TIMESTAMP(0)), CAST(NULL AS DATE), "
        "CAST(NULL AS DECIMAL(10,2)))) AS x(k, v, d, b, bi, ts, dt, de)")
    t_env.execute_sql("SELECT * FROM l").print()
    t_env.execute_sql("SELECT k, COUNT(*) AS c FROM l GROUP BY k").print()
    t_env.execute_sql("SELECT * FROM l WHERE k > 5").print()
    t_env.execute_sql("SELECT * FROM l WHERE k = 1").print()
    assert capsys.readouterr().out == PYFLINK_PRINTED
