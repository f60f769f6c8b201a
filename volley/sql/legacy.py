"""PyFlink's legacy string expressions, rewritten into ordinary SQL trees.

PyFlink 1.x accepted Table API expressions as strings (``"a.sum as total"``, ``"b.desc"``). They
parse as SQL column references with a trailing field; this module turns the known suffixes into
the aggregate or ordering they meant, so the binder never sees the legacy form.
"""

from __future__ import annotations

from sqlglot import exp

AGGREGATE_SUFFIXES: dict[str, type[exp.Expression]] = {
    "sum": exp.Sum,
    "count": exp.Count,
    "avg": exp.Avg,
    "max": exp.Max,
    "min": exp.Min,
    "stddevpop": exp.StddevPop,
    "stddevsamp": exp.StddevSamp,
    "varpop": exp.VariancePop,
    "varsamp": exp.Variance,
}


def rewrite_legacy_expression(node: exp.Expression) -> exp.Expression:
    """``a.sum`` -> ``SUM(a)``, ``t.a.max`` -> ``MAX(t.a)``, ``a.desc`` -> ``Ordered(a, desc)``."""
    return node.transform(_rewrite, copy=False)


def _rewrite(node: exp.Expression) -> exp.Expression:
    if not isinstance(node, exp.Column) or not node.table or node.this.quoted:
        return node
    suffix = node.name.lower()
    if suffix not in AGGREGATE_SUFFIXES and suffix not in ("desc", "asc"):
        return node
    parts = [
        p for p in (node.args.get("catalog"), node.args.get("db"), node.args.get("table")) if p
    ]
    inner = exp.Column(this=parts[-1].copy(), table=parts[-2].copy() if len(parts) > 1 else None)
    if suffix in ("desc", "asc"):
        return exp.Ordered(this=inner, desc=suffix == "desc", nulls_first=suffix == "asc")
    return AGGREGATE_SUFFIXES[suffix](this=inner)
