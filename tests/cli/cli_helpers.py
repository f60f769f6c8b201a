"""Run ``python -m volley.cli`` as a real subprocess, the way a user runs it.

The CLI's job is process-level behaviour (exit codes, stderr, ``sys.argv``, ``sys.path``), so the
tests run it exactly as a user would instead of calling ``main()`` in the pytest process. A module
with a unique name rather than ``conftest`` so that ``import`` cannot pick up another directory's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def cli_env() -> dict[str, str]:
    """The environment for a CLI subprocess: Volley importable from the checkout, no PyFlink."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run_cli(
    *args: str, cwd: Path | None = None, stdin: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m volley.cli *args`` and capture its output as text."""
    return subprocess.run(
        [sys.executable, "-m", "volley.cli", *args],
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=cwd,
        input=stdin,
        timeout=timeout,
    )
