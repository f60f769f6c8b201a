"""What the suite measures: the cases, which engines each applies to, and the issue's targets.

A case names the worker function that runs it (``worker.CASES``), the input it needs (built by
``datasets``), the rows that its throughput is counted over, and its targets as ratios against
the references measured in the same run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.suite import datasets


@dataclass(frozen=True)
class Sizes:
    """Input sizes: the issue's full sizes, or tiny ones for the smoke test (``--quick``)."""

    rows: int = 1_000_000
    big_rows: int = 10_000_000
    dim_rows: int = 100_000
    events: int = 10_000_000

    @classmethod
    def quick(cls) -> Sizes:
        return cls(rows=2_000, big_rows=20_000, dim_rows=500, events=5_000)


@dataclass(frozen=True)
class Target:
    """A goal for Volley against one reference.

    ``kind`` is ``"speedup"`` (reference time / Volley time must be >= ``value``), ``"within"``
    (Volley time / reference time must be <= ``value``) or ``"memory"`` (Volley peak RSS /
    reference peak RSS must be <= ``value``).
    """

    reference: str
    kind: str
    value: float

    def describe(self) -> str:
        if self.kind == "speedup":
            return f">= {self.value:g}x {self.reference}'s throughput"
        if self.kind == "startup":
            return f"<= 1/{1 / self.value:g} of {self.reference}'s time"
        if self.kind == "memory":
            return f"peak RSS <= {self.value:g} x {self.reference}'s"
        return f"time within {self.value:g}x of {self.reference}"


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


def _id_v(size: Callable[[Sizes], int]) -> Callable[[Sizes], dict]:
    return lambda s: {"csv": str(datasets.id_v_csv(size(s)))}


def _groupby(s: Sizes) -> dict:
    return {"parquet": str(datasets.groupby_parquet(s.big_rows))}


def _join(s: Sizes) -> dict:
    fact, dim = datasets.join_parquet(s.big_rows, s.dim_rows)
    return {"fact": str(fact), "dim": str(dim)}


def _nexmark(query: str) -> Callable[[Sizes], dict]:
    return lambda s: {"bid": str(datasets.nexmark_bids(s.events)), "query": query}


MEMORY = Target("PyFlink", "memory", 0.5)
NO_PARQUET = ("not applicable: the apache-flink package ships no Parquet format "
              "(flink-parquet is a separate jar)")
FLOOR = Target("floor", "within", 1.3)


def _rows(s: Sizes) -> int:
    return s.rows


def _big_rows(s: Sizes) -> int:
    return s.big_rows


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
)

#: Engines whose absence is allowed (the suite says how to install them) versus the ones it needs.
ENGINE_LABELS = {"volley": "Volley", "pyflink": "PyFlink", "duckdb": "DuckDB", "floor": "floor"}

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
# Each startup process reports its own peak RSS the way worker.own_peak_rss does.
_REPORT_PEAK = (
    "import json\n"
    "peak = [int(l.split()[1]) * 1024 for l in open('/proc/self/status') if l.startswith('VmHWM:')]\n"
    "print('BENCH-RESULT ' + json.dumps({'peak_rss': peak[0] if peak else 0}))\n"
)
STARTUP_SCRIPTS = {engine: script + _REPORT_PEAK for engine, script in STARTUP_SCRIPTS.items()}


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent.parent
