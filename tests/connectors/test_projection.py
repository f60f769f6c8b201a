"""Readers decode only the columns a query reads, with the same rows and errors as a full read."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from volley.errors import VolleyError
from volley.table import EnvironmentSettings, TableEnvironment


def _env() -> TableEnvironment:
    return TableEnvironment.create(EnvironmentSettings.in_batch_mode())


def _rows(t_env: TableEnvironment, sql: str) -> list[tuple]:
    return [tuple(r) for r in t_env.execute_sql(sql).collect()]


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_projected_scan_reads_the_right_columns(tmp_path: Path, fmt: str) -> None:
    table = pa.table({"a": [1, 2, 3], "b": ["x", "y", None], "ts": ["2020-01-01 00:00:01"] * 3,
                      "c": [1.5, 2.5, 3.5]})
    path = tmp_path / f"data.{fmt}"
    if fmt == "csv":
        path.write_text("1,x,2020-01-01 00:00:01,1.5\n2,y,2020-01-01 00:00:01,2.5\n"
                        "3,,2020-01-01 00:00:01,3.5\n")
    elif fmt == "json":
        path.write_text("\n".join(
            json.dumps({"a": a, "b": b, "ts": "2020-01-01 00:00:01", "c": c})
            for a, b, c in zip([1, 2, 3], ["x", "y", None], [1.5, 2.5, 3.5], strict=True)))
    else:
        pq.write_table(table.set_column(2, "ts", pa.array([None] * 3, pa.timestamp("ms"))), path)
    t_env = _env()
    t_env.execute_sql(f"CREATE TABLE t (a BIGINT, b STRING, ts TIMESTAMP(3), c DOUBLE) WITH "
                      f"('connector' = 'filesystem', 'path' = '{path}', 'format' = '{fmt}')")
    assert _rows(t_env, "SELECT c, a FROM t WHERE a > 1") == [(2.5, 2), (3.5, 3)]
    assert _rows(t_env, "SELECT a, a + 1 AS b, c FROM t WHERE a = 1") == [(1, 2, 1.5)]


def test_projected_csv_read_still_reports_a_malformed_row(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("1,x,1.5\n2,y,oops\n3,z,3.5\n")
    t_env = _env()
    t_env.execute_sql(f"CREATE TABLE t (a BIGINT, b STRING, c DOUBLE) WITH "
                      f"('connector' = 'filesystem', 'path' = '{path}', 'format' = 'csv')")
    with pytest.raises(VolleyError, match="oops"):
        _rows(t_env, "SELECT a, c FROM t")
    t_env.execute_sql(f"CREATE TABLE s (a BIGINT, b STRING, c DOUBLE) WITH "
                      f"('connector' = 'filesystem', 'path' = '{path}', 'format' = 'csv', "
                      f"'csv.ignore-parse-errors' = 'true')")
    assert _rows(t_env, "SELECT c, a FROM s") == [(1.5, 1), (3.5, 3)]
