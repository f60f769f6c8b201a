"""Fixtures for the CLI tests; the subprocess helpers live in ``cli_helpers``."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

if str(REPO_ROOT) not in sys.path:  # in-process unit tests import volley.cli without an install
    sys.path.insert(0, str(REPO_ROOT))


@pytest.fixture
def write_job(tmp_path: Path) -> Callable[..., Path]:
    """Write a dedented job file into tmp_path and return its path."""

    def write(source: str, name: str = "job.py") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(source), encoding="utf-8")
        return path

    return write
