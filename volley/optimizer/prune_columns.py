"""Read and carry only the columns a query uses.

Before::

    Project($0:auction AS $k0, $5:dateTime AS $time)
       +- WatermarkAssigner(rowtime=[dateTime], ...)
          +- Scan(table=[bid], fields=[auction, bidder, price, channel, url, dateTime, extra])

After::

    Project($0:auction AS $k0, $1:dateTime AS $time)
       +- WatermarkAssigner(rowtime=[dateTime], ...)
          +- Scan(table=[bid], fields=[auction, dateTime])

The scan's connector then parses two columns instead of seven, and a join keeps only the columns
its consumers read in its state. A top-down pass: each node is asked for the columns its parent
needs and answers with a narrower node and where each needed column went. Projections, filters,
watermark assigners, regular joins and scans narrow; every other node needs all of its input
columns (its own input projection, which the binders put below aggregates and windows, narrows
what is below it). A sub-plan used twice with different needs is narrowed twice.
"""

from __future__ import annotations

from dataclasses import fields, replace

from volley.plan import nodes as n
from volley.plan.expressions import input_refs, remap
from volley.plan.types import RowType

#: old output column -> new output column, for the columns the parent needs
Mapping = dict[int, int]


def prune_columns(root: n.Node) -> n.Node:
    """``root`` reading only the columns it uses; its own output is unchanged."""
    width = len(root.schema.fields)
    pruned, mapping = _Pruner().prune(root, frozenset(range(width)))
    if pruned is root or mapping != {i: i for i in range(width)}:
        return root
    return pruned


class _Pruner:
    def __init__(self) -> None:
        self._memo: dict[tuple[int, frozenset[int]], tuple[n.Node, Mapping]] = {}

    def prune(self, node: n.Node, needed: frozenset[int]) -> tuple[n.Node, Mapping]:
        key = (id(node), needed)
        if key not in self._memo:
            self._memo[key] = self._prune(node, needed)
        return self._memo[key]

    def _all(self, node: n.Node) -> frozenset[int]:
        return frozenset(range(len(node.schema.fields)))

    def _prune(self, node: n.Node, needed: frozenset[int]) -> tuple[n.Node, Mapping]:
        if isinstance(node, n.Scan):
            return _scan(node, needed)
        if isinstance(node, n.Project):
            return self._project(node, needed)
        if isinstance(node, n.Filter):
            child, mapping = self.prune(node.input, needed | input_refs(node.condition))
            if child is node.input:
                return node, _identity(node)
            return n.Filter(child, remap(node.condition, mapping)), mapping
        if isinstance(node, n.WatermarkAssigner):
            child, mapping = self.prune(
                node.input, needed | {node.rowtime} | input_refs(node.watermark))
            if child is node.input:
                return node, _identity(node)
            return replace(node, input=child, rowtime=mapping[node.rowtime],
                           watermark=remap(node.watermark, mapping)), mapping
        if isinstance(node, n.Join) and node.kind in ("inner", "left", "right", "full"):
            return self._join(node, needed)
        return self._keep_columns(node), _identity(node)

    def _project(self, node: n.Project, needed: frozenset[int]) -> tuple[n.Node, Mapping]:
        kept = sorted(needed)
        uses: set[int] = set()
        for i in kept:
            uses |= input_refs(node.exprs[i])
        child, mapping = self.prune(node.input, frozenset(uses))
        if child is node.input and len(kept) == len(node.exprs):
            return node, _identity(node)
        exprs = tuple(remap(node.exprs[i], mapping) for i in kept)
        names = tuple(node.names[i] for i in kept)
        return n.Project(child, exprs, names), {old: new for new, old in enumerate(kept)}

    def _join(self, node: n.Join, needed: frozenset[int]) -> tuple[n.Node, Mapping]:
        left_width = len(node.left.schema.fields)
        uses = set(needed) | (set() if node.condition is None else input_refs(node.condition))
        left, left_map = self.prune(node.left, frozenset(i for i in uses if i < left_width))
        right, right_map = self.prune(
            node.right, frozenset(i - left_width for i in uses if i >= left_width))
        if left is node.left and right is node.right:
            return node, _identity(node)
        new_left_width = len(left.schema.fields)
        mapping = dict(left_map)
        mapping.update({left_width + old: new_left_width + new for old, new in right_map.items()})
        condition = None if node.condition is None else remap(node.condition, mapping)
        return n.Join(left, right, node.kind, condition), mapping

    def _keep_columns(self, node: n.Node) -> n.Node:
        """A node that reads every input column: its inputs narrowed below their own
        projections only, each keeping its whole output."""
        changes = {}
        for name, child in _child_fields(node):
            pruned, mapping = self.prune(child, self._all(child))
            if pruned is not child and mapping == _identity(child) and \
                    len(pruned.schema.fields) == len(child.schema.fields):
                changes[name] = pruned
        return replace(node, **changes) if changes else node  # type: ignore[type-var]


def _scan(node: n.Scan, needed: frozenset[int]) -> tuple[n.Node, Mapping]:
    kept = sorted(needed) or [0]  # a scan read for its row count still reads one column
    if len(kept) == len(node.schema.fields):
        return node, _identity(node)
    positions = node.columns or tuple(range(len(node.schema.fields)))
    row_fields = node.row_type.fields
    scan = replace(node, row_type=RowType(tuple(row_fields[i] for i in kept)),
                   columns=tuple(positions[i] for i in kept))
    return scan, {old: new for new, old in enumerate(kept)}


def _identity(node: n.Node) -> Mapping:
    return {i: i for i in range(len(node.schema.fields))}


def _child_fields(node: n.Node) -> list[tuple[str, n.Node]]:
    return [(f.name, getattr(node, f.name)) for f in fields(node)  # type: ignore[arg-type]
            if isinstance(getattr(node, f.name), n.Node)]
