"""Built-in scalar functions: names, arity and Flink's result-type rules.

The binder resolves every operator and function call of both front ends to a name in
``FUNCTIONS`` and asks it for the result type; the runtime has one kernel per name
(``runtime.kernels``). Type errors are raised here, when the plan is built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from volley.errors import TypeMismatchError
from volley.plan.types import (
    BigIntType,
    BooleanType,
    CharType,
    DataType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IntType,
    LocalZonedTimestampType,
    NullType,
    TimestampType,
    TimeType,
    VarCharType,
    common_type,
    decimal_of_integral,
    numeric_result_type,
)

Infer = Callable[[str, list[DataType]], DataType]


@dataclass(frozen=True)
class FunctionSig:
    """A built-in function: how its result type follows from its arguments, and how many it
    takes."""

    name: str
    infer: Infer
    min_args: int
    max_args: int | None  # None: variadic


FUNCTIONS: dict[str, FunctionSig] = {}


def _nullable(args: list[DataType]) -> bool:
    return any(a.nullable for a in args)


def _register(names: str, infer: Infer, min_args: int, max_args: int | None = -1) -> None:
    for name in names.split():
        FUNCTIONS[name] = FunctionSig(name, infer, min_args, min_args if max_args == -1 else max_args)


def _require(fn: str, ok: bool, args: list[DataType], expected: str) -> None:
    if not ok:
        got = ", ".join(str(a) for a in args)
        raise TypeMismatchError(
            f"cannot apply {fn.upper()} to ({got}); expected {expected}"
        )


def _numeric_or_null(t: DataType) -> bool:
    return t.is_numeric or isinstance(t, NullType)


# -- decimal precision rules (Flink's LogicalTypeMerging) ------------------------------------------


def _adjust(precision: int, scale: int) -> DecimalType:
    if precision <= 38:
        return DecimalType(precision, scale)
    int_digits = precision - scale
    min_scale = min(scale, 6)
    return DecimalType(38, max(38 - int_digits, min_scale))


def _as_decimal(t: DataType) -> DecimalType:
    return t if isinstance(t, DecimalType) else decimal_of_integral(t)


def _arith(fn: str, args: list[DataType]) -> DataType:
    a, b = args
    if fn in ("plus", "minus") and a.is_temporal and (b.is_numeric or isinstance(b, NullType)):
        return a  # timestamp +/- interval (intervals are BIGINT milliseconds internally)
    if fn == "minus" and a.is_temporal and b.is_temporal:
        return BigIntType(nullable=_nullable(args))
    _require(fn, _numeric_or_null(a) and _numeric_or_null(b), args, "two numeric operands")
    if isinstance(a, NullType) or isinstance(b, NullType):
        other = b if isinstance(a, NullType) else a
        return other.as_nullable() if not isinstance(other, NullType) else IntType()
    nullable = _nullable(args)
    if fn == "mod" and a.is_integral and b.is_integral:
        return b.with_nullability(nullable)  # Flink (Calcite): MOD has its divisor's type
    if isinstance(a, DecimalType) or isinstance(b, DecimalType):
        if not (isinstance(a, (FloatType, DoubleType)) or isinstance(b, (FloatType, DoubleType))):
            da, db = _as_decimal(a), _as_decimal(b)
            p1, s1, p2, s2 = da.precision, da.scale, db.precision, db.scale
            if fn in ("plus", "minus"):
                scale = max(s1, s2)
                result = _adjust(max(p1 - s1, p2 - s2) + scale + 1, scale)
            elif fn == "times":
                result = _adjust(p1 + p2 + 1, s1 + s2)
            elif fn == "divide":
                scale = max(6, s1 + p2 + 1)
                result = _adjust(p1 - s1 + s2 + scale, scale)
            else:  # mod
                scale = max(s1, s2)
                result = _adjust(min(p1 - s1, p2 - s2) + scale, scale)
            return result.with_nullability(nullable)
    return numeric_result_type(a, b).with_nullability(nullable)


_register("plus minus times divide mod", _arith, 2)


def _negate(fn: str, args: list[DataType]) -> DataType:
    _require(fn, _numeric_or_null(args[0]), args, "a numeric operand")
    return args[0]


_register("negate abs", _negate, 1)


def _comparison(fn: str, args: list[DataType]) -> DataType:
    a, b = args
    comparable = (
        isinstance(a, NullType)
        or isinstance(b, NullType)
        or (a.is_numeric and b.is_numeric)
        or common_type([a, b]) is not None
        or (a.is_temporal and b.is_temporal)
    )
    _require(fn, comparable, args, "two comparable operands (numbers, strings, or times)")
    return BooleanType(nullable=_nullable(args))


_register("eq ne lt le gt ge", _comparison, 2)
_register("is_distinct_from is_not_distinct_from", lambda f, a: BooleanType(nullable=False), 2)


def _boolean(fn: str, args: list[DataType]) -> DataType:
    ok = all(isinstance(a, (BooleanType, NullType)) for a in args)
    _require(fn, ok, args, "BOOLEAN operands")
    return BooleanType(nullable=_nullable(args))


_register("and or", _boolean, 2, None)
_register("not", _boolean, 1)
_register(
    "is_null is_not_null is_true is_false is_not_true is_not_false",
    lambda f, a: BooleanType(nullable=False),
    1,
)


def _in(fn: str, args: list[DataType]) -> DataType:
    _require(fn, common_type(args) is not None or all(a.is_numeric for a in args), args,
             "a value and list elements of one comparable type")
    return BooleanType(nullable=_nullable(args))


_register("in", _in, 2, None)
_register("between", lambda f, a: _comparison(f, a[:2]).with_nullability(_nullable(a)), 3)


def _same_as_common(fn: str, args: list[DataType]) -> DataType:
    t = common_type(args)
    if t is None and all(a.is_numeric for a in args):
        t = args[0]
        for other in args[1:]:
            t = numeric_result_type(t, other)
    _require(fn, t is not None, args, "operands of one common type")
    assert t is not None
    if fn == "coalesce":
        return t.with_nullability(all(a.nullable for a in args))
    if fn == "nullif":
        return args[0].as_nullable()
    return t


_register("coalesce", _same_as_common, 1, None)
_register("nullif", _same_as_common, 2)


def _case(fn: str, args: list[DataType]) -> DataType:
    # args: cond1, value1, cond2, value2, ..., else
    values = args[1::2] + [args[-1]]
    t = common_type(values)
    if t is None and all(_numeric_or_null(v) for v in values):
        t = values[0]
        for other in values[1:]:
            if not isinstance(other, NullType):
                t = numeric_result_type(t, other) if not isinstance(t, NullType) else other
    _require("case", t is not None, values, "THEN/ELSE values of one common type")
    assert t is not None
    return t.with_nullability(any(v.nullable for v in values))


_register("case", _case, 3, None)


# -- strings ---------------------------------------------------------------------------------------


def _string(nullable_from_args: bool = True) -> Infer:
    def infer(fn: str, args: list[DataType]) -> DataType:
        return VarCharType(nullable=_nullable(args) if nullable_from_args else True)

    return infer


def _string_args(fn: str, args: list[DataType]) -> DataType:
    return VarCharType(nullable=_nullable(args))


def _same_string(fn: str, args: list[DataType]) -> DataType:
    """UPPER/LOWER/INITCAP keep the operand's type (CHAR(5) stays CHAR(5)); TRIM gives VARCHAR."""
    t = args[0]
    _require(fn, t.is_string or isinstance(t, NullType), args, "a string operand")
    if fn in ("upper", "lower", "initcap") and t.is_string:
        return t
    length = getattr(t, "length", None)
    return VarCharType(length, nullable=t.nullable) if length else VarCharType(nullable=t.nullable)


def _trim_chars(fn: str, args: list[DataType]) -> DataType:
    return _same_string(fn, args[:1]).with_nullability(_nullable(args))


def _concat(fn: str, args: list[DataType]) -> DataType:
    """Lengths add up: CHAR(2) || CHAR(2) is CHAR(4), VARCHAR(3) || CHAR(1) is VARCHAR(4);
    anything unbounded (STRING) or not a string makes STRING."""
    from volley.plan.types import MAX_LENGTH

    lengths = [getattr(a, "length", MAX_LENGTH) if a.is_string else MAX_LENGTH for a in args]
    total = sum(lengths)
    if total >= MAX_LENGTH:
        return VarCharType(nullable=_nullable(args))
    if all(isinstance(a, CharType) for a in args):
        return CharType(total, nullable=_nullable(args))
    return VarCharType(total, nullable=_nullable(args))


_register("upper lower trim ltrim rtrim initcap reverse", _same_string, 1)
_register("trim_chars ltrim_chars rtrim_chars", _trim_chars, 2)
_register("concat", _concat, 1, None)
_register("concat_ws", lambda f, a: VarCharType(), 2, None)
_register("substring", _string_args, 2, 3)
_register("replace regexp_replace", _string_args, 3)
_register("lpad rpad", _string_args, 3)
_register("repeat", _string_args, 2)
_register("left right", _string_args, 2)
_register("split_index", _string(False), 3)
_register("regexp_extract", _string(False), 2, 3)
_register("md5 sha256 to_base64 from_base64", _string_args, 1)
_register("char_length", lambda f, a: IntType(nullable=_nullable(a)), 1)
_register("position", lambda f, a: IntType(nullable=_nullable(a)), 2)
_register("like", lambda f, a: BooleanType(nullable=_nullable(a)), 2, 3)
_register("regexp", lambda f, a: BooleanType(nullable=_nullable(a)), 2)


# -- math ------------------------------------------------------------------------------------------


def _double(fn: str, args: list[DataType]) -> DataType:
    _require(fn, all(_numeric_or_null(a) for a in args), args, "numeric operands")
    return DoubleType(nullable=_nullable(args))


_register("sqrt ln log10 log2 exp sin cos tan asin acos atan degrees radians cot", _double, 1)
_register("power atan2", _double, 2)
_register("log", _double, 1, 2)
_register("rand", lambda f, a: DoubleType(nullable=False), 0, 1)
_register("pi e", lambda f, a: DoubleType(nullable=False), 0)


def _floor_ceil(fn: str, args: list[DataType]) -> DataType:
    t = args[0]
    _require(fn, _numeric_or_null(t), args, "a numeric operand")
    if isinstance(t, DecimalType):
        return DecimalType(t.precision, 0, nullable=t.nullable)
    return t


_register("floor ceil", _floor_ceil, 1)


def _round(fn: str, args: list[DataType]) -> DataType:
    t = args[0]
    _require(fn, _numeric_or_null(t), args, "a numeric operand")
    if isinstance(t, DecimalType):
        digits = 0 if len(args) == 1 else None
        scale = t.scale if digits is None else 0
        return DecimalType(min(38, t.precision - t.scale + scale + 1), scale, nullable=t.nullable)
    return t


_register("round truncate", _round, 1, 2)


def _sign(fn: str, args: list[DataType]) -> DataType:
    _require(fn, _numeric_or_null(args[0]), args, "a numeric operand")
    return args[0]


_register("sign", _sign, 1)


# -- time ------------------------------------------------------------------------------------------


def _extract(fn: str, args: list[DataType]) -> DataType:
    _require(fn, args[0].is_temporal, args, "a DATE, TIME or TIMESTAMP operand")
    return BigIntType(nullable=args[0].nullable)


_register("extract", _extract, 1)
_register("date_format", lambda f, a: VarCharType(nullable=_nullable(a)), 1, 2)
# parsing can fail (NULL), so these are nullable whatever their input
_register("to_date", lambda f, a: DateType(), 1, 2)
_register("to_timestamp", lambda f, a: TimestampType(3), 1, 2)
_register("to_timestamp_ltz", lambda f, a: LocalZonedTimestampType(3, nullable=_nullable(a)), 1, 2)
_register("from_unixtime", lambda f, a: VarCharType(nullable=_nullable(a)), 1, 2)
_register("unix_timestamp", lambda f, a: BigIntType(nullable=_nullable(a)), 0, 2)
_register("floor_time ceil_time", lambda f, a: a[0], 1)
_register("current_date", lambda f, a: DateType(nullable=False), 0)
_register("current_time", lambda f, a: TimeType(0, nullable=False), 0)
_register("current_timestamp proctime", lambda f, a: LocalZonedTimestampType(3, nullable=False), 0)
_register("localtimestamp now", lambda f, a: TimestampType(3, nullable=False), 0)
_register("timestampadd", lambda f, a: a[1], 2)
_register("timestampdiff", lambda f, a: IntType(nullable=_nullable(a)), 2)


def lookup(name: str) -> FunctionSig | None:
    return FUNCTIONS.get(name)


def infer_type(name: str, args: list[DataType]) -> DataType:
    sig = FUNCTIONS[name]
    n = len(args)
    if n < sig.min_args or (sig.max_args is not None and n > sig.max_args):
        expected = (
            f"{sig.min_args}" if sig.max_args == sig.min_args
            else f"{sig.min_args} or more" if sig.max_args is None
            else f"{sig.min_args} to {sig.max_args}"
        )
        raise TypeMismatchError(
            f"function {name.upper()} takes {expected} arguments; got {n}"
        )
    return sig.infer(name, args)
