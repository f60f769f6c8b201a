"""First Volley benchmark: the PyFlink reference cases of shared/PYFLINK_FIGURES.md, on Volley.

Cases, all in streaming mode through the PyFlink 2.x API, over a CSV of ``id BIGINT, v DOUBLE``:

    startup  a new process: import, environment, from_elements(3 rows) + collect
    sql      INSERT INTO blackhole SELECT id, v * 2 + 1 FROM csv       (no UDF)
    udf      the same through a row-at-a-time Python UDF ``v * 2 + 1``
    pandas   the same through a pandas UDF (``func_type='pandas'``)
    convert  from_pandas(N x 2 random floats) -> filter(col('a') > 0.5) -> to_pandas()

Each case is timed end to end inside the process (environment creation, DDL, job), ``--repeat``
times; the first run (cold: for PyFlink it includes starting the JVM and the local cluster) and the
median are reported, with rows/s over the input rows. The CSV is generated once per
row count under ``benchmarks/data/`` (gitignored) and reused.

Run: ``python benchmarks/bench_foundation.py [--rows N] [--repeat R] [--cases sql,udf,...]``.
``--engine pyflink`` runs the same cases on real PyFlink, for side-by-side figures.
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

DATA_DIR = Path(__file__).resolve().parent / "data"

#: The PyFlink-shaped API the cases use; filled by load_api() from volley or from real pyflink.
api = SimpleNamespace()


def load_api(engine: str) -> None:
    """Bind the API of ``engine`` ("volley" or "pyflink"): the cases are the same program on both.

    PyFlink starts its Python UDF workers with the ``python`` found on PATH, so this interpreter's
    directory goes first (as shared/PYFLINK_FIGURES.md advises).
    """
    if engine == "pyflink":
        bindir = str(Path(sys.executable).parent)
        os.environ["PATH"] = os.pathsep.join([bindir, os.environ.get("PATH", "")])
    table = importlib.import_module(f"{engine}.table")
    api.engine = engine
    api.DataTypes = table.DataTypes
    api.EnvironmentSettings = table.EnvironmentSettings
    api.TableEnvironment = table.TableEnvironment
    api.col = importlib.import_module(f"{engine}.table.expressions").col
    api.udf = importlib.import_module(f"{engine}.table.udf").udf


def ensure_csv(rows: int) -> Path:
    """Write ``rows`` lines of ``id,v`` (v uniform in [0, 1000)) once; reuse it afterwards."""
    path = DATA_DIR / f"id_v_{rows}.csv"
    if path.exists():
        return path
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(42)
    frame = pd.DataFrame({"id": np.arange(rows, dtype=np.int64), "v": rng.random(rows) * 1000})
    tmp = path.with_suffix(".tmp")
    frame.to_csv(tmp, header=False, index=False)
    tmp.rename(path)
    return path


def streaming_env() -> Any:
    """A fresh streaming TableEnvironment with parallelism 1, as in the PyFlink figures."""
    t_env = api.TableEnvironment.create(api.EnvironmentSettings.in_streaming_mode())
    t_env.get_config().set("parallelism.default", "1")
    return t_env


def create_tables(t_env: Any, csv_path: Path) -> None:
    """The CSV source ``src`` and the ``blackhole`` sink ``sink``, both ``(id BIGINT, v DOUBLE)``."""
    t_env.execute_sql(f"""
        CREATE TABLE src (id BIGINT, v DOUBLE) WITH (
            'connector' = 'filesystem',
            'path' = '{csv_path}',
            'format' = 'csv'
        )
    """)
    t_env.execute_sql("CREATE TABLE sink (id BIGINT, v DOUBLE) WITH ('connector' = 'blackhole')")


def case_sql(csv_path: Path) -> None:
    t_env = streaming_env()
    create_tables(t_env, csv_path)
    t_env.execute_sql("INSERT INTO sink SELECT id, v * 2 + 1 FROM src").wait()


def case_udf(csv_path: Path) -> None:
    @api.udf(result_type=api.DataTypes.DOUBLE())
    def times_two_plus_one(v: float) -> float:
        return v * 2 + 1

    t_env = streaming_env()
    create_tables(t_env, csv_path)
    t_env.from_path("src").select(
        api.col("id"), times_two_plus_one(api.col("v")).alias("v")
    ).execute_insert("sink").wait()


def case_pandas(csv_path: Path) -> None:
    @api.udf(result_type=api.DataTypes.DOUBLE(), func_type="pandas")
    def times_two_plus_one(v: pd.Series) -> pd.Series:
        return v * 2 + 1

    t_env = streaming_env()
    create_tables(t_env, csv_path)
    t_env.from_path("src").select(
        api.col("id"), times_two_plus_one(api.col("v")).alias("v")
    ).execute_insert("sink").wait()


def make_convert_case(rows: int) -> Callable[[Path], None]:
    """The conversion case; its DataFrame is built once, outside the timed region."""
    pdf = pd.DataFrame(np.random.default_rng(7).random((rows, 2)))

    def case_convert(_: Path) -> None:
        t_env = streaming_env()
        result = t_env.from_pandas(pdf, ["a", "b"]).filter(api.col("a") > 0.5).to_pandas()
        if len(result) == 0 or len(result) >= rows:
            raise AssertionError(f"filter kept {len(result)} of {rows} rows")

    return case_convert


STARTUP_SCRIPT = """
from {engine}.table import EnvironmentSettings, TableEnvironment
t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
rows = list(t_env.from_elements([(1,), (2,), (3,)], ["x"]).execute().collect())
assert len(rows) == 3, rows
"""


def case_startup(_: Path) -> None:
    """A whole new process: interpreter, imports, environment, a 3-row job (PyFlink: 9.5 s)."""
    script = STARTUP_SCRIPT.format(engine=api.engine)
    subprocess.run([sys.executable, "-c", script], check=True)


CASES: dict[str, str] = {
    "startup": "startup: new process, from_elements(3 rows) + collect",
    "sql": "SQL `v * 2 + 1`, no UDF",
    "udf": "general Python UDF `v * 2 + 1`",
    "pandas": "pandas UDF `v * 2 + 1`",
    "convert": "from_pandas(N x 2) -> filter a > 0.5 -> to_pandas",
}


def time_case(run: Callable[[Path], None], csv_path: Path, repeat: int) -> list[float]:
    """Wall seconds of each of ``repeat`` runs."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run(csv_path)
        times.append(time.perf_counter() - start)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="input rows (default 1M)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; the median is shown")
    parser.add_argument(
        "--cases", default=",".join(CASES), help=f"comma-separated subset of {', '.join(CASES)}"
    )
    parser.add_argument(
        "--engine",
        choices=["volley", "pyflink"],
        default="volley",
        help="run the same cases on real PyFlink (use the interpreter of a PyFlink venv)",
    )
    args = parser.parse_args(argv)
    selected = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in selected if c not in CASES]
    if unknown:
        parser.error(f"unknown case(s) {unknown}; expected some of {list(CASES)}")

    load_api(args.engine)
    csv_path = ensure_csv(args.rows)
    runners: dict[str, Callable[[Path], None]] = {
        "startup": case_startup,
        "sql": case_sql,
        "udf": case_udf,
        "pandas": case_pandas,
        "convert": make_convert_case(args.rows),
    }
    print(
        f"engine: {args.engine}  rows: {args.rows:,}  repeat: {args.repeat}  "
        f"python: {sys.version.split()[0]}"
    )
    print()
    print("| case | first run s | wall s (median) | rows/s (median) |")
    print("|---|---|---|---|")
    failed = 0
    for name in selected:
        try:
            times = time_case(runners[name], csv_path, args.repeat)
        except Exception as exc:  # one broken case must not hide the others' figures
            print(f"| {CASES[name]} | failed: {type(exc).__name__}: {exc} | – | – |", flush=True)
            failed += 1
            continue
        median = statistics.median(times)
        rate = "–" if name == "startup" else f"{args.rows / median:,.0f}"
        print(f"| {CASES[name]} | {times[0]:.3f} | {median:.3f} | {rate} |", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
