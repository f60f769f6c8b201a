"""The Table API's over windows: PyFlink's builders and names, the 1.11 string forms, errors."""

from __future__ import annotations

import pytest

from volley.errors import PlanError
from volley.table import EnvironmentSettings, TableEnvironment
from volley.table.expressions import (
    CURRENT_RANGE,
    CURRENT_ROW,
    UNBOUNDED_ROW,
    col,
    lit,
    row_interval,
)
from volley.table.over_window import Over

ROWS = [("a", 1, 10), ("a", 2, 20), ("b", 3, 20), ("a", 4, 30), ("b", 5, 40)]


def _table(streaming: bool = False):
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode() if streaming
                                    else EnvironmentSettings.in_batch_mode())
    return t_env.from_elements(ROWS, ["k", "v", "t"])


def _rows(table) -> list[tuple]:
    with table.execute().collect() as rows:
        return sorted(tuple(r) for r in rows)


def test_unnamed_over_aggregates_are_named_as_in_pyflink():
    w = Over.order_by(col("t")).alias("w")  # no preceding: UNBOUNDED_RANGE
    table = _table().over_window(w).select(col("k"), col("v").sum.over(col("w")),
                                           col("v").max.over(col("w")) + 1)
    assert table.get_schema().get_field_names() == ["k", "_c1", "_c2"]
    # t = 20 twice: peers share their frame
    assert _rows(table) == [("a", 1, 2), ("a", 6, 4), ("a", 10, 5), ("b", 6, 4), ("b", 15, 6)]


def test_rows_and_range_bounds():
    table = _table()
    rows = Over.partition_by(col("k")).order_by(col("t")).preceding(row_interval(1)) \
        .following(CURRENT_ROW).alias("w")
    assert _rows(table.over_window(rows).select(col("v"), col("v").sum.over(col("w")))) == [
        (1, 1), (2, 3), (3, 3), (4, 6), (5, 8)]
    running = Over.order_by(col("t")).preceding(UNBOUNDED_ROW).alias("w")
    assert _rows(table.over_window(running).select(col("v"), col("v").count.over(col("w")))) == [
        (1, 1), (2, 2), (3, 3), (4, 4), (5, 5)]
    peers = Over.order_by(col("t")).preceding(lit(10)).following(CURRENT_RANGE).alias("w")
    with pytest.raises(PlanError, match="preceding bound of an over window"):
        table.over_window(peers).select(col("v").sum.over(col("w")))


def test_the_pyflink_1_11_strings():
    w = Over.partition_by("k").order_by("t").preceding("1.rows").following("current_row") \
        .alias("w")
    assert _rows(_table().over_window(w).select("v", col("v").sum.over(col("w")))) == [
        (1, 1), (2, 3), (3, 3), (4, 6), (5, 8)]
    running = Over.order_by("t").preceding("unbounded_range").alias("w")
    assert _rows(_table().over_window(running).select(col("v").count.over(col("w")))) == [
        (1,), (3,), (3,), (4,), (5,)]


def test_bounds_of_different_kinds_and_unknown_windows_are_refused():
    table = _table()
    mixed = Over.order_by(col("t")).preceding(row_interval(2)).following(CURRENT_RANGE).alias("w")
    with pytest.raises(PlanError, match="same kind"):
        table.over_window(mixed).select(col("v").sum.over(col("w")))
    w = Over.order_by(col("t")).alias("w")
    with pytest.raises(PlanError, match="window 'x' is not defined"):
        table.over_window(w).select(col("v").sum.over(col("x")))
