"""A killed and restored window job gives the same output: a checkpointed streaming job with
event-time windows (a tumbling window aggregation and a session window aggregation, their
accumulators, sessions and timers in keyed state) is killed with SIGKILL at random moments and
resumed with ``volley run --from-checkpoint`` until it finishes; the published windows must
equal an uninterrupted run's exactly. (At parallelism 1: a SIGKILL of the parent leaves the
worker processes of a parallel job running.)
"""

from __future__ import annotations

import random
import signal
import subprocess
import textwrap

import pytest
from test_recovery import _command, _env, _published


def _windows(directory) -> dict:
    return {kind: _published(directory / kind) for kind in ("tumble", "session")}

JOB = textwrap.dedent('''
    import sys, time
    from pyflink.table import EnvironmentSettings, TableEnvironment, DataTypes
    from pyflink.table.udf import udf

    source, _unused, out, checkpoints = sys.argv[1:5]
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    config = t_env.get_config()
    config.set("execution.checkpointing.interval", "150 ms")
    config.set("execution.checkpointing.dir", checkpoints)

    @udf(result_type=DataTypes.BIGINT(), func_type="pandas")
    def slowly(v):
        time.sleep(0.05)  # so that kills land while the job runs
        return v

    t_env.create_temporary_system_function("slowly", slowly)
    t_env.execute_sql(f"""CREATE TABLE s (k BIGINT, v BIGINT, ts TIMESTAMP(3),
        WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH (
        'connector' = 'filesystem', 'path' = '{source}', 'format' = 'csv')""")
    for kind in ("tumble", "session"):
        t_env.execute_sql(f"""CREATE TABLE {kind} (k BIGINT, ws TIMESTAMP(3), we TIMESTAMP(3),
            n BIGINT, total BIGINT) WITH (
            'connector' = 'filesystem', 'path' = '{out}/{kind}', 'format' = 'csv')""")
    t_env.execute_sql("""CREATE TEMPORARY VIEW slow AS
        SELECT k, slowly(v) AS v, ts FROM s""")
    statements = t_env.create_statement_set()
    statements.add_insert_sql("""INSERT INTO tumble SELECT k, window_start, window_end,
        COUNT(*), SUM(v) FROM TABLE(TUMBLE(TABLE slow, DESCRIPTOR(ts), INTERVAL '5' SECOND))
        GROUP BY k, window_start, window_end""")
    statements.add_insert_sql("""INSERT INTO session SELECT k, window_start, window_end,
        COUNT(*), SUM(v) FROM TABLE(SESSION(TABLE slow PARTITION BY k, DESCRIPTOR(ts),
        INTERVAL '3' SECOND)) GROUP BY k, window_start, window_end""")
    statements.execute().wait()
''')


def _write_input(root):
    """One file per 20 seconds of event time; rows up to 2 s out of order (never late)."""
    rng = random.Random(5)
    source = root / "source"
    source.mkdir()
    for f in range(60):
        lines = []
        for i in range(40):
            ms = f * 20_000 + i * 500 + rng.randint(0, 1_900)
            lines.append(f"{rng.randint(0, 12)},{rng.randint(1, 9)},"
                         f"2024-01-01 00:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}."
                         f"{ms % 1000:03d}\n")
        (source / f"part-{f:03d}.csv").write_text("".join(lines))
    return source


@pytest.mark.slow
def test_a_window_job_killed_again_and_again_publishes_each_window_exactly_once(tmp_path):
    source = _write_input(tmp_path)
    job = tmp_path / "job.py"
    job.write_text(JOB)

    straight = tmp_path / "straight"
    done = subprocess.run(_command(job, source, source, straight, tmp_path / "ck-straight",
                                   False), env=_env(), capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    expected = _windows(straight)
    assert sum(expected["tumble"].values()) > 300 and sum(expected["session"].values()) > 100

    out, checkpoints = tmp_path / "killed", tmp_path / "ck-killed"
    rng = random.Random(13)
    kills = 0
    for attempt in range(60):
        process = subprocess.Popen(_command(job, source, source, out, checkpoints, restore=True),
                                   env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)
        try:
            # a little longer each time, so that a loaded machine still gets to the end
            process.wait(timeout=rng.uniform(0.7, 1.8) + 0.1 * attempt)
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
    assert _windows(out) == expected
