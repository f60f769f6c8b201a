"""Exactly-once recovery, end to end, with real processes and real kills.

A checkpointed streaming job reads CSV files through a stateful operator (the stream join) into
the filesystem sink. It is killed with SIGKILL at random moments and resumed with ``volley run
--from-checkpoint`` again and again until it finishes; the sink's published content must equal an
uninterrupted run's exactly: no row lost, none doubled, nothing half-written.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

JOB = textwrap.dedent('''
    import sys, time
    from pyflink.table import EnvironmentSettings, TableEnvironment, DataTypes
    from pyflink.table.udf import udf

    left, right, out, checkpoints = sys.argv[1:5]
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    config = t_env.get_config()
    config.set("execution.checkpointing.interval", "150 ms")
    config.set("execution.checkpointing.dir", checkpoints)

    @udf(result_type=DataTypes.BIGINT(), func_type="pandas")
    def slowly(v):
        time.sleep(0.02)  # so that kills land while the job runs
        return v * 10

    t_env.create_temporary_system_function("slowly", slowly)
    t_env.execute_sql(f"""CREATE TABLE l (k BIGINT, v BIGINT) WITH (
        'connector' = 'filesystem', 'path' = '{left}', 'format' = 'csv')""")
    t_env.execute_sql(f"""CREATE TABLE r (k BIGINT, w STRING) WITH (
        'connector' = 'filesystem', 'path' = '{right}', 'format' = 'csv')""")
    t_env.execute_sql(f"""CREATE TABLE o (k BIGINT, v BIGINT, w STRING) WITH (
        'connector' = 'filesystem', 'path' = '{out}', 'format' = 'csv')""")
    t_env.execute_sql(
        "INSERT INTO o SELECT l.k, slowly(l.v), r.w FROM l JOIN r ON l.k = r.k").wait()
''')


def _write_inputs(root: Path, files: int = 60, rows: int = 40) -> tuple[Path, Path]:
    rng = random.Random(7)
    left, right = root / "left", root / "right"
    left.mkdir()
    right.mkdir()
    for f in range(files):
        (left / f"part-{f:03d}.csv").write_text(
            "".join(f"{rng.randint(0, 30)},{f * rows + i}\n" for i in range(rows)))
        (right / f"part-{f:03d}.csv").write_text(
            "".join(f"{rng.randint(0, 30)},r{f}-{i}\n" for i in range(rows // 4)))
    return left, right


def _published(directory: Path) -> Counter:
    rows: Counter = Counter()
    for path in directory.iterdir():
        if not path.name.startswith((".", "_")):
            rows.update(path.read_text().splitlines())
    return rows


def _command(job: Path, left: Path, right: Path, out: Path, checkpoints: Path,
             restore: bool) -> list[str]:
    flags = ["--from-checkpoint", str(checkpoints)] if restore else []
    return [sys.executable, "-m", "volley", "run", *flags, str(job), str(left), str(right),
            str(out), str(checkpoints)]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


@pytest.mark.slow
def test_a_job_killed_again_and_again_publishes_each_row_exactly_once(tmp_path):
    left, right = _write_inputs(tmp_path)
    job = tmp_path / "job.py"
    job.write_text(JOB)

    straight = tmp_path / "straight"
    done = subprocess.run(_command(job, left, right, straight, tmp_path / "ck-straight", False),
                          env=_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    expected = _published(straight)
    assert sum(expected.values()) > 1000

    out, checkpoints = tmp_path / "killed", tmp_path / "ck-killed"
    rng = random.Random(11)
    kills = 0
    for _attempt in range(60):
        process = subprocess.Popen(_command(job, left, right, out, checkpoints, restore=True),
                                   env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)
        try:
            # attempts grow longer, so a loaded machine (slow starts) still makes progress
            process.wait(timeout=rng.uniform(0.5, 1.5) * (1 + _attempt / 8))
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait()
            kills += 1
            continue
        stderr = process.stderr.read() if process.stderr else ""
        assert process.returncode == 0, stderr
        break
    else:
        pytest.fail("the job did not finish in 60 attempts")
    assert kills >= 3, "the job finished before it could be killed often enough"
    assert _published(out) == expected
    assert not [p for p in out.iterdir() if p.name.endswith(".inprogress")]


def test_restoring_from_a_checkpoints_directory_without_a_complete_one_starts_over(tmp_path):
    left, right = _write_inputs(tmp_path, files=3, rows=10)
    job = tmp_path / "job.py"
    job.write_text(JOB)
    checkpoints = tmp_path / "ck"
    checkpoints.mkdir()
    out = tmp_path / "out"
    done = subprocess.run(_command(job, left, right, out, checkpoints, restore=True),
                          env=_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "starts from the beginning" in done.stderr
    assert sum(_published(out).values()) > 0


def test_worker_processes_end_when_their_job_is_killed(tmp_path):
    """At parallelism 2 the subtasks run in worker processes; a SIGKILL of the job's process
    must not leave them running."""
    import psutil

    job = tmp_path / "parallel_job.py"
    job.write_text(textwrap.dedent('''
        from pyflink.table import EnvironmentSettings, TableEnvironment
        t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
        t_env.get_config().set("parallelism.default", "2")
        t_env.execute_sql("CREATE TABLE src (id BIGINT) WITH ('connector' = 'datagen', "
                          "'rows-per-second' = '100')")
        t_env.execute_sql("CREATE TABLE sink (id BIGINT) WITH ('connector' = 'blackhole')")
        print("started", flush=True)
        t_env.execute_sql("INSERT INTO sink SELECT id FROM src").wait()
    '''))
    process = subprocess.Popen([sys.executable, "-m", "volley", "run", str(job)], env=_env(),
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline().strip() == "started"
    deadline = time.monotonic() + 20
    workers: list = []
    while time.monotonic() < deadline and len(workers) < 2:
        workers = psutil.Process(process.pid).children(recursive=True)
        time.sleep(0.1)
    assert len(workers) >= 2
    process.send_signal(signal.SIGKILL)
    process.wait()
    gone, alive = psutil.wait_procs(workers, timeout=10)
    assert alive == []
