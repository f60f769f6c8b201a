"""What the suite measures: the engines, the cases, which engines each applies to, and the
issue's targets.

An engine is how one worker process runs a case: which program (Volley's and PyFlink's share
one, through the PyFlink API; DuckDB, the floor and the CPU calibration have their own) and with
which options (batch mode, parallelism, another Volley checkout). A case names the worker
function that runs it (``worker.CASES``), the input it needs (built by ``datasets``), the rows
that its throughput is counted over, and its targets as ratios between engines measured in the
same run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.suite import datasets


@dataclass(frozen=True)
class Engine:
    """One way of running a case in a worker process.

    ``worker`` is the worker's ``--engine`` (which program runs: ``volley`` and ``pyflink``
    share the cases' PyFlink-API program); ``options`` are further worker arguments. Variants of
    Volley differ only in those: batch mode, parallelism, or (``volley-baseline``) the Volley of
    another checkout, whose path ``run.py --baseline`` supplies.
    """

    name: str
    label: str
    worker: str
    options: tuple[str, ...] = ()
    #: a measurement of the machine, not an engine: always run with its case
    calibration: bool = False

    @property
    def volley(self) -> bool:
        return self.worker == "volley"


ENGINES: dict[str, Engine] = {
    e.name: e
    for e in (
        Engine("volley", "Volley", "volley"),
        Engine("volley-batch", "Volley batch", "volley", ("--mode", "batch")),
        Engine("volley-p2", "Volley p2", "volley", ("--parallelism", "2")),
        Engine("volley-baseline", "Volley baseline", "volley"),
        Engine("pyflink", "PyFlink", "pyflink"),
        Engine("duckdb", "DuckDB", "duckdb"),
        Engine("floor", "floor", "floor"),
        Engine("cpu-1", "CPU x1", "cpu", ("--processes", "1"), calibration=True),
        Engine("cpu-2", "CPU x2", "cpu", ("--processes", "2"), calibration=True),
    )
}
ENGINE_LABELS = {name: engine.label for name, engine in ENGINES.items()}
BASELINE = "volley-baseline"


@dataclass(frozen=True)
class Sizes:
    """Input sizes: the issue's full sizes, or tiny ones for the smoke test (``--quick``)."""

    rows: int = 1_000_000
    big_rows: int = 10_000_000
    dim_rows: int = 100_000
    events: int = 10_000_000
    group_keys: int = 1_000_000  # distinct keys of the streaming GROUP BY
    udf_rows: int = 4_000_000  # rows of the parallel UDF case
    cpu_loops: int = 1_000_000  # iterations of the CPU calibration's fixed work, per process

    @classmethod
    def quick(cls) -> Sizes:
        return cls(rows=2_000, big_rows=20_000, dim_rows=500, events=5_000, group_keys=2_000,
                   udf_rows=20_000, cpu_loops=10_000)


@dataclass(frozen=True)
class Target:
    """A goal for ``subject`` (an engine's label; Volley unless said) against one reference.

    ``kind`` is ``"speedup"`` (reference time / subject time must be >= ``value``), ``"within"``
    (subject time / reference time must be <= ``value``), ``"startup"`` (the same, judged on
    the whole process) or ``"memory"`` (subject peak RSS / reference peak RSS must be
    <= ``value``).
    """

    reference: str
    kind: str
    value: float
    subject: str = "Volley"

    def describe(self) -> str:
        who = "" if self.subject == "Volley" else f"{self.subject}: "
        if self.kind == "speedup":
            return f"{who}>= {self.value:g}x {self.reference}'s throughput"
        if self.kind == "startup":
            return f"{who}<= 1/{1 / self.value:g} of {self.reference}'s time"
        if self.kind == "memory":
            return f"{who}peak RSS <= {self.value:g} x {self.reference}'s"
        return f"{who}time within {self.value:g}x of {self.reference}"


@dataclass(frozen=True)
class Ratio:
    """A figure shown under a case: ``scale`` x engine ``numerator``'s time / engine
    ``denominator``'s."""

    numerator: str
    denominator: str
    meaning: str
    scale: float = 1.0
    short: str = ""  # a column heading for the per-round table


@dataclass(frozen=True)
class Case:
    name: str
    title: str
    worker_case: str  # key in worker.CASES; "startup" is run as a whole process instead
    engines: tuple[str, ...]
    inputs: Callable[[Sizes], dict]  # builds the input files, returns the worker's params
    rows: Callable[[Sizes], int] = lambda s: 0  # rows the throughput is counted over
    targets: tuple[Target, ...] = field(default_factory=tuple)
    streaming: bool = True
    unit: str = "rows"  # what ``rows`` counts (Nexmark: events, of which 92% are bids)
    #: references that cannot run this case, and why (shown in the report instead of figures)
    not_applicable: tuple[tuple[str, str], ...] = ()
    #: time ratios between engines shown under the case (besides the targets)
    ratios: tuple[Ratio, ...] = ()
    #: ``run.py --baseline`` runs this case on the baseline checkout's Volley too
    baseline: bool = True
    #: how the engines run it, when not simply in the case's mode (shown under the input line)
    note: str = ""
    #: show every round's times too (when the machine's capacity changes from round to round)
    per_round: bool = False
    #: check Volley's answer (benchmarks/nexmark_check.py) and show the line it prints
    verify: bool = False


def _id_v(size: Callable[[Sizes], int]) -> Callable[[Sizes], dict]:
    return lambda s: {"csv": str(datasets.id_v_csv(size(s)))}


def _groupby(s: Sizes) -> dict:
    return {"parquet": str(datasets.groupby_parquet(s.big_rows))}


def _join(s: Sizes) -> dict:
    fact, dim = datasets.join_parquet(s.big_rows, s.dim_rows)
    return {"fact": str(fact), "dim": str(dim)}


def _groupby_csv(s: Sizes) -> dict:
    return {"csv": str(datasets.groupby_csv(s.big_rows, s.group_keys))}


def _udf_parallel(s: Sizes) -> dict:
    return {"csv": str(datasets.id_v_csv(s.udf_rows)), "loops": s.cpu_loops}


def _nexmark(query: str) -> Callable[[Sizes], dict]:
    return lambda s: {"bid": str(datasets.nexmark_bids(s.events)), "query": query}


def _nexmark_streaming(query: str) -> Callable[[Sizes], dict]:
    def inputs(s: Sizes) -> dict:
        directory = datasets.nexmark_bids(s.events).parent
        return {"query": query, **{kind: str(directory / f"{kind}.csv")
                                   for kind in ("person", "auction", "bid")}}
    return inputs


def _nexmark_rows(query: str) -> Callable[[Sizes], int]:
    from benchmarks.suite.nexmark_streaming import rows_read

    return lambda s: rows_read(query, s.events)


MEMORY = Target("PyFlink", "memory", 0.5)
NO_PARQUET = ("not applicable: the apache-flink package ships no Parquet format "
              "(flink-parquet is a separate jar)")
FLOOR = Target("floor", "within", 1.3)


def _rows(s: Sizes) -> int:
    return s.rows


def _big_rows(s: Sizes) -> int:
    return s.big_rows


def _udf_rows(s: Sizes) -> int:
    return s.udf_rows


CASES: tuple[Case, ...] = (
    Case(
        "startup",
        "startup: a new process builds a 3-row table and collects it",
        "startup",
        ("volley", "pyflink", "duckdb", "floor"),
        lambda s: {},
        targets=(Target("PyFlink", "startup", 1 / 15), MEMORY),
    ),
    Case(
        "udf",
        "general Python UDF `v * 2 + 1`, CSV -> blackhole",
        "udf",
        ("volley", "pyflink", "floor"),
        _id_v(_rows),
        _rows,
        (Target("PyFlink", "speedup", 20), FLOOR, MEMORY),
    ),
    Case(
        "pandas",
        "pandas UDF `v * 2 + 1`, CSV -> blackhole",
        "pandas",
        ("volley", "pyflink", "floor"),
        _id_v(_rows),
        _rows,
        (Target("PyFlink", "speedup", 30), FLOOR, MEMORY),
    ),
    Case(
        "sql",
        "SQL `v * 2 + 1`, no UDF, CSV -> blackhole",
        "sql",
        ("volley", "pyflink", "duckdb", "floor"),
        _id_v(_rows),
        _rows,
        (Target("PyFlink", "speedup", 5), FLOOR, MEMORY),
    ),
    Case(
        "sql10m",
        "SQL `v * 2 + 1` on the big CSV",
        "sql10m",
        ("volley", "pyflink", "duckdb", "floor"),
        _id_v(_big_rows),
        _big_rows,
        (Target("PyFlink", "speedup", 2), FLOOR, MEMORY),
    ),
    Case(
        "convert",
        "from_pandas(N x 2 floats) -> filter a > 0.5 -> to_pandas",
        "convert",
        ("volley", "pyflink", "floor"),
        lambda s: {"rows": s.rows},
        _rows,
        (Target("PyFlink", "speedup", 50), FLOOR, MEMORY),
    ),
    Case(
        "groupby",
        "batch GROUP BY (1,000 keys: count, sum, avg, min, max) from Parquet",
        "groupby",
        ("volley", "duckdb", "floor"),
        _groupby,
        _big_rows,
        (Target("DuckDB", "within", 1.25),),
        streaming=False,
        not_applicable=(("pyflink", NO_PARQUET),),
    ),
    Case(
        "join",
        "batch join fact x dimension + GROUP BY category, from Parquet",
        "join",
        ("volley", "duckdb", "floor"),
        _join,
        _big_rows,
        (Target("DuckDB", "within", 1.25),),
        streaming=False,
        not_applicable=(("pyflink", NO_PARQUET),),
    ),
    Case(
        "groupby-stream",
        "streaming GROUP BY k (1,000,000 keys: count, sum, avg, min, max), CSV -> blackhole",
        "groupby_stream",
        ("volley", "volley-batch", "pyflink", "duckdb", "floor"),
        _groupby_csv,
        _big_rows,
        (Target("Volley batch", "within", 2.0),),
        note=(
            "Volley and PyFlink run it in streaming mode: every row updates its group, and the "
            "updating changelog (-U/+U) goes into the blackhole. Volley batch runs the same "
            "program in batch mode (final rows only); DuckDB and the floor compute the final "
            "rows in batch."
        ),
        ratios=(
            Ratio("volley", "volley-batch", "Volley streaming / Volley batch"),
            Ratio("pyflink", "volley", "PyFlink streaming / Volley streaming (Volley's speedup)"),
            Ratio("volley", "duckdb", "Volley streaming / DuckDB (batch)"),
        ),
        baseline=False,
    ),
    Case(
        "window-tumble",
        "tumbling event-time window (10 s; 1,000 keys: count, sum, max), CSV -> blackhole",
        "window_tumble",
        ("volley", "pyflink", "floor"),
        lambda s: {"csv": str(datasets.window_csv(s.rows, 1000))},
        _rows,
        (Target("PyFlink", "speedup", 3), MEMORY),
        note=("One row per millisecond of event time, in order, with a 1-second watermark "
              "delay: 100 windows of 10,000 rows at full size, each emitted once when the "
              "watermark passes its end. The floor groups the whole file by key and window "
              "start with pyarrow, in batch."),
        baseline=False,
    ),
    Case(
        "udf-parallel",
        "general Python UDF (string formatting, 1-2 µs a row), CSV -> blackhole, "
        "parallelism 1 vs 2",
        "udf_parallel",
        ("volley", "volley-p2", "cpu-1", "cpu-2"),
        _udf_parallel,
        _udf_rows,
        (Target("Volley", "speedup", 1.6, subject="Volley p2"),),
        note=(
            "Streaming mode. Volley p2: `parallelism.default` 2 — the source has one file, so "
            "one source subtask, and the UDF runs in two forked worker processes that get its "
            "rows rebalanced. CPU x1 / x2 calibrate the machine: 1 or 2 processes at once, each "
            "calling the UDF's function a fixed number of times (1,000,000 at full size) "
            "with no engine; their ratio shows how much parallel capacity the 2 vCPUs had "
            "during this run."
        ),
        per_round=True,
        ratios=(
            Ratio("volley-p2", "volley", "UDF job: parallelism 2 / parallelism 1",
                  short="p2 / p1"),
            Ratio("cpu-2", "cpu-1",
                  "machine: 2 CPU-bound processes / 1 (the same fixed work each; "
                  "1.0 = two free cores, 2.0 = one core's worth)", short="x2 / x1"),
            Ratio("volley", "volley-p2", "UDF job's speedup at parallelism 2 (p1 / p2)",
                  short="UDF speedup"),
            Ratio("cpu-1", "cpu-2",
                  "the machine's speedup for 2 processes: 2 x (1 process / 2 processes), "
                  "the most any 2-process job could gain in this run", scale=2.0,
                  short="machine speedup"),
        ),
        baseline=False,
    ),
    *(
        Case(
            f"nexmark-{q}",
            f"Nexmark {q} ({title}), streaming, bid CSV -> blackhole",
            "nexmark",
            ("volley", "pyflink", "duckdb", "floor"),
            _nexmark(q),
            lambda s: s.events,
            (Target("PyFlink", "speedup", 2), FLOOR, MEMORY),
            unit="events (92% of them bids, the rows read)",
        )
        for q, title in (("q0", "pass-through"), ("q1", "currency conversion"), ("q2", "selection"))
    ),
    *(
        Case(
            f"nexmark-{q}",
            f"Nexmark {q} ({title}), streaming, CSV -> blackhole",
            "nexmark_streaming",
            ("volley", "pyflink", "floor"),
            _nexmark_streaming(q),
            _nexmark_rows(q),
            (Target("PyFlink", "speedup", 3), MEMORY),
            unit=f"rows read (of {reads})",
            note=("Volley and PyFlink run the query in streaming mode into a blackhole; the "
                  "floor computes its final result with pandas, in batch. Volley's answer is "
                  "checked against that result by benchmarks/nexmark_check.py (the line "
                  "below)."),
            baseline=False,
            verify=True,
        )
        for q, title, reads in (
            ("q3", "local item suggestion: join", "auction, person"),
            ("q4", "average closing price per category: join, updating aggregates",
             "auction, bid"),
            ("q5", "hot items: HOP window counts joined with their maximum", "bid"),
            ("q7", "highest bid: TUMBLE maximum joined back to the bids", "bid"),
            ("q8", "new users: two TUMBLE aggregates joined on the window", "person, auction"),
        )
    ),
)

STARTUP_SCRIPTS = {
    "volley": (
        "from volley.table import EnvironmentSettings, TableEnvironment\n"
        "t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())\n"
        "rows = list(t_env.from_elements([(1,), (2,), (3,)], ['x']).execute().collect())\n"
        "assert len(rows) == 3, rows\n"
    ),
    "duckdb": (
        "import duckdb\n"
        "rows = duckdb.sql('SELECT * FROM (VALUES (1), (2), (3)) AS t(x)').fetchall()\n"
        "assert len(rows) == 3, rows\n"
    ),
    "floor": (
        "import pyarrow as pa\n"
        "rows = pa.table({'x': [1, 2, 3]}).to_pylist()\n"
        "assert len(rows) == 3, rows\n"
    ),
}
STARTUP_SCRIPTS["pyflink"] = STARTUP_SCRIPTS["volley"].replace("volley", "pyflink")
STARTUP_SCRIPTS["volley-baseline"] = STARTUP_SCRIPTS["volley"]  # run in the baseline checkout
# Each startup process reports its own peak RSS the way worker.own_peak_rss does.
_REPORT_PEAK = (
    "import json\n"
    "peak = [int(l.split()[1]) * 1024 for l in open('/proc/self/status') if l.startswith('VmHWM:')]\n"
    "print('BENCH-RESULT ' + json.dumps({'peak_rss': peak[0] if peak else 0}))\n"
)
STARTUP_SCRIPTS = {engine: script + _REPORT_PEAK for engine, script in STARTUP_SCRIPTS.items()}


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent.parent
