"""The benchmark suite keeps working: every case runs on tiny input on every local engine.

Figures are not checked (benchmarks never decide whether tests pass); the report must exist,
name every case, and show no failed run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.suite.cases import CASES

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_every_case_runs_on_tiny_input(tmp_path: Path) -> None:
    report = tmp_path / "report.md"
    done = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--quick", "--repeat", "1",
         "--engines", "volley,duckdb,floor", "--out", str(report)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    text = report.read_text()
    for case in CASES:
        assert f"### {case.name}:" in text
    assert "failed:" not in text
    assert "| Volley |" in text and "| DuckDB |" in text and "| floor |" in text
    # the engine variants and the calibration of the new cases ran
    for label in ("Volley batch", "Volley p2", "CPU x1", "CPU x2"):
        assert f"| {label} |" in text, label
    assert "### checkpoints:" in text
    assert "Against the baseline" not in text


@pytest.mark.slow
def test_baseline_runs_another_checkouts_volley(tmp_path: Path) -> None:
    """``--baseline`` adds Volley of another checkout (here: this one) beside Volley, and the
    report's new/old table; cases without a baseline (udf-parallel) run without it."""
    report = tmp_path / "report.md"
    done = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--quick", "--repeat", "1",
         "--cases", "startup,sql,udf-parallel", "--engines", "volley",
         "--baseline", str(ROOT), "--out", str(report)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    text = report.read_text()
    assert "failed:" not in text
    assert "## Against the baseline" in text
    assert "| startup (process) |" in text and "| sql (job) |" in text
    assert "| udf-parallel" not in text.split("## Against the baseline")[1].split("## Cases")[0]
    assert text.count("| Volley baseline |") == 2
