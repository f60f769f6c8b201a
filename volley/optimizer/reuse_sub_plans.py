"""Compute a sub-plan written twice once: equal sub-plans become one node.

Nexmark q5 counts bids per auction and window, and joins that count to the largest count of
each window, which is computed from the same count: two equal sub-plans, from the scan of the
bids up to the window aggregation. Made one node, the physical planner (which plans each node
once) reads the file once and aggregates once, and the aggregation's output feeds both consumers,
as Flink's sub-plan reuse does.

Two nodes are equal when they are of one type, their inputs are the same node and their other
fields are equal (expressions, types and options compare by value; anything that does not
compare by value, such as in-memory data, must be the same object).
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

from volley.plan import nodes as n


def reuse_sub_plans(root: n.Node) -> n.Node:
    return _Canonical().of(root)


class _Canonical:
    def __init__(self) -> None:
        self._by_key: dict[Any, n.Node] = {}
        self._by_id: dict[int, n.Node] = {}

    def of(self, node: n.Node) -> n.Node:
        done = self._by_id.get(id(node))
        if done is not None:
            return done
        changes: dict[str, n.Node] = {}
        parts: list[Any] = [type(node)]
        for f in fields(node):  # type: ignore[arg-type]
            value = getattr(node, f.name)
            if isinstance(value, n.Node):
                canonical = self.of(value)
                if canonical is not value:
                    changes[f.name] = canonical
                parts.append((f.name, "node", id(canonical)))
            else:
                parts.append((f.name, _value_key(value)))
        result = replace(node, **changes) if changes else node  # type: ignore[type-var]
        key = tuple(parts)
        result = self._by_key.setdefault(key, result)
        self._by_id[id(node)] = result
        return result


def _value_key(value: Any) -> Any:
    """``value`` itself when it compares by value and hashes, else its identity."""
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, tuple(_value_key(v) for v in value))
    try:
        hash(value)
    except TypeError:
        return ("object", id(value))
    if type(value).__eq__ is object.__eq__:
        return ("object", id(value))
    return (type(value), value)
