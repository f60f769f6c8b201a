"""Binding ``FOR SYSTEM_TIME AS OF``: temporal joins in SQL.

``JOIN r FOR SYSTEM_TIME AS OF o.ts AS r ON ...`` joins each row of ``o`` with the version of
``r`` valid at ``o.ts``: an event-time temporal join when ``o.ts`` is a rowtime attribute, a lookup
join when it is a proctime attribute (``volley.plan.time_joins``). Anything else with a
``FOR SYSTEM_TIME`` clause is refused with what to write instead, never silently read as the
plain table.
"""

from __future__ import annotations

from sqlglot import exp

from volley.errors import UnsupportedFeatureError
from volley.plan import nodes as n
from volley.plan.expressions import Expr
from volley.plan.time_joins import temporal_join as plan_temporal_join
from volley.sql.binder_expr import ExprBinder, Scope


def _table_name(table: exp.Table) -> str:
    return ".".join(p.name for p in table.parts) if table.parts else table.name


def _check_version(version: exp.Expression, table: exp.Table) -> exp.Expression:
    kind = str(version.args.get("kind") or "").upper()
    if str(version.this).upper() != "TIMESTAMP" or kind != "AS OF":
        raise UnsupportedFeatureError(
            f"FOR {version.this} {kind} on table {_table_name(table)!r} is not supported; "
            "expected FOR SYSTEM_TIME AS OF <time attribute of the left table>"
        )
    return version.expression


def temporal_join(left: n.Node, left_scope: Scope, right: n.Node, table: exp.Table,
                  version: exp.Expression, kind: str, condition: Expr | None) -> n.Node:
    """The plan of ``left <kind> JOIN table FOR SYSTEM_TIME AS OF ... ON condition``."""
    as_of_node = _check_version(version, table)
    as_of = ExprBinder(left_scope, context="FOR SYSTEM_TIME AS OF").bind(as_of_node)
    return plan_temporal_join(left, right, kind, condition, as_of, _table_name(table))


def version_outside_join(table: exp.Table) -> None:
    """``FROM t FOR SYSTEM_TIME AS OF ...`` outside a join: time travel, which Volley's
    connectors do not keep history for."""
    raise UnsupportedFeatureError(
        f"FOR SYSTEM_TIME AS OF on table {_table_name(table)!r} outside a join (time travel) is "
        "not supported by Volley; use it in a temporal join, e.g. FROM orders AS o JOIN "
        f"{table.name} FOR SYSTEM_TIME AS OF o.ts AS r ON o.k = r.k"
    )
