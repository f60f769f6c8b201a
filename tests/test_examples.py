"""The examples in ``examples/`` run as scripts and print what their docstrings promise.

Each runs as a subprocess (``python examples/<name>.py``), the way a reader of the README runs
it, with the checkout on ``PYTHONPATH`` so no install is needed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = REPO_ROOT / "examples"

INTERPOLATED = ["1,98.0", "1,99.0", "1,100.0", "2,99.0"]


def as_pyflink_program(name: str, tmp_path: Path) -> Path:
    """The example with its imports spelled ``pyflink``, i.e. the program a PyFlink user has."""
    source = (EXAMPLES / name).read_text(encoding="utf-8")
    pyflink_source = re.sub(r"^from volley\.", "from pyflink.", source, flags=re.MULTILINE)
    assert pyflink_source != source
    path = tmp_path / name
    path.write_text(pyflink_source, encoding="utf-8")
    return path


def run_example(name: str, via_cli: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``examples/<name>``, or with ``via_cli``, that PyFlink program through ``volley run``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    if via_cli is None:
        command = [sys.executable, str(EXAMPLES / name)]
    else:
        command = [sys.executable, "-m", "volley.cli", "run", str(via_cli)]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=300,
    )
    assert result.returncode == 0, f"{name} failed:\n{result.stderr}"
    return result


def check_interpolation(stdout: str) -> None:
    lines = stdout.splitlines()
    assert lines[0].startswith("$ cat "), lines
    assert lines[1:] == INTERPOLATED


def printed_frame(stdout: str) -> tuple[list[float], int]:
    """The ``a`` values shown by ``print(DataFrame)`` and the frame's row count.

    pandas shows only the first and last rows of a long frame, then ``[N rows x 2 columns]``;
    a short frame has no footer, so its count is the number of rows shown.
    """
    shown = [
        float(m.group(1)) for m in re.finditer(r"^\s*\d+\s+(\S+)\s+(\S+)\s*$", stdout, re.MULTILINE)
    ]
    footer = re.search(r"^\[(\d+) rows x 2 columns\]$", stdout, re.MULTILINE)
    return shown, int(footer.group(1)) if footer else len(shown)


def check_conversion(stdout: str) -> None:
    assert re.search(r"^\s+a\s+b\s*$", stdout, re.MULTILINE), stdout  # the header names a, b
    shown, count = printed_frame(stdout)
    assert shown, stdout
    assert all(a > 0.5 for a in shown), shown
    # 1,000 uniform rows, each kept with probability 1/2: 400..600 is more than 6 sigma wide.
    assert 400 <= count <= 600, count


def check_word_count(stdout: str) -> None:
    pairs = [
        (m.group(1), int(m.group(2)))
        for m in re.finditer(r"^\|(?:\s*[+-][IUD]\s*\|)?\s*(\S+)\s*\|\s*(\d+)\s*\|$", stdout, re.M)
    ]
    # Ordered by count descending, then word; the same as real PyFlink 2.x prints.
    assert pairs[:6] == [("to", 4), ("the", 3), ("be", 2), ("of", 2), ("or", 2), ("a", 1)]
    rows = dict(pairs)
    assert rows["question"] == 1
    assert rows["tis"] == 1
    assert len(rows) == 26


CHECKS: dict[str, Callable[[str], None]] = {
    "pandas_udf_demo_1_11.py": check_interpolation,
    "pandas_udf_demo.py": check_interpolation,
    "pandas_conversion_1_11.py": check_conversion,
    "pandas_conversion.py": check_conversion,
    "word_count.py": check_word_count,
}


def test_every_example_is_checked() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(CHECKS)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_example_prints_expected_output(name: str) -> None:
    CHECKS[name](run_example(name).stdout)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_example_runs_unchanged_as_pyflink_program(name: str, tmp_path: Path) -> None:
    """``volley run`` runs the same program with its imports spelled ``from pyflink...``."""
    CHECKS[name](run_example(name, via_cli=as_pyflink_program(name, tmp_path)).stdout)
