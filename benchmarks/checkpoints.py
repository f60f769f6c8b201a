"""Checkpoints of a streaming GROUP BY holding 1,000,000 keys: their time and size, and recovery.

    python benchmarks/checkpoints.py              # 10M rows, 1M keys, 5 rounds: a minute or two
    python benchmarks/checkpoints.py --quick      # small input: checks the script runs
    python benchmarks/checkpoints.py --markdown   # the table run.py puts in REPORT.md

Prints figures only. The job, streaming at parallelism 1, checkpointing on (an interval of an hour,
so only the checkpoints asked for and the final one are taken)::

    INSERT INTO sink SELECT k, COUNT(*), SUM(v), AVG(v), MIN(v), MAX(v)
    FROM (SELECT k, probe(v) AS v FROM facts) GROUP BY k            -- sink: blackhole

over the suite's keyed CSV (``datasets.groupby_csv``: every run of ``keys`` rows holds every key
once, so once the job has read ``keys`` rows its state holds every group). ``probe`` is a pandas
UDF that passes ``v`` through and notes when it first sees rows and how many it has seen: the
client's view of the job's progress, through the public API only (a call per 10,000 rows).

Each round runs three fresh processes:

1. **take**: the job from the beginning; once it has read ``keys`` rows, the probe holds the job
   until the client has asked for a checkpoint (``trigger_checkpoint``, the job handle's on-demand
   checkpoint), then the job runs to its end and takes its final checkpoint. From the job's
   metrics (``JobClient.get_metrics()["checkpoints"]``): each checkpoint's duration (trigger to
   manifest) and bytes; from the manifest, the rows of the aggregate's state (1,000,000 groups).
2. **restore**: the same job restored from that checkpoint (``execution.state-recovery.path``).
3. **fresh**: the same job from the beginning, without a restore.

For 2 and 3: *ready* is the time from submitting the INSERT to the first row reaching the probe:
planning, opening every task — for the restored job, reading the aggregate's state back and
rebuilding its key index — and, when restored, the CSV source re-reading the rows it had read
before the checkpoint (it resumes a file by parsing and dropping them). *Recovery* is the restored
job's ready minus the fresh job's, paired within each round. *Total* is submit to job end.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

RESULT_PREFIX = "CHECKPOINT-RESULT "
GROUPBY = (
    "INSERT INTO sink SELECT k, COUNT(*) AS n, SUM(v) AS total, AVG(v) AS mean, MIN(v) AS lo, "
    "MAX(v) AS hi FROM (SELECT k, probe(v) AS v FROM facts) GROUP BY k"
)


class Probe:
    """What the probe UDF saw, in this process (the job runs here at parallelism 1)."""

    first: float | None = None
    rows = 0
    hold_at: int | None = None  # hold the job once this many rows passed ...
    reached = threading.Event()
    released = threading.Event()  # ... until the client releases it
    delay = 0.0  # seconds per call after release (--quick: keeps a small job running)


def probe_function(v):  # a pandas UDF: a Series in, the same Series out
    if Probe.first is None:
        Probe.first = time.perf_counter()
    Probe.rows += len(v)
    if Probe.hold_at is not None and Probe.rows >= Probe.hold_at and not Probe.released.is_set():
        Probe.reached.set()
        if not Probe.released.wait(600):
            raise TimeoutError("the client never released the probe")
    if Probe.delay and Probe.released.is_set():
        time.sleep(Probe.delay)
    return v


def run_phase(phase: str, csv_path: str, checkpoint_dir: str, keys: int,
              restore_from: str | None, delay: float) -> dict:
    """One job in this process (see the module docstring); returns its figures."""
    from volley.table import DataTypes, EnvironmentSettings, TableEnvironment
    from volley.table.expressions import col
    from volley.table.udf import udf

    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    config = t_env.get_config()
    config.set("parallelism.default", "1")
    config.set("execution.checkpointing.interval", "1 h")
    config.set("execution.checkpointing.dir", checkpoint_dir)
    config.set("execution.checkpointing.num-retained", "10")
    if restore_from is not None:
        config.set("execution.state-recovery.path", restore_from)
    t_env.create_temporary_function(
        "probe", udf(probe_function, result_type=DataTypes.DOUBLE(), func_type="pandas"))
    t_env.execute_sql(
        f"CREATE TABLE facts (k BIGINT, v DOUBLE) WITH "
        f"('connector' = 'filesystem', 'path' = '{csv_path}', 'format' = 'csv')"
    )
    t_env.execute_sql(
        "CREATE TABLE sink (k BIGINT, n BIGINT, total DOUBLE, mean DOUBLE, lo DOUBLE, "
        "hi DOUBLE) WITH ('connector' = 'blackhole')"
    )
    _ = col("k") > 0  # the SQL front end is loaded: not part of any figure
    if phase == "take":
        Probe.hold_at, Probe.delay = keys, delay
    out: dict = {"phase": phase}
    start = time.perf_counter()
    result = t_env.execute_sql(GROUPBY)
    handle = result.get_job_client()._handle
    if phase == "take":
        if not Probe.reached.wait(600):
            raise TimeoutError("the job never read its first keys")
        out["rows_at_trigger"] = Probe.rows
        Probe.released.set()
        asked = time.perf_counter()
        out["checkpoint_id"] = handle.trigger_checkpoint(600)
        out["trigger_wait_s"] = time.perf_counter() - asked
    result.wait()
    out["total_s"] = time.perf_counter() - start
    out["ready_s"] = None if Probe.first is None else Probe.first - start
    out["rows"] = Probe.rows
    out["checkpoints"] = result.get_job_client().get_metrics().get("checkpoints", [])
    if phase == "take":
        manifest = json.loads(
            (Path(checkpoint_dir) / f"chk-{out['checkpoint_id']}" / "_manifest.json").read_text())
        out["state_rows"] = {f"{s['uid']}/{s['name']}": s["rows"] for s in manifest["states"]}
        out["chk_path"] = str(Path(checkpoint_dir) / f"chk-{out['checkpoint_id']}")
    return out


def child(argv: list[str]) -> dict:
    """Run one phase in a fresh process and return its figures."""
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), *argv],
                          capture_output=True, text=True, timeout=1800)
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"phase {argv} failed (exit {done.returncode}): "
                           + " | ".join(done.stderr.strip().splitlines()[-5:]))
    return json.loads(lines[-1][len(RESULT_PREFIX):])


def measure(csv_path: str, keys: int, rows: int, repeat: int, delay: float) -> list[dict]:
    """``repeat`` rounds of take, then restore and fresh (alternating which goes first)."""
    rounds = []
    for i in range(repeat):
        work = Path(tempfile.mkdtemp(prefix="volley-checkpoints-"))
        try:
            common = ["--csv", csv_path, "--keys", str(keys), "--delay", str(delay)]
            take = child(["--phase", "take", "--dir", str(work / "take"), *common])
            restore_args = ["--phase", "restore", "--dir", str(work / "restore"),
                            "--restore-from", take["chk_path"], *common]
            fresh_args = ["--phase", "fresh", "--dir", str(work / "fresh"), *common]
            order = [restore_args, fresh_args] if i % 2 == 0 else [fresh_args, restore_args]
            runs = {r["phase"]: r for r in (child(args) for args in order)}
            rounds.append({"take": take, **runs})
            print(f"[checkpoints] round {i + 1}: checkpoint "
                  f"{_during(take)['duration_s']:.3f}s, ready restored "
                  f"{runs['restore']['ready_s']:.3f}s / fresh {runs['fresh']['ready_s']:.3f}s",
                  file=sys.stderr, flush=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return rounds


def _during(take: dict) -> dict:
    return next(c for c in take["checkpoints"] if c["checkpoint_id"] == take["checkpoint_id"])


def _final(run: dict) -> dict | None:
    return next((c for c in run["checkpoints"] if c["final"]), None)


def table(rounds: list[dict], rows: int, keys: int) -> list[str]:
    """The markdown table: medians over the rounds, with [min, max]."""

    def cell(values: list[float], unit: str = "s", scale: float = 1.0, digits: int = 3) -> str:
        values = [v * scale for v in values]
        med = statistics.median(values)
        return (f"{med:,.{digits}f} {unit} [{min(values):,.{digits}f}, "
                f"{max(values):,.{digits}f}]")

    takes = [r["take"] for r in rounds]
    during = [_during(t) for t in takes]
    finals = [f for f in (_final(t) for t in takes) if f is not None]
    state_rows = sorted({n for t in takes for k, n in t["state_rows"].items()
                         if "aggregate" in k})
    restored_rows = [r["restore"]["rows"] for r in rounds]
    resumed_at = [rows - n for n in restored_rows]
    recovery = [r["restore"]["ready_s"] - r["fresh"]["ready_s"] for r in rounds]
    rate_fresh = [rows / r["fresh"]["total_s"] for r in rounds]
    rate_restored = [r["restore"]["rows"] / r["restore"]["total_s"] for r in rounds]
    lines = [
        "### checkpoints: streaming GROUP BY holding "
        f"{keys:,} keys — checkpoint time and size, recovery",
        "",
        f"`python benchmarks/checkpoints.py` ({len(rounds)} round(s), each of three fresh "
        f"processes; medians, [min, max]). Input: {rows:,} rows, {keys:,} keys, CSV; "
        "streaming, parallelism 1, into blackhole. See the script's docstring for the method.",
        "",
        "| figure | median [min, max] |",
        "|---|---|",
        f"| groups in the checkpointed aggregate state (manifest rows) | "
        f"{', '.join(f'{n:,}' for n in state_rows)} |",
        f"| checkpoint during the job: duration, trigger -> manifest (handle metrics) | "
        f"{cell([c['duration_s'] for c in during])} |",
        f"| its size (bytes of its state files) | "
        f"{cell([c['bytes'] for c in during], 'MB', 1e-6, 1)} |",
        f"| the client's `trigger_checkpoint()` call, until it returned | "
        f"{cell([t['trigger_wait_s'] for t in takes])} |",
    ]
    if finals:
        lines += [
            f"| final checkpoint at end of input: duration | "
            f"{cell([f['duration_s'] for f in finals])} |",
            f"| its size | {cell([f['bytes'] for f in finals], 'MB', 1e-6, 1)} |",
        ]
    lines += [
        f"| rows read when the checkpoint was taken (re-read by the restored source) | "
        f"{cell(resumed_at, 'rows', 1, 0)} |",
        f"| fresh job: submit -> first row processed | "
        f"{cell([r['fresh']['ready_s'] for r in rounds])} |",
        f"| restored job: submit -> first row processed (state rebuilt, source resumed) | "
        f"{cell([r['restore']['ready_s'] for r in rounds])} |",
        f"| **recovery time**: restored - fresh, paired per round | {cell(recovery)} |",
        f"| fresh job: total, {rows:,} rows | {cell([r['fresh']['total_s'] for r in rounds])} |",
        f"| restored job: total, the remaining rows | "
        f"{cell([r['restore']['total_s'] for r in rounds])} |",
        f"| rows/s fresh / restored (whole job) | "
        f"{statistics.median(rate_fresh):,.0f} / {statistics.median(rate_restored):,.0f} |",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="rounds (medians reported)")
    parser.add_argument("--quick", action="store_true", help="small input, to check the script")
    parser.add_argument("--markdown", action="store_true", help="print only the markdown table")
    # one phase in this process (the rounds run these as children)
    parser.add_argument("--phase", choices=["take", "restore", "fresh"], help=argparse.SUPPRESS)
    parser.add_argument("--csv", help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    parser.add_argument("--keys", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--restore-from", help=argparse.SUPPRESS)
    parser.add_argument("--delay", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        figures = run_phase(args.phase, args.csv, args.dir, args.keys, args.restore_from,
                            args.delay)
        print(RESULT_PREFIX + json.dumps(figures), flush=True)
        return 0

    from benchmarks.suite import cases, datasets

    sizes = cases.Sizes.quick() if args.quick else cases.Sizes()
    rows, keys = sizes.big_rows, sizes.group_keys
    if args.quick:  # enough batches that a checkpoint falls inside the job
        rows, keys = 400_000, 20_000
    csv_path = str(datasets.groupby_csv(rows, keys))
    rounds = measure(csv_path, keys, rows, args.repeat, 0.02 if args.quick else 0.0)
    lines = table(rounds, rows, keys)
    if not args.markdown:  # the title and the table
        lines = lines[:2] + lines[4:]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
