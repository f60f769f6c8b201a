"""The import graph follows DESIGN.md's dependency rule, and has no cycles.

Every ``import`` of a Volley module — at the top of a module or inside a function — is an edge.
Layers may import the layers below them and ``common``/``errors``/``lazy``: API (table,
datastream, cli) -> sql -> optimizer -> plan; physical -> plan; runners -> runtime -> state,
connectors, udf. The runtime receives specs: of ``plan`` it may use the IR vocabulary only
(types, expressions, built-in functions, calls), never the logical plan nodes.
"""

from __future__ import annotations

import ast
from pathlib import Path

import volley

ROOT = Path(volley.__file__).parent

BASE = {"common", "errors", "lazy"}
ALLOWED: dict[str, set[str]] = {
    "common": set(),
    "errors": set(),
    "lazy": set(),
    "plan": {"plan"},
    "sql": {"sql", "plan"},
    "optimizer": {"optimizer", "plan"},
    "physical": {"physical", "plan", "connectors.base"},
    "state": {"state"},
    "connectors": {"connectors", "plan.types"},
    "udf": {"udf", "plan.types"},
    "runtime": {"runtime", "state", "connectors", "udf", "physical.job_graph", "plan.types",
                "plan.expressions", "plan.functions", "plan.calls"},
    "runners": {"runners", "runtime", "state", "connectors", "physical.job_graph"},
    "table": None,  # the API layer may import everything
    "datastream": None,
    "cli": None,
    "__main__": None,
}

# Known exceptions, each with its reason. Keep this short.
EXCEPTIONS = {
    # The binder recognises the user functions registered in the catalog.
    ("sql.binder_expr", "udf.functions"),
    # VALUES rows are evaluated when bound, with the one expression evaluator there is.
    ("sql.binder_query", "runtime.evaluator"),
    # A UDF object builds a call expression when a user calls it with columns (the API's
    # ``f(col('a'))``), and parses a result type given as SQL text.
    ("udf.functions", "table.expression"),
    ("udf.functions", "sql.parser"),
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The Volley modules ``path`` imports (relative to the package), anywhere in the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            if name.startswith("volley."):
                module = name[len("volley."):]
                if (ROOT / module.replace(".", "/")).with_suffix(".py").exists() or \
                        (ROOT / module.replace(".", "/") / "__init__.py").exists():
                    found.add(module)
    return found


GRAPH = {_module_name(p): _imports(p) for p in ROOT.rglob("*.py") if "__pycache__" not in p.parts}


def _allowed(importer: str, imported: str) -> bool:
    layer = importer.split(".")[0]
    rule = ALLOWED.get(layer, set())
    if rule is None or imported.split(".")[0] in BASE:
        return True
    if (importer, imported) in EXCEPTIONS:
        return True
    return any(imported == r or imported.startswith(r + ".") for r in rule)


def test_every_layer_imports_only_what_the_dependency_rule_allows():
    assert set(ALLOWED) >= {m.split(".")[0] for m in GRAPH if m}
    wrong = sorted(f"{a} -> {b}" for a, targets in GRAPH.items() for b in targets
                   if a and not _allowed(a, b))
    assert wrong == []


def test_the_import_graph_has_no_cycles():
    edges = {m: {t for t in targets if t in GRAPH and t != m} for m, targets in GRAPH.items()}
    # a package's __init__ re-exporting its own modules is not a cycle between them
    for module, targets in edges.items():
        edges[module] = {t for t in targets if not module or not t.startswith(module + ".")}
    cycles = []
    state: dict[str, int] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(edges.get(module, ())):
            if state.get(target) == 1:
                cycles.append(path[path.index(target):] + [target])
            elif target not in state:
                visit(target, path + [target])
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert cycles == []
