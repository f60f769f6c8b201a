"""Run the Volley benchmark suite and write its markdown report.

    python benchmarks/run.py                       # full sizes, every engine found, 3 repeats
    python benchmarks/run.py --quick --repeat 1    # tiny inputs: checks that every case runs
    python benchmarks/run.py --cases udf,sql --engines volley,floor
    python benchmarks/run.py --baseline /work/old   # also Volley of another checkout, side by side

Each case runs on Volley and its references — real PyFlink (when its virtual environment exists),
DuckDB and a hand-written pyarrow/pandas floor — one fresh process per run, interleaved so that
machine noise hits every engine alike (each round starts with the next engine, and the input
files are read into the page cache before each round). See benchmarks/README.md for what each
case measures. The ``checkpoints`` section runs benchmarks/checkpoints.py and includes its table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.suite import cases as suite_cases  # noqa: E402
from benchmarks.suite.measure import Measurement, run_measured  # noqa: E402
from benchmarks.suite.report import (  # noqa: E402
    EngineFigures,
    baseline_rows,
    render_case,
    summary_rows,
)

DEFAULT_PYFLINK = "/tmp/pyflink/bin/python"
PYFLINK_HOWTO = (
    "not installed: python3 -m venv /tmp/pyflink && /tmp/pyflink/bin/pip install apache-flink "
    "(needs Java 11+), or pass --pyflink PATH"
)


def interpreter(engine: str, pyflink: str) -> str:
    return pyflink if engine == "pyflink" else sys.executable


def engine_env(engine: str, pyflink: str) -> dict[str, str]:
    env = dict(os.environ)
    if engine == "pyflink":
        # Flink starts its Python UDF workers with the `python` first on PATH.
        env["PATH"] = os.pathsep.join([str(Path(pyflink).parent), env.get("PATH", "")])
    return env


def worker_argv(case: suite_cases.Case, engine: suite_cases.Engine, params: dict,
                args) -> tuple[list[str], str]:
    """The command line of one measured process and its working directory.

    The baseline runs this checkout's worker with the baseline's Volley imported first
    (``--volley-path``), so both run the same case programs; its startup script runs in the
    baseline checkout, whose Volley ``python -c`` then imports.
    """
    python = interpreter(engine.worker, args.pyflink)
    root = str(suite_cases.repo_root())
    baseline = engine.name == suite_cases.BASELINE
    if case.worker_case == "startup":
        cwd = str(Path(args.baseline).resolve()) if baseline else root
        return [python, "-c", suite_cases.STARTUP_SCRIPTS[engine.name]], cwd
    argv = [
        python, "-m", "benchmarks.suite.worker", "--engine", engine.worker, *engine.options,
        "--case", case.worker_case, "--params", json.dumps(params),
    ]
    if baseline:
        argv += ["--volley-path", str(Path(args.baseline).resolve())]
    return argv, root


def run_once(case: suite_cases.Case, engine: suite_cases.Engine, params: dict,
             args) -> Measurement:
    argv, cwd = worker_argv(case, engine, params, args)
    return run_measured(argv, env=engine_env(engine.worker, args.pyflink), cwd=cwd,
                        timeout=args.timeout)


def case_engines(case: suite_cases.Case, selected: list[str],
                 baseline: str | None) -> list[suite_cases.Engine]:
    """The engines of ``case`` that run: those named in ``selected`` by name or by program
    (``volley`` selects every Volley variant), its calibrations, and — with a baseline — the
    baseline's Volley right after this one's."""
    names = list(case.engines)
    if baseline and case.baseline and "volley" in names:
        names.insert(names.index("volley") + 1, suite_cases.BASELINE)
    engines = [suite_cases.ENGINES[n] for n in names]
    return [e for e in engines
            if e.calibration or e.name in selected or e.worker in selected
            or (e.name == suite_cases.BASELINE and baseline)]


def warm_page_cache(params: dict) -> None:
    """Read a case's input files once, so that no engine's run pays for reading them from disk.

    The files are written once and then read by every run, but the kernel may evict them between
    cases (this machine reclaims cold pages); without this, the first engine of a round was
    charged a disk read the others were not (a GROUP BY measured 1.6 s instead of 0.12 s).
    """
    for value in params.values():
        path = Path(value) if isinstance(value, str) else None
        if path is None or not path.is_file():
            continue
        with path.open("rb") as f:
            while f.read(8 << 20):
                pass


def byte_compile(baseline: str | None) -> None:
    """Compile Volley's and the suite's modules, as ``pip install`` does for an installed
    package: an editable checkout run with PYTHONDONTWRITEBYTECODE (as on CI machines) would
    otherwise recompile every module in every measured process and charge that to startup.
    The baseline checkout's Volley likewise."""
    import compileall

    root = suite_cases.repo_root()
    for package in ("volley", "benchmarks"):
        compileall.compile_dir(str(root / package), quiet=1)
    if baseline:
        compileall.compile_dir(str(Path(baseline) / "volley"), quiet=1)


def git_commit(checkout: Path) -> str:
    """The checkout's commit (short hash and subject), and whether its volley/ has changes."""
    done = subprocess.run(["git", "-C", str(checkout), "log", "-1", "--format=%h %s"],
                          capture_output=True, text=True)
    line = done.stdout.strip()
    if not line:
        return "not a git checkout"
    dirty = subprocess.run(["git", "-C", str(checkout), "status", "--porcelain", "volley"],
                           capture_output=True, text=True).stdout.strip()
    line = line[:70] + ("..." if len(line) > 70 else "")
    return line + (" (volley/ has uncommitted changes)" if dirty else "")


def run_checkpoints(args) -> list[str]:
    """The checkpoints section: benchmarks/checkpoints.py's markdown (a process of its own)."""
    script = Path(__file__).resolve().parent / "checkpoints.py"
    argv = [sys.executable, str(script), "--repeat", str(args.repeat), "--markdown"]
    if args.quick:
        argv.append("--quick")
    print("[checkpoints] running benchmarks/checkpoints.py", file=sys.stderr, flush=True)
    done = subprocess.run(argv, capture_output=True, text=True, cwd=suite_cases.repo_root(),
                          timeout=args.timeout)
    if done.returncode != 0:
        tail = " | ".join((done.stderr.strip() or done.stdout.strip()).splitlines()[-3:])
        return [f"### checkpoints: failed: exit {done.returncode}: {tail}", ""]
    return done.stdout.splitlines() + [""]


def verify_result(case: suite_cases.Case, args) -> tuple[list[str], bool]:
    """Volley's answer to a streaming Nexmark case checked against pandas, in a process of its
    own (not timed): the line to show under the case, and whether it is right."""
    script = Path(__file__).resolve().parent / "nexmark_check.py"
    events = suite_cases.Sizes.quick().events if args.quick else suite_cases.Sizes().events
    argv = [sys.executable, str(script), "--events", str(events), case.name.split("-")[-1]]
    print(f"[{case.name}] checking Volley's result", file=sys.stderr, flush=True)
    done = subprocess.run(argv, capture_output=True, text=True, cwd=suite_cases.repo_root(),
                          timeout=args.timeout)
    if done.returncode != 0:
        tail = " | ".join((done.stderr.strip() or done.stdout.strip()).splitlines()[-3:])
        return [f"Result check FAILED: {tail}", ""], False
    return [f"Result check: {done.stdout.strip()}", ""], True


def versions(pyflink_present: bool, pyflink: str, baseline: str | None = None) -> list[str]:
    import duckdb
    import pyarrow

    import volley

    lines = [
        f"- machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}",
        f"- Volley {getattr(volley, '__version__', '?')}, pyarrow {pyarrow.__version__}, "
        f"DuckDB {duckdb.__version__}",
    ]
    if pyflink_present:
        out = subprocess.run(
            [pyflink, "-c", "import importlib.metadata as m; print(m.version('apache-flink'))"],
            capture_output=True, text=True,
        )
        lines.append(f"- PyFlink {out.stdout.strip()} ({pyflink}), streaming mode, parallelism 1")
    lines.append(f"- Volley: {git_commit(suite_cases.repo_root())}")
    if baseline:
        lines.append(f"- Volley baseline ({baseline}): {git_commit(Path(baseline))}")
    return lines


def main(argv: list[str] | None = None) -> int:
    names = [c.name for c in suite_cases.CASES] + ["checkpoints"]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(names), help=f"subset of {', '.join(names)}")
    parser.add_argument("--engines", default="volley,pyflink,duckdb,floor",
                        help="engines by name or program: volley (every Volley variant), "
                        f"pyflink, duckdb, floor, or one of {', '.join(suite_cases.ENGINES)}")
    parser.add_argument("--baseline", default=None, metavar="CHECKOUT",
                        help="also run Volley from this checkout (engine volley-baseline), "
                        "side by side with this one's, and report new/old ratios")
    parser.add_argument("--repeat", type=int, default=3, help="runs per engine; medians reported")
    parser.add_argument("--pyflink-repeat", type=int, default=None,
                        help="runs for PyFlink (default: --repeat); each costs seconds to minutes")
    parser.add_argument("--quick", action="store_true", help="tiny inputs (smoke test)")
    parser.add_argument("--pyflink", default=DEFAULT_PYFLINK, help="python of a PyFlink venv")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per process")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "REPORT.md"))
    args = parser.parse_args(argv)

    selected = [c for c in suite_cases.CASES if c.name in args.cases.split(",")]
    unknown = set(args.cases.split(",")) - set(names)
    if unknown:
        parser.error(f"unknown case(s) {sorted(unknown)}; expected some of {names}")
    engines = args.engines.split(",")
    sizes = suite_cases.Sizes.quick() if args.quick else suite_cases.Sizes()
    pyflink_present = Path(args.pyflink).exists()
    if args.baseline and not (Path(args.baseline) / "volley" / "__init__.py").is_file():
        parser.error(f"--baseline {args.baseline}: expected a checkout with a volley/ package")

    byte_compile(args.baseline)
    sections: list[str] = []
    summary: list[str] = []
    against_baseline: list[str] = []
    failures = 0
    for case in selected:
        print(f"[{case.name}] preparing input", file=sys.stderr, flush=True)
        params = case.inputs(sizes)
        by_engine: dict[str, EngineFigures] = {}
        engine_of: dict[str, suite_cases.Engine] = {}
        for engine in case_engines(case, engines, args.baseline):
            missing = PYFLINK_HOWTO if engine.name == "pyflink" and not pyflink_present else None
            by_engine[engine.name] = EngineFigures(engine.name, [], missing)
            engine_of[engine.name] = engine
        pyflink_repeat = args.repeat if args.pyflink_repeat is None else args.pyflink_repeat
        for name, why in case.not_applicable:
            if name in engines:
                by_engine[name] = EngineFigures(name, [], why)
        engine_order = list(by_engine.values())
        for repeat in range(max(args.repeat, pyflink_repeat)):
            warm_page_cache(params)
            # Each round starts with the next engine, so no engine always goes first.
            shift = repeat % len(engine_order) if engine_order else 0
            for figures in engine_order[shift:] + engine_order[:shift]:
                runs = pyflink_repeat if figures.engine == "pyflink" else args.repeat
                if figures.missing or repeat >= runs:
                    continue
                m = run_once(case, engine_of[figures.engine], params, args)
                figures.runs.append(m)
                shown = m.error or f"job {m.result.get('job_s', m.wall_s):.3f}s wall {m.wall_s:.3f}s"
                print(f"[{case.name}] {figures.engine} #{repeat + 1}: {shown}", file=sys.stderr, flush=True)
        failures += sum(1 for f in by_engine.values() if f.error)
        sections += render_case(case, case.rows(sizes), by_engine)
        if case.verify and "volley" in by_engine:
            lines, ok = verify_result(case, args)
            sections += lines
            failures += not ok
        summary += summary_rows(case, by_engine)
        against_baseline += baseline_rows(case, by_engine)
    if "checkpoints" in args.cases.split(","):
        sections += run_checkpoints(args)

    header = [
        "# Volley benchmark report",
        "",
        f"Generated {dt.datetime.now().isoformat(timespec='minutes')} by "
        f"`python benchmarks/run.py {' '.join(_shown_args(argv))}`; "
        f"median of {args.repeat} run(s) per engine"
        + (f" ({args.pyflink_repeat} for PyFlink)" if args.pyflink_repeat is not None else "")
        + ", each a fresh process, engines interleaved.",
        "",
        *versions(pyflink_present, args.pyflink, args.baseline),
        "",
        "`job s`: engine ready -> job finished (PyFlink's JVM start is excluded). "
        "`process s`: the whole process. Throughput is over the job time; startup is judged on "
        "the whole process. Peak RSS is of the whole process tree (PyFlink: client, JVM and "
        "Python workers). `check`: a digest of the result where there is one, so engines can be "
        "seen to agree.",
        "",
        "## Targets",
        "",
        "| case | target | measured | status |",
        "|---|---|---|---|",
        *summary,
        "",
        *(_baseline_table(against_baseline) if against_baseline else []),
        "## Cases",
        "",
    ]
    Path(args.out).write_text("\n".join(header + sections))
    print(f"report written to {args.out}", file=sys.stderr)
    return 1 if failures else 0


def _shown_args(argv: list[str] | None) -> list[str]:
    """The command line for the report's header, without where the report was written."""
    args = list(argv if argv is not None else sys.argv[1:])
    shown = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg == "--out":
            skip = True
        elif not arg.startswith("--out="):
            shown.append(arg)
    return shown


def _baseline_table(rows: list[str]) -> list[str]:
    return [
        "## Against the baseline",
        "",
        "Volley of this checkout (new) and of the `--baseline` checkout (old), the same case "
        "programs, interleaved in one run. Medians, with the fastest and slowest run in "
        "brackets; new/old above 1 means this checkout is slower. `job` is the job time, "
        "`process` the whole process (startup is judged on it). `paired` is the median over "
        "rounds of new/old within a round, which cancels noise that drifts over minutes; "
        "`CPU paired` the same of CPU time (the job's, of the measured process and its "
        "threads; startup: the whole process's), which moves less than wall time when other "
        "work shares the cores.",
        "",
        "| case (time judged) | new s [min, max] | old s [min, max] | new/old | paired | "
        "CPU paired | new/old process | peak RSS new / old |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
        "",
    ]


if __name__ == "__main__":
    raise SystemExit(main())
