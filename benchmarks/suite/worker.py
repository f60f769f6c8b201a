"""One benchmark case on one engine, in its own process: ``python -m benchmarks.suite.worker``.

The parent (benchmarks/run.py) starts this module with the interpreter of the engine under test —
PyFlink runs in its own virtual environment, which has neither Volley nor the suite's other
dependencies — so this module imports only the standard library, numpy, pandas and pyarrow at the
top, and each engine's modules inside its case functions.

Volley and PyFlink run the *same* case functions through the PyFlink API (the ``api`` namespace is
bound to one or the other): that Volley runs them unchanged is part of what is measured. DuckDB and
the hand-written floor have their own functions doing the same computation. Variants of an engine
are options of this module: ``--mode batch`` runs a case's program in batch mode,
``--parallelism N`` sets ``parallelism.default``, ``--volley-path DIR`` imports the Volley of
another checkout (the baseline). ``--engine cpu`` is not an engine but a calibration of the
machine: N processes doing the same fixed CPU-bound Python work at once.

Timing: ``job_s`` starts after the engine is ready (environment created, tables declared) and ends
when the job has finished, so PyFlink's JVM start is *not* in it — the throughput ratios are
conservative. The parent measures the whole process separately.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

RESULT_PREFIX = "BENCH-RESULT "  # the same constant as measure.RESULT_PREFIX (no suite imports)

#: The PyFlink-shaped API of the engine under test ("volley" or "pyflink"); see bind_api().
api = SimpleNamespace(mode=None, parallelism=1, processes=1)


class Stopwatch:
    """Collects the timed region of a case: ``with watch: ...`` around the job itself.

    Besides wall time it adds up this process's CPU time (all its threads) in the region: on a
    shared machine, CPU time moves less than wall time when other work takes the cores. Worker
    processes a job forks (parallelism > 1) and PyFlink's JVM are not in it."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.cpu_seconds = 0.0

    @contextmanager
    def timing(self):
        start, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.seconds += time.perf_counter() - start
            self.cpu_seconds += time.process_time() - cpu


def bind_api(engine: str, mode: str | None = None, parallelism: int = 1,
             volley_path: str | None = None) -> None:
    """Bind ``api`` to volley or pyflink: the cases are one program on both.

    ``mode`` ("streaming" or "batch") overrides the mode a case asks for; ``parallelism`` is
    every job's ``parallelism.default``; ``volley_path`` is a checkout whose Volley is imported
    instead of this one's. PyFlink starts its Python UDF workers with the ``python`` first on
    PATH, so this interpreter's directory goes first.
    """
    if engine == "pyflink":
        bindir = str(Path(sys.executable).parent)
        os.environ["PATH"] = os.pathsep.join([bindir, os.environ.get("PATH", "")])
    if volley_path is not None:
        sys.path.insert(0, str(Path(volley_path).resolve()))
    table = importlib.import_module(f"{engine}.table")
    if volley_path is not None:
        loaded = Path(sys.modules["volley"].__file__).resolve()
        if not loaded.is_relative_to(Path(volley_path).resolve()):
            raise RuntimeError(f"--volley-path {volley_path}: imported Volley from {loaded}")
    api.engine = engine
    api.mode = mode
    api.parallelism = parallelism
    api.DataTypes = table.DataTypes
    api.EnvironmentSettings = table.EnvironmentSettings
    api.TableEnvironment = table.TableEnvironment
    api.col = importlib.import_module(f"{engine}.table.expressions").col
    api.udf = importlib.import_module(f"{engine}.table.udf").udf
    # An engine is ready when its API can build expressions: Volley loads its SQL front end
    # (sqlglot, ~0.1 s) at the first one, as PyFlink starts its JVM; neither is job time.
    _ = api.col("ready") > 0


def table_env(streaming: bool = True) -> Any:
    """A table environment in the case's mode (``streaming``) unless the engine variant says
    otherwise, at the variant's parallelism."""
    if api.mode is not None:
        streaming = api.mode == "streaming"
    settings = (
        api.EnvironmentSettings.in_streaming_mode()
        if streaming
        else api.EnvironmentSettings.in_batch_mode()
    )
    t_env = api.TableEnvironment.create(settings)
    t_env.get_config().set("parallelism.default", str(api.parallelism))
    return t_env


def declare_id_v(t_env: Any, csv_path: str) -> None:
    """CSV source ``src`` and blackhole sink ``sink``, both ``(id BIGINT, v DOUBLE)``."""
    t_env.execute_sql(
        f"CREATE TABLE src (id BIGINT, v DOUBLE) WITH "
        f"('connector' = 'filesystem', 'path' = '{csv_path}', 'format' = 'csv')"
    )
    t_env.execute_sql("CREATE TABLE sink (id BIGINT, v DOUBLE) WITH ('connector' = 'blackhole')")


# --- Volley and PyFlink (one program through the PyFlink API) -----------------------------------


def api_sql(p: dict, watch: Stopwatch) -> dict:
    t_env = table_env()
    declare_id_v(t_env, p["csv"])
    with watch.timing():
        t_env.execute_sql("INSERT INTO sink SELECT id, v * 2 + 1 FROM src").wait()
    return {}


def api_udf(p: dict, watch: Stopwatch) -> dict:
    @api.udf(result_type=api.DataTypes.DOUBLE())
    def times_two_plus_one(v: float) -> float:
        return v * 2 + 1

    return _api_udf_job(p, watch, times_two_plus_one)


def api_pandas(p: dict, watch: Stopwatch) -> dict:
    @api.udf(result_type=api.DataTypes.DOUBLE(), func_type="pandas")
    def times_two_plus_one(v):
        return v * 2 + 1

    return _api_udf_job(p, watch, times_two_plus_one)


def _api_udf_job(p: dict, watch: Stopwatch, fn: Any) -> dict:
    t_env = table_env()
    declare_id_v(t_env, p["csv"])
    with watch.timing():
        t_env.from_path("src").select(api.col("id"), fn(api.col("v")).alias("v")).execute_insert(
            "sink"
        ).wait()
    return {}


def api_convert(p: dict, watch: Stopwatch) -> dict:
    pdf = _convert_frame(p["rows"])
    t_env = table_env()
    with watch.timing():
        result = t_env.from_pandas(pdf, ["a", "b"]).filter(api.col("a") > 0.5).to_pandas()
    return {"check": len(result)}


def api_groupby(p: dict, watch: Stopwatch) -> dict:
    t_env = table_env(streaming=False)
    t_env.execute_sql(
        f"CREATE TABLE facts (k BIGINT, v DOUBLE) WITH "
        f"('connector' = 'filesystem', 'path' = '{p['parquet']}', 'format' = 'parquet')"
    )
    with watch.timing():
        rows = list(t_env.execute_sql(GROUPBY_SQL.format(table="facts")).collect())
    return {"check": _check_rows([tuple(r) for r in rows])}


def api_join(p: dict, watch: Stopwatch) -> dict:
    t_env = table_env(streaming=False)
    t_env.execute_sql(
        f"CREATE TABLE fact (dim_id BIGINT, amount DOUBLE) WITH "
        f"('connector' = 'filesystem', 'path' = '{p['fact']}', 'format' = 'parquet')"
    )
    t_env.execute_sql(
        f"CREATE TABLE dim (id BIGINT, category STRING) WITH "
        f"('connector' = 'filesystem', 'path' = '{p['dim']}', 'format' = 'parquet')"
    )
    with watch.timing():
        rows = list(t_env.execute_sql(JOIN_SQL.format(fact="fact", dim="dim")).collect())
    return {"check": _check_rows([tuple(r) for r in rows])}


def api_groupby_stream(p: dict, watch: Stopwatch) -> dict:
    """GROUP BY over the keyed CSV into blackhole: streaming (an updating changelog, every row
    updates its group) unless the engine variant runs it in batch mode (final rows only)."""
    t_env = table_env()
    t_env.execute_sql(
        f"CREATE TABLE facts (k BIGINT, v DOUBLE) WITH "
        f"('connector' = 'filesystem', 'path' = '{p['csv']}', 'format' = 'csv')"
    )
    t_env.execute_sql(
        "CREATE TABLE sink (k BIGINT, n BIGINT, total DOUBLE, mean DOUBLE, lo DOUBLE, "
        "hi DOUBLE) WITH ('connector' = 'blackhole')"
    )
    with watch.timing():
        t_env.execute_sql("INSERT INTO sink " + GROUPBY_SQL.format(table="facts")).wait()
    return {}


WINDOW_SQL = (
    "SELECT k, window_start, window_end, COUNT(*) AS n, SUM(v) AS total, MAX(v) AS hi "
    "FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '10' SECOND)) "
    "GROUP BY k, window_start, window_end"
)


def api_window_tumble(p: dict, watch: Stopwatch) -> dict:
    """A tumbling event-time window aggregation over the timed CSV into blackhole: each
    window's rows are emitted once, when the watermark passes its end."""
    t_env = table_env()
    t_env.execute_sql(
        f"CREATE TABLE events (k BIGINT, v DOUBLE, ts TIMESTAMP(3), "
        f"WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH "
        f"('connector' = 'filesystem', 'path' = '{p['csv']}', 'format' = 'csv')"
    )
    t_env.execute_sql(
        "CREATE TABLE sink (k BIGINT, window_start TIMESTAMP(3), window_end TIMESTAMP(3), "
        "n BIGINT, total DOUBLE, hi DOUBLE) WITH ('connector' = 'blackhole')"
    )
    with watch.timing():
        t_env.execute_sql("INSERT INTO sink " + WINDOW_SQL).wait()
    return {}


def format_row(i: int, v: float) -> str:
    """The parallel UDF case's per-row work, and the CPU calibration's: string formatting, a
    microsecond or two of Python (1.2 µs on this machine with a core to itself)."""
    parts = [f"{i:08x}", f"{v:.6f}", f"{v * 3.7:.3e}", str(int(v * 1000) % 9973)]
    return "-".join(part.upper() for part in parts)


def api_udf_parallel(p: dict, watch: Stopwatch) -> dict:
    @api.udf(result_type=api.DataTypes.STRING())
    def label(i: int, v: float) -> str:
        return format_row(i, v)

    t_env = table_env()
    t_env.execute_sql(
        f"CREATE TABLE src (id BIGINT, v DOUBLE) WITH "
        f"('connector' = 'filesystem', 'path' = '{p['csv']}', 'format' = 'csv')"
    )
    t_env.execute_sql("CREATE TABLE sink (id BIGINT, s STRING) WITH ('connector' = 'blackhole')")
    with watch.timing():
        t_env.from_path("src").select(
            api.col("id"), label(api.col("id"), api.col("v")).alias("s")
        ).execute_insert("sink").wait()
    return {}


def api_nexmark(p: dict, watch: Stopwatch) -> dict:
    nexmark = importlib.import_module("benchmarks.suite.nexmark")
    t_env = table_env()
    t_env.execute_sql(nexmark.bid_ddl("bid", p["bid"]))
    query = p["query"]
    t_env.execute_sql(
        f"CREATE TABLE sink ({nexmark.SINK_COLUMNS[query]}) WITH ('connector' = 'blackhole')"
    )
    with watch.timing():
        t_env.execute_sql(f"INSERT INTO sink {nexmark.QUERIES[query]}").wait()
    return {}


def api_nexmark_streaming(p: dict, watch: Stopwatch) -> dict:
    nexmark = importlib.import_module("benchmarks.suite.nexmark")
    streaming = importlib.import_module("benchmarks.suite.nexmark_streaming")
    t_env = table_env()
    query = p["query"]
    for kind in streaming.READS[query]:
        t_env.execute_sql(nexmark.ddl(kind, kind, p[kind]))
    t_env.execute_sql(
        f"CREATE TABLE sink ({streaming.SINK_COLUMNS[query]}) WITH ('connector' = 'blackhole')"
    )
    with watch.timing():
        t_env.execute_sql(f"INSERT INTO sink {streaming.QUERIES[query]}").wait()
    return {}


# --- DuckDB --------------------------------------------------------------------------------------

GROUPBY_SQL = (
    "SELECT k, COUNT(*) AS n, SUM(v) AS total, AVG(v) AS mean, MIN(v) AS lo, MAX(v) AS hi "
    "FROM {table} GROUP BY k"
)
JOIN_SQL = (
    "SELECT d.category, COUNT(*) AS n, SUM(f.amount) AS total "
    "FROM {fact} AS f JOIN {dim} AS d ON f.dim_id = d.id GROUP BY d.category"
)


def _drain(relation_cursor: Any) -> int:
    """Pull a DuckDB result as Arrow record batches and drop them: DuckDB's blackhole."""
    fetch = getattr(relation_cursor, "to_arrow_reader", None)  # DuckDB >= 2.0
    if fetch is None:
        fetch = relation_cursor.fetch_record_batch  # DuckDB 1.x
    return sum(batch.num_rows for batch in fetch(1_000_000))


def duckdb_connect() -> Any:
    import duckdb

    return duckdb.connect()


def duckdb_sql(p: dict, watch: Stopwatch) -> dict:
    con = duckdb_connect()
    with watch.timing():
        n = _drain(
            con.execute(
                "SELECT id, v * 2 + 1 AS v FROM read_csv(?, header = false, "
                "columns = {'id': 'BIGINT', 'v': 'DOUBLE'})",
                [p["csv"]],
            )
        )
    return {"check": n}


def duckdb_groupby(p: dict, watch: Stopwatch) -> dict:
    con = duckdb_connect()
    with watch.timing():
        rows = con.execute(
            GROUPBY_SQL.format(table=f"read_parquet('{p['parquet']}')")
        ).fetchall()
    return {"check": _check_rows(rows)}


def duckdb_join(p: dict, watch: Stopwatch) -> dict:
    con = duckdb_connect()
    with watch.timing():
        rows = con.execute(
            JOIN_SQL.format(fact=f"read_parquet('{p['fact']}')", dim=f"read_parquet('{p['dim']}')")
        ).fetchall()
    return {"check": _check_rows(rows)}


def duckdb_groupby_stream(p: dict, watch: Stopwatch) -> dict:
    con = duckdb_connect()
    source = f"read_csv('{p['csv']}', header = false, columns = {{'k': 'BIGINT', 'v': 'DOUBLE'}})"
    with watch.timing():
        n = _drain(con.execute(GROUPBY_SQL.format(table=source)))
    return {"check": n}


def duckdb_nexmark(p: dict, watch: Stopwatch) -> dict:
    nexmark = importlib.import_module("benchmarks.suite.nexmark")
    con = duckdb_connect()
    columns = ", ".join(f"'{name}': '{kind}'" for name, kind in nexmark.duckdb_columns("bid"))
    con.execute(
        f"CREATE VIEW bid AS SELECT * FROM read_csv('{p['bid']}', header = false, "
        f"columns = {{{columns}}}, timestampformat = '%Y-%m-%d %H:%M:%S.%g')"
    )
    with watch.timing():
        n = _drain(con.execute(nexmark.QUERIES[p["query"]].replace("`", "\"")))
    return {"check": n}


# --- The floor: hand-written pyarrow / pandas, no engine ---------------------------------------


def _read_id_v(path: str) -> Any:
    import pyarrow as pa
    from pyarrow import csv

    return csv.read_csv(
        path,
        read_options=csv.ReadOptions(column_names=["id", "v"]),
        convert_options=csv.ConvertOptions(column_types={"id": pa.int64(), "v": pa.float64()}),
    )


def floor_sql(p: dict, watch: Stopwatch) -> dict:
    import pyarrow.compute as pc

    with watch.timing():
        table = _read_id_v(p["csv"])
        out = pc.add(pc.multiply(table["v"], 2), 1)
    return {"check": len(out)}


def floor_udf(p: dict, watch: Stopwatch) -> dict:
    import pyarrow as pa

    def times_two_plus_one(v: float) -> float:
        return v * 2 + 1

    with watch.timing():
        table = _read_id_v(p["csv"])
        out = pa.array([times_two_plus_one(v) for v in table["v"].to_pylist()], pa.float64())
    return {"check": len(out)}


def floor_pandas(p: dict, watch: Stopwatch) -> dict:
    import pyarrow as pa

    def times_two_plus_one(v):
        return v * 2 + 1

    with watch.timing():
        table = _read_id_v(p["csv"])
        out = pa.Array.from_pandas(times_two_plus_one(table["v"].to_pandas()))
    return {"check": len(out)}


def floor_convert(p: dict, watch: Stopwatch) -> dict:
    pdf = _convert_frame(p["rows"])
    with watch.timing():
        result = pdf[pdf["a"] > 0.5].reset_index(drop=True)
    return {"check": len(result)}


def floor_groupby(p: dict, watch: Stopwatch) -> dict:
    import pyarrow.parquet as pq

    with watch.timing():
        table = pq.read_table(p["parquet"])
        out = table.group_by("k").aggregate(
            [("v", "count"), ("v", "sum"), ("v", "mean"), ("v", "min"), ("v", "max")]
        )
    return {"check": _check_table(out, ["k", "v_count", "v_sum", "v_mean", "v_min", "v_max"])}


def floor_join(p: dict, watch: Stopwatch) -> dict:
    import pyarrow.parquet as pq

    with watch.timing():
        fact = pq.read_table(p["fact"])
        dim = pq.read_table(p["dim"])
        joined = fact.join(dim, "dim_id", "id", join_type="inner")
        out = joined.group_by("category").aggregate([("amount", "count"), ("amount", "sum")])
    return {"check": _check_table(out, ["category", "amount_count", "amount_sum"])}


def floor_groupby_stream(p: dict, watch: Stopwatch) -> dict:
    import pyarrow as pa
    from pyarrow import csv

    with watch.timing():
        table = csv.read_csv(
            p["csv"],
            read_options=csv.ReadOptions(column_names=["k", "v"]),
            convert_options=csv.ConvertOptions(column_types={"k": pa.int64(), "v": pa.float64()}),
        )
        out = table.group_by("k").aggregate(
            [("v", "count"), ("v", "sum"), ("v", "mean"), ("v", "min"), ("v", "max")]
        )
    return {"check": out.num_rows}


def floor_window_tumble(p: dict, watch: Stopwatch) -> dict:
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyarrow import csv

    with watch.timing():
        table = csv.read_csv(
            p["csv"],
            read_options=csv.ReadOptions(column_names=["k", "v", "ts"]),
            convert_options=csv.ConvertOptions(column_types={
                "k": pa.int64(), "v": pa.float64(), "ts": pa.timestamp("ms")}),
        )
        start = pc.floor_temporal(table["ts"], 10, "second")
        out = table.append_column("start", start).group_by(["k", "start"]).aggregate(
            [("v", "count"), ("v", "sum"), ("v", "max")])
    return {"check": out.num_rows}


def floor_nexmark_streaming(p: dict, watch: Stopwatch) -> dict:
    """The query's final result computed with pandas (what the bounded changelog
    materializes to): the floor for the streaming queries, and the answer Volley is checked
    against (benchmarks/nexmark_check.py)."""
    streaming = importlib.import_module("benchmarks.suite.nexmark_streaming")
    with watch.timing():
        out = streaming.pandas_result(p["query"], Path(p["bid"]).parent)
    return {"check": len(out)}


def floor_nexmark(p: dict, watch: Stopwatch) -> dict:
    nexmark = importlib.import_module("benchmarks.suite.nexmark")
    with watch.timing():
        bids = nexmark.read_bids(p["bid"])
        out = nexmark.floor_query(p["query"], bids)
    return {"check": out.num_rows}


# --- Calibration: the machine's parallel capacity ---------------------------------------------


def _cpu_work(loops: int) -> None:
    for i in range(loops):
        format_row(i, i * 0.001)


def cpu_udf_parallel(p: dict, watch: Stopwatch) -> dict:
    """``api.processes`` forked processes each do the same fixed work (``loops`` calls of the
    UDF case's ``format_row``) at once; the time is until the last one ends."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    with watch.timing():
        workers = [context.Process(target=_cpu_work, args=(p["loops"],))
                   for _ in range(api.processes)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    failed = [w.exitcode for w in workers if w.exitcode != 0]
    if failed:
        raise RuntimeError(f"calibration processes failed: exit codes {failed}")
    return {"check": api.processes * p["loops"]}


# --- Shared helpers ------------------------------------------------------------------------------


def _convert_frame(rows: int) -> Any:
    """The conversion case's input, built outside the timed region: ``rows`` x 2 floats a, b."""
    import numpy as np
    import pandas as pd

    return pd.DataFrame(np.random.default_rng(7).random((rows, 2)), columns=["a", "b"])


def _check_table(table: Any, columns: list[str]) -> list:
    """_check_rows of a pyarrow result, its columns put in the SQL queries' order first."""
    return _check_rows(list(zip(*table.select(columns).to_pydict().values(), strict=True)))


def _check_rows(rows: list[tuple]) -> list:
    """A small engine-independent digest of an aggregate result: row count and column sums.

    The first column (the group key) is dropped and the sums rounded, so Volley, DuckDB and the
    floor can be seen to compute the same thing.
    """
    if not rows:
        return [0]
    values = [r[1:] for r in rows]
    sums = [sum(float(v) for v in column) for column in zip(*values, strict=True)]
    return [len(rows), *[float(f"{s:.6g}") for s in sums]]


CASES: dict[str, dict[str, Callable[[dict, Stopwatch], dict]]] = {
    "api": {
        "sql": api_sql,
        "sql10m": api_sql,
        "udf": api_udf,
        "pandas": api_pandas,
        "convert": api_convert,
        "groupby": api_groupby,
        "join": api_join,
        "nexmark": api_nexmark,
        "nexmark_streaming": api_nexmark_streaming,
        "window_tumble": api_window_tumble,
        "groupby_stream": api_groupby_stream,
        "udf_parallel": api_udf_parallel,
    },
    "duckdb": {
        "sql": duckdb_sql,
        "sql10m": duckdb_sql,
        "groupby": duckdb_groupby,
        "join": duckdb_join,
        "nexmark": duckdb_nexmark,
        "groupby_stream": duckdb_groupby_stream,
    },
    "floor": {
        "sql": floor_sql,
        "sql10m": floor_sql,
        "udf": floor_udf,
        "pandas": floor_pandas,
        "convert": floor_convert,
        "groupby": floor_groupby,
        "join": floor_join,
        "nexmark": floor_nexmark,
        "nexmark_streaming": floor_nexmark_streaming,
        "window_tumble": floor_window_tumble,
        "groupby_stream": floor_groupby_stream,
    },
    "cpu": {
        "udf_parallel": cpu_udf_parallel,
    },
}


def run(engine: str, case: str, params: dict, mode: str | None = None, parallelism: int = 1,
        volley_path: str | None = None, processes: int = 1) -> dict:
    """Run ``case`` on ``engine`` with ``params``; returns the result line's payload. The other
    arguments are the engine variant's (see the module docstring)."""
    family = "api" if engine in ("volley", "pyflink") else engine
    api.processes = processes
    if family == "api":
        bind_api(engine, mode, parallelism, volley_path)
    elif family == "floor":
        # Hand-written code pays its imports at process start, not inside the computation
        # (pyarrow imports pandas lazily on first use otherwise).
        for module in ("pandas", "pyarrow.compute", "pyarrow.csv", "pyarrow.parquet"):
            importlib.import_module(module)
    watch = Stopwatch()
    extra = CASES[family][case](params, watch)
    return {"job_s": watch.seconds, "job_cpu_s": watch.cpu_seconds, **extra}


def own_peak_rss() -> int:
    """This process's own peak RSS in bytes (VmHWM, which, unlike ru_maxrss, starts afresh at
    exec and so does not include the parent's memory at fork time); 0 where /proc is missing."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="run one benchmark case on one engine")
    parser.add_argument("--engine", required=True,
                        choices=["volley", "pyflink", "duckdb", "floor", "cpu"])
    parser.add_argument("--case", required=True)
    parser.add_argument("--params", default="{}", help="JSON object of the case's inputs")
    parser.add_argument("--mode", choices=["streaming", "batch"], default=None,
                        help="run the case's program in this mode (default: the case's own)")
    parser.add_argument("--parallelism", type=int, default=1, help="parallelism.default")
    parser.add_argument("--volley-path", default=None,
                        help="a checkout whose Volley to import instead of this one's")
    parser.add_argument("--processes", type=int, default=1, help="--engine cpu: processes")
    args = parser.parse_args(argv)
    result = run(args.engine, args.case, json.loads(args.params), args.mode, args.parallelism,
                 args.volley_path, args.processes)
    result["peak_rss"] = own_peak_rss()
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
