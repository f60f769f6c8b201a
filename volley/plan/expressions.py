"""The resolved expression IR shared by the Table API and SQL.

Both front ends bind their syntax trees against an input schema into these nodes; the runtime
evaluates them over record batches. Columns are referred to by position (``InputRef``), so joins
whose sides share column names stay unambiguous.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from volley.plan.types import DataType


@dataclass(frozen=True)
class Expr:
    """Base of resolved expressions. ``type`` is the result type, nullability included."""





    @property
    def children(self) -> tuple[Expr, ...]:
        return ()


@dataclass(frozen=True)
class InputRef(Expr):
    """A column of the operator's input, by position (the name is for messages and plans)."""

    index: int
    name: str
    type: DataType  # type: ignore[assignment]

    def __str__(self) -> str:
        return f"${self.index}:{self.name}"


@dataclass(frozen=True)
class Literal(Expr):
    """A constant of a SQL type (``None`` is NULL)."""

    value: Any
    type: DataType  # type: ignore[assignment]

    def __str__(self) -> str:
        return "NULL" if self.value is None else repr(self.value)


@dataclass(frozen=True)
class Call(Expr):
    """A built-in function or operator; ``fn`` is a key of ``plan.functions.FUNCTIONS``."""

    fn: str
    args: tuple[Expr, ...]
    type: DataType  # type: ignore[assignment]
    # Extra, non-expression arguments: a time unit for EXTRACT, a format, a null ordering, ...
    params: tuple[Any, ...] = ()

    @property
    def children(self) -> tuple[Expr, ...]:
        return self.args

    def __str__(self) -> str:
        inner = ", ".join(str(a) for a in self.args)
        if self.params:
            inner += "; " + ", ".join(repr(p) for p in self.params)
        return f"{self.fn}({inner})"


@dataclass(frozen=True)
class Cast(Expr):
    """CAST (or TRY_CAST, when ``safe``) of ``operand`` to ``type``."""

    operand: Expr
    type: DataType  # type: ignore[assignment]
    safe: bool = False  # TRY_CAST: NULL instead of an error

    @property
    def children(self) -> tuple[Expr, ...]:
        return (self.operand,)

    def __str__(self) -> str:
        return f"{'TRY_CAST' if self.safe else 'CAST'}({self.operand} AS {self.type})"


@dataclass(frozen=True)
class UdfCall(Expr):
    """A call of a user-defined scalar function (``udf.UserDefinedScalarFunction``)."""

    function: Any
    args: tuple[Expr, ...]
    type: DataType  # type: ignore[assignment]

    @property
    def children(self) -> tuple[Expr, ...]:
        return self.args

    def __str__(self) -> str:
        return f"{self.function.name}({', '.join(str(a) for a in self.args)})"

    def __hash__(self) -> int:
        return hash((id(self.function), self.args))


def walk(e: Expr):
    """Every node of ``e``, parents first, children in order. Iterative: a chain of 300 ORs
    nests 300 deep, more than recursion allows."""
    stack = [e]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children))


def input_refs(e: Expr) -> set[int]:
    return {n.index for n in walk(e) if isinstance(n, InputRef)}


def remap(e: Expr, mapping: dict[int, int]) -> Expr:
    """``e`` with every column reference ``i`` moved to ``mapping[i]``."""
    if isinstance(e, InputRef):
        return replace(e, index=mapping[e.index])
    changes: dict[str, object] = {}
    for f in fields(e):  # type: ignore[arg-type]
        value = getattr(e, f.name)
        if isinstance(value, Expr):
            changes[f.name] = remap(value, mapping)
        elif isinstance(value, tuple) and value and all(isinstance(v, Expr) for v in value):
            changes[f.name] = tuple(remap(v, mapping) for v in value)
    return replace(e, **changes) if changes else e
