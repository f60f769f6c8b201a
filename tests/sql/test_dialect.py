"""Pins the sqlglot node each Flink construct parses into; the binder is written against these."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from volley.sql import Flink, parse_expression, parse_query


def expr(text: str) -> exp.Expression:
    return parse_query(f"SELECT {text}").expressions[0]


@pytest.mark.parametrize(
    ("text", "node"),
    [
        ("CAST(x AS STRING)", exp.Cast),
        ("TRY_CAST(x AS INT)", exp.TryCast),
        ("INTERVAL '5' SECOND", exp.Interval),
        ("INTERVAL '1' DAY", exp.Interval),
        ("INTERVAL '1 10:00:00' DAY TO SECOND", exp.Interval),
        ("PROCTIME()", exp.Anonymous),
        ("CURRENT_TIMESTAMP", exp.CurrentTimestamp),
        ("CURRENT_DATE", exp.CurrentDate),
        ("LOCALTIMESTAMP", exp.Localtimestamp),
        ("ROW(1, 'a')", exp.Struct),
        ("ARRAY[1, 2]", exp.Array),
        ("MAP['a', 1]", exp.VarMap),
        ("arr[1]", exp.Bracket),
        ("a.b", exp.Column),
        ("SUBSTRING(s FROM 1 FOR 2)", exp.Substring),
        ("POSITION(a IN b)", exp.StrPosition),
        ("TRIM(BOTH ' ' FROM s)", exp.Trim),
        ("EXTRACT(YEAR FROM d)", exp.Extract),
        ("FLOOR(ts TO DAY)", exp.Floor),
        ("CEIL(ts TO HOUR)", exp.Ceil),
        ("TIMESTAMPADD(DAY, 1, ts)", exp.TimestampAdd),
        ("TIMESTAMPDIFF(DAY, a, b)", exp.TimestampDiff),
        ("x IS DISTINCT FROM y", exp.NullSafeNEQ),
        ("x IS NOT DISTINCT FROM y", exp.NullSafeEQ),
        ("s LIKE 'a%'", exp.Like),
        ("s SIMILAR TO 'a%'", exp.SimilarTo),
        ("x IN (1, 2)", exp.In),
        ("x BETWEEN 1 AND 2", exp.Between),
        ("CASE WHEN a THEN 1 ELSE 2 END", exp.Case),
        ("ROW_NUMBER() OVER (PARTITION BY a ORDER BY b)", exp.Window),
        ("DATE '2020-01-01'", exp.Cast),
        ("LOG(x)", exp.Ln),
        ("LOG(2, x)", exp.Log),
        ("IF(c, 1, 2)", exp.If),
        ("my_udf(a)", exp.Anonymous),
        ("split(s)", exp.Anonymous),
        ("COUNT(DISTINCT a)", exp.Count),
        ("'it''s'", exp.Literal),
    ],
)
def test_expression_node(text: str, node: type) -> None:
    assert type(expr(text)) is node


def test_registered_by_name() -> None:
    assert isinstance(sqlglot.parse_one("SELECT `a` FROM t", read="flink"), exp.Select)


def test_expression_args() -> None:
    sub = expr("SUBSTRING(s FROM 1 FOR 2)")
    assert (sub.this.name, sub.args["start"].this, sub.args["length"].this) == ("s", "1", "2")
    pos = expr("POSITION(a IN b)")
    assert (pos.this.name, pos.args["substr"].name) == ("b", "a")
    floor = expr("FLOOR(ts TO DAY)")
    assert floor.args["to"] == exp.var("DAY")
    iv = expr("INTERVAL '5' SECOND")
    assert iv.this == exp.Literal.string("5") and iv.unit.name == "SECOND"
    add = expr("TIMESTAMPADD(DAY, 1, ts)")
    assert (add.this.name, add.expression.this, add.unit.name) == ("ts", "1", "DAY")
    diff = expr("TIMESTAMPDIFF(DAY, a, b)")  # b - a
    assert (diff.this.name, diff.expression.name, diff.unit.name) == ("b", "a", "DAY")
    bracket = expr("arr[1]")
    assert bracket.expressions[0].this == "1"  # kept 1-based as written
    varmap = expr("MAP['a', 1, 'b', 2]")
    assert [k.this for k in varmap.args["keys"].expressions] == ["a", "b"]
    nested = expr("a.b")
    assert (nested.table, nested.name) == ("a", "b")
    trim = expr("TRIM(BOTH ' ' FROM s)")
    assert trim.args["position"] == "BOTH" and trim.expression.this == " "
    extract = expr("EXTRACT(YEAR FROM d)")
    assert extract.this.name == "YEAR" and extract.expression.name == "d"
    window = expr("ROW_NUMBER() OVER (PARTITION BY a ORDER BY b)")
    assert isinstance(window.this, exp.RowNumber)
    assert window.args["partition_by"][0].name == "a" and window.args["order"]
    assert expr("PROCTIME()").name == "PROCTIME"


def test_types_in_cast() -> None:
    to = expr("CAST(x AS ROW<a INT NOT NULL, b STRING>)").args["to"]
    assert to.this == exp.DType.STRUCT and to.expressions[0].args["kind"].args["nullable"] is False
    assert expr("CAST(x AS TIMESTAMP(3) WITH LOCAL TIME ZONE)").args["to"].this == (
        exp.DType.TIMESTAMPLTZ
    )
    assert expr("CAST(x AS TIMESTAMP_LTZ(3))").args["to"].this == exp.DType.TIMESTAMPLTZ
    assert expr("CAST(x AS BYTES)").args["to"].this == exp.DType.VARBINARY
    assert expr("CAST(x AS INT NOT NULL)").args["to"].args["nullable"] is False


def test_query_shapes() -> None:
    q = parse_query(
        "SELECT a FROM t ORDER BY x DESC NULLS LAST OFFSET 3 ROWS FETCH FIRST 5 ROWS ONLY"
    )
    assert isinstance(q.args["limit"], exp.Fetch) and q.args["limit"].args["count"].this == "5"
    assert q.args["offset"].expression.this == "3"
    ordered = q.args["order"].expressions[0]
    assert ordered.args["desc"] and ordered.args["nulls_first"] is False
    assert parse_query("SELECT a FROM t LIMIT 5").args["limit"].expression.this == "5"
    assert parse_query("SELECT a FROM t FETCH NEXT 2 ROWS ONLY").args["limit"].args[
        "direction"
    ] == ("NEXT")
    v = parse_query("SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS v(x, y)").args["from_"].this
    assert isinstance(v, exp.Values) and v.alias == "v" and v.alias_column_names == ["x", "y"]
    assert isinstance(parse_query("WITH c AS (SELECT 1) SELECT * FROM c"), exp.Select)
    assert isinstance(parse_query("SELECT 1 UNION ALL SELECT 2"), exp.Union)
    assert isinstance(parse_query("SELECT 1 INTERSECT SELECT 2"), exp.Intersect)
    assert isinstance(parse_query("SELECT 1 EXCEPT SELECT 2"), exp.Except)
    assert isinstance(parse_query("SELECT 1 MINUS SELECT 2"), exp.Except)
    q = parse_query("SELECT a FROM t WHERE a IN (SELECT b FROM u)")
    assert isinstance(q.args["where"].this.args["query"], exp.Subquery)
    table = parse_query("SELECT `quoted`.`names` FROM `c`.`d`.`quoted`").args["from_"].this
    assert [p.name for p in table.parts] == ["c", "d", "quoted"]


def test_window_tvf_and_group_windows() -> None:
    q = parse_query("SELECT * FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' MINUTES))")
    call = q.args["from_"].this.this
    assert isinstance(call, exp.Anonymous) and call.name == "TABLE"
    tumble = call.expressions[0]
    assert tumble.name == "TUMBLE" and isinstance(tumble.expressions[0], exp.Table)
    assert tumble.expressions[1].name == "DESCRIPTOR"
    q = parse_query(
        "SELECT * FROM TABLE(SESSION(TABLE t PARTITION BY k, DESCRIPTOR(ts), INTERVAL '1' MINUTE))"
    )
    table = q.args["from_"].this.this.expressions[0].expressions[0]
    assert table.args["partition"].expressions[0].name == "k"
    q = parse_query("SELECT COUNT(*) FROM t GROUP BY TUMBLE(ts, INTERVAL '1' HOUR)")
    assert q.args["group"].expressions[0].name == "TUMBLE"
    q = parse_query("SELECT * FROM t, LATERAL TABLE(f(s)) AS T(w)")
    assert isinstance(q.args["joins"][0].this, exp.Lateral)


def test_generates_flink_sql() -> None:
    tree = parse_expression("CAST(a AS STRING)")
    assert tree.sql(dialect=Flink) == "CAST(a AS STRING)"
    assert parse_expression("`my col`").sql(dialect=Flink) == "`my col`"
