"""One vectorized kernel per built-in function of ``plan.functions``.

A kernel takes its evaluated arguments (Arrow arrays, or scalars for literals; Arrow broadcasts
them) and the resolved ``Call`` (for the result type and non-expression parameters), and returns
an array or scalar. No kernel loops over rows in Python.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

from volley.errors import UnsupportedFeatureError
from volley.plan.expressions import Call
from volley.plan.types import (
    DataType,
    DecimalType,
    DoubleType,
    FloatType,
    NullType,
    decimal_of_integral,
)
from volley.runtime.casts import Value, cast_value

Kernel = Callable[[list[Value], Call], Value]
KERNELS: dict[str, Kernel] = {}


def kernel(*names: str):
    def register(fn: Kernel) -> Kernel:
        for name in names:
            KERNELS[name] = fn
        return fn

    return register


def _to(value: Value, t: DataType) -> Value:
    """Cast to ``t``'s Arrow type if it differs (after type inference widened an operand)."""
    target = t.to_arrow()
    if value.type == target:
        return value
    if isinstance(t, NullType):
        return value
    return pc.cast(value, target, safe=False)


def _arith_operands(args: list[Value], call: Call) -> tuple[Value, Value]:
    t = call.type
    return _to(args[0], t), _to(args[1], t)


def _decimal256(value: Value, t: DataType, extra_scale: int = 0) -> Value:
    """A decimal operand as decimal256, so that Arrow's result precision cannot overflow."""
    d = t if isinstance(t, DecimalType) else decimal_of_integral(t)
    return pc.cast(value, pa.decimal256(min(76, d.precision + extra_scale), d.scale + extra_scale))


def _decimal_arith(op: str, args: list[Value], call: Call) -> Value:
    """Decimal arithmetic at Flink's result type, rounding HALF_UP to the result scale."""
    target: DecimalType = call.type  # type: ignore[assignment]
    ta, tb = call.args[0].type, call.args[1].type
    if op == "divide":
        da = ta if isinstance(ta, DecimalType) else decimal_of_integral(ta)
        db = tb if isinstance(tb, DecimalType) else decimal_of_integral(tb)
        extra = max(0, target.scale - da.scale - db.precision + db.scale + 1)
        a, b = _decimal256(args[0], ta, extra), _decimal256(args[1], tb)
    else:
        a, b = _decimal256(args[0], ta), _decimal256(args[1], tb)
    result = {"plus": pc.add, "minus": pc.subtract, "times": pc.multiply,
              "divide": pc.divide}[op](a, b)
    result = pc.round(result, target.scale, round_mode="half_towards_infinity")
    return pc.cast(result, target.to_arrow())


def _is_decimal_op(call: Call) -> bool:
    return isinstance(call.type, DecimalType) and not any(
        isinstance(a.type, (FloatType, DoubleType)) for a in call.args
    )


@kernel("plus")
def _plus(args: list[Value], call: Call) -> Value:
    if call.args[0].type.is_temporal:
        return pc.add(args[0], pc.cast(args[1], pa.duration("ms")))
    if _is_decimal_op(call):
        return _decimal_arith("plus", args, call)
    a, b = _arith_operands(args, call)
    return pc.add(a, b)


@kernel("minus")
def _minus(args: list[Value], call: Call) -> Value:
    if call.args[0].type.is_temporal:
        if call.args[1].type.is_temporal:
            return pc.cast(pc.subtract(args[0], args[1]), pa.int64())
        return pc.subtract(args[0], pc.cast(args[1], pa.duration("ms")))
    if _is_decimal_op(call):
        return _decimal_arith("minus", args, call)
    a, b = _arith_operands(args, call)
    return pc.subtract(a, b)


@kernel("times")
def _times(args: list[Value], call: Call) -> Value:
    if _is_decimal_op(call):
        return _decimal_arith("times", args, call)
    a, b = _arith_operands(args, call)
    return pc.multiply(a, b)


@kernel("divide")
def _divide(args: list[Value], call: Call) -> Value:
    if _is_decimal_op(call):
        return _decimal_arith("divide", args, call)
    a, b = _arith_operands(args, call)
    return pc.divide(a, b)  # integer division truncates toward zero, as Java's does


@kernel("mod")
def _mod(args: list[Value], call: Call) -> Value:
    a, b = _arith_operands(args, call)
    t = call.type
    if t.is_integral:
        q = pc.divide(a, b)
        return _to(pc.subtract(a, pc.multiply(q, b)), t)
    fa = pc.cast(a, pa.float64())
    fb = pc.cast(b, pa.float64())
    result = pc.subtract(fa, pc.multiply(pc.trunc(pc.divide(fa, fb)), fb))
    return pc.cast(result, t.to_arrow(), safe=False)


@kernel("negate")
def _negate(args: list[Value], call: Call) -> Value:
    return pc.negate(args[0])


@kernel("abs")
def _abs(args: list[Value], call: Call) -> Value:
    return pc.abs(args[0])


# -- comparison and logic --------------------------------------------------------------------------


def _comparable(args: list[Value], call: Call) -> tuple[Value, Value]:
    a, b = args
    ta, tb = call.args[0].type, call.args[1].type
    if ta.is_numeric and tb.is_numeric and a.type != b.type:
        if isinstance(ta, (FloatType, DoubleType)) or isinstance(tb, (FloatType, DoubleType)):
            return pc.cast(a, pa.float64()), pc.cast(b, pa.float64())
        if isinstance(ta, DecimalType) or isinstance(tb, DecimalType):
            return a, b
        return pc.cast(a, pa.int64()), pc.cast(b, pa.int64())
    if ta.is_temporal and tb.is_temporal and a.type != b.type:
        if pa.types.is_timestamp(a.type) and pa.types.is_timestamp(b.type):
            return a, pc.cast(b, a.type)
        target = a.type if pa.types.is_timestamp(a.type) else b.type
        return pc.cast(a, target), pc.cast(b, target)
    if ta.is_temporal and tb.is_string:
        return a, cast_value(b, tb, ta)
    if tb.is_temporal and ta.is_string:
        return cast_value(a, ta, tb), b
    return a, b


for _name, _fn in (
    ("eq", pc.equal),
    ("ne", pc.not_equal),
    ("lt", pc.less),
    ("le", pc.less_equal),
    ("gt", pc.greater),
    ("ge", pc.greater_equal),
):

    def _make(f):
        def compare(args: list[Value], call: Call) -> Value:
            a, b = _comparable(args, call)
            return f(a, b)

        return compare

    KERNELS[_name] = _make(_fn)


@kernel("is_distinct_from")
def _is_distinct(args: list[Value], call: Call) -> Value:
    a, b = _comparable(args, call)
    eq = pc.equal(a, b)
    both_null = pc.and_(pc.is_null(a), pc.is_null(b))
    one_null = pc.xor(pc.is_null(a), pc.is_null(b))
    same = pc.or_(pc.fill_null(eq, False), both_null)
    return pc.or_(pc.invert(same), pc.and_(one_null, pc.invert(both_null)))


@kernel("is_not_distinct_from")
def _is_not_distinct(args: list[Value], call: Call) -> Value:
    return pc.invert(_is_distinct(args, call))


@kernel("and")
def _and(args: list[Value], call: Call) -> Value:
    result = args[0]
    for other in args[1:]:
        result = pc.and_kleene(result, other)
    return result


@kernel("or")
def _or(args: list[Value], call: Call) -> Value:
    result = args[0]
    for other in args[1:]:
        result = pc.or_kleene(result, other)
    return result


@kernel("not")
def _not(args: list[Value], call: Call) -> Value:
    return pc.invert(args[0])


@kernel("is_null")
def _is_null(args: list[Value], call: Call) -> Value:
    return pc.is_null(args[0], nan_is_null=False)


@kernel("is_not_null")
def _is_not_null(args: list[Value], call: Call) -> Value:
    return pc.is_valid(args[0])


@kernel("is_true")
def _is_true(args: list[Value], call: Call) -> Value:
    return pc.fill_null(args[0], False)


@kernel("is_false")
def _is_false(args: list[Value], call: Call) -> Value:
    return pc.fill_null(pc.invert(args[0]), False)


@kernel("is_not_true")
def _is_not_true(args: list[Value], call: Call) -> Value:
    return pc.invert(pc.fill_null(args[0], False))


@kernel("is_not_false")
def _is_not_false(args: list[Value], call: Call) -> Value:
    return pc.invert(pc.fill_null(pc.invert(args[0]), False))


@kernel("in")
def _in(args: list[Value], call: Call) -> Value:
    """``x IN (a, b, ...)`` with SQL's three-valued logic: NULL when no match and a NULL around."""
    x = args[0]
    result = None
    for option, option_expr in zip(args[1:], call.args[1:], strict=True):
        sub = Call("eq", (call.args[0], option_expr), call.type)
        eq = KERNELS["eq"]([x, option], sub)
        result = eq if result is None else pc.or_kleene(result, eq)
    return result


@kernel("between")
def _between(args: list[Value], call: Call) -> Value:
    x, lo, hi = args
    ge = KERNELS["ge"]([x, lo], Call("ge", (call.args[0], call.args[1]), call.type))
    le = KERNELS["le"]([x, hi], Call("le", (call.args[0], call.args[2]), call.type))
    return pc.and_kleene(ge, le)


@kernel("coalesce")
def _coalesce(args: list[Value], call: Call) -> Value:
    return pc.coalesce(*[_to(a, call.type) for a in args])


@kernel("nullif")
def _nullif(args: list[Value], call: Call) -> Value:
    a, b = _comparable(args, call)
    eq = pc.fill_null(pc.equal(a, b), False)
    return pc.if_else(eq, pa.scalar(None, args[0].type), args[0])


# -- strings ---------------------------------------------------------------------------------------


def _scalar_param(value: Value, what: str, fn: str):
    if not isinstance(value, pa.Scalar):
        raise UnsupportedFeatureError(
            f"{fn.upper()} with a non-constant {what} is not supported by Volley yet; "
            f"pass a literal {what}"
        )
    return value.as_py()


@kernel("upper")
def _upper(args: list[Value], call: Call) -> Value:
    return pc.utf8_upper(args[0])


@kernel("lower")
def _lower(args: list[Value], call: Call) -> Value:
    return pc.utf8_lower(args[0])


@kernel("trim")
def _trim(args: list[Value], call: Call) -> Value:
    return pc.utf8_trim(args[0], " ")


@kernel("ltrim")
def _ltrim(args: list[Value], call: Call) -> Value:
    return pc.utf8_ltrim(args[0], " ")


@kernel("rtrim")
def _rtrim(args: list[Value], call: Call) -> Value:
    return pc.utf8_rtrim(args[0], " ")


@kernel("trim_chars", "ltrim_chars", "rtrim_chars")
def _trim_chars(args: list[Value], call: Call) -> Value:
    chars = _scalar_param(args[1], "character set", "trim")
    fn = {"trim_chars": pc.utf8_trim, "ltrim_chars": pc.utf8_ltrim, "rtrim_chars": pc.utf8_rtrim}
    return fn[call.fn](args[0], chars)


@kernel("initcap")
def _initcap(args: list[Value], call: Call) -> Value:
    return pc.utf8_title(pc.utf8_lower(args[0]))


@kernel("reverse")
def _reverse(args: list[Value], call: Call) -> Value:
    return pc.utf8_reverse(args[0])


@kernel("char_length")
def _char_length(args: list[Value], call: Call) -> Value:
    return pc.cast(pc.utf8_length(args[0]), pa.int32())


def _as_string(value: Value, t: DataType) -> Value:
    if t.is_string or isinstance(t, NullType):
        return pc.cast(value, pa.string()) if isinstance(t, NullType) else value
    from volley.plan.types import VarCharType

    return cast_value(value, t, VarCharType())


@kernel("concat")
def _concat(args: list[Value], call: Call) -> Value:
    parts = [_as_string(a, e.type) for a, e in zip(args, call.args, strict=True)]
    if len(parts) == 1:
        return parts[0]
    return pc.binary_join_element_wise(*parts, "")


@kernel("concat_ws")
def _concat_ws(args: list[Value], call: Call) -> Value:
    sep = args[0]
    parts = [_as_string(a, e.type) for a, e in zip(args[1:], call.args[1:], strict=True)]
    joined = pc.binary_join_element_wise(*parts, sep, null_handling="skip")
    return joined


@kernel("substring")
def _substring(args: list[Value], call: Call) -> Value:
    start = _scalar_param(args[1], "start position", "substring")
    length = _scalar_param(args[2], "length", "substring") if len(args) > 2 else None
    if start is None or (len(args) > 2 and length is None):
        return pa.nulls(len(args[0]), pa.string()) if not isinstance(args[0], pa.Scalar) else (
            pa.scalar(None, pa.string())
        )
    begin = start - 1 if start > 0 else (0 if start == 0 else start)
    if start < 0:
        stop = None if length is None or begin + length >= 0 else begin + length
        return pc.utf8_slice_codeunits(args[0], begin, stop) if stop is not None else (
            pc.utf8_slice_codeunits(args[0], begin)
        )
    if length is None:
        return pc.utf8_slice_codeunits(args[0], begin)
    return pc.utf8_slice_codeunits(args[0], begin, begin + max(length, 0))


@kernel("left")
def _left(args: list[Value], call: Call) -> Value:
    n = _scalar_param(args[1], "length", "left")
    return pc.utf8_slice_codeunits(args[0], 0, max(n, 0))


@kernel("right")
def _right(args: list[Value], call: Call) -> Value:
    n = _scalar_param(args[1], "length", "right")
    if n <= 0:
        return pc.utf8_slice_codeunits(args[0], 0, 0)
    return pc.utf8_slice_codeunits(args[0], -n)


@kernel("replace")
def _replace(args: list[Value], call: Call) -> Value:
    pattern = _scalar_param(args[1], "search string", "replace")
    replacement = _scalar_param(args[2], "replacement", "replace")
    return pc.replace_substring(args[0], pattern, replacement)


@kernel("regexp_replace")
def _regexp_replace(args: list[Value], call: Call) -> Value:
    pattern = _scalar_param(args[1], "pattern", "regexp_replace")
    replacement = _scalar_param(args[2], "replacement", "regexp_replace")
    replacement = replacement.replace("$", "\\") if "$" in replacement else replacement
    return pc.replace_substring_regex(args[0], pattern, replacement)


@kernel("regexp_extract")
def _regexp_extract(args: list[Value], call: Call) -> Value:
    pattern = _scalar_param(args[1], "pattern", "regexp_extract")
    group = _scalar_param(args[2], "group index", "regexp_extract") if len(args) > 2 else 0
    import re

    n_groups = re.compile(pattern).groups
    names = [f"g{i}" for i in range(1, n_groups + 1)]
    named = pattern
    for name in names:  # name the groups in order so Arrow returns them as struct fields
        named = re.sub(r"\((?!\?)", f"(?P<{name}>", named, count=1) if name else named
    whole = f"(?P<g0>{named})"
    extracted = pc.extract_regex(args[0], whole)
    return pc.struct_field(extracted, [group])


@kernel("regexp")
def _regexp(args: list[Value], call: Call) -> Value:
    pattern = _scalar_param(args[1], "pattern", "regexp")
    return pc.match_substring_regex(args[0], pattern)


@kernel("like")
def _like(args: list[Value], call: Call) -> Value:
    pattern = _scalar_param(args[1], "pattern", "like")
    if len(args) > 2:
        escape = _scalar_param(args[2], "escape character", "like")
        pattern = pattern.replace(escape + "%", "\\%").replace(escape + "_", "\\_")
    return pc.match_like(args[0], pattern)


@kernel("position")
def _position(args: list[Value], call: Call) -> Value:
    needle = _scalar_param(args[0], "search string", "position")
    found = pc.find_substring(args[1], needle)
    return pc.cast(pc.add(found, 1), pa.int32())


@kernel("lpad", "rpad")
def _pad(args: list[Value], call: Call) -> Value:
    width = _scalar_param(args[1], "length", call.fn)
    fill = _scalar_param(args[2], "padding", call.fn)
    if width is None or fill is None:
        return pa.nulls(len(args[0]), pa.string())
    if len(fill) != 1:
        raise UnsupportedFeatureError(
            f"{call.fn.upper()} with a padding of {len(fill)} characters is not supported by "
            "Volley yet; pass a single character"
        )
    padded = (pc.utf8_lpad if call.fn == "lpad" else pc.utf8_rpad)(args[0], width, fill)
    return pc.utf8_slice_codeunits(padded, 0, width)


@kernel("repeat")
def _repeat(args: list[Value], call: Call) -> Value:
    n = _scalar_param(args[1], "count", "repeat")
    return pc.binary_repeat(args[0], max(n, 0))


@kernel("split_index")
def _split_index(args: list[Value], call: Call) -> Value:
    sep = _scalar_param(args[1], "separator", "split_index")
    index = _scalar_param(args[2], "index", "split_index")
    parts = pc.split_pattern(args[0], sep)
    lengths = pc.list_value_length(parts)
    in_range = pc.fill_null(pc.greater(lengths, index), False)
    safe = pc.if_else(in_range, parts, pa.scalar([""] * (index + 1), parts.type))
    picked = pc.list_element(safe, index)
    return pc.if_else(in_range, picked, pa.scalar(None, pa.string()))


@kernel("md5")
def _md5(args: list[Value], call: Call) -> Value:
    import hashlib

    values = args[0].to_pylist() if not isinstance(args[0], pa.Scalar) else [args[0].as_py()]
    out = [None if v is None else hashlib.md5(v.encode()).hexdigest() for v in values]
    return pa.array(out, pa.string()) if not isinstance(args[0], pa.Scalar) else pa.scalar(out[0])


# -- math ------------------------------------------------------------------------------------------


def _float(value: Value) -> Value:
    return pc.cast(value, pa.float64())


for _name, _fn in (
    ("sqrt", pc.sqrt),
    ("ln", pc.ln),
    ("log10", pc.log10),
    ("log2", pc.log2),
    ("exp", pc.exp),
    ("sin", pc.sin),
    ("cos", pc.cos),
    ("tan", pc.tan),
    ("asin", pc.asin),
    ("acos", pc.acos),
    ("atan", pc.atan),
):

    def _make_unary(f):
        return lambda args, call: f(_float(args[0]))

    KERNELS[_name] = _make_unary(_fn)

KERNELS["degrees"] = lambda args, call: pc.multiply(_float(args[0]), 180.0 / math.pi)
KERNELS["radians"] = lambda args, call: pc.multiply(_float(args[0]), math.pi / 180.0)
KERNELS["cot"] = lambda args, call: pc.divide(1.0, pc.tan(_float(args[0])))
KERNELS["pi"] = lambda args, call: pa.scalar(math.pi)
KERNELS["e"] = lambda args, call: pa.scalar(math.e)
KERNELS["power"] = lambda args, call: pc.power(_float(args[0]), _float(args[1]))
KERNELS["atan2"] = lambda args, call: pc.atan2(_float(args[0]), _float(args[1]))


@kernel("log")
def _log(args: list[Value], call: Call) -> Value:
    if len(args) == 1:
        return pc.ln(_float(args[0]))
    return pc.divide(pc.ln(_float(args[1])), pc.ln(_float(args[0])))


@kernel("floor", "ceil")
def _floor_ceil(args: list[Value], call: Call) -> Value:
    t = call.args[0].type
    if t.is_integral:
        return args[0]
    f = pc.floor if call.fn == "floor" else pc.ceil
    if isinstance(t, DecimalType):
        rounded = pc.round(args[0], 0, round_mode="down" if call.fn == "floor" else "up")
        return pc.cast(rounded, call.type.to_arrow(), safe=False)
    return f(args[0])


@kernel("round", "truncate")
def _round(args: list[Value], call: Call) -> Value:
    digits = _scalar_param(args[1], "number of digits", call.fn) if len(args) > 1 else 0
    mode = "half_towards_infinity" if call.fn == "round" else "towards_zero"
    t = call.args[0].type
    if t.is_integral:
        if digits >= 0:
            return args[0]
        return _to(pc.round(args[0], digits, round_mode=mode), t)
    result = pc.round(args[0], digits, round_mode=mode)
    return pc.cast(result, call.type.to_arrow(), safe=False)


@kernel("sign")
def _sign(args: list[Value], call: Call) -> Value:
    return _to(pc.sign(args[0]), call.type)


# -- time ------------------------------------------------------------------------------------------

_EXTRACTORS = {
    "YEAR": pc.year,
    "MONTH": pc.month,
    "DAY": pc.day,
    "HOUR": pc.hour,
    "MINUTE": pc.minute,
    "SECOND": pc.second,
    "QUARTER": pc.quarter,
    "WEEK": pc.iso_week,
    "DOY": pc.day_of_year,
    "MILLISECOND": pc.millisecond,
    "MICROSECOND": pc.microsecond,
}


@kernel("extract")
def _extract(args: list[Value], call: Call) -> Value:
    unit = call.params[0].upper()
    if unit in ("DOW", "DAYOFWEEK"):
        # Flink: 1 = Sunday ... 7 = Saturday
        return pc.cast(pc.add(pc.day_of_week(args[0], count_from_zero=True, week_start=7), 1),
                       pa.int64())
    if unit not in _EXTRACTORS:
        raise UnsupportedFeatureError(
            f"EXTRACT({unit} FROM ...) is not supported; use one of "
            f"{', '.join(sorted(_EXTRACTORS))}, DOW"
        )
    return pc.cast(_EXTRACTORS[unit](args[0]), pa.int64())


_JAVA_FORMAT = [
    ("yyyy", "%Y"),
    ("yy", "%y"),
    ("MM", "%m"),
    ("dd", "%d"),
    ("HH", "%H"),
    ("hh", "%I"),
    ("mm", "%M"),
    ("ss", "%S"),
    ("a", "%p"),
    ("EEEE", "%A"),
    ("EEE", "%a"),
    ("MMMM", "%B"),
    ("MMM", "%b"),
]


def java_to_strftime(fmt: str) -> str:
    """Translate a Java ``SimpleDateFormat`` pattern to strftime (the common letters)."""
    out, i = "", 0
    while i < len(fmt):
        if fmt[i] == "'":
            end = fmt.find("'", i + 1)
            out += fmt[i + 1 : end if end != -1 else len(fmt)]
            i = end + 1 if end != -1 else len(fmt)
            continue
        if fmt.startswith("SSS", i):
            out += "%f"  # fixed up to milliseconds by the caller
            i += 3
            continue
        for java, py in _JAVA_FORMAT:
            if fmt.startswith(java, i):
                out += py
                i += len(java)
                break
        else:
            out += fmt[i].replace("%", "%%")
            i += 1
    return out


@kernel("date_format")
def _date_format(args: list[Value], call: Call) -> Value:
    fmt = _scalar_param(args[1], "format", "date_format") if len(args) > 1 else "yyyy-MM-dd HH:mm:ss"
    value = args[0]
    t = call.args[0].type
    if t.is_string:
        value = pc.cast(value, pa.timestamp("ms"))
    elif not pa.types.is_timestamp(value.type):
        value = pc.cast(value, pa.timestamp("ms"))
    if "ss.SSS" in fmt:
        # Arrow's %S prints seconds with the value's fraction: at millisecond unit, "05.123"
        value = pc.cast(value, pa.timestamp("ms", tz=value.type.tz))
        return pc.strftime(value, format=java_to_strftime(fmt.replace("ss.SSS", "ss")))
    value = pc.cast(value, pa.timestamp("s", tz=value.type.tz), safe=False)
    return pc.strftime(value, format=java_to_strftime(fmt))


def _parse_time(value: Value, fmt: str | None) -> Value:
    if fmt is None:
        return pc.cast(pc.utf8_trim_whitespace(value), pa.timestamp("ms"))
    return pc.strptime(value, format=java_to_strftime(fmt), unit="ms", error_is_null=True)


@kernel("to_date")
def _to_date(args: list[Value], call: Call) -> Value:
    t = call.args[0].type
    if not t.is_string:
        return pc.cast(args[0], pa.date32())
    fmt = _scalar_param(args[1], "format", "to_date") if len(args) > 1 else None
    if fmt is None:
        return pc.cast(args[0], pa.date32())
    return pc.cast(_parse_time(args[0], fmt), pa.date32())


@kernel("to_timestamp")
def _to_timestamp(args: list[Value], call: Call) -> Value:
    fmt = _scalar_param(args[1], "format", "to_timestamp") if len(args) > 1 else None
    return _parse_time(args[0], fmt)


@kernel("to_timestamp_ltz")
def _to_timestamp_ltz(args: list[Value], call: Call) -> Value:
    t = call.args[0].type
    if t.is_numeric:
        precision = _scalar_param(args[1], "precision", "to_timestamp_ltz") if len(args) > 1 else 3
        unit = {0: "s", 3: "ms", 6: "us", 9: "ns"}[precision]
        return pc.cast(pc.cast(pc.cast(args[0], pa.int64()), pa.timestamp(unit, tz="UTC")),
                       pa.timestamp("ms", tz="UTC"))
    return pc.cast(_parse_time(args[0], None), pa.timestamp("ms", tz="UTC"))


@kernel("floor_time", "ceil_time")
def _floor_time(args: list[Value], call: Call) -> Value:
    unit = call.params[0].lower()
    f = pc.floor_temporal if call.fn == "floor_time" else pc.ceil_temporal
    return f(args[0], unit=unit)


@kernel("timestampadd")
def _timestampadd(args: list[Value], call: Call) -> Value:
    unit = call.params[0].upper()
    amount, value = args
    if unit in ("YEAR", "MONTH", "QUARTER"):
        raise UnsupportedFeatureError(
            f"TIMESTAMPADD({unit}, ...) is not supported by Volley yet; use DAY, HOUR, MINUTE "
            "or SECOND units"
        )
    ms = {"WEEK": 604_800_000, "DAY": 86_400_000, "HOUR": 3_600_000, "MINUTE": 60_000,
          "SECOND": 1000, "MILLISECOND": 1}[unit]
    delta = pc.cast(pc.multiply(pc.cast(amount, pa.int64()), ms), pa.duration("ms"))
    return pc.add(value, delta)


@kernel("timestampdiff")
def _timestampdiff(args: list[Value], call: Call) -> Value:
    unit = call.params[0].upper()
    a, b = args
    if not pa.types.is_timestamp(a.type):
        a = pc.cast(a, pa.timestamp("ms"))
    if not pa.types.is_timestamp(b.type):
        b = pc.cast(b, pa.timestamp("ms"))
    if a.type != b.type:
        a, b = pc.cast(a, pa.timestamp("us")), pc.cast(b, pa.timestamp("us"))
    fn = {"YEAR": pc.years_between, "DAY": pc.days_between, "HOUR": pc.hours_between, "MINUTE": pc.minutes_between,
          "SECOND": pc.seconds_between, "WEEK": pc.weeks_between,
          "QUARTER": pc.quarters_between}.get(unit)
    if fn is None:
        raise UnsupportedFeatureError(f"TIMESTAMPDIFF({unit}, ...) is not supported by Volley yet")
    return pc.cast(fn(a, b), pa.int32())


@kernel("unix_timestamp")
def _unix_timestamp(args: list[Value], call: Call) -> Value:
    value = _parse_time(args[0], _scalar_param(args[1], "format", "unix_timestamp") if len(args) > 1 else "yyyy-MM-dd HH:mm:ss")
    return pc.divide(pc.cast(value, pa.int64()), 1000)


@kernel("from_unixtime")
def _from_unixtime(args: list[Value], call: Call) -> Value:
    fmt = _scalar_param(args[1], "format", "from_unixtime") if len(args) > 1 else "yyyy-MM-dd HH:mm:ss"
    ts = pc.cast(pc.cast(args[0], pa.int64()), pa.timestamp("s"))
    return pc.strftime(ts, format=java_to_strftime(fmt))
