"""The chaining pass: forward-connected operators become one vertex, run as one task.

An operator joins its input's vertex when it has exactly one input, reads it forward at the
same parallelism, and is that input's only consumer; a batch then goes from one operator to the
next by a function call, with nothing in between.
"""

from __future__ import annotations

from volley.physical.job_graph import Edge, Forward, JobGraph, Vertex
from volley.physical.plan_op import PlanOp


def chain(ops: list[PlanOp], outputs: list[PlanOp], name: str,
          max_parallelism: int) -> JobGraph:
    """The job graph of the ops that lead to ``outputs`` (``ops`` in topological order)."""
    needed = _reachable(outputs)
    ops = [op for op in ops if id(op) in needed]
    consumers: dict[int, int] = {}
    for op in ops:
        for i in op.inputs:
            consumers[id(i)] = consumers.get(id(i), 0) + 1
    vertex_of: dict[int, Vertex] = {}
    graph = JobGraph(name, max_parallelism=max_parallelism)
    for op in ops:
        upstream = op.inputs[0] if len(op.inputs) == 1 else None
        if (upstream is not None and isinstance(op.partitioning[0], Forward)
                and consumers.get(id(upstream)) == 1
                and upstream.parallelism == op.parallelism):
            vertex = vertex_of[id(upstream)]
            vertex.chain = vertex.chain + (op.spec,)  # type: ignore[operator]
            vertex.name = f"{vertex.name} -> {op.name}"
            vertex_of[id(op)] = vertex
            continue
        vertex = Vertex(len(graph.vertices), op.name, parallelism=op.parallelism)
        if op.source is not None:
            vertex.source = op.source
        else:
            vertex.chain = (op.spec,)  # type: ignore[assignment]
            for port, (i, partitioning) in enumerate(zip(op.inputs, op.partitioning,
                                                         strict=True)):
                graph.edges.append(Edge(vertex_of[id(i)].id, vertex.id, port, partitioning))
        graph.vertices.append(vertex)
        vertex_of[id(op)] = vertex
    return graph


def _reachable(outputs: list[PlanOp]) -> set[int]:
    seen: set[int] = set()
    stack = list(outputs)
    while stack:
        op = stack.pop()
        if id(op) not in seen:
            seen.add(id(op))
            stack.extend(op.inputs)
    return seen
