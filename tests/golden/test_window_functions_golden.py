"""OVER windows, Top-N, deduplication and ORDER BY time against PyFlink, beyond the final rows.

``test_pyflink_golden`` compares every case's result; here the streaming cases over the
``readings`` table run with their source cut into one-row batches, as PyFlink processes rows one
at a time, so Volley's changelog — each row and its kind, in order — must be PyFlink's exactly
where the result updates; an insert-only result must have PyFlink's rows (and order, for ORDER
BY). Over an updating input (a Top-N of a GROUP BY) a batch's changes are netted (a rank
whose row changes is ``-U``/``+U``, where PyFlink, a row at a time, says ``-D`` then ``+I``):
the materialized result must be PyFlink's. And a bounded query gives the same rows in batch mode
as its materialized changelog in streaming mode.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from test_pyflink_golden import _materialized, canon_module, cases_module

from volley.runtime import sources
from volley.table import EnvironmentSettings, TableEnvironment

EXPECTED = Path(__file__).parent / "pyflink" / "expected"
OURS = [c.name for c in cases_module.CASES
        if c.table is not None and c.table.__qualname__.startswith(("_readings_sql", "_over_table"))]
GOLDENS = {name: json.loads((EXPECTED / f"{name}.json").read_text()) for name in OURS}
STREAMING = [n for n in OURS if n.startswith("stream_") and GOLDENS[n]["error"] is None
             and "proctime" not in n]
#: cases whose input is itself updating: their changelog is netted per batch
UPDATING_INPUT = {"stream_topn_of_aggregate"}
UPDATING = [n for n in STREAMING if GOLDENS[n].get("row_kinds") and n not in UPDATING_INPUT]
INSERT_ONLY = [n for n in STREAMING if not GOLDENS[n].get("row_kinds")]
PAIRS = [n for n in OURS if n.startswith("batch_") and f"stream_{n[6:]}" in GOLDENS
         and GOLDENS[f"stream_{n[6:]}"]["error"] is None]


def _env(mode: str, parallelism: int = 1) -> TableEnvironment:
    settings = EnvironmentSettings.in_streaming_mode() if mode == "streaming" \
        else EnvironmentSettings.in_batch_mode()
    t_env = TableEnvironment.create(settings)
    t_env.get_config().set("parallelism.default", str(parallelism))
    cases_module.register_fixtures(t_env, cases_module.Api.from_package("volley"))
    return t_env


@pytest.fixture
def one_row_batches(monkeypatch):
    """Every source hands out its rows one per batch."""
    elements = sources.SourceReader.elements

    def one_at_a_time(self):
        for element in elements(self):
            batch = element.batch
            for i in range(batch.num_rows - 1):
                yield sources.SourceElement(batch.slice(i, 1), element.split_id, None)
            yield sources.SourceElement(batch.slice(max(batch.num_rows - 1, 0)),
                                        element.split_id, element.position)

    monkeypatch.setattr(sources.SourceReader, "elements", one_at_a_time)


def _collect(name: str, mode: str, parallelism: int = 1) -> list:
    case = cases_module.CASES_BY_NAME[name]
    t_env = _env(mode, parallelism)
    table = case.table(t_env, cases_module.Api.from_package("volley"))
    with table.execute().collect() as rows:
        return list(rows)


def _changelog(rows) -> list:
    return [[r.get_row_kind().short_string(), canon_module.canon_row(r)] for r in rows]


@pytest.mark.parametrize("name", UPDATING)
def test_updating_results_have_pyflinks_changelog(name, one_row_batches):
    golden = GOLDENS[name]
    expected = [list(x) for x in zip(golden["row_kinds"], golden["changelog_rows"], strict=True)]
    assert _changelog(_collect(name, "streaming")) == expected


@pytest.mark.parametrize("name", sorted(UPDATING_INPUT))
def test_over_an_updating_input_the_materialized_result_is_pyflinks(name, one_row_batches):
    rows = _collect(name, "streaming")
    assert canon_module.sort_rows(_materialized(rows)) == GOLDENS[name]["rows"]


@pytest.mark.parametrize("name", INSERT_ONLY)
def test_insert_only_results_have_pyflinks_rows(name, one_row_batches):
    golden = GOLDENS[name]
    rows = _collect(name, "streaming")
    assert {r.get_row_kind().short_string() for r in rows} <= {"+I"}
    got = [canon_module.canon_row(r) for r in rows]
    if golden["ordered"]:
        assert got == golden["rows_in_order"]
    assert canon_module.sort_rows(got) == golden["rows"]


@pytest.mark.parametrize("name", PAIRS)
def test_batch_mode_gives_what_streaming_mode_materializes(name):
    batch = canon_module.sort_rows([canon_module.canon_row(r) for r in _collect(name, "batch")])
    streaming = canon_module.sort_rows(_materialized(_collect(f"stream_{name[6:]}", "streaming")))
    assert batch == streaming
    assert streaming == GOLDENS[f"stream_{name[6:]}"]["rows"]


@pytest.mark.parametrize("name", [n for n in PAIRS if GOLDENS[n]["error"] is None])
def test_batch_results_at_parallelism_2(name):
    rows = [canon_module.canon_row(r) for r in _collect(name, "batch", parallelism=2)]
    assert canon_module.sort_rows(rows) == GOLDENS[name]["rows"]


def test_proctime_windows_follow_arrival_order(one_row_batches):
    """Processing time orders rows as they arrive: one at a time, PyFlink's rows exactly."""
    for name in ("stream_over_proctime_rows", "stream_over_proctime_unbounded",
                 "stream_dedup_first_proctime"):
        rows = [canon_module.canon_row(r) for r in _collect(name, "streaming")]
        assert canon_module.sort_rows(rows) == GOLDENS[name]["rows"], name
    golden = GOLDENS["stream_dedup_last_proctime"]
    expected = [list(x) for x in zip(golden["row_kinds"], golden["changelog_rows"], strict=True)]
    assert _changelog(_collect("stream_dedup_last_proctime", "streaming")) == expected


def test_the_cases_cover_every_kind_of_window_function():
    kinds = Counter(name.split("_", 1)[1].split("_")[0] for name in OURS)
    assert {"over", "topn", "dedup", "order", "tbl", "row"} <= set(kinds)
    assert UPDATING and INSERT_ONLY and PAIRS


ERRORS = [
    ("SELECT k, SUM(v) OVER (PARTITION BY k ORDER BY ts DESC) AS s FROM readings",
     "The window can only be ordered in ASCENDING mode"),
    ("SELECT k, SUM(v) OVER (PARTITION BY k ORDER BY v ROWS 1 PRECEDING) AS s FROM readings",
     "Non-time attribute sort is not supported for bounded OVER window (column 'v'"),
    ("SELECT k, SUM(v) OVER (PARTITION BY k ORDER BY ts ROWS 1 PRECEDING) AS s, COUNT(*) OVER "
     "(PARTITION BY k ORDER BY ts) AS c FROM readings", "All aggregates must be computed on the same"),
    ("SELECT k, SUM(v) OVER (PARTITION BY k ORDER BY ts ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING)"
     " AS s FROM readings", "OVER RANGE FOLLOWING windows are not supported yet"),
    ("SELECT * FROM (SELECT k, RANK() OVER (PARTITION BY k ORDER BY v) AS r FROM readings) "
     "WHERE r <= 2", "RANK() on streaming table is not supported currently"),
    ("SELECT k, v FROM readings ORDER BY v", "Sort on a non-time-attribute field is not supported"),
    ("SELECT k, SUM(v) OVER (PARTITION BY k ORDER BY ts) AS s FROM (SELECT k, SUM(v) AS v, "
     "MAX(ts) AS ts FROM readings GROUP BY k)", "needs an insert-only input"),
    ("SELECT SUM(v) OVER w FROM readings WINDOW x AS (ORDER BY ts)",
     "window 'w' is not defined; define it in the WINDOW clause"),
    ("SELECT SUM(v) OVER (PARTITION BY k ORDER BY ts RANGE BETWEEN 2 PRECEDING AND CURRENT ROW) "
     "FROM readings", "Data Type mismatch between ORDER BY and RANGE clause"),
]


@pytest.mark.parametrize("sql,message", ERRORS)
def test_what_a_stream_cannot_run_is_refused_with_flinks_reason(sql, message):
    from volley.errors import VolleyError

    t_env = _env("streaming")
    cases_module.register_readings(t_env)
    with pytest.raises(VolleyError, match=re.escape(message)):
        list(t_env.sql_query(sql).execute().collect())
