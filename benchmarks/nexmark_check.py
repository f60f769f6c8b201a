"""Check Volley's answers to the streaming Nexmark queries against pandas.

    python benchmarks/nexmark_check.py --events 10000000 q3 q4 q5 q7 q8

Each query runs in streaming mode and its changelog is materialized (``to_pandas``); the rows
must equal, as a multiset, the pandas computation of the query in
``benchmarks/suite/nexmark_streaming.py``. ``benchmarks/run.py`` runs this for each streaming
Nexmark case and puts the line it prints under the case's figures; a wrong answer fails the run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.suite import datasets, nexmark, nexmark_streaming  # noqa: E402


def check(query: str, directory: Path) -> tuple[bool, str]:
    from volley.table import EnvironmentSettings, TableEnvironment

    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    for kind in nexmark.KINDS:
        t_env.execute_sql(nexmark.ddl(kind, kind, directory / f"{kind}.csv"))
    began = time.perf_counter()
    got = t_env.sql_query(nexmark_streaming.QUERIES[query]).to_pandas()
    volley_s = time.perf_counter() - began
    began = time.perf_counter()
    want = nexmark_streaming.pandas_result(query, directory)
    pandas_s = time.perf_counter() - began
    ok, line = nexmark_streaming.same_rows(got, want)
    return ok, (f"{query}: Volley's materialized result against pandas: {line} "
                f"(Volley {volley_s:.1f} s with to_pandas, pandas {pandas_s:.1f} s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("queries", nargs="+", choices=sorted(nexmark_streaming.QUERIES))
    parser.add_argument("--events", type=int, default=10_000_000)
    args = parser.parse_args(argv)
    directory = datasets.nexmark_bids(args.events).parent
    failed = 0
    for query in args.queries:
        ok, line = check(query, directory)
        print(line if ok else f"WRONG {line}", flush=True)
        failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
