"""Record golden outputs of the cases in cases.py by running them on real PyFlink.

Usage (from the repo root)::

    PATH=/tmp/pyflink/bin:$PATH /tmp/pyflink/bin/python tests/golden/pyflink/record.py [--only NAME ...]

All cases run in one process, reusing one batch and one streaming
TableEnvironment (JVM start-up is the expensive part).  One JSON file per case
is written to ``expected/<name>.json``; see README.md for the format.
"""

from __future__ import annotations

import argparse
import datetime
import inspect
import json
import os
import platform
import sys
import textwrap
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import canon as canon_mod  # noqa: E402
import cases as cases_mod  # noqa: E402

EXPECTED = HERE / "expected"


def _ensure_python_on_path() -> None:
    # Flink starts the Python UDF workers with the `python` found on PATH.
    bindir = str(Path(sys.executable).parent)
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if not parts or parts[0] != bindir:
        os.environ["PATH"] = os.pathsep.join([bindir] + parts)


def _make_env(mode: str):
    from pyflink.table import EnvironmentSettings, TableEnvironment

    settings = (EnvironmentSettings.in_batch_mode() if mode == "batch"
                else EnvironmentSettings.in_streaming_mode())
    t_env = TableEnvironment.create(settings)
    conf = t_env.get_config()
    conf.set("parallelism.default", "1")
    conf.set("python.executable", sys.executable)
    conf.set("python.client.executable", sys.executable)
    return t_env


# ---------------------------------------------------------------------------
# error extraction
# ---------------------------------------------------------------------------


def _first_line(s: str) -> str:
    for line in s.strip().splitlines():
        if line.strip():
            return line.strip()
    return ""


def _error_info(e: BaseException) -> dict:
    """First line of the (Java) exception and of its root cause."""
    j = getattr(e, "java_exception", None)
    if j is not None:
        try:
            first = _first_line(j.toString())
            root = j
            seen = 0
            while root.getCause() is not None and seen < 50:
                root = root.getCause()
                seen += 1
            root_line = _first_line(root.toString())
            return {"error": first, "error_root_cause": root_line}
        except Exception:  # pragma: no cover - fall back to text parsing
            pass
    text = str(e)
    prefix = "An error occurred while calling"
    if text.startswith(prefix) and "\n: " in text:
        text = text.split("\n: ", 1)[1]
    first = _first_line(text) or type(e).__name__
    root_line = first
    for line in text.splitlines():
        if line.startswith("Caused by: "):
            root_line = line[len("Caused by: "):].strip()
    if not j and not first.startswith(("org.", "java.", "py4j")):
        first = f"{type(e).__name__}: {first}"
        if root_line and not root_line.startswith(("org.", "java.")):
            root_line = first
    return {"error": first, "error_root_cause": root_line}


# ---------------------------------------------------------------------------
# running one case
# ---------------------------------------------------------------------------


def _materialize(changelog: list[tuple[str, list]]) -> list:
    """Apply a changelog (+I/-U/+U/-D) to get the final multiset of rows."""
    out: list = []
    for kind, row in changelog:
        if kind in ("+I", "+U"):
            out.append(row)
        else:
            try:
                out.remove(row)
            except ValueError:
                out.append(["<unmatched retraction>", kind, row])
    return out


_SOURCES: dict[str, str | None] = {}


def _table_source(case) -> str | None:
    """Source text of a Table API case (for humans reading the JSON)."""
    if case.table is None:
        return None
    if case.name in _SOURCES:
        return _SOURCES[case.name]
    try:
        src = textwrap.dedent(inspect.getsource(case.table)).strip()
    except (OSError, TypeError):
        src = None
    if src is not None and f'"{case.name}"' not in src:
        src = None  # defensive: never attach the wrong function's source
    _SOURCES[case.name] = src
    return src


def run_case(case, t_env, api) -> dict:
    result: dict = {
        "name": case.name,
        "mode": case.mode,
        "sql": case.sql,
        "table_api": _table_source(case),
        "note": case.note or None,
        "columns": [],
        "types": [],
        "rows": [],
        "ordered": bool(case.ordered),
        "error": None,
    }
    stage = "build"
    try:
        table = t_env.sql_query(case.sql) if case.sql is not None else case.table(t_env, api)
        stage = "schema"
        schema = table._j_table.getResolvedSchema()
        result["columns"] = [str(c) for c in schema.getColumnNames()]
        result["types"] = [t.toString() for t in schema.getColumnDataTypes()]
        stage = "execute"
        changelog: list[tuple[str, list]] = []
        with table.execute().collect() as it:
            for row in it:
                kind = str(row.get_row_kind())
                changelog.append((kind, canon_mod.canon_row(row)))
    except Exception as e:  # noqa: BLE001 - record whatever PyFlink says
        info = _error_info(e)
        result.update(info)
        result["error_stage"] = stage
        result["rows"] = []
        if os.environ.get("GOLDEN_DEBUG"):
            traceback.print_exc()
        return result

    kinds = [k for k, _ in changelog]
    rows_as_collected = [r for _, r in changelog]
    if any(k != "+I" for k in kinds):
        final = _materialize(changelog)
        result["rows"] = canon_mod.sort_rows(final)
        result["changelog_rows"] = rows_as_collected
        result["row_kinds"] = kinds
    else:
        result["rows"] = canon_mod.sort_rows(rows_as_collected)
        if case.ordered:
            result["rows_in_order"] = rows_as_collected
    return result


def _dumps(v) -> str:
    return json.dumps(v, ensure_ascii=False, allow_nan=False)


def _format(obj: dict) -> str:
    """Readable, diff-friendly JSON: one key per line, one row per line."""
    lines = ["{"]
    items = list(obj.items())
    for i, (k, v) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        if isinstance(v, list) and v and all(isinstance(r, list) for r in v):
            lines.append(f"  {_dumps(k)}: [")
            for j, r in enumerate(v):
                lines.append(f"    {_dumps(r)}" + ("," if j < len(v) - 1 else ""))
            lines.append(f"  ]{comma}")
        elif isinstance(v, dict):
            inner = json.dumps(v, ensure_ascii=False, allow_nan=False, indent=2)
            lines.append(f"  {_dumps(k)}: " + inner.replace("\n", "\n  ") + comma)
        else:
            lines.append(f"  {_dumps(k)}: {_dumps(v)}{comma}")
    lines.append("}")
    text = "\n".join(lines) + "\n"
    assert json.loads(text) == obj
    return text


def _write_json(path: Path, obj: dict) -> None:
    path.write_text(_format(obj), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="+", metavar="NAME", help="record only these cases")
    ap.add_argument("--list", action="store_true", help="list case names and exit")
    args = ap.parse_args(argv)

    if args.list:
        for c in cases_mod.CASES:
            print(f"{c.mode:9s} {c.name}")
        return 0

    selected = cases_mod.CASES
    if args.only:
        unknown = [n for n in args.only if n not in cases_mod.CASES_BY_NAME]
        if unknown:
            ap.error(f"unknown case(s): {', '.join(unknown)}")
        selected = [cases_mod.CASES_BY_NAME[n] for n in args.only]

    for c in cases_mod.CASES:  # read sources before anything else touches linecache
        _table_source(c)
    _ensure_python_on_path()
    from pyflink.version import __version__ as pyflink_version

    api = cases_mod.Api.from_package("pyflink")
    EXPECTED.mkdir(parents=True, exist_ok=True)

    envs: dict = {}
    n_rows = n_err = 0
    for mode in ("batch", "streaming"):
        todo = [c for c in selected if c.mode == mode]
        if not todo:
            continue
        t_env = _make_env(mode)
        cases_mod.register_fixtures(t_env, api)
        envs[mode] = t_env
        for case in todo:
            t0 = time.time()
            res = run_case(case, t_env, api)
            _write_json(EXPECTED / f"{case.name}.json", res)
            dt = time.time() - t0
            if res["error"]:
                n_err += 1
                print(f"[ERR ] {case.name} ({dt:.1f}s): {res['error'][:160]}", flush=True)
            else:
                n_rows += 1
                print(f"[ OK ] {case.name} ({dt:.1f}s): {len(res['rows'])} rows", flush=True)

    java_version = None
    try:
        from pyflink.java_gateway import get_gateway
        java_version = str(get_gateway().jvm.java.lang.System.getProperty("java.version"))
    except Exception:
        pass
    _write_json(EXPECTED / "_versions.json", {
        "pyflink": pyflink_version,
        "java": java_version,
        "python": platform.python_version(),
        "recorded_on": datetime.date.today().isoformat(),
        "n_cases": len(cases_mod.CASES),
        "config": {"parallelism.default": "1"},
    })
    print(f"done: {n_rows} recorded rows, {n_err} recorded errors", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
