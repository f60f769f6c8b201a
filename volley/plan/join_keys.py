"""The equal-key pairs of a join condition: what a hash join hashes on."""

from __future__ import annotations

from volley.plan.expressions import Call, Expr, InputRef


def split_equi_condition(
    condition: Expr | None, left_width: int
) -> tuple[list[int], list[int], Expr | None]:
    """Split a join condition into equal-key pairs (left index, right index) and the rest."""
    if condition is None:
        return [], [], None
    conjuncts = _conjuncts(condition)
    left_keys: list[int] = []
    right_keys: list[int] = []
    rest: list[Expr] = []
    for c in conjuncts:
        if (
            isinstance(c, Call) and c.fn == "eq"
            and isinstance(c.args[0], InputRef) and isinstance(c.args[1], InputRef)
        ):
            a, b = c.args[0].index, c.args[1].index
            if a < left_width <= b:
                left_keys.append(a)
                right_keys.append(b - left_width)
                continue
            if b < left_width <= a:
                left_keys.append(b)
                right_keys.append(a - left_width)
                continue
        rest.append(c)
    residual: Expr | None = None
    for c in rest:
        residual = c if residual is None else Call("and", (residual, c), c.type)
    return left_keys, right_keys, residual


def _conjuncts(e: Expr) -> list[Expr]:
    if isinstance(e, Call) and e.fn == "and":
        out: list[Expr] = []
        for a in e.args:
            out.extend(_conjuncts(a))
        return out
    return [e]


def null_aware_anti(join: object, left_keys: list[int], right_keys: list[int],
                    residual: Expr | None) -> dict:
    """``x NOT IN (subquery)`` as an anti join on a condition with no equal keys, as Flink runs
    it on streams: a left row has a match where the comparison is not FALSE (equal, or NULL on
    either side), so a NULL on either side rules a row out. Join params: ``kind``, ``left_keys``,
    ``right_keys``, ``residual``."""
    from volley.plan.types import BooleanType

    width = len(join.left.schema.fields)  # type: ignore[attr-defined]
    left_types = join.left.schema.types  # type: ignore[attr-defined]
    right_types = join.right.schema.types  # type: ignore[attr-defined]
    condition = residual
    for lk, rk in zip(left_keys, right_keys, strict=True):
        eq = Call("eq", (InputRef(lk, f"${lk}", left_types[lk]),
                         InputRef(width + rk, f"${width + rk}", right_types[rk])), BooleanType())
        not_false = Call("is_not_false", (eq,), BooleanType(nullable=False))
        condition = not_false if condition is None else \
            Call("and", (condition, not_false), BooleanType())
    return {"kind": "anti", "left_keys": (), "right_keys": (), "residual": condition}
