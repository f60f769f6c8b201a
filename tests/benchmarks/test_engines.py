"""Engine variants and the new cases' helpers, without measuring anything."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
from pyarrow import csv

from benchmarks import checkpoints
from benchmarks.run import case_engines
from benchmarks.suite import cases, datasets

ROOT = Path(__file__).resolve().parents[2]


def _case(name: str) -> cases.Case:
    return next(c for c in cases.CASES if c.name == name)


def test_engines_are_selected_by_name_or_program() -> None:
    stream = _case("groupby-stream")
    names = [e.name for e in case_engines(stream, ["volley", "duckdb"], None)]
    assert names == ["volley", "volley-batch", "duckdb"]
    assert [e.name for e in case_engines(stream, ["volley-batch"], None)] == ["volley-batch"]
    parallel = _case("udf-parallel")  # calibrations always run with their case
    assert [e.name for e in case_engines(parallel, ["volley"], None)] == [
        "volley", "volley-p2", "cpu-1", "cpu-2"]


def test_baseline_joins_the_cases_that_have_one() -> None:
    sql = [e.name for e in case_engines(_case("sql"), ["volley", "floor"], "/old")]
    assert sql == ["volley", "volley-baseline", "floor"]
    stream = [e.name for e in case_engines(_case("groupby-stream"), ["volley"], "/old")]
    assert "volley-baseline" not in stream


def test_groupby_csv_blocks_hold_every_key_once(tmp_path: Path) -> None:
    path = datasets.groupby_csv(50, 20, tmp_path)
    table = csv.read_csv(path, read_options=csv.ReadOptions(column_names=["k", "v"]))
    keys = table["k"].to_pylist()
    assert len(keys) == 50 and table.schema.field("k").type == pa.int64()
    assert sorted(keys[:20]) == list(range(20)) == sorted(keys[20:40])
    assert len(set(keys[40:])) == 10


def _worker(*argv: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "benchmarks.suite.worker", *argv],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    line = [x for x in done.stdout.splitlines() if x.startswith("BENCH-RESULT ")][-1]
    return json.loads(line.removeprefix("BENCH-RESULT "))


def test_cpu_calibration_runs_its_processes() -> None:
    result = _worker("--engine", "cpu", "--processes", "2", "--case", "udf_parallel",
                     "--params", json.dumps({"loops": 1000}))
    assert result["check"] == 2000 and result["job_s"] > 0


def test_worker_variants_run(tmp_path: Path) -> None:
    groups = str(datasets.groupby_csv(2_000, 200, tmp_path))
    for options in (["--mode", "batch"], ["--mode", "streaming"],
                    ["--volley-path", str(ROOT)]):
        _worker("--engine", "volley", *options, "--case", "groupby_stream",
                "--params", json.dumps({"csv": groups}))
    rows = str(datasets.id_v_csv(2_000, tmp_path))
    _worker("--engine", "volley", "--parallelism", "2", "--case", "udf_parallel",
            "--params", json.dumps({"csv": rows}))


def test_checkpoints_table_from_rounds() -> None:
    take = {"checkpoint_id": 1, "trigger_wait_s": 0.2, "state_rows": {"group_aggregate-3/groups": 10},
            "checkpoints": [{"checkpoint_id": 1, "duration_s": 0.1, "bytes": 2e6, "final": False},
                            {"checkpoint_id": 2, "duration_s": 0.05, "bytes": 2e6, "final": True}]}
    rounds = [{"take": take,
               "restore": {"ready_s": 0.5, "total_s": 1.0, "rows": 60},
               "fresh": {"ready_s": 0.2, "total_s": 1.5, "rows": 100}}]
    text = "\n".join(checkpoints.table(rounds, 100, 10))
    assert "| groups in the checkpointed aggregate state (manifest rows) | 10 |" in text
    assert "**recovery time**: restored - fresh, paired per round | 0.300 s" in text
    assert "40 rows" in text  # read before the checkpoint = 100 - 60 the restored job saw
