"""Golden-test cases shared by the PyFlink recorder and Volley's tests.

Stdlib only at import time: this module must be importable without pyflink or
volley.  Everything engine-specific comes in through ``Api`` (built with
``Api.from_package("pyflink")`` or ``Api.from_package("volley")``) and the
``t_env`` TableEnvironment handed to each case.

A case is either a single SQL ``SELECT`` (``sql``) run with
``t_env.sql_query(sql)``, or a Table API callable ``table(t_env, api)`` that
returns a Table.  The fixture views ``orders``, ``customers`` and ``nums`` are
registered by ``register_fixtures`` before any case runs.
"""

from __future__ import annotations

import datetime
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = ["Api", "Case", "CASES", "CASES_BY_NAME", "register_fixtures", "FIXTURE_VIEWS"]


# --------------------------------------------------------------------------
# API namespace
# --------------------------------------------------------------------------


class Api:
    """The handful of API objects a case may use (PyFlink or Volley flavoured)."""

    DataTypes: Any = None
    col: Any = None
    lit: Any = None
    call: Any = None
    if_then_else: Any = None
    concat: Any = None
    udf: Any = None
    Row: Any = None
    expressions: Any = None
    ScalarFunction: Any = None
    window: Any = None
    package: str = ""

    def __init__(self, **kwargs: Any) -> None:
        for k, v in kwargs.items():
            setattr(self, k, v)

    @classmethod
    def from_package(cls, pkg: str) -> Api:
        """Build the namespace from ``pkg`` ("pyflink" or "volley").

        Missing modules/attributes become ``None`` so that a partially
        implemented engine can still import this and run the cases it supports.
        """

        def _mod(name: str) -> Any:
            try:
                return importlib.import_module(name)
            except ImportError:
                return None

        table = _mod(f"{pkg}.table")
        expressions = _mod(f"{pkg}.table.expressions")
        udf_mod = _mod(f"{pkg}.table.udf")
        common = _mod(f"{pkg}.common")

        def _get(*candidates: tuple[Any, str]) -> Any:
            for mod, attr in candidates:
                if mod is not None and getattr(mod, attr, None) is not None:
                    return getattr(mod, attr)
            return None

        return cls(
            package=pkg,
            DataTypes=_get((table, "DataTypes")),
            col=_get((expressions, "col")),
            lit=_get((expressions, "lit")),
            call=_get((expressions, "call")),
            if_then_else=_get((expressions, "if_then_else")),
            concat=_get((expressions, "concat")),
            udf=_get((udf_mod, "udf"), (table, "udf")),
            Row=_get((common, "Row"), (table, "Row")),
            expressions=expressions,
            ScalarFunction=_get((udf_mod, "ScalarFunction"), (table, "ScalarFunction")),
            window=_mod(f"{pkg}.table.window"),
        )


# --------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------

_D = datetime.date
_TS = datetime.datetime

ORDERS_ROWS = [
    # order_id, customer_id, product, amount, quantity, price, order_date, ts
    (1, 1, "apple", 10.5, 3, Decimal("3.50"), _D(2024, 1, 1), _TS(2024, 1, 1, 9, 15, 0)),
    (2, 1, "banana", 4.25, 5, Decimal("0.85"), _D(2024, 1, 1), _TS(2024, 1, 1, 17, 45, 30, 250000)),
    (3, 2, "apple", 7.0, 2, Decimal("3.50"), _D(2024, 1, 2), _TS(2024, 1, 2, 8, 0, 0)),
    (4, 2, "cherry", None, 1, Decimal("12.00"), _D(2024, 1, 3), _TS(2024, 1, 3, 12, 30, 0)),
    (5, 3, "banana", 8.5, 10, Decimal("0.85"), _D(2024, 1, 3), _TS(2024, 1, 3, 23, 59, 59, 999000)),
    (6, 3, None, 3.0, 1, Decimal("3.00"), _D(2024, 1, 4), _TS(2024, 1, 4, 0, 0, 0)),
    (7, None, "durian", 25.0, 1, Decimal("25.00"), _D(2024, 1, 5), _TS(2024, 1, 5, 14, 5, 6)),
    (8, 4, "apple", 14.0, 4, Decimal("3.50"), _D(2024, 2, 10), _TS(2024, 2, 10, 10, 0, 0)),
    (9, 99, "elderberry", 6.75, 3, Decimal("2.25"), _D(2024, 2, 11), _TS(2024, 2, 11, 6, 30, 0)),
    (10, 5, "cherry", 36.0, 3, Decimal("12.00"), _D(2024, 2, 12), _TS(2024, 2, 12, 19, 0, 0)),
    (11, 1, "apple", None, 2, Decimal("3.50"), _D(2024, 3, 1), _TS(2024, 3, 1, 11, 11, 11)),
    (12, 2, "fig", 0.5, 0, Decimal("0.50"), _D(2024, 3, 15), _TS(2024, 3, 15, 21, 45, 0)),
]

CUSTOMERS_ROWS = [
    # id, name, country, age  (customer 6 has no orders; order 9 -> customer 99 missing)
    (1, "Alice", "US", 34),
    (2, "Bob", "UK", 45),
    (3, "Carol", "US", None),
    (4, "Dave", "DE", 29),
    (5, "Eve", None, 52),
    (6, "Frank", "UK", 38),
]

NUMS_ROWS = [
    # a, b, c, d, e  (rows 1 and 2 appear twice)
    (1, 10, 1.5, "x", True),
    (2, -20, -2.25, "y", False),
    (None, 30, None, "z", None),
    (-3, None, 3.75, None, True),
    (4, 40, 0.0, "  pad  ", False),
    (1, 10, 1.5, "x", True),
    (7, 7, -0.5, "Hello World", None),
    (2, -20, -2.25, "y", False),
]

FIXTURE_VIEWS = ("orders", "customers", "nums")


def _schemas(api: Api) -> dict:
    DT = api.DataTypes
    F = DT.FIELD
    return {
        "orders": DT.ROW([
            F("order_id", DT.BIGINT()),
            F("customer_id", DT.INT()),
            F("product", DT.STRING()),
            F("amount", DT.DOUBLE()),
            F("quantity", DT.INT()),
            F("price", DT.DECIMAL(10, 2)),
            F("order_date", DT.DATE()),
            F("ts", DT.TIMESTAMP(3)),
        ]),
        "customers": DT.ROW([
            F("id", DT.INT()),
            F("name", DT.STRING()),
            F("country", DT.STRING()),
            F("age", DT.INT()),
        ]),
        "nums": DT.ROW([
            F("a", DT.INT()),
            F("b", DT.BIGINT()),
            F("c", DT.DOUBLE()),
            F("d", DT.STRING()),
            F("e", DT.BOOLEAN()),
        ]),
    }


def register_fixtures(t_env: Any, api: Api) -> None:
    """(Re)register the temporary views orders, customers and nums, and the event-time tables."""
    schemas = _schemas(api)
    data = {"orders": ORDERS_ROWS, "customers": CUSTOMERS_ROWS, "nums": NUMS_ROWS}
    for name in FIXTURE_VIEWS:
        try:
            t_env.drop_temporary_view(name)
        except Exception:
            pass
        table = t_env.from_elements(list(data[name]), schemas[name])
        t_env.create_temporary_view(name, table)
    register_window_fixtures(t_env)


# Event-time tables for the window cases: CSV files with a WATERMARK two minutes behind the
# largest time seen. Rows arrive out of order, but never by more than the two minutes, so no
# row is late, however often the engine emits watermarks (PyFlink's are periodic, Volley's
# follow each batch): the windows are the same as for ordered input. Fig bid 17 arrives after
# bid 7 and joins two fig sessions of a two-minute gap into one.
WIN_BIDS_CSV = """\
1,apple,3.50,2,alice,2024-01-01 10:00:05.000
2,pear,2.00,1,bob,2024-01-01 10:01:30.000
3,apple,4.00,,carol,2024-01-01 10:00:50.000
4,fig,,3,alice,2024-01-01 10:03:10.000
5,pear,2.50,5,dave,2024-01-01 10:04:59.999
6,apple,3.75,1,bob,2024-01-01 10:04:00.000
7,fig,5.00,2,,2024-01-01 10:06:00.000
17,fig,4.75,1,carol,2024-01-01 10:04:30.000
8,apple,3.25,4,alice,2024-01-01 10:07:45.000
9,pear,2.25,2,carol,2024-01-01 10:06:30.000
10,,1.00,1,bob,2024-01-01 10:09:00.000
11,apple,3.90,3,dave,2024-01-01 10:12:00.000
12,fig,4.50,1,alice,2024-01-01 10:11:15.000
13,pear,2.75,6,bob,2024-01-01 10:15:00.000
14,apple,4.10,2,carol,2024-01-01 10:21:00.000
15,fig,5.25,2,dave,2024-01-01 10:20:10.000
16,pear,3.00,1,alice,2024-01-01 10:30:00.000
"""

WIN_ASKS_CSV = """\
1,apple,3.60,2024-01-01 10:01:00.000
2,fig,4.90,2024-01-01 10:02:00.000
3,kiwi,1.50,2024-01-01 10:03:30.000
4,apple,3.80,2024-01-01 10:06:10.000
5,pear,2.40,2024-01-01 10:05:30.000
6,fig,5.10,2024-01-01 10:12:30.000
7,apple,4.00,2024-01-01 10:23:00.000
"""

WINDOW_TABLES = {
    "win_bids": ("bid_id BIGINT, item STRING, price DECIMAL(10, 2), qty INT, bidder STRING, "
                 "ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' MINUTE", WIN_BIDS_CSV),
    "win_asks": ("ask_id BIGINT, item STRING, price DECIMAL(10, 2), ts TIMESTAMP(3), "
                 "WATERMARK FOR ts AS ts - INTERVAL '2' MINUTE", WIN_ASKS_CSV),
    "win_bids_pt": ("bid_id BIGINT, item STRING, price DECIMAL(10, 2), qty INT, bidder STRING, "
                    "ts TIMESTAMP(3), pt AS PROCTIME()", WIN_BIDS_CSV),
}


def register_window_fixtures(t_env: Any) -> None:
    """(Re)create the event-time tables over CSV files in a fresh temporary directory."""
    import os
    import tempfile

    directory = tempfile.mkdtemp(prefix="golden_windows_")
    for name, (columns, text) in WINDOW_TABLES.items():
        path = os.path.join(directory, f"{name}.csv")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        t_env.execute_sql(f"DROP TEMPORARY TABLE IF EXISTS {name}")
        t_env.execute_sql(
            f"CREATE TEMPORARY TABLE {name} ({columns}) WITH ('connector' = 'filesystem', "
            f"'path' = '{path}', 'format' = 'csv', 'csv.null-literal' = '')")
    per_item = ("SELECT item, window_start{}, window_end{}, window_time{}, COUNT(*) AS n, "
                "SUM(price) AS total FROM TABLE(TUMBLE(TABLE win_bids, DESCRIPTOR(ts), "
                "INTERVAL '5' MINUTES)) GROUP BY item, window_start, window_end, window_time")
    for name, aliases in (("win_per_item", (" AS ws", " AS we", " AS rt")),
                          ("win_per_item_bounds", ("", "", ""))):
        t_env.execute_sql(f"DROP TEMPORARY VIEW IF EXISTS {name}")
        t_env.execute_sql(f"CREATE TEMPORARY VIEW {name} AS {per_item.format(*aliases)}")


# --------------------------------------------------------------------------
# Case definitions
# --------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    mode: str  # "batch" | "streaming"
    sql: str | None
    table: Callable[[Any, Api], Any] | None
    ordered: bool = False  # True when the result order is meaningful (top-level ORDER BY)
    note: str = ""


CASES: list[Case] = []


def _sql(name: str, sql: str, *, mode: str = "batch", ordered: bool = False, note: str = "") -> None:
    CASES.append(Case(name, mode, sql.strip(), None, ordered, note))


def _tbl(name: str, *, mode: str = "batch", ordered: bool = False, note: str = ""):
    def deco(fn: Callable[[Any, Api], Any]) -> Callable[[Any, Api], Any]:
        CASES.append(Case(name, mode, None, fn, ordered, note))
        return fn

    return deco


# ---- basics / projections -------------------------------------------------

_sql("sql_select_star", "SELECT * FROM customers")
_sql("sql_column_aliases",
     "SELECT id AS customer_key, name AS customer_name, age + 1 AS next_age FROM customers")
_sql("sql_select_no_from",
     "SELECT 1 + 1 AS two, 'ab' || 'cd' AS s, 7 / 2 AS int_div, 7 / 2.0 AS dec_div, "
     "7 % 3 AS m, TRUE AND FALSE AS b")
_sql("sql_literal_types",
     "SELECT 1 AS i, 3000000000 AS big, 2.5 AS dec_lit, 1.5e0 AS dbl_lit, 'abc' AS str_lit, "
     "TRUE AS bool_lit, CAST(NULL AS INT) AS null_int, DATE '2024-01-02' AS date_lit, "
     "TIMESTAMP '2024-01-02 03:04:05.678' AS ts_lit")

# ---- arithmetic and result types --------------------------------------------

_sql("sql_arith_int_int",
     "SELECT a, a + a AS add_ii, a - 1 AS sub_i, a * 3 AS mul_ii, a / 2 AS div_ii, "
     "a % 2 AS mod_ii FROM nums")
_sql("sql_arith_mixed_types",
     "SELECT a, b, c, b * a AS mul_bigint_int, c * a AS mul_double_int, a / c AS div_int_double, "
     "a + c AS add_int_double, b / a AS div_bigint_int, a / 2.0 AS div_int_decimal_lit FROM nums")
_sql("sql_arith_decimal",
     "SELECT order_id, price, price * quantity AS line_total, price + 1 AS plus_int, "
     "price / 3 AS div_int, price * 1.5 AS times_dec, price + amount AS plus_double, "
     "price - price AS zero FROM orders")
_sql("sql_unary_minus",
     "SELECT -a AS neg_a, -b AS neg_b, -c AS neg_c, -(a + 1) AS neg_expr FROM nums")
_sql("sql_decimal_sum_types",
     "SELECT SUM(price) AS s, SUM(price * quantity) AS total, AVG(price) AS avg_price, "
     "MAX(price) AS mx FROM orders")
_sql("sql_int_div_by_zero", "SELECT a / (a - a) AS boom FROM nums",
     note="integer division by zero at runtime")
_sql("sql_int_div_by_zero_literal", "SELECT 1 / 0 AS boom",
     note="integer division by zero in a constant expression (folded by the planner)")
_sql("sql_double_div_by_zero",
     "SELECT a, c, a / c AS a_div_c, c / CAST(0 AS DOUBLE) AS c_div_0 FROM nums",
     note="DOUBLE division by zero at runtime (IEEE: Infinity / NaN)")
_sql("sql_double_div_by_zero_literal", "SELECT 1.5e0 / 0e0 AS x",
     note="DOUBLE division by zero in a constant expression (folded by the planner)")

# ---- comparisons and three-valued logic -------------------------------------

_sql("sql_comparisons_with_nulls",
     "SELECT a, b, c, d, a > 1 AS gt, a = b AS eq_ab, c <= 1.5 AS le, d = 'x' AS eq_str, "
     "d <> 'x' AS ne_str FROM nums")
_sql("sql_three_valued_logic",
     "SELECT e, e AND TRUE AS and_t, e AND FALSE AS and_f, e OR TRUE AS or_t, e OR FALSE AS or_f, "
     "NOT e AS not_e, e IS TRUE AS is_t, e IS NOT FALSE AS is_not_f, e IS NULL AS is_n FROM nums")
_sql("sql_where_and_or",
     "SELECT a, c, d FROM nums WHERE a > 0 AND (c < 2 OR d = 'y')")
_sql("sql_where_not_equal_drops_nulls",
     "SELECT a, d FROM nums WHERE a <> 1")
_sql("sql_where_not", "SELECT a, e FROM nums WHERE NOT e")

# ---- aggregates ------------------------------------------------------------

_sql("sql_group_by_counts",
     "SELECT customer_id, COUNT(*) AS cnt, COUNT(amount) AS cnt_amount, "
     "COUNT(DISTINCT product) AS cnt_products FROM orders GROUP BY customer_id")
_sql("sql_group_by_sum_avg",
     "SELECT product, SUM(quantity) AS sum_q, AVG(quantity) AS avg_q, SUM(amount) AS sum_amt, "
     "AVG(amount) AS avg_amt, SUM(price) AS sum_price, AVG(price) AS avg_price "
     "FROM orders GROUP BY product")
_sql("sql_group_by_min_max",
     "SELECT customer_id, MIN(amount) AS min_amt, MAX(amount) AS max_amt, MIN(product) AS min_p, "
     "MAX(product) AS max_p, MIN(order_date) AS first_day, MAX(ts) AS last_ts "
     "FROM orders GROUP BY customer_id")
_sql("sql_having",
     "SELECT customer_id, COUNT(*) AS cnt, SUM(amount) AS total FROM orders "
     "GROUP BY customer_id HAVING COUNT(*) > 1")
_sql("sql_having_on_agg_not_selected",
     "SELECT product FROM orders GROUP BY product HAVING SUM(quantity) >= 5")
_sql("sql_group_by_expression",
     "SELECT MONTH(order_date) AS m, COUNT(*) AS cnt, SUM(quantity) AS q FROM orders "
     "GROUP BY MONTH(order_date)")
_sql("sql_group_by_mod_expression",
     "SELECT a % 2 AS parity, SUM(b) AS sb, COUNT(*) AS cnt FROM nums GROUP BY a % 2")
_sql("sql_group_by_two_keys",
     "SELECT customer_id, product, COUNT(*) AS cnt FROM orders GROUP BY customer_id, product")
_sql("sql_group_by_null_key",
     "SELECT d, COUNT(*) AS cnt, SUM(a) AS sa FROM nums GROUP BY d")
_sql("sql_global_aggregate",
     "SELECT COUNT(*) AS cnt, COUNT(a) AS cnt_a, SUM(a) AS sum_a, AVG(a) AS avg_a, AVG(c) AS avg_c, "
     "MIN(d) AS min_d, MAX(d) AS max_d, COUNT(DISTINCT a) AS distinct_a, SUM(DISTINCT a) AS sum_distinct_a "
     "FROM nums")
_sql("sql_aggregate_empty_input",
     "SELECT COUNT(*) AS cnt, COUNT(a) AS cnt_a, SUM(a) AS sum_a, AVG(c) AS avg_c, MAX(d) AS max_d "
     "FROM nums WHERE a > 100")
_sql("sql_group_by_empty_input",
     "SELECT d, COUNT(*) AS cnt FROM nums WHERE a > 100 GROUP BY d")
_sql("sql_avg_int_semantics",
     "SELECT AVG(a) AS avg_int, AVG(CAST(a AS DOUBLE)) AS avg_double, SUM(a) / COUNT(a) AS manual, "
     "AVG(b) AS avg_bigint FROM nums")
_sql("sql_agg_filter_clause",
     "SELECT customer_id, COUNT(*) FILTER (WHERE amount > 5) AS big_orders, "
     "SUM(quantity) FILTER (WHERE product = 'apple') AS apples FROM orders GROUP BY customer_id")
_sql("sql_stddev_variance",
     "SELECT STDDEV_POP(c) AS sd_pop, STDDEV_SAMP(c) AS sd_samp, VAR_POP(c) AS v_pop, "
     "VAR_SAMP(c) AS v_samp FROM nums")
_sql("sql_count_distinct_multiple",
     "SELECT COUNT(DISTINCT customer_id) AS dc, COUNT(DISTINCT product) AS dp, "
     "COUNT(DISTINCT order_date) AS dd FROM orders")

# ---- joins -----------------------------------------------------------------

_sql("sql_inner_join",
     "SELECT o.order_id, c.name, o.amount FROM orders o JOIN customers c ON o.customer_id = c.id")
_sql("sql_left_join",
     "SELECT o.order_id, o.customer_id, c.name FROM orders o LEFT JOIN customers c "
     "ON o.customer_id = c.id")
_sql("sql_right_join",
     "SELECT o.order_id, c.id, c.name FROM orders o RIGHT JOIN customers c ON o.customer_id = c.id")
_sql("sql_full_join",
     "SELECT o.order_id, o.customer_id, c.id, c.name FROM orders o FULL OUTER JOIN customers c "
     "ON o.customer_id = c.id")
_sql("sql_inner_join_non_equi",
     "SELECT o.order_id, c.name FROM orders o JOIN customers c "
     "ON o.customer_id = c.id AND o.amount > 8")
_sql("sql_left_join_non_equi",
     "SELECT o.order_id, c.name, c.age FROM orders o LEFT JOIN customers c "
     "ON o.customer_id = c.id AND c.age > 35")
_sql("sql_full_join_non_equi",
     "SELECT o.order_id, c.id FROM orders o FULL JOIN customers c "
     "ON o.customer_id = c.id AND o.quantity > 2")
_sql("sql_self_join",
     "SELECT x.order_id AS first_id, y.order_id AS second_id, x.customer_id FROM orders x "
     "JOIN orders y ON x.customer_id = y.customer_id AND x.order_id < y.order_id")
_sql("sql_three_way_join",
     "SELECT o.order_id, c.name, n.d FROM orders o JOIN customers c ON o.customer_id = c.id "
     "JOIN nums n ON n.a = o.quantity")
_sql("sql_implicit_join_where",
     "SELECT o.order_id, c.name FROM orders o, customers c "
     "WHERE o.customer_id = c.id AND c.country = 'US'")
_sql("sql_cross_join",
     "SELECT c.name, v.k FROM customers c CROSS JOIN (VALUES (1), (2)) AS v(k) WHERE c.id <= 2")
_sql("sql_join_on_expression",
     "SELECT o.order_id, c.name FROM orders o JOIN customers c ON o.customer_id + 1 = c.id")

# ---- set operations ----------------------------------------------------------

_sql("sql_union", "SELECT customer_id AS k FROM orders UNION SELECT id AS k FROM customers")
_sql("sql_union_all", "SELECT customer_id AS k FROM orders UNION ALL SELECT id AS k FROM customers")
_sql("sql_intersect", "SELECT customer_id FROM orders INTERSECT SELECT id FROM customers")
_sql("sql_except", "SELECT id FROM customers EXCEPT SELECT customer_id FROM orders")
_sql("sql_intersect_all", "SELECT a FROM nums INTERSECT ALL SELECT quantity FROM orders")
_sql("sql_except_all", "SELECT a FROM nums EXCEPT ALL SELECT quantity FROM orders")
_sql("sql_union_type_widening",
     "SELECT a AS v FROM nums UNION ALL SELECT c AS v FROM nums")

# ---- ORDER BY / LIMIT / OFFSET -------------------------------------------------

_sql("sql_order_by_asc_nulls_default",
     "SELECT order_id, amount FROM orders ORDER BY amount, order_id", ordered=True)
_sql("sql_order_by_desc_nulls_default",
     "SELECT order_id, amount FROM orders ORDER BY amount DESC, order_id", ordered=True)
_sql("sql_order_by_nulls_last",
     "SELECT order_id, amount FROM orders ORDER BY amount ASC NULLS LAST, order_id", ordered=True)
_sql("sql_order_by_string_limit",
     "SELECT order_id, product FROM orders ORDER BY product DESC, order_id LIMIT 5", ordered=True)
_sql("sql_order_by_limit",
     "SELECT order_id, quantity FROM orders ORDER BY quantity DESC, order_id LIMIT 3", ordered=True)
_sql("sql_offset_fetch",
     "SELECT order_id FROM orders ORDER BY order_id OFFSET 2 ROWS FETCH NEXT 3 ROWS ONLY",
     ordered=True)
_sql("sql_limit_offset",
     "SELECT order_id FROM orders ORDER BY order_id LIMIT 3 OFFSET 2", ordered=True)
_sql("sql_order_by_alias",
     "SELECT customer_id, SUM(quantity) AS total FROM orders GROUP BY customer_id "
     "ORDER BY total DESC, customer_id", ordered=True)
_sql("sql_order_by_ordinal",
     "SELECT name, age FROM customers ORDER BY 2 DESC", ordered=True,
     note="ORDER BY ordinal position")

# ---- CASE / CAST / NULL functions -------------------------------------------------

_sql("sql_case_searched",
     "SELECT order_id, CASE WHEN amount IS NULL THEN 'unknown' WHEN amount >= 10 THEN 'big' "
     "WHEN amount >= 5 THEN 'medium' ELSE 'small' END AS size FROM orders")
_sql("sql_case_simple",
     "SELECT id, CASE country WHEN 'US' THEN 'America' WHEN 'UK' THEN 'Britain' ELSE 'Other' END "
     "AS region FROM customers")
_sql("sql_case_no_else",
     "SELECT a, CASE WHEN a > 1 THEN a * 10 END AS x, CASE WHEN a > 1 THEN 'big' ELSE 'small' END "
     "AS s FROM nums")
_sql("sql_cast_numeric",
     "SELECT a, c, CAST(c AS INT) AS c_int, CAST(a AS STRING) AS a_str, CAST(c AS DECIMAL(10, 1)) "
     "AS c_dec, CAST(a AS BOOLEAN) AS a_bool, CAST(b AS DOUBLE) AS b_dbl, CAST(c AS BIGINT) AS c_big "
     "FROM nums")
_sql("sql_cast_strings",
     "SELECT CAST('42' AS INT) AS s_int, CAST('-3.75' AS DOUBLE) AS s_dbl, "
     "CAST('2024-01-02' AS DATE) AS s_date, CAST('2024-01-02 03:04:05' AS TIMESTAMP(3)) AS s_ts, "
     "CAST('12.345' AS DECIMAL(10, 2)) AS s_dec, CAST('true' AS BOOLEAN) AS s_bool")
_sql("sql_cast_dates",
     "SELECT order_id, CAST(order_date AS STRING) AS d_str, CAST(ts AS DATE) AS ts_date, "
     "CAST(ts AS STRING) AS ts_str, CAST(price AS STRING) AS price_str, "
     "CAST(amount AS STRING) AS amount_str FROM orders")
_sql("sql_cast_invalid_string_to_int", "SELECT CAST(d AS INT) AS bad FROM nums",
     note="CAST of a non-numeric string")
_sql("sql_try_cast", "SELECT d, TRY_CAST(d AS INT) AS maybe FROM nums")
_sql("sql_null_functions",
     "SELECT a, d, COALESCE(a, -1) AS a_or, COALESCE(d, 'none') AS d_or, COALESCE(c, CAST(a AS DOUBLE), 0.0) "
     "AS first_non_null, NULLIF(a, 1) AS nullif_a, a IS NULL AS a_null, d IS NOT NULL AS d_not_null "
     "FROM nums")

# ---- predicates -------------------------------------------------------------------

_sql("sql_in_list", "SELECT order_id, product FROM orders WHERE product IN ('apple', 'fig', 'kiwi')")
_sql("sql_not_in_list", "SELECT order_id, product FROM orders WHERE product NOT IN ('apple', 'banana')")
_sql("sql_not_in_with_null", "SELECT a FROM nums WHERE a NOT IN (1, CAST(NULL AS INT))")
_sql("sql_in_list_select", "SELECT a, a IN (1, 2) AS in12, a NOT IN (1, 2) AS not_in12 FROM nums")
_sql("sql_between", "SELECT order_id, amount FROM orders WHERE amount BETWEEN 4.25 AND 10.5")
_sql("sql_not_between", "SELECT a FROM nums WHERE a NOT BETWEEN 0 AND 3")
_sql("sql_like",
     "SELECT product, product LIKE 'a%' AS starts_a, product LIKE '%an%' AS has_an, "
     "product LIKE '_i%' AS second_i, product NOT LIKE '%e%' AS no_e FROM orders")
_sql("sql_is_null_filters",
     "SELECT order_id FROM orders WHERE amount IS NULL OR product IS NULL OR customer_id IS NULL")

# ---- string functions ---------------------------------------------------------------

_sql("sql_string_case_trim",
     "SELECT d, UPPER(d) AS up, LOWER(d) AS low, TRIM(d) AS t, LTRIM(d) AS lt, RTRIM(d) AS rt, "
     "CHAR_LENGTH(d) AS len FROM nums")
_sql("sql_string_substring",
     "SELECT name, SUBSTRING(name FROM 2 FOR 3) AS sub_for, SUBSTRING(name FROM 3) AS sub_from, "
     "SUBSTR(name, 2, 2) AS substr2, SUBSTR(name, 4) AS substr_tail FROM customers")
_sql("sql_string_concat",
     "SELECT name, country, CONCAT(name, '-', country) AS c, CONCAT_WS('/', name, country, 'z') AS ws, "
     "name || '@' || country AS pipes FROM customers")
_sql("sql_string_replace_position_pad",
     "SELECT name, REPLACE(name, 'a', 'A') AS rep, POSITION('a' IN name) AS pos, "
     "LPAD(name, 7, '*') AS lp, RPAD(name, 7, '.') AS rp, LPAD(name, 3, '*') AS lp_short FROM customers")
_sql("sql_string_misc",
     "SELECT d, INITCAP(d) AS ic, REVERSE(d) AS rev, SPLIT_INDEX(d, ' ', 1) AS second_word, "
     "REGEXP_REPLACE(d, '[aeiou]', '#') AS rr FROM nums")
_sql("sql_string_functions_literals",
     "SELECT UPPER('mIxEd') AS u, INITCAP('hello wORLD foo') AS ic, TRIM(BOTH 'x' FROM 'xxhixx') AS tb, "
     "TRIM(LEADING ' ' FROM '  a  ') AS tl, CHAR_LENGTH('') AS empty_len, "
     "SPLIT_INDEX('a,b,c', ',', 2) AS si, SPLIT_INDEX('a,b,c', ',', 5) AS si_oob, "
     "REGEXP_REPLACE('2024-01-02', '-', '') AS rr, POSITION('z' IN 'abc') AS pos0")

# ---- math ----------------------------------------------------------------------------

_sql("sql_math_basic",
     "SELECT a, c, ABS(a) AS abs_a, ABS(c) AS abs_c, MOD(a, 3) AS mod_a, POWER(a, 2) AS pow_a, "
     "SQRT(ABS(c)) AS sqrt_c FROM nums")
_sql("sql_math_rounding",
     "SELECT c, ROUND(c, 1) AS r1, ROUND(c, 0) AS r0, FLOOR(c) AS fl, CEIL(c) AS ce, "
     "TRUNCATE(c, 1) AS tr1 FROM nums")
_sql("sql_math_rounding_decimal",
     "SELECT price, ROUND(price, 1) AS r1, FLOOR(price) AS fl, CEIL(price) AS ce, "
     "ROUND(price * 1.005, 2) AS r2 FROM orders")
_sql("sql_math_log_exp_sign",
     "SELECT b, LN(ABS(b)) AS ln_b, LOG10(ABS(b)) AS log10_b, EXP(CAST(a AS DOUBLE) / 10) AS e, "
     "SIGN(b) AS sign_b, SIGN(c) AS sign_c FROM nums WHERE b IS NOT NULL")
_sql("sql_math_literals",
     "SELECT ROUND(2.5, 0) AS r_half, ROUND(-2.5, 0) AS r_neg_half, ROUND(1.25, 1) AS r125, "
     "ROUND(1234.5678, -2) AS r_neg_places, FLOOR(-1.5) AS fl, CEIL(-1.5) AS ce, "
     "MOD(-7, 3) AS mod_neg, POWER(2, 10) AS p, SQRT(16) AS sq, ABS(-5) AS ab, "
     "TRUNCATE(-1.789, 2) AS tr")

# ---- date / time ------------------------------------------------------------------

_sql("sql_date_extract",
     "SELECT order_id, EXTRACT(YEAR FROM order_date) AS ext_y, YEAR(order_date) AS y, "
     "MONTH(order_date) AS m, DAYOFMONTH(order_date) AS dom, HOUR(ts) AS h, MINUTE(ts) AS mi, "
     "EXTRACT(DAY FROM ts) AS ext_d FROM orders")
_sql("sql_date_format",
     "SELECT order_id, DATE_FORMAT(ts, 'yyyy-MM-dd') AS d, DATE_FORMAT(ts, 'HH:mm:ss') AS t "
     "FROM orders")
_sql("sql_to_date_to_timestamp",
     "SELECT TO_DATE('2024-01-02') AS d, TO_TIMESTAMP('2024-01-02 03:04:05') AS ts, "
     "TO_DATE('02/01/2024', 'dd/MM/yyyy') AS d_fmt")
_sql("sql_cast_ts_to_date",
     "SELECT order_id, CAST(ts AS DATE) AS d, CAST(ts AS DATE) = order_date AS same FROM orders")
_sql("sql_timestamp_comparison",
     "SELECT order_id, ts FROM orders WHERE ts >= TIMESTAMP '2024-01-03 00:00:00' "
     "AND ts < TIMESTAMP '2024-02-11 00:00:00'")
_sql("sql_date_comparison",
     "SELECT order_id FROM orders WHERE order_date > DATE '2024-01-03'")
_sql("sql_floor_ceil_timestamp",
     "SELECT order_id, FLOOR(ts TO DAY) AS day_start, FLOOR(ts TO HOUR) AS hour_start, "
     "CEIL(ts TO DAY) AS day_ceil FROM orders")
_sql("sql_date_plus_interval",
     "SELECT order_id, order_date + INTERVAL '1' DAY AS next_day, ts + INTERVAL '2' HOUR AS later, "
     "ts - INTERVAL '30' MINUTE AS earlier FROM orders")
_sql("sql_timestampdiff",
     "SELECT order_id, TIMESTAMPDIFF(DAY, TIMESTAMP '2024-01-01 00:00:00', ts) AS days_since, "
     "TIMESTAMPDIFF(HOUR, TIMESTAMP '2024-01-01 00:00:00', ts) AS hours_since FROM orders")

# ---- subqueries ---------------------------------------------------------------------

_sql("sql_derived_table",
     "SELECT t.customer_id, t.total FROM (SELECT customer_id, SUM(amount) AS total FROM orders "
     "GROUP BY customer_id) AS t WHERE t.total > 10")
_sql("sql_in_subquery",
     "SELECT name FROM customers WHERE id IN (SELECT customer_id FROM orders WHERE product = 'apple')")
_sql("sql_not_in_subquery_with_nulls",
     "SELECT name FROM customers WHERE id NOT IN (SELECT customer_id FROM orders)",
     note="the subquery returns a NULL, so NOT IN yields no rows in SQL semantics")
_sql("sql_not_in_subquery_no_nulls",
     "SELECT name FROM customers WHERE id NOT IN "
     "(SELECT customer_id FROM orders WHERE customer_id IS NOT NULL)")
_sql("sql_exists",
     "SELECT c.name FROM customers c WHERE EXISTS "
     "(SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.amount > 8)")
_sql("sql_not_exists",
     "SELECT c.name FROM customers c WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id)")
_sql("sql_scalar_subquery_select",
     "SELECT order_id, amount, (SELECT MAX(amount) FROM orders) AS max_amount FROM orders")
_sql("sql_scalar_subquery_where",
     "SELECT order_id, amount FROM orders WHERE amount > (SELECT AVG(amount) FROM orders)")
_sql("sql_correlated_scalar_subquery",
     "SELECT c.name, (SELECT COUNT(*) FROM orders o WHERE o.customer_id = c.id) AS n_orders "
     "FROM customers c")

# ---- distinct / window / values -------------------------------------------------------

_sql("sql_distinct", "SELECT DISTINCT a, d FROM nums")
_sql("sql_distinct_single_column", "SELECT DISTINCT product FROM orders")
_sql("sql_row_number_topn",
     "SELECT * FROM (SELECT customer_id, order_id, amount, ROW_NUMBER() OVER "
     "(PARTITION BY customer_id ORDER BY amount DESC, order_id) AS rn FROM orders) WHERE rn <= 2")
_sql("sql_rank_functions",
     "SELECT order_id, product, quantity, RANK() OVER (PARTITION BY product ORDER BY quantity) AS rk, "
     "DENSE_RANK() OVER (ORDER BY quantity) AS drk FROM orders")
_sql("sql_over_aggregate",
     "SELECT order_id, customer_id, quantity, SUM(quantity) OVER (PARTITION BY customer_id) AS cust_total "
     "FROM orders")
_sql("sql_over_running_sum",
     "SELECT order_id, quantity, SUM(quantity) OVER (ORDER BY order_id ROWS BETWEEN UNBOUNDED PRECEDING "
     "AND CURRENT ROW) AS running_total FROM orders")
_sql("sql_values", "SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS v(x, y)")
_sql("sql_values_string_widths", "SELECT * FROM (VALUES ('a'), ('bcd'), (CAST(NULL AS STRING))) AS v(s)")
_sql("sql_values_string_no_null",
     "SELECT s, CHAR_LENGTH(s) AS n, s || '|' AS bar FROM (VALUES ('a'), ('bcd')) AS v(s)",
     note="string literals of different lengths in VALUES: CHAR padding or VARCHAR?")
_sql("sql_values_mixed_numeric", "SELECT * FROM (VALUES (1, 2.5), (2, 3)) AS v(i, n)")


# ---- Table API --------------------------------------------------------------------


@_tbl("tbl_select_expressions")
def _(t_env, api):
    col, lit = api.col, api.lit
    return t_env.from_path("orders").select(
        col("order_id"),
        (col("quantity") * 2).alias("q2"),
        (col("price") * col("quantity")).alias("total"),
        (col("amount") + 1).alias("amount_plus"),
        (col("quantity") / 2).alias("half_q"),
        (col("quantity") % 2).alias("q_mod"),
        lit(1).alias("one"),
        lit("x").alias("x"),
    )


@_tbl("tbl_cast")
def _(t_env, api):
    col, DT = api.col, api.DataTypes
    return t_env.from_path("nums").select(
        col("a").cast(DT.STRING()).alias("a_str"),
        col("c").cast(DT.INT()).alias("c_int"),
        col("b").cast(DT.DOUBLE()).alias("b_dbl"),
        col("c").cast(DT.DECIMAL(10, 2)).alias("c_dec"),
    )


@_tbl("tbl_filter")
def _(t_env, api):
    col = api.col
    return t_env.from_path("orders").filter(col("amount") > 5).select(col("order_id"), col("amount"))


@_tbl("tbl_where_and_or")
def _(t_env, api):
    col = api.col
    return (t_env.from_path("nums")
            .where((col("a") > 0) & ((col("c") < 2) | (col("d") == "y")))
            .select(col("a"), col("c"), col("d")))


@_tbl("tbl_where_invert", note="~expr is isNotTrue in PyFlink, so NULLs pass")
def _(t_env, api):
    col = api.col
    return t_env.from_path("nums").where(~col("e")).select(col("a"), col("e"))


@_tbl("tbl_add_columns")
def _(t_env, api):
    col = api.col
    return t_env.from_path("customers").add_columns((col("age") * 2).alias("double_age"),
                                                    api.concat(col("name"), "!").alias("shout"))


@_tbl("tbl_add_or_replace_columns")
def _(t_env, api):
    col = api.col
    return t_env.from_path("customers").add_or_replace_columns(
        col("name").upper_case.alias("name"), (col("id") + 100).alias("new_id"))


@_tbl("tbl_drop_columns")
def _(t_env, api):
    col = api.col
    return t_env.from_path("orders").drop_columns(col("ts"), col("price"), col("order_date"))


@_tbl("tbl_rename_columns")
def _(t_env, api):
    col = api.col
    return t_env.from_path("customers").rename_columns(col("id").alias("cid"), col("name").alias("cname"))


@_tbl("tbl_select_star")
def _(t_env, api):
    return t_env.from_path("nums").select(api.col("*"))


@_tbl("tbl_distinct")
def _(t_env, api):
    col = api.col
    return t_env.from_path("nums").select(col("a"), col("d")).distinct()


@_tbl("tbl_group_by_aggregates")
def _(t_env, api):
    col = api.col
    return (t_env.from_path("orders")
            .group_by(col("customer_id"))
            .select(col("customer_id"),
                    col("quantity").sum.alias("sum_q"),
                    col("order_id").count.alias("cnt"),
                    col("quantity").avg.alias("avg_q"),
                    col("amount").avg.alias("avg_amt"),
                    col("amount").min.alias("min_amt"),
                    col("product").max.alias("max_p"),
                    col("product").count.distinct.alias("distinct_p")))


@_tbl("tbl_global_aggregate")
def _(t_env, api):
    col = api.col
    return t_env.from_path("nums").select(col("a").sum.alias("sa"), col("a").count.alias("ca"),
                                          col("c").avg.alias("avg_c"), col("d").min.alias("min_d"),
                                          col("a").sum.distinct.alias("sum_distinct_a"))


@_tbl("tbl_group_by_two_keys_having")
def _(t_env, api):
    col = api.col
    return (t_env.from_path("orders")
            .group_by(col("customer_id"), col("product"))
            .select(col("customer_id"), col("product"), col("quantity").sum.alias("q"))
            .where(col("q") > 2))


@_tbl("tbl_join_where")
def _(t_env, api):
    col = api.col
    o = t_env.from_path("orders")
    c = t_env.from_path("customers")
    return o.join(c).where(col("customer_id") == col("id")).select(col("order_id"), col("name"))


@_tbl("tbl_join_condition")
def _(t_env, api):
    col = api.col
    o = t_env.from_path("orders")
    c = t_env.from_path("customers")
    return o.join(c, (col("customer_id") == col("id")) & (col("quantity") > 2)).select(
        col("order_id"), col("name"), col("quantity"))


@_tbl("tbl_left_outer_join")
def _(t_env, api):
    col = api.col
    o = t_env.from_path("orders")
    c = t_env.from_path("customers")
    return o.left_outer_join(c, col("customer_id") == col("id")).select(col("order_id"), col("name"))


@_tbl("tbl_right_outer_join")
def _(t_env, api):
    col = api.col
    o = t_env.from_path("orders")
    c = t_env.from_path("customers")
    return o.right_outer_join(c, col("customer_id") == col("id")).select(col("order_id"), col("name"))


@_tbl("tbl_full_outer_join")
def _(t_env, api):
    col = api.col
    o = t_env.from_path("orders")
    c = t_env.from_path("customers")
    return o.full_outer_join(c, col("customer_id") == col("id")).select(col("order_id"), col("id"))


@_tbl("tbl_self_join_renamed")
def _(t_env, api):
    col = api.col
    x = t_env.from_path("orders").select(col("order_id").alias("x_id"), col("customer_id").alias("x_c"))
    y = t_env.from_path("orders").select(col("order_id").alias("y_id"), col("customer_id").alias("y_c"))
    return x.join(y, (col("x_c") == col("y_c")) & (col("x_id") < col("y_id"))).select(
        col("x_id"), col("y_id"))


@_tbl("tbl_union")
def _(t_env, api):
    col = api.col
    a = t_env.from_path("orders").select(col("customer_id").alias("k"))
    b = t_env.from_path("customers").select(col("id").alias("k"))
    return a.union(b)


@_tbl("tbl_union_all")
def _(t_env, api):
    col = api.col
    a = t_env.from_path("orders").select(col("customer_id").alias("k"))
    b = t_env.from_path("customers").select(col("id").alias("k"))
    return a.union_all(b)


@_tbl("tbl_intersect")
def _(t_env, api):
    col = api.col
    a = t_env.from_path("orders").select(col("customer_id").alias("k"))
    b = t_env.from_path("customers").select(col("id").alias("k"))
    return a.intersect(b)


@_tbl("tbl_minus")
def _(t_env, api):
    col = api.col
    a = t_env.from_path("customers").select(col("id").alias("k"))
    b = t_env.from_path("orders").select(col("customer_id").alias("k"))
    return a.minus(b)


@_tbl("tbl_order_by_fetch", ordered=True)
def _(t_env, api):
    col = api.col
    return t_env.from_path("orders").order_by(col("order_id").desc).fetch(3).select(
        col("order_id"), col("product"))


@_tbl("tbl_order_by_offset", ordered=True, note="offset without fetch")
def _(t_env, api):
    col = api.col
    return t_env.from_path("orders").order_by(col("order_id")).offset(8).select(col("order_id"))


@_tbl("tbl_order_by_limit", ordered=True)
def _(t_env, api):
    col = api.col
    return t_env.from_path("orders").order_by(col("order_id").asc).limit(3, 2).select(col("order_id"))


@_tbl("tbl_order_by_nullable_desc", ordered=True)
def _(t_env, api):
    col = api.col
    return t_env.from_path("orders").order_by(col("customer_id").desc, col("order_id")).select(
        col("customer_id"), col("order_id"))


@_tbl("tbl_order_by_nullable_asc", ordered=True)
def _(t_env, api):
    col = api.col
    return t_env.from_path("orders").order_by(col("amount"), col("order_id")).select(
        col("amount"), col("order_id"))


@_tbl("tbl_if_then_else")
def _(t_env, api):
    col = api.col
    return t_env.from_path("orders").select(
        col("order_id"),
        api.if_then_else(col("amount") > 8, "big", "small").alias("size"),
        api.if_then_else(col("quantity") >= 3, col("quantity") * 10, 0).alias("q10"))


@_tbl("tbl_concat")
def _(t_env, api):
    col = api.col
    return t_env.from_path("customers").select(
        api.concat(col("name"), " (", col("country"), ")").alias("label"))


@_tbl("tbl_string_methods")
def _(t_env, api):
    col = api.col
    return t_env.from_path("nums").select(
        col("d"),
        col("d").upper_case.alias("up"),
        col("d").lower_case.alias("low"),
        col("d").trim().alias("trimmed"),
        col("d").char_length.alias("len"),
        col("d").substring(2, 3).alias("sub"),
        col("d").like("%o%").alias("has_o"))


@_tbl("tbl_math_methods")
def _(t_env, api):
    col = api.col
    return t_env.from_path("nums").select(
        col("c"),
        col("c").abs.alias("abs_c"),
        (col("a") ** 2).alias("a_sq"),
        col("c").abs.sqrt.alias("sqrt_abs_c"),
        col("c").round(1).alias("r1"),
        col("c").floor().alias("fl"),
        col("c").ceil().alias("ce"))


@_tbl("tbl_null_checks")
def _(t_env, api):
    col = api.col
    return t_env.from_path("nums").select(col("a"), col("a").is_null.alias("a_null"),
                                          col("d").is_not_null.alias("d_not_null"))


@_tbl("tbl_in_between")
def _(t_env, api):
    col = api.col
    return t_env.from_path("nums").select(col("a"), col("a").in_(1, 2, 3).alias("in123"),
                                          col("c").between(-1, 2).alias("btw"))


@_tbl("tbl_call_builtin_by_name")
def _(t_env, api):
    col = api.col
    return t_env.from_path("customers").select(api.call("UPPER", col("name")).alias("u"),
                                               api.call("CONCAT", col("name"), "?").alias("q"))


# ---- Python UDFs -------------------------------------------------------------------


def _plus_one_udf(api):
    return api.udf(lambda x: None if x is None else x + 1, result_type=api.DataTypes.BIGINT())


@_tbl("tbl_python_udf_lambda")
def _(t_env, api):
    col = api.col
    f = _plus_one_udf(api)
    return t_env.from_path("nums").select(col("a"), f(col("a")).alias("a_plus_one"))


@_tbl("tbl_python_udf_multi_arg")
def _(t_env, api):
    col = api.col

    def describe(name, age):
        if age is None:
            return name + " (?)"
        return f"{name} ({age})"

    f = api.udf(describe, result_type=api.DataTypes.STRING())
    return t_env.from_path("customers").select(col("id"), f(col("name"), col("age")).alias("desc"))


@_tbl("tbl_python_udf_class")
def _(t_env, api):
    col = api.col

    class LineTotal(api.ScalarFunction):
        def eval(self, price, quantity):
            if price is None or quantity is None:
                return None
            return float(price) * quantity

    f = api.udf(LineTotal(), result_type=api.DataTypes.DOUBLE())
    return t_env.from_path("orders").select(col("order_id"), f(col("price"), col("quantity")).alias("total"))


@_tbl("tbl_python_udf_in_filter")
def _(t_env, api):
    col = api.col
    is_even = api.udf(lambda x: x is not None and x % 2 == 0, result_type=api.DataTypes.BOOLEAN())
    return t_env.from_path("nums").where(is_even(col("a"))).select(col("a"), col("d"))


@_tbl("tbl_python_udf_decimal_date")
def _(t_env, api):
    col, DT = api.col, api.DataTypes
    weekday = api.udf(lambda d: d.isoweekday(), result_type=DT.INT())
    double_price = api.udf(lambda p: p * 2, result_type=DT.DECIMAL(10, 2))
    return t_env.from_path("orders").select(col("order_id"), weekday(col("order_date")).alias("wd"),
                                            double_price(col("price")).alias("p2"))


@_tbl("tbl_pandas_udf")
def _(t_env, api):
    col = api.col
    f = api.udf(lambda a, c: a * 2 + c, result_type=api.DataTypes.DOUBLE(), func_type="pandas")
    return t_env.from_path("nums").select(col("a"), col("c"), f(col("a"), col("c")).alias("r"))


@_tbl("tbl_pandas_udf_string")
def _(t_env, api):
    col = api.col
    f = api.udf(lambda s: s.str.upper() + "!", result_type=api.DataTypes.STRING(), func_type="pandas")
    return t_env.from_path("customers").select(col("name"), f(col("name")).alias("loud"))


@_tbl("tbl_udf_registered_for_sql")
def _(t_env, api):
    try:
        t_env.drop_temporary_function("golden_plus_one")
    except Exception:
        pass
    t_env.create_temporary_function("golden_plus_one", _plus_one_udf(api))
    return t_env.sql_query("SELECT a, golden_plus_one(a) AS p FROM nums")


# ---- streaming (append-only unless noted) -------------------------------------------------

_sql("stream_projection",
     "SELECT order_id, quantity * 2 AS q2, UPPER(product) AS p FROM orders", mode="streaming")
_sql("stream_filter", "SELECT order_id, amount FROM orders WHERE amount > 5", mode="streaming")
_sql("stream_case_cast",
     "SELECT order_id, CASE WHEN amount > 8 THEN 'big' ELSE 'small' END AS size, "
     "CAST(price AS STRING) AS ps, CAST(ts AS DATE) AS d FROM orders", mode="streaming")
_sql("stream_union_all",
     "SELECT customer_id AS k FROM orders UNION ALL SELECT id AS k FROM customers", mode="streaming")
_sql("stream_values", "SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS v(x, y)", mode="streaming")
_sql("stream_inner_join",
     "SELECT o.order_id, c.name FROM orders o JOIN customers c ON o.customer_id = c.id",
     mode="streaming")
_sql("stream_group_by_changelog",
     "SELECT customer_id, COUNT(*) AS cnt, SUM(quantity) AS q FROM orders GROUP BY customer_id",
     mode="streaming", note="updating result; final rows plus the changelog")
_sql("stream_distinct", "SELECT DISTINCT product FROM orders", mode="streaming")
_sql("stream_order_by_non_time", "SELECT order_id FROM orders ORDER BY amount",
     mode="streaming", ordered=True, note="sort on a non-time attribute in streaming mode")


@_tbl("stream_tbl_select_filter", mode="streaming")
def _(t_env, api):
    col = api.col
    return (t_env.from_path("nums").where(col("a").is_not_null)
            .select(col("a"), (col("a") * col("b")).alias("ab"), col("d").upper_case.alias("d")))


@_tbl("stream_tbl_python_udf", mode="streaming")
def _(t_env, api):
    col = api.col
    f = _plus_one_udf(api)
    return t_env.from_path("orders").select(col("order_id"), f(col("quantity")).alias("q1"))


@_tbl("stream_tbl_union_all", mode="streaming")
def _(t_env, api):
    col = api.col
    a = t_env.from_path("nums").select(col("a").alias("k"))
    b = t_env.from_path("customers").select(col("id").alias("k"))
    return a.union_all(b)


# ---- OVER windows, Top-N, deduplication, ORDER BY time (event-time table `readings`) ----------
#
# `readings` is a CSV file table with a rowtime (`ts`, watermark 5 s behind) and a processing-time
# column (`pt`); its rows are out of order by less than the watermark delay, so no row is late.

READINGS_ROWS = [
    # k, v, price, ts
    ("a", 1, "1.50", "2024-01-01 00:00:01"),
    ("b", 10, "2.00", "2024-01-01 00:00:02"),
    ("a", 2, "0.25", "2024-01-01 00:00:03"),
    ("a", 3, "3.00", "2024-01-01 00:00:03"),
    ("c", 7, "", "2024-01-01 00:00:02"),
    ("b", "", "1.00", "2024-01-01 00:30:00"),
    ("a", 5, "4.75", "2024-01-01 00:40:00"),
    ("b", 20, "0.50", "2024-01-01 00:39:58"),
    ("c", 4, "2.25", "2024-01-01 01:10:00"),
    ("a", 6, "1.00", "2024-01-01 01:20:00"),
    ("b", 30, "5.00", "2024-01-01 01:20:00"),
    ("c", 9, "0.75", "2024-01-01 01:20:03"),
    ("a", 4, "2.50", "2024-01-01 03:00:00"),
    ("b", 15, "3.25", "2024-01-01 03:00:01"),
]


def register_readings(t_env: Any) -> None:
    """(Re)create the temporary table `readings` over a CSV file of READINGS_ROWS."""
    import os
    import tempfile

    path = os.path.join(tempfile.gettempdir(), "golden_readings.csv")
    text = "".join(",".join(str(x) for x in row) + "\n" for row in READINGS_ROWS)
    part = f"{path}.{os.getpid()}"
    with open(part, "w") as f:
        f.write(text)
    os.replace(part, path)
    t_env.execute_sql("DROP TEMPORARY TABLE IF EXISTS readings")
    t_env.execute_sql(
        "CREATE TEMPORARY TABLE readings (k STRING, v INT, price DECIMAL(10, 2), ts TIMESTAMP(3), "
        "pt AS PROCTIME(), WATERMARK FOR ts AS ts - INTERVAL '5' SECOND) WITH ("
        f"'connector' = 'filesystem', 'path' = '{path}', 'format' = 'csv', "
        "'csv.null-literal' = '')")


def _over_window_api(api: Api) -> Any:
    """PyFlink's `Over` (pyflink.table.window); Volley's lives in volley.table.over_window."""
    for module in ("table.window", "table.over_window"):
        try:
            over = getattr(importlib.import_module(f"{api.package}.{module}"), "Over", None)
        except ImportError:
            over = None
        if over is not None:
            return over
    raise ImportError(f"no Over in {api.package}")


def _readings_sql(name: str, sql: str, *, mode: str = "streaming", ordered: bool = False,
                note: str = "") -> None:
    def run(t_env: Any, api: Api, sql: str = sql) -> Any:
        register_readings(t_env)
        return t_env.sql_query(sql)

    CASES.append(Case(name, mode, None, run, ordered, note or sql))


for _mode in ("streaming", "batch"):
    _p = "stream" if _mode == "streaming" else "batch"
    _readings_sql(f"{_p}_over_rows_bounded",
                "SELECT k, v, ts, SUM(v) OVER w AS s, COUNT(v) OVER w AS c, MIN(v) OVER w AS mi, "
                "MAX(price) OVER w AS mp, AVG(v) OVER w AS av FROM readings "
                "WINDOW w AS (PARTITION BY k ORDER BY ts ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)",
                mode=_mode)
    _readings_sql(f"{_p}_over_range_interval",
                "SELECT k, v, ts, SUM(v) OVER w AS s, COUNT(*) OVER w AS c, MAX(price) OVER w AS mp,"
                " AVG(price) OVER w AS ap FROM readings WINDOW w AS (PARTITION BY k ORDER BY ts "
                "RANGE BETWEEN INTERVAL '1' HOUR PRECEDING AND CURRENT ROW)", mode=_mode)
    _readings_sql(f"{_p}_over_rows_unbounded",
                "SELECT k, v, SUM(price) OVER w AS sp, AVG(price) OVER w AS ap, COUNT(v) OVER w AS c,"
                " MIN(price) OVER w AS mp FROM readings "
                "WINDOW w AS (PARTITION BY k ORDER BY ts ROWS UNBOUNDED PRECEDING)", mode=_mode)
    _readings_sql(f"{_p}_over_range_unbounded",
                "SELECT k, v, ts, SUM(v) OVER (PARTITION BY k ORDER BY ts) AS s, "
                "MAX(v) OVER (PARTITION BY k ORDER BY ts) AS m FROM readings", mode=_mode)
    _readings_sql(f"{_p}_over_global_rows",
                "SELECT k, v, ts, SUM(v) OVER (ORDER BY ts ROWS 3 PRECEDING) AS s, "
                "MIN(k) OVER (ORDER BY ts ROWS 3 PRECEDING) AS mk FROM readings", mode=_mode)
    _readings_sql(f"{_p}_over_range_in_expression",
                "SELECT k, v, v * 10 + COUNT(*) OVER (PARTITION BY k ORDER BY ts RANGE BETWEEN "
                "INTERVAL '30' MINUTE PRECEDING AND CURRENT ROW) AS x FROM readings WHERE v > 2",
                mode=_mode)
    _readings_sql(f"{_p}_row_number_running",
                "SELECT k, v, ts, ROW_NUMBER() OVER (PARTITION BY k ORDER BY ts) AS rn FROM readings",
                mode=_mode)
    _readings_sql(f"{_p}_topn_with_rank",
                "SELECT * FROM (SELECT k, v, ts, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v DESC)"
                " AS rn FROM readings) WHERE rn <= 2", mode=_mode)
    _readings_sql(f"{_p}_topn_without_rank",
                "SELECT k, v, ts FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v DESC)"
                " AS rn FROM readings) WHERE rn <= 2", mode=_mode)
    _readings_sql(f"{_p}_topn_rank_range",
                "SELECT * FROM (SELECT k, v, price, ROW_NUMBER() OVER (PARTITION BY k ORDER BY "
                "price ASC) AS rn FROM readings) WHERE rn >= 2 AND rn < 4 AND v > 3", mode=_mode)
    _readings_sql(f"{_p}_topn_global",
                "SELECT * FROM (SELECT k, v, price, ROW_NUMBER() OVER (ORDER BY price DESC) AS rn "
                "FROM readings) WHERE rn <= 3", mode=_mode)
    _readings_sql(f"{_p}_topn_of_aggregate",
                "SELECT * FROM (SELECT k, total, ROW_NUMBER() OVER (ORDER BY total DESC) AS rn "
                "FROM (SELECT k, SUM(v) AS total FROM readings GROUP BY k)) WHERE rn <= 2",
                mode=_mode)
    _readings_sql(f"{_p}_dedup_first_rowtime",
                "SELECT k, v, ts FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY ts ASC)"
                " AS rn FROM readings) WHERE rn = 1", mode=_mode)
    _readings_sql(f"{_p}_dedup_last_rowtime",
                "SELECT k, v, ts FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY ts "
                "DESC) AS rn FROM readings) WHERE rn = 1", mode=_mode)
    _readings_sql(f"{_p}_over_non_time_range",
                "SELECT k, v, SUM(v) OVER (PARTITION BY k ORDER BY v) AS s, COUNT(*) OVER "
                "(PARTITION BY k ORDER BY v) AS c FROM readings", mode=_mode,
                note="ordered by a non-time column: an updating result on a stream")
    _readings_sql(f"{_p}_over_non_time_rows",
                "SELECT k, price, SUM(price) OVER w AS s, MIN(v) OVER w AS m FROM readings "
                "WINDOW w AS (PARTITION BY k ORDER BY price ROWS UNBOUNDED PRECEDING)", mode=_mode)
    _readings_sql(f"{_p}_row_number_non_time",
                "SELECT k, v, price, ROW_NUMBER() OVER (PARTITION BY k ORDER BY price) AS rn "
                "FROM readings",
                mode=_mode)
    _readings_sql(f"{_p}_order_by_limit",
                "SELECT k, v, price FROM readings ORDER BY price DESC LIMIT 3", mode=_mode,
                ordered=_mode == "batch")

_readings_sql("stream_over_proctime_rows",
            "SELECT k, v, SUM(v) OVER (PARTITION BY k ORDER BY pt ROWS 1 PRECEDING) AS s, "
            "COUNT(*) OVER (PARTITION BY k ORDER BY pt ROWS 1 PRECEDING) AS c FROM readings")
_readings_sql("stream_over_proctime_unbounded",
            "SELECT k, v, SUM(v) OVER (PARTITION BY k ORDER BY pt) AS s FROM readings")
_readings_sql("stream_dedup_first_proctime",
            "SELECT k, v FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY pt ASC) AS rn "
            "FROM readings) WHERE rn = 1")
_readings_sql("stream_dedup_last_proctime",
            "SELECT k, v FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY pt DESC) AS rn"
            " FROM readings) WHERE rn = 1")
_readings_sql("stream_order_by_rowtime", "SELECT k, v, ts FROM readings ORDER BY ts, v DESC",
            ordered=True)
_readings_sql("stream_order_by_rowtime_desc", "SELECT k, v, ts FROM readings ORDER BY ts DESC",
            ordered=True, note="rejected: a stream sorts on a time attribute ascending")
_readings_sql("stream_over_desc",
            "SELECT k, SUM(v) OVER (PARTITION BY k ORDER BY ts DESC) AS s FROM readings",
            note="rejected: an OVER window on a stream is ordered ascending")
_readings_sql("stream_over_two_windows",
            "SELECT k, SUM(v) OVER (PARTITION BY k ORDER BY ts ROWS 1 PRECEDING) AS s, "
            "COUNT(*) OVER (PARTITION BY k ORDER BY ts) AS c FROM readings",
            note="rejected: one window per SELECT on a stream")
_readings_sql("stream_over_following",
            "SELECT k, SUM(v) OVER (PARTITION BY k ORDER BY ts ROWS BETWEEN 1 PRECEDING AND 1 "
            "FOLLOWING) AS s FROM readings", note="rejected: no FOLLOWING on a stream")
_readings_sql("stream_over_bounded_non_time",
            "SELECT k, SUM(v) OVER (PARTITION BY k ORDER BY v ROWS 1 PRECEDING) AS s FROM readings",
            note="rejected: a bounded OVER window on a stream is ordered by time")
_readings_sql("stream_rank_function",
            "SELECT * FROM (SELECT k, v, RANK() OVER (PARTITION BY k ORDER BY v DESC) AS r "
            "FROM readings) WHERE r <= 2", note="rejected: RANK() on a stream")
_readings_sql("batch_over_rows_following",
            "SELECT k, v, SUM(v) OVER (PARTITION BY k ORDER BY ts ROWS BETWEEN 1 PRECEDING AND 1 "
            "FOLLOWING) AS s, MIN(price) OVER (PARTITION BY k ORDER BY ts ROWS BETWEEN 1 PRECEDING "
            "AND 1 FOLLOWING) AS mp FROM readings", mode="batch")
_readings_sql("batch_over_range_numeric",
            "SELECT k, v, COUNT(*) OVER (PARTITION BY k ORDER BY v RANGE BETWEEN 2 PRECEDING AND 3"
            " FOLLOWING) AS c, SUM(price) OVER (PARTITION BY k ORDER BY v DESC RANGE BETWEEN 5 "
            "PRECEDING AND CURRENT ROW) AS sp FROM readings", mode="batch")
_readings_sql("batch_over_rows_preceding_only",
            "SELECT k, v, SUM(v) OVER (PARTITION BY k ORDER BY ts ROWS BETWEEN 3 PRECEDING AND 1 "
            "PRECEDING) AS s, AVG(price) OVER (PARTITION BY k ORDER BY ts ROWS BETWEEN UNBOUNDED "
            "PRECEDING AND UNBOUNDED FOLLOWING) AS ap FROM readings", mode="batch")
_sql("batch_over_orders_frames",
     "SELECT order_id, customer_id, SUM(amount) OVER (PARTITION BY customer_id ORDER BY order_id "
     "ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS s2, MAX(product) OVER (ORDER BY amount "
     "ROWS BETWEEN 2 PRECEDING AND 2 FOLLOWING) AS mp, AVG(quantity) OVER (ORDER BY order_date "
     "RANGE BETWEEN INTERVAL '1' DAY PRECEDING AND CURRENT ROW) AS aq FROM orders")


def _over_table(name: str, mode: str, build: Callable[[Any, Api, Any], Any]) -> None:
    def run(t_env: Any, api: Api) -> Any:
        register_readings(t_env)
        return build(t_env.from_path("readings"), api, _over_window_api(api))

    CASES.append(Case(name, mode, None, run))


for _mode in ("streaming", "batch"):
    _p = "stream" if _mode == "streaming" else "batch"
    _over_table(f"{_p}_tbl_over_unbounded_range", _mode, lambda t, api, Over: t.over_window(
        Over.partition_by(api.col("k")).order_by(api.col("ts"))
        .preceding(api.expressions.UNBOUNDED_RANGE).alias("w")).select(
        api.col("k"), api.col("v"), api.col("v").sum.over(api.col("w")).alias("s"),
        api.col("price").max.over(api.col("w")).alias("mp")))
    _over_table(f"{_p}_tbl_over_row_interval", _mode, lambda t, api, Over: t.over_window(
        Over.partition_by(api.col("k")).order_by(api.col("ts"))
        .preceding(api.expressions.row_interval(1)).following(api.expressions.CURRENT_ROW)
        .alias("w")).select(api.col("k"), api.col("v"),
                            api.col("v").count.over(api.col("w")).alias("c"),
                            api.col("v").avg.over(api.col("w")).alias("a")))
    _over_table(f"{_p}_tbl_over_hours", _mode, lambda t, api, Over: t.over_window(
        Over.partition_by(api.col("k")).order_by(api.col("ts")).preceding(api.lit(1).hours)
        .alias("w")).select(api.col("k"), api.col("ts"),
                            api.col("v").sum.over(api.col("w")).alias("s")))
_over_table("stream_tbl_over_unbounded_row_global", "streaming", lambda t, api, Over: t.over_window(
    Over.order_by(api.col("ts")).preceding(api.expressions.UNBOUNDED_ROW).alias("w")).select(
    api.col("k"), api.col("v"), api.col("v").min.over(api.col("w")).alias("m")))


# ---- streaming changelogs: outer joins, set operations, aggregates over joins -----------------
# Updating results: the recorder keeps the changelog (rows and kinds) besides the final rows.

_ORDERS_PER_CUSTOMER = "SELECT customer_id AS k, SUM(quantity) AS q FROM orders GROUP BY customer_id"
_CUSTOMERS_PER_DECADE = "SELECT age / 10 AS k, COUNT(*) AS n FROM customers GROUP BY age / 10"

_sql("stream_left_join",
     "SELECT o.order_id, o.customer_id, c.name FROM orders o "
     "LEFT JOIN customers c ON o.customer_id = c.id", mode="streaming")
_sql("stream_right_join",
     "SELECT o.order_id, c.id, c.name FROM orders o "
     "RIGHT JOIN customers c ON o.customer_id = c.id", mode="streaming")
_sql("stream_full_join",
     "SELECT o.order_id, o.customer_id, c.id, c.name FROM orders o "
     "FULL JOIN customers c ON o.customer_id = c.id", mode="streaming")
_sql("stream_left_join_residual",
     "SELECT c.name, o.order_id, o.amount FROM customers c "
     "LEFT JOIN orders o ON c.id = o.customer_id AND o.amount > 5", mode="streaming",
     note="a non-equi condition decides which pairs match")
_sql("stream_left_join_updating_right",
     "SELECT c.id, c.name, s.cnt FROM customers c LEFT JOIN "
     "(SELECT customer_id, COUNT(*) AS cnt FROM orders GROUP BY customer_id) s "
     "ON c.id = s.customer_id", mode="streaming")
_sql("stream_right_join_updating_left",
     f"SELECT a.k, a.q, c.name FROM ({_ORDERS_PER_CUSTOMER}) a "
     "RIGHT JOIN customers c ON a.k = c.id", mode="streaming")
_sql("stream_full_join_updating_both",
     f"SELECT a.k, a.q, b.k AS decade, b.n FROM ({_ORDERS_PER_CUSTOMER}) a "
     f"FULL JOIN ({_CUSTOMERS_PER_DECADE}) b ON a.k = b.k", mode="streaming")
_sql("stream_union",
     "SELECT customer_id FROM orders UNION SELECT id FROM customers", mode="streaming")
_sql("stream_intersect",
     "SELECT customer_id FROM orders INTERSECT SELECT id FROM customers", mode="streaming")
_sql("stream_intersect_all",
     "SELECT a, d FROM nums INTERSECT ALL SELECT a, d FROM nums WHERE e", mode="streaming")
_sql("stream_except",
     "SELECT product FROM orders EXCEPT SELECT product FROM orders WHERE amount > 10",
     mode="streaming")
_sql("stream_except_all",
     "SELECT a, d FROM nums EXCEPT ALL SELECT a, d FROM nums WHERE e IS NOT NULL",
     mode="streaming")
_sql("stream_union_updating",
     "SELECT customer_id, COUNT(*) AS c FROM orders GROUP BY customer_id "
     "UNION SELECT id, CAST(age / 20 AS BIGINT) FROM customers", mode="streaming")
_sql("stream_except_updating",
     "SELECT customer_id FROM (SELECT customer_id, COUNT(*) AS c FROM orders "
     "GROUP BY customer_id) WHERE c < 3 EXCEPT SELECT id FROM customers WHERE age > 40",
     mode="streaming", note="the left input retracts a row when its count reaches 3")
_sql("stream_intersect_all_updating",
     "SELECT c FROM (SELECT customer_id, COUNT(*) AS c FROM orders GROUP BY customer_id) "
     "INTERSECT ALL SELECT CAST(quantity AS BIGINT) FROM orders", mode="streaming")
_sql("stream_union_all_updating",
     "SELECT customer_id, COUNT(*) AS c FROM orders GROUP BY customer_id "
     "UNION ALL SELECT id, CAST(age AS BIGINT) FROM customers", mode="streaming",
     note="UNION ALL keeps the kinds of its updating input")
_sql("stream_agg_join_agg",
     f"SELECT b.n, COUNT(*) AS groups_, SUM(a.q) AS q FROM ({_ORDERS_PER_CUSTOMER}) a "
     f"JOIN ({_CUSTOMERS_PER_DECADE}) b ON a.k = b.k GROUP BY b.n", mode="streaming",
     note="an aggregate over an inner join of two aggregates")
_sql("stream_agg_left_join_agg",
     "SELECT c.country, COUNT(*) AS customers, SUM(s.cnt) AS orders_ FROM customers c LEFT JOIN "
     "(SELECT customer_id, COUNT(*) AS cnt FROM orders GROUP BY customer_id) s "
     "ON c.id = s.customer_id GROUP BY c.country", mode="streaming",
     note="an aggregate over an outer join of an aggregate")

_sql("stream_in_subquery",
     "SELECT order_id, customer_id FROM orders "
     "WHERE customer_id IN (SELECT id FROM customers WHERE age > 30)", mode="streaming")
_sql("stream_not_exists",
     "SELECT id, name FROM customers c "
     "WHERE NOT EXISTS (SELECT * FROM orders o WHERE o.customer_id = c.id)", mode="streaming")
_sql("stream_not_in_with_null",
     "SELECT id, name FROM customers WHERE id NOT IN "
     "(SELECT customer_id FROM orders WHERE amount > 5)", mode="streaming",
     note="the subquery holds a NULL: NOT IN is never true once it arrives")
_sql("stream_not_in",
     "SELECT id, name FROM customers WHERE id NOT IN "
     "(SELECT customer_id FROM orders WHERE customer_id IS NOT NULL AND amount > 5)",
     mode="streaming")
_sql("stream_exists_updating",
     "SELECT customer_id, cnt FROM (SELECT customer_id, COUNT(*) AS cnt FROM orders "
     "GROUP BY customer_id) s WHERE EXISTS "
     "(SELECT * FROM customers c WHERE c.id = s.customer_id AND c.age > 30)", mode="streaming")


@_tbl("stream_tbl_full_outer_join", mode="streaming")
def _(t_env, api):
    col = api.col
    o = t_env.from_path("orders").select(col("order_id"), col("customer_id"))
    c = t_env.from_path("customers").select(col("id"), col("country"))
    return o.full_outer_join(c, col("customer_id") == col("id"))


@_tbl("stream_tbl_minus_all", mode="streaming")
def _(t_env, api):
    col = api.col
    a = t_env.from_path("nums").select(col("a"), col("e"))
    b = t_env.from_path("nums").where(col("b") > 0).select(col("a"), col("e"))
    return a.minus_all(b)

# ---- windows: window TVFs, window aggregation, Top-N, dedup, joins, group windows ----------

_TUMBLE = "TABLE(TUMBLE(TABLE win_bids, DESCRIPTOR(ts), INTERVAL '5' MINUTES))"
_AGGS = ("COUNT(*) AS n, SUM(price) AS total, AVG(price) AS avg_price, MIN(qty) AS min_qty, "
         "MAX(bidder) AS last_bidder, COUNT(DISTINCT bidder) AS bidders, AVG(qty) AS avg_qty")

for _mode in ("streaming", "batch"):
    _sfx = "" if _mode == "streaming" else "_batch"
    _sql(f"win_tumble_agg{_sfx}",
         f"SELECT item, window_start, window_end, {_AGGS} FROM {_TUMBLE} "
         "GROUP BY item, window_start, window_end", mode=_mode)
    _sql(f"win_hop_agg{_sfx}",
         "SELECT window_start, window_end, COUNT(*) AS n, SUM(qty) AS q, MAX(price) AS top "
         "FROM TABLE(HOP(TABLE win_bids, DESCRIPTOR(ts), INTERVAL '5' MINUTES, "
         "INTERVAL '10' MINUTES)) GROUP BY window_start, window_end", mode=_mode)
    _sql(f"win_cumulate_agg{_sfx}",
         "SELECT item, window_start, window_end, COUNT(*) AS n, SUM(price) AS total "
         "FROM TABLE(CUMULATE(TABLE win_bids, DESCRIPTOR(ts), INTERVAL '4' MINUTES, "
         "INTERVAL '12' MINUTES)) GROUP BY item, window_start, window_end", mode=_mode)
    _sql(f"win_session_agg{_sfx}",
         "SELECT item, window_start, window_end, COUNT(*) AS n, SUM(qty) AS q "
         "FROM TABLE(SESSION(TABLE win_bids PARTITION BY item, DESCRIPTOR(ts), "
         "INTERVAL '2' MINUTES)) GROUP BY item, window_start, window_end", mode=_mode,
         note="PyFlink runs no SESSION windows in batch mode; Volley does")
    _sql(f"win_tvf_tumble{_sfx}",
         f"SELECT bid_id, item, window_start, window_end FROM {_TUMBLE}", mode=_mode)
    _sql(f"win_tvf_hop{_sfx}",
         "SELECT bid_id, window_start, window_end FROM TABLE(HOP(TABLE win_bids, "
         "DESCRIPTOR(ts), INTERVAL '3' MINUTES, INTERVAL '7' MINUTES))", mode=_mode)
    _sql(f"win_legacy_tumble{_sfx}",
         "SELECT item, TUMBLE_START(ts, INTERVAL '5' MINUTE) AS ws, "
         "TUMBLE_END(ts, INTERVAL '5' MINUTE) AS we, COUNT(*) AS n, SUM(price) AS total "
         "FROM win_bids GROUP BY TUMBLE(ts, INTERVAL '5' MINUTE), item", mode=_mode)
del _mode, _sfx

_sql("win_tvf_tumble_all", f"SELECT * FROM {_TUMBLE}", mode="streaming")
_sql("win_tvf_cumulate",
     "SELECT bid_id, window_start, window_end, window_time FROM TABLE(CUMULATE(TABLE win_bids, "
     "DESCRIPTOR(ts), INTERVAL '5' MINUTES, INTERVAL '15' MINUTES))", mode="streaming")
_sql("win_tvf_session",
     "SELECT * FROM TABLE(SESSION(TABLE win_bids PARTITION BY item, DESCRIPTOR(ts), "
     "INTERVAL '2' MINUTES))", mode="streaming")
_sql("win_tvf_tumble_offset",
     "SELECT bid_id, window_start, window_end FROM TABLE(TUMBLE(TABLE win_bids, DESCRIPTOR(ts), "
     "INTERVAL '5' MINUTES, INTERVAL '1' MINUTES))", mode="streaming")
_sql("win_tumble_agg_window_time",
     "SELECT item, window_start, window_end, window_time, COUNT(*) AS n FROM "
     f"{_TUMBLE} GROUP BY item, window_start, window_end, window_time", mode="streaming")
_sql("win_tumble_agg_named_args",
     "SELECT window_start, window_end, COUNT(*) AS n FROM TABLE(TUMBLE(DATA => TABLE win_bids, "
     "TIMECOL => DESCRIPTOR(ts), SIZE => INTERVAL '10' MINUTES)) "
     "GROUP BY window_start, window_end", mode="streaming")
_sql("win_hop_agg_named_args",
     "SELECT window_start, window_end, SUM(qty) AS q FROM TABLE(HOP(DATA => TABLE win_bids, "
     "TIMECOL => DESCRIPTOR(ts), SLIDE => INTERVAL '5' MINUTES, SIZE => INTERVAL '15' MINUTES)) "
     "GROUP BY window_start, window_end", mode="streaming")
_sql("win_tumble_agg_where_having",
     f"SELECT item, window_start, COUNT(*) AS n, SUM(qty) AS q FROM {_TUMBLE} "
     "WHERE price > 2 GROUP BY item, window_start, window_end HAVING COUNT(*) > 1",
     mode="streaming")
_sql("win_tumble_agg_global",
     f"SELECT window_start, window_end, COUNT(*) AS n, MIN(price) AS low FROM {_TUMBLE} "
     "GROUP BY window_start, window_end", mode="streaming")
_sql("win_tumble_agg_expressions",
     f"SELECT UPPER(item) AS item, window_end, SUM(price * qty) AS turnover, "
     f"COUNT(*) FILTER (WHERE qty > 1) AS multi FROM {_TUMBLE} "
     "GROUP BY UPPER(item), window_start, window_end", mode="streaming")
_sql("win_group_by_window_start_only",
     f"SELECT window_start, COUNT(*) AS n FROM {_TUMBLE} GROUP BY window_start",
     mode="streaming", note="not a window aggregation (no window_end): an updating GROUP BY")
_sql("win_session_agg_global",
     "SELECT window_start, window_end, COUNT(*) AS n FROM TABLE(SESSION(TABLE win_bids, "
     "DESCRIPTOR(ts), INTERVAL '2' MINUTES)) GROUP BY window_start, window_end",
     mode="streaming")
_sql("win_session_agg_named_args",
     "SELECT item, window_start, window_end, COUNT(*) AS n FROM TABLE(SESSION(DATA => TABLE "
     "win_bids PARTITION BY item, TIMECOL => DESCRIPTOR(ts), GAP => INTERVAL '2' MINUTES)) "
     "GROUP BY item, window_start, window_end", mode="streaming")
_sql("win_cascade",
     "SELECT window_start, window_end, SUM(n) AS n, MAX(total) AS best FROM TABLE(TUMBLE("
     "TABLE win_per_item, DESCRIPTOR(rt), INTERVAL '10' MINUTES)) "
     "GROUP BY window_start, window_end", mode="streaming",
     note="a window aggregation over a window aggregation's window_time")
_sql("win_tvf_column_clash",
     "SELECT * FROM TABLE(TUMBLE(TABLE win_per_item_bounds, DESCRIPTOR(window_time), "
     "INTERVAL '10' MINUTES))", mode="streaming",
     note="the input already has window_start/window_end columns")
_sql("win_proctime_agg",
     "SELECT item, window_start, window_end, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE win_bids_pt, "
     "DESCRIPTOR(pt), INTERVAL '10' MINUTES)) GROUP BY item, window_start, window_end",
     mode="streaming", note="processing-time windows do not close when bounded input ends")
_sql("win_legacy_hop",
     "SELECT HOP_START(ts, INTERVAL '5' MINUTE, INTERVAL '10' MINUTE) AS ws, "
     "HOP_END(ts, INTERVAL '5' MINUTE, INTERVAL '10' MINUTE) AS we, "
     "HOP_ROWTIME(ts, INTERVAL '5' MINUTE, INTERVAL '10' MINUTE) AS wt, COUNT(*) AS n "
     "FROM win_bids GROUP BY HOP(ts, INTERVAL '5' MINUTE, INTERVAL '10' MINUTE)",
     mode="streaming")
_sql("win_legacy_session",
     "SELECT item, SESSION_START(ts, INTERVAL '2' MINUTE) AS ws, "
     "SESSION_END(ts, INTERVAL '2' MINUTE) AS we, SESSION_ROWTIME(ts, INTERVAL '2' MINUTE) AS wt, "
     "SUM(qty) AS q FROM win_bids GROUP BY SESSION(ts, INTERVAL '2' MINUTE), item",
     mode="streaming")
_sql("win_legacy_tumble_rowtime_having",
     "SELECT TUMBLE_ROWTIME(ts, INTERVAL '10' MINUTE) AS wt, COUNT(*) AS n FROM win_bids "
     "GROUP BY TUMBLE(ts, INTERVAL '10' MINUTE) HAVING COUNT(*) > 3", mode="streaming")
_sql("win_legacy_proctime",
     "SELECT item, TUMBLE_START(pt, INTERVAL '10' MINUTE) AS ws, "
     "TUMBLE_PROCTIME(pt, INTERVAL '10' MINUTE) AS wp, COUNT(*) AS n FROM win_bids_pt "
     "GROUP BY TUMBLE(pt, INTERVAL '10' MINUTE), item", mode="streaming",
     note="processing-time windows do not close when bounded input ends")

_TOP = ("SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end "
        "ORDER BY {order}) AS rn FROM {source}) WHERE {filter}")
_sql("win_topn_over_aggregate",
     _TOP.format(order="total DESC", filter="rn <= 2", source=(
         "(SELECT item, window_start, window_end, window_time, SUM(price) AS total FROM "
         f"{_TUMBLE} GROUP BY item, window_start, window_end, window_time)")), mode="streaming")
_sql("win_topn_over_tvf",
     _TOP.format(order="price DESC", filter="rn <= 2", source=_TUMBLE), mode="streaming")
_sql("win_topn_rn_lt",
     "SELECT bid_id, item, window_start, rn FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY "
     f"window_start, window_end, item ORDER BY qty ASC) AS rn FROM {_TUMBLE}) WHERE rn < 2",
     mode="streaming")
_sql("win_dedup_first",
     "SELECT bid_id, item, window_start, window_end FROM (SELECT *, ROW_NUMBER() OVER (PARTITION "
     f"BY window_start, window_end, item ORDER BY ts ASC) AS rn FROM {_TUMBLE}) WHERE rn = 1",
     mode="streaming")
_sql("win_dedup_last",
     "SELECT bid_id, item, window_start, window_end FROM (SELECT *, ROW_NUMBER() OVER (PARTITION "
     f"BY window_start, window_end, item ORDER BY ts DESC) AS rn FROM {_TUMBLE}) WHERE rn <= 1",
     mode="streaming")
_sql("win_topn_rank_rejected",
     _TOP.format(order="price DESC", filter="rn <= 2", source=_TUMBLE).replace(
         "ROW_NUMBER()", "RANK()"), mode="streaming", note="window Top-N takes ROW_NUMBER only")

_L = "(SELECT * FROM TABLE(TUMBLE(TABLE win_bids, DESCRIPTOR(ts), INTERVAL '5' MINUTES)))"
_R = "(SELECT * FROM TABLE(TUMBLE(TABLE win_asks, DESCRIPTOR(ts), INTERVAL '5' MINUTES)))"
_ON = "L.window_start = R.window_start AND L.window_end = R.window_end AND L.item = R.item"
_sql("win_join_inner",
     f"SELECT L.bid_id, R.ask_id, L.item, L.price, R.price AS ask, L.window_start, L.window_end, "
     f"L.window_time FROM {_L} L JOIN {_R} R ON {_ON}", mode="streaming")
_sql("win_join_left",
     f"SELECT L.bid_id, R.ask_id, L.item, L.window_start, R.window_end AS r_end "
     f"FROM {_L} L LEFT JOIN {_R} R ON {_ON}", mode="streaming")
_sql("win_join_full",
     f"SELECT L.bid_id, R.ask_id, L.item AS l_item, R.item AS r_item, L.window_start, "
     f"R.window_start AS r_start FROM {_L} L FULL JOIN {_R} R ON {_ON}", mode="streaming")
_sql("win_join_residual",
     f"SELECT L.bid_id, R.ask_id FROM {_L} L JOIN {_R} R ON {_ON} AND L.price < R.price",
     mode="streaming")
_sql("win_join_exists",
     f"SELECT L.bid_id, L.item FROM {_L} L WHERE EXISTS (SELECT * FROM {_R} R WHERE {_ON})",
     mode="streaming")
_sql("win_join_not_exists",
     f"SELECT L.bid_id, L.item FROM {_L} L WHERE NOT EXISTS (SELECT * FROM {_R} R WHERE {_ON})",
     mode="streaming")


@_tbl("win_tbl_tumble", mode="streaming")
def _(t_env, api):
    col, lit = api.col, api.lit
    w = api.window.Tumble.over(lit(5).minutes).on(col("ts")).alias("w")
    return (t_env.from_path("win_bids").window(w).group_by(col("w"), col("item"))
            .select(col("item"), col("w").start, col("w").end, col("w").rowtime,
                    col("price").sum.alias("total"), col("qty").max))


@_tbl("win_tbl_slide", mode="streaming")
def _(t_env, api):
    col, lit = api.col, api.lit
    w = api.window.Slide.over(lit(10).minutes).every(lit(5).minutes).on(col("ts")).alias("w")
    return (t_env.from_path("win_bids").window(w).group_by(col("w"))
            .select(col("w").start.alias("ws"), col("w").end, col("bid_id").count))


@_tbl("win_tbl_session", mode="streaming")
def _(t_env, api):
    col, lit = api.col, api.lit
    w = api.window.Session.with_gap(lit(2).minutes).on(col("ts")).alias("w")
    return (t_env.from_path("win_bids").window(w).group_by(col("item"), col("w"))
            .select(col("item"), col("w").start, col("w").end, col("qty").sum))


@_tbl("win_tbl_tumble_batch", mode="batch")
def _(t_env, api):
    col, lit = api.col, api.lit
    w = api.window.Tumble.over(lit(10).minutes).on(col("ts")).alias("w")
    return (t_env.from_path("win_bids").window(w).group_by(col("w"), col("item"))
            .select(col("item"), col("w").start, col("w").end, col("price").avg.alias("avg")))


@_tbl("win_tbl_proctime", mode="streaming")
def _(t_env, api):
    col, lit = api.col, api.lit
    w = api.window.Tumble.over(lit(10).minutes).on(col("pt")).alias("w")
    return (t_env.from_path("win_bids_pt").window(w).group_by(col("w"), col("item"))
            .select(col("item"), col("w").start, col("w").proctime, col("qty").sum))


# ---- time-bounded joins (streaming; the tables are CSV files with a declared watermark) ------

_TIME_TABLES = {
    # order id, product, order time
    "t_orders": ("id INT, product STRING, ts TIMESTAMP(3)", [
        "1,apple,2024-01-01 10:00:00", "2,banana,2024-01-01 10:05:00",
        "3,cherry,2024-01-01 10:20:00", "1,apple,2024-01-01 10:40:00",
        "4,durian,2024-01-01 11:00:00", ",fig,2024-01-01 11:05:00",
        "5,grape,2024-01-01 11:30:00", "2,banana,2024-01-01 12:00:00",
    ]),
    # order id, carrier, shipping time
    "t_shipments": ("order_id INT, carrier STRING, ts TIMESTAMP(3)", [
        "2,ups,2024-01-01 10:05:00", "1,dhl,2024-01-01 10:30:00",
        ",dhl,2024-01-01 11:05:00", "1,ups,2024-01-01 11:10:00",
        "6,fedex,2024-01-01 11:20:00", "5,ups,2024-01-01 11:29:59.999",
        "3,dhl,2024-01-01 12:30:00", "2,dhl,2024-01-01 13:00:00",
    ]),
    # currency, amount, order time
    "t_payments": ("pid STRING, currency STRING, amount INT, ts TIMESTAMP(3)", [
        "p1,EUR,2,2024-01-01 10:00:00", "p2,USD,3,2024-01-01 10:01:00",
        "p3,EUR,5,2024-01-01 10:05:00", "p4,GBP,1,2024-01-01 10:06:00",
        "p5,EUR,1,2024-01-01 10:20:00", "p6,USD,7,2024-01-01 10:25:00",
        "p7,CHF,4,2024-01-01 10:26:00", "p8,EUR,9,2024-01-01 10:22:00",
    ]),
    # the same rates as a log without a key (deduplicated into a versioned view below)
    "t_rate_log": ("currency STRING, rate DECIMAL(5, 2), ts TIMESTAMP(3)", [
        "EUR,1.10,2024-01-01 09:00:00", "USD,1.00,2024-01-01 09:00:00",
        "EUR,1.12,2024-01-01 10:03:00", "USD,1.01,2024-01-01 10:02:00",
        "EUR,1.15,2024-01-01 10:10:00", "GBP,1.30,2024-01-01 10:30:00",
        "CHF,0.95,2024-01-01 10:26:00",
    ]),
    # the versioned table: currency (primary key), rate, valid from
    "t_rates": ("currency STRING, rate DECIMAL(5, 2), ts TIMESTAMP(3), "
                "PRIMARY KEY (currency) NOT ENFORCED", [
        "EUR,1.10,2024-01-01 09:00:00", "USD,1.00,2024-01-01 09:00:00",
        "EUR,1.12,2024-01-01 10:03:00", "USD,1.01,2024-01-01 10:02:00",
        "EUR,1.15,2024-01-01 10:10:00", "GBP,1.30,2024-01-01 10:30:00",
        "CHF,0.95,2024-01-01 10:26:00",
    ]),
}


def _time_tables(t_env: Any) -> None:
    """(Re)create the CSV tables the time-bounded join cases read (same files for both
    engines). Each table's watermark lags its time by five minutes and no file is out of order
    by more, so no row is late however the engine interleaves the two inputs: the results do
    not depend on when Flink's periodic watermarks happen to fire."""
    import os
    import tempfile

    directory = os.path.join(tempfile.gettempdir(), "golden_time_tables")
    os.makedirs(directory, exist_ok=True)
    for name, (columns, rows) in _TIME_TABLES.items():
        path = os.path.join(directory, f"{name}.csv")
        with open(path, "w") as f:
            f.write("\n".join(rows) + "\n")
        t_env.execute_sql(f"DROP TEMPORARY TABLE IF EXISTS {name}")
        t_env.execute_sql(
            f"CREATE TEMPORARY TABLE {name} ({columns}, WATERMARK FOR ts AS ts - INTERVAL '5' "
            f"MINUTE) WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'csv', "
            "'csv.null-literal' = '')")


def _time_sql(name: str, sql: str, note: str = "", mode: str = "streaming",
              setup: tuple[str, ...] = ()) -> None:
    def run(t_env: Any, api: Api, sql: str = sql) -> Any:
        _time_tables(t_env)
        for statement in setup:
            t_env.execute_sql(statement)
        return t_env.sql_query(sql)

    run.__doc__ = sql
    CASES.append(Case(name, mode, None, run, False, note or sql))


_time_sql("stream_interval_join_inner",
          "SELECT o.id, o.product, s.carrier, o.ts, s.ts AS shipped FROM t_orders o JOIN "
          "t_shipments s ON o.id = s.order_id AND s.ts BETWEEN o.ts AND o.ts + INTERVAL '1' HOUR")
_time_sql("stream_interval_join_left",
          "SELECT o.id, o.product, s.carrier, o.ts, s.ts AS shipped FROM t_orders o LEFT JOIN "
          "t_shipments s ON o.id = s.order_id AND s.ts BETWEEN o.ts AND o.ts + INTERVAL '1' HOUR")
_time_sql("stream_interval_join_right",
          "SELECT o.id, s.order_id, s.carrier, s.ts FROM t_orders o RIGHT JOIN t_shipments s "
          "ON o.id = s.order_id AND o.ts >= s.ts - INTERVAL '30' MINUTE AND o.ts < s.ts")
_time_sql("stream_interval_join_full",
          "SELECT o.id, o.product, s.order_id, s.carrier FROM t_orders o FULL JOIN t_shipments s "
          "ON o.id = s.order_id AND o.ts > s.ts - INTERVAL '40' MINUTE "
          "AND o.ts <= s.ts + INTERVAL '10' MINUTE")
_time_sql("stream_interval_join_where",
          "SELECT o.id, s.carrier, o.ts FROM t_orders o, t_shipments s WHERE o.id = s.order_id "
          "AND o.ts BETWEEN s.ts - INTERVAL '2' HOUR AND s.ts AND s.carrier <> 'fedex'")
_time_sql("stream_interval_join_equal_times",
          "SELECT o.id, s.carrier FROM t_orders o JOIN t_shipments s "
          "ON o.id = s.order_id AND o.ts = s.ts")
_time_sql("stream_interval_join_no_key",
          "SELECT o.id, s.order_id FROM t_orders o JOIN t_shipments s "
          "ON s.ts BETWEEN o.ts - INTERVAL '1' MINUTE AND o.ts + INTERVAL '1' MINUTE")
_time_sql("stream_temporal_join",
          "SELECT p.pid, p.currency, p.amount, r.rate, p.ts, r.ts AS rate_time FROM t_payments p "
          "JOIN t_rates FOR SYSTEM_TIME AS OF p.ts AS r ON p.currency = r.currency")
_time_sql("stream_temporal_join_left",
          "SELECT p.pid, r.rate, p.amount * r.rate AS converted FROM t_payments AS p LEFT JOIN "
          "t_rates FOR SYSTEM_TIME AS OF p.ts AS r ON p.currency = r.currency")
_time_sql("stream_temporal_join_residual",
          "SELECT p.pid, r.rate FROM t_payments AS p LEFT JOIN t_rates FOR SYSTEM_TIME AS OF "
          "p.ts AS r ON p.currency = r.currency AND r.rate > 1.05")
_time_sql("stream_temporal_join_deduplicated_view",
          "SELECT p.pid, r.rate, r.ts FROM t_payments AS p JOIN t_rates_last FOR SYSTEM_TIME AS OF "
          "p.ts AS r ON p.currency = r.currency",
          setup=("DROP TEMPORARY VIEW IF EXISTS t_rates_last",
                 "CREATE TEMPORARY VIEW t_rates_last AS SELECT currency, rate, ts FROM (SELECT *, "
                 "ROW_NUMBER() OVER (PARTITION BY currency ORDER BY ts DESC) AS rn FROM t_rate_log)"
                 " WHERE rn = 1"))
_time_sql("batch_temporal_join",
          "SELECT p.pid, r.rate FROM t_payments AS p JOIN t_rates FOR SYSTEM_TIME AS OF p.ts AS r "
          "ON p.currency = r.currency", mode="batch")
_time_sql("stream_temporal_join_no_primary_key_in_condition",
          "SELECT p.pid, r.rate FROM t_payments AS p JOIN t_rates FOR SYSTEM_TIME AS OF p.ts AS r "
          "ON p.amount = r.rate")


CASES_BY_NAME: dict[str, Case] = {}
for _case in CASES:
    if _case.name in CASES_BY_NAME:
        raise ValueError(f"duplicate case name {_case.name}")
    if _case.mode not in ("batch", "streaming"):
        raise ValueError(f"bad mode for {_case.name}")
    if (_case.sql is None) == (_case.table is None):
        raise ValueError(f"{_case.name}: exactly one of sql/table must be set")
    CASES_BY_NAME[_case.name] = _case
del _case
