"""Updating results against PyFlink's changelogs: the rows *and their kinds*, in order.

``test_pyflink_golden.py`` compares final rows; here the changelog itself is compared:

* every recorded updating case gives a consistent changelog (each ``-U``/``-D`` retracts a row
  an earlier ``+I``/``+U`` added) whose materialization is PyFlink's final result, however the
  input is cut into batches;
* for the cases whose last stateful operator takes two inputs (an outer join, a set operation),
  that operator replays PyFlink's changelog exactly. Flink interleaves its two inputs as they
  happen to arrive (its recording shows alternation in one case and one input after the other
  in another), so the test looks for the interleaving of the two inputs' changelogs under which
  Volley's operator (and the projection after it) emits PyFlink's recorded changelog, row for
  row and kind for kind. Within one input row the matches come in Flink's state order (a hash
  order), so each input row's output is compared as a multiset; across input rows the order is
  exact. The inputs' own changelogs are Volley's, one row per batch — what Flink's operators
  emit record by record (``stream_group_by_changelog`` pins that they agree).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "runtime"))
from test_pyflink_golden import COMPARABLE, GOLDENS, canon_module, cases_module  # noqa: E402

from volley.common.changelog import ROW_KIND_COLUMN, SHORT_STRINGS  # noqa: E402
from volley.plan import nodes as n  # noqa: E402

CHANGELOG_CASES = [name for name in COMPARABLE if GOLDENS[name].get("row_kinds")]

#: cases whose last stateful operator has two inputs, replayed against Flink's interleavings
REPLAYED = [
    "stream_left_join", "stream_right_join", "stream_full_join", "stream_left_join_residual",
    "stream_left_join_updating_right", "stream_right_join_updating_left",
    "stream_full_join_updating_both", "stream_tbl_full_outer_join", "stream_intersect_all",
    "stream_except", "stream_except_all", "stream_union_updating", "stream_except_updating",
    "stream_intersect_all_updating", "stream_union_all_updating", "stream_not_exists",
    "stream_not_in_with_null", "stream_not_in", "stream_exists_updating",
]
TWO_INPUT_KINDS = ("stream_join", "stream_set_op", "union")


def _env(batch_rows: int = 1 << 20):
    """A streaming environment whose in-memory tables are read ``batch_rows`` rows a batch."""
    from volley.table import EnvironmentSettings, TableEnvironment

    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    make = t_env._planner

    def planner(settings):
        p = make(settings)
        p.batch_rows = batch_rows
        return p

    t_env._planner = planner
    api = cases_module.Api.from_package("volley")
    cases_module.register_fixtures(t_env, api)
    return t_env, api


def _table(t_env, api, name: str):
    case = cases_module.CASES_BY_NAME[name]
    return t_env.sql_query(case.sql) if case.sql else case.table(t_env, api)


def _changelog(batches) -> list[tuple[str, list]]:
    """(kind, canonical row) of every row of ``batches`` (insert-only batches: ``+I``)."""
    out = []
    for batch in batches:
        kinds = batch.column(ROW_KIND_COLUMN).to_pylist() \
            if ROW_KIND_COLUMN in batch.schema.names else [0] * batch.num_rows
        values = batch.drop_columns([ROW_KIND_COLUMN]) \
            if ROW_KIND_COLUMN in batch.schema.names else batch
        for kind, row in zip(kinds, values.to_pylist(), strict=True):
            out.append((SHORT_STRINGS[kind], canon_module.canon_row(list(row.values()))))
    return out


def _recorded(name: str) -> list[tuple[str, list]]:
    golden = GOLDENS[name]
    return list(zip(golden["row_kinds"], golden["changelog_rows"], strict=True))


def _key(row: list) -> str:
    return json.dumps(row, sort_keys=True, default=str)


@pytest.mark.parametrize("batch_rows", [1, 3, 1 << 20], ids=["rows", "threes", "whole"])
@pytest.mark.parametrize("name", CHANGELOG_CASES)
def test_changelog_is_consistent_and_ends_as_pyflinks(name, batch_rows) -> None:
    t_env, api = _env(batch_rows)
    with _table(t_env, api, name).execute().collect() as rows:
        log = [(str(r.get_row_kind()), canon_module.canon_row(r)) for r in rows]
    live: Counter = Counter()
    for kind, row in log:
        if kind in ("+I", "+U"):
            live[_key(row)] += 1
        else:
            assert live[_key(row)] > 0, f"{kind} {row} retracts a row that is not there"
            live[_key(row)] -= 1
    expected = Counter(_key(r) for r in GOLDENS[name]["rows"])
    assert +live == expected


def _two_input_node(plan: n.Node) -> n.Node:
    while isinstance(plan, (n.Project, n.Filter)):
        plan = plan.input
    assert isinstance(plan, (n.Join, n.SetOp)), f"not a two-input operator: {plan.describe()}"
    return plan


def _specs(t_env, plan: n.Node) -> list:
    """The job's two-input operator and the operators chained after it (not the collect)."""
    planner = t_env._planner(t_env._job_settings())
    planner.add_collect(plan)
    graph = planner.build("replay")
    for vertex in graph.vertices:
        if vertex.chain and vertex.chain[0].kind in TWO_INPUT_KINDS:
            return [s for s in vertex.chain if s.kind != "collect"]
    raise AssertionError("no two-input operator in the job")


def _input_batches(t_env, node: n.Node) -> list[pa.RecordBatch]:
    """The changelog an input of the operator receives, one row per batch."""
    result = t_env._execute_collect(node)
    table = pa.Table.from_batches(list(result._take_batches()))
    return [b for b in table.to_batches(max_chunksize=1) if b.num_rows]


def _replay(specs, left: list, right: list, recorded: list) -> list[int] | None:
    """The interleaving (ports, in order) of ``left`` and ``right`` under which ``specs`` emit
    ``recorded``, each input row's output compared as a multiset; None when there is none."""
    from operator_harness import OperatorHarness

    def step(i: int, j: int, port: int) -> list[tuple[str, list]]:
        harness = OperatorHarness(*specs)  # the state after any order of the same rows is one
        for batch in left[:i]:
            harness.process(batch, 0)
        for batch in right[:j]:
            harness.process(batch, 1)
        return _changelog(harness.process((left[i] if port == 0 else right[j]), port))

    seen: set[tuple[int, int, int]] = set()

    def search(i: int, j: int, k: int) -> list[int] | None:
        if i == len(left) and j == len(right):
            return [] if k == len(recorded) else None
        if (i, j, k) in seen:
            return None
        seen.add((i, j, k))
        for port in (0, 1):
            if (i if port == 0 else j) == len(left if port == 0 else right):
                continue
            out = step(i, j, port)
            expected = recorded[k:k + len(out)]
            if Counter(_key([kd, r]) for kd, r in out) != \
                    Counter(_key([kd, r]) for kd, r in expected):
                continue
            rest = search(i + (port == 0), j + (port == 1), k + len(out))
            if rest is not None:
                return [port] + rest
        return None

    return search(0, 0, 0)


@pytest.mark.parametrize("name", REPLAYED)
def test_two_input_operator_replays_pyflinks_changelog(name) -> None:
    assert name in CHANGELOG_CASES, "re-record the case: it has no changelog"
    t_env, api = _env(1)
    plan = t_env._optimize(_table(t_env, api, name)._plan)
    node = _two_input_node(plan)
    specs = _specs(t_env, plan)
    left, right = (_input_batches(t_env, side) for side in node.inputs)
    order = _replay(specs, left, right, _recorded(name))
    assert order is not None, "no interleaving of the inputs gives PyFlink's changelog"
