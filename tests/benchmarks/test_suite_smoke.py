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
