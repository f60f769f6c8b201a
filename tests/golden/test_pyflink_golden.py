"""Volley against outputs recorded from real PyFlink (tests/golden/pyflink/expected/*.json).

Each case in ``pyflink/cases.py`` runs here on Volley in the mode it was recorded in; result rows
(canonicalized the same way the recorder did), column names and column types must match. Cases PyFlink itself
rejected are not compared (their JSON records the error). Known, understood differences are
listed in ``KNOWN_DIFFERENCES`` as strict xfails, so fixing one turns its test red until the entry
is removed.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent / "pyflink"
EXPECTED = HERE / "expected"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"golden_{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


cases_module = _load("cases")
canon_module = _load("canon")

GOLDENS = {
    p.stem: json.loads(p.read_text())
    for p in sorted(EXPECTED.glob("*.json"))
    if not p.name.startswith("_")
}
COMPARABLE = sorted(
    name for name, g in GOLDENS.items() if g.get("error") is None and name in cases_module.CASES_BY_NAME
)

# case name -> why Volley differs (kept honest by strict xfail)
KNOWN_DIFFERENCES: dict[str, str] = {}

_ENVS: dict[str, object] = {}


def _env(mode: str):
    if mode not in _ENVS:
        from volley.table import EnvironmentSettings, TableEnvironment

        settings = (EnvironmentSettings.in_batch_mode() if mode == "batch"
                    else EnvironmentSettings.in_streaming_mode())
        t_env = TableEnvironment.create(settings)
        api = cases_module.Api.from_package("volley")
        cases_module.register_fixtures(t_env, api)
        _ENVS[mode] = (t_env, api)
    return _ENVS[mode]


def _run(name: str):
    case = cases_module.CASES_BY_NAME[name]
    t_env, api = _env(case.mode)
    table = t_env.sql_query(case.sql) if case.sql else case.table(t_env, api)
    names = table.get_schema().get_field_names()
    types = [str(t) for t in table.get_schema().get_field_data_types()]
    with table.execute().collect() as rows:
        collected = list(rows)
    # an updating result is compared as the recorder stored it: its changelog applied
    result = _materialized(collected)
    return names, types, result


def _params():
    for name in COMPARABLE:
        marks = []
        if name in KNOWN_DIFFERENCES:
            marks.append(pytest.mark.xfail(reason=KNOWN_DIFFERENCES[name], strict=True))
        yield pytest.param(name, id=name, marks=marks)


@pytest.mark.parametrize("name", list(_params()))
def test_rows_match_pyflink(name: str) -> None:
    golden = GOLDENS[name]
    names, _types, rows = _run(name)
    assert names == golden["columns"]
    if golden.get("ordered") and golden.get("rows_in_order") is not None:
        assert rows == golden["rows_in_order"]
    else:
        assert canon_module.sort_rows(rows) == golden["rows"]


@pytest.mark.parametrize("name", list(_params()))
def test_types_match_pyflink(name: str) -> None:
    """Result types as Flink prints them (``INT NOT NULL``, ``DECIMAL(21, 13)``, ``CHAR(3)``)."""
    _names, types, _rows = _run(name)
    assert types == GOLDENS[name]["types"]


# cases PyFlink rejects but Volley runs, and why that is right
VOLLEY_ACCEPTS = {
    "tbl_order_by_offset": "OFFSET without FETCH is a plain slice; Flink's planner cannot do it",
    "sql_double_div_by_zero_literal": "Volley does not fold constants at planning time; at run "
    "time DOUBLE division by zero is Infinity in Flink too",
    "win_session_agg_batch": "Volley runs SESSION windows in batch mode too (the same operator "
    "as in streaming mode); test_batch_session_windows_equal_streaming_ones checks the rows",
    **{f"batch_tbl_over_{name}": "Table API over windows run in batch mode too; PyFlink's "
       "want a time attribute, which a batch table does not have"
       for name in ("unbounded_range", "row_interval", "hours")},
    **{name: "PyFlink 2.3's batch RANGE frame over a TIMESTAMP fails in its code generation "
       "(Cannot cast TimestampData to Long); Volley gives the rows its streaming mode gives "
       "(test_window_functions_golden checks them against PyFlink's streaming rows)"
       for name in ("batch_over_range_interval", "batch_over_range_in_expression")},
}
REJECTED = sorted(
    name for name, g in GOLDENS.items()
    if g.get("error") is not None and name in cases_module.CASES_BY_NAME
)


@pytest.mark.parametrize("name", REJECTED)
def test_what_pyflink_rejects_volley_rejects_with_a_volley_error(name: str) -> None:
    from volley.errors import VolleyError

    if name in VOLLEY_ACCEPTS:
        _run(name)  # runs to completion; the reason is recorded in VOLLEY_ACCEPTS
        return
    with pytest.raises(VolleyError):
        _run(name)


def test_goldens_were_recorded() -> None:
    assert len(COMPARABLE) >= 150, "PyFlink goldens missing; see tests/golden/pyflink/README.md"


STREAMING = [name for name in COMPARABLE
             if cases_module.CASES_BY_NAME[name].mode == "streaming"
             and not GOLDENS[name].get("ordered")]


def _materialized(rows) -> list:
    """A changelog applied, as the recorder applied PyFlink's: +I/+U add, -U/-D remove."""
    final: list = []
    for row in rows:
        values = canon_module.canon_row(row)
        if row.get_row_kind().value in (0, 2):
            final.append(values)
        else:
            final.remove(values)
    return final


@pytest.mark.parametrize("name", STREAMING)
def test_streaming_cases_give_the_same_rows_at_parallelism_2(name: str) -> None:
    """Subtasks in worker processes, hash exchanges between them: the rows PyFlink gives."""
    from volley.table import EnvironmentSettings, TableEnvironment

    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    t_env.get_config().set("parallelism.default", "2")
    api = cases_module.Api.from_package("volley")
    cases_module.register_fixtures(t_env, api)
    case = cases_module.CASES_BY_NAME[name]
    table = t_env.sql_query(case.sql) if case.sql else case.table(t_env, api)
    with table.execute().collect() as rows:
        final = _materialized(rows)
    assert canon_module.sort_rows(final) == GOLDENS[name]["rows"]


def test_batch_session_windows_equal_streaming_ones() -> None:
    """PyFlink refuses SESSION windows in batch mode; Volley's are the streaming ones."""
    _names, _types, rows = _run("win_session_agg_batch")
    assert canon_module.sort_rows(rows) == GOLDENS["win_session_agg"]["rows"]


INSERT_ONLY = [name for name in STREAMING if not GOLDENS[name].get("row_kinds")]


@pytest.mark.parametrize("name", INSERT_ONLY)
def test_streaming_cases_pyflink_answered_with_inserts_only_emit_inserts_only(name: str) -> None:
    """The changelog's kinds, not only its rows: where PyFlink emitted only +I, so does Volley
    (an interval or temporal join's outer rows are inserts, never retractions)."""
    case = cases_module.CASES_BY_NAME[name]
    t_env, api = _env(case.mode)
    table = t_env.sql_query(case.sql) if case.sql else case.table(t_env, api)
    with table.execute().collect() as rows:
        kinds = {row.get_row_kind().value for row in rows}
    assert kinds <= {0}
