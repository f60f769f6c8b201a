"""Flink's logical types, mapped one-to-one onto Arrow types.

``DataTypes`` (re-exported as ``volley.table.DataTypes``) builds these. Every type knows its Arrow
type (``to_arrow``) and prints itself the way Flink's Java ``DataType.toString()`` does
(``INT NOT NULL``, ``DECIMAL(10, 2)``, ``STRING``), which is what ``print_schema`` and the PyFlink
golden files show.
"""

from __future__ import annotations

import datetime
import decimal
from dataclasses import dataclass, field, replace
from typing import Any

import pyarrow as pa

MAX_LENGTH = 2147483647


@dataclass(frozen=True)
class DataType:
    """Base of every logical type. ``nullable`` is part of the type, as in Flink.

    A subtype with fields of its own is a ``@dataclass(frozen=True, repr=False)``; one without
    (INT, DOUBLE, ...) is a plain subclass and inherits ``__init__``, ``__eq__`` (which compares
    classes too) and ``__hash__``: decorating it again would only regenerate the same methods, at
    about 0.4 ms of import time each.
    """

    nullable: bool = field(default=True, kw_only=True)

    # -- nullability ----------------------------------------------------------------------------
    def not_null(self) -> DataType:
        return replace(self, nullable=False)

    def as_nullable(self) -> DataType:
        return replace(self, nullable=True)

    def with_nullability(self, nullable: bool) -> DataType:
        return self if self.nullable == nullable else replace(self, nullable=nullable)

    # -- naming ---------------------------------------------------------------------------------
    def type_name(self) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.type_name() + ("" if self.nullable else " NOT NULL")

    def __repr__(self) -> str:
        return f"DataTypes.{self!s}"

    # -- arrow ----------------------------------------------------------------------------------
    def to_arrow(self) -> pa.DataType:
        raise NotImplementedError

    def to_arrow_field(self, name: str) -> pa.Field:
        return pa.field(name, self.to_arrow(), nullable=self.nullable)

    # -- categories used by type inference --------------------------------------------------------
    @property
    def is_numeric(self) -> bool:
        return isinstance(self, (_IntegralType, FloatType, DoubleType, DecimalType))

    @property
    def is_integral(self) -> bool:
        return isinstance(self, _IntegralType)

    @property
    def is_string(self) -> bool:
        return isinstance(self, (CharType, VarCharType))

    @property
    def is_temporal(self) -> bool:
        return isinstance(self, (DateType, TimeType, TimestampType, LocalZonedTimestampType))


class _IntegralType(DataType):
    _name = ""
    _arrow: pa.DataType
    rank = 0

    def type_name(self) -> str:
        return self._name

    def to_arrow(self) -> pa.DataType:
        return self._arrow


class NullType(DataType):
    def type_name(self) -> str:
        return "NULL"

    def to_arrow(self) -> pa.DataType:
        return pa.null()


class BooleanType(DataType):
    def type_name(self) -> str:
        return "BOOLEAN"

    def to_arrow(self) -> pa.DataType:
        return pa.bool_()


class TinyIntType(_IntegralType):
    _name = "TINYINT"
    _arrow = pa.int8()
    rank = 1


class SmallIntType(_IntegralType):
    _name = "SMALLINT"
    _arrow = pa.int16()
    rank = 2


class IntType(_IntegralType):
    _name = "INT"
    _arrow = pa.int32()
    rank = 3


class BigIntType(_IntegralType):
    _name = "BIGINT"
    _arrow = pa.int64()
    rank = 4


class FloatType(DataType):
    def type_name(self) -> str:
        return "FLOAT"

    def to_arrow(self) -> pa.DataType:
        return pa.float32()


class DoubleType(DataType):
    def type_name(self) -> str:
        return "DOUBLE"

    def to_arrow(self) -> pa.DataType:
        return pa.float64()


@dataclass(frozen=True, repr=False)
class DecimalType(DataType):
    """DECIMAL(precision, scale): Arrow's decimal128."""

    precision: int = 10
    scale: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.precision <= 38:
            raise ValueError(f"DECIMAL precision must be between 1 and 38; got {self.precision}")
        if not 0 <= self.scale <= self.precision:
            raise ValueError(
                f"DECIMAL scale must be between 0 and the precision {self.precision}; "
                f"got {self.scale}"
            )

    def type_name(self) -> str:
        return f"DECIMAL({self.precision}, {self.scale})"

    def to_arrow(self) -> pa.DataType:
        return pa.decimal128(self.precision, self.scale)


@dataclass(frozen=True, repr=False)
class CharType(DataType):
    """CHAR(n); held as an Arrow string."""

    length: int = 1

    def type_name(self) -> str:
        return f"CHAR({self.length})"

    def to_arrow(self) -> pa.DataType:
        return pa.string()


@dataclass(frozen=True, repr=False)
class VarCharType(DataType):
    """VARCHAR(n); STRING is VARCHAR of the largest length."""

    length: int = MAX_LENGTH

    def type_name(self) -> str:
        return "STRING" if self.length == MAX_LENGTH else f"VARCHAR({self.length})"

    def to_arrow(self) -> pa.DataType:
        return pa.string()


@dataclass(frozen=True, repr=False)
class BinaryType(DataType):
    """BINARY(n); held as Arrow binary."""

    length: int = 1

    def type_name(self) -> str:
        return f"BINARY({self.length})"

    def to_arrow(self) -> pa.DataType:
        return pa.binary()


@dataclass(frozen=True, repr=False)
class VarBinaryType(DataType):
    """VARBINARY(n); BYTES is VARBINARY of the largest length."""

    length: int = MAX_LENGTH

    def type_name(self) -> str:
        return "BYTES" if self.length == MAX_LENGTH else f"VARBINARY({self.length})"

    def to_arrow(self) -> pa.DataType:
        return pa.binary()


class DateType(DataType):
    def type_name(self) -> str:
        return "DATE"

    def to_arrow(self) -> pa.DataType:
        return pa.date32()


def _time_unit(precision: int) -> str:
    if precision <= 0:
        return "s"
    if precision <= 3:
        return "ms"
    if precision <= 6:
        return "us"
    return "ns"


@dataclass(frozen=True, repr=False)
class TimeType(DataType):
    """TIME(p): Arrow time32 in ms up to p = 3, time64 beyond."""

    precision: int = 0

    def type_name(self) -> str:
        return f"TIME({self.precision})"

    def to_arrow(self) -> pa.DataType:
        unit = _time_unit(self.precision)
        if unit in ("s", "ms"):
            return pa.time32("ms")
        return pa.time64(unit)


class _TimeAttribute:
    """A TIMESTAMP or TIMESTAMP_LTZ column may be a time attribute: ``rowtime`` (event time, a
    watermark is declared on it) or ``proctime`` (the clock). The mark travels with the type
    through projections, as in Flink, and is not part of type equality: a rowtime column is a
    TIMESTAMP(3) like any other to every rule that compares types."""

    time_attribute: str | None

    def as_time_attribute(self, kind: str | None) -> DataType:
        return replace(self, time_attribute=kind)  # type: ignore[type-var]

    def materialized(self) -> DataType:
        """The same type as a regular timestamp (an aggregate's group key, a join's output)."""
        return self if self.time_attribute is None else self.as_time_attribute(None)

    def __str__(self) -> str:
        mark = f" *{self.time_attribute.upper()}*" if self.time_attribute else ""
        return DataType.__str__(self) + mark  # type: ignore[arg-type]


@dataclass(frozen=True, repr=False)
class TimestampType(_TimeAttribute, DataType):
    """TIMESTAMP(p), without time zone: an Arrow timestamp of the precision's unit (ms at
    least)."""

    precision: int = 6
    time_attribute: str | None = field(default=None, compare=False, kw_only=True)

    def type_name(self) -> str:
        return f"TIMESTAMP({self.precision})"

    def to_arrow(self) -> pa.DataType:
        unit = _time_unit(self.precision)
        return pa.timestamp("ms" if unit == "s" else unit)


@dataclass(frozen=True, repr=False)
class LocalZonedTimestampType(_TimeAttribute, DataType):
    """TIMESTAMP_LTZ(p): an instant, held as an Arrow timestamp in UTC."""

    precision: int = 6
    time_attribute: str | None = field(default=None, compare=False, kw_only=True)

    def type_name(self) -> str:
        return f"TIMESTAMP_LTZ({self.precision})"

    def to_arrow(self) -> pa.DataType:
        unit = _time_unit(self.precision)
        return pa.timestamp("ms" if unit == "s" else unit, tz="UTC")


@dataclass(frozen=True, repr=False)
class ArrayType(DataType):
    """ARRAY<element>: an Arrow list."""

    element_type: DataType = field(default_factory=lambda: VarCharType())

    def type_name(self) -> str:
        return f"ARRAY<{self.element_type}>"

    def to_arrow(self) -> pa.DataType:
        return pa.list_(self.element_type.to_arrow_field("element"))


@dataclass(frozen=True, repr=False)
class MapType(DataType):
    """MAP<key, value>: an Arrow map."""

    key_type: DataType = field(default_factory=lambda: VarCharType())
    value_type: DataType = field(default_factory=lambda: VarCharType())

    def type_name(self) -> str:
        return f"MAP<{self.key_type}, {self.value_type}>"

    def to_arrow(self) -> pa.DataType:
        return pa.map_(self.key_type.to_arrow(), self.value_type.to_arrow())


@dataclass(frozen=True)
class RowField:
    """One named field of a ROW type (``DataTypes.FIELD``)."""

    name: str
    data_type: DataType
    description: str | None = None

    def __str__(self) -> str:
        return f"`{self.name}` {self.data_type}"


@dataclass(frozen=True, repr=False)
class RowType(DataType):
    """ROW<fields>: a struct column, and also the schema of a table or an operator's output."""

    fields: tuple[RowField, ...] = ()

    def type_name(self) -> str:
        return "ROW<" + ", ".join(str(f) for f in self.fields) + ">"

    def to_arrow(self) -> pa.DataType:
        return pa.struct([f.data_type.to_arrow_field(f.name) for f in self.fields])

    def to_arrow_schema(self) -> pa.Schema:
        return pa.schema([f.data_type.to_arrow_field(f.name) for f in self.fields])

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    @property
    def types(self) -> list[DataType]:
        return [f.data_type for f in self.fields]

    def field_names(self) -> list[str]:
        """PyFlink's spelling of ``names``."""
        return self.names

    def field_types(self) -> list[DataType]:
        return self.types


# ------------------------------------------------------------------------------------------------
# Arrow -> logical type
# ------------------------------------------------------------------------------------------------


def from_arrow(arrow_type: pa.DataType, nullable: bool = True) -> DataType:
    """The logical type for an Arrow type (used by from_arrow, from_pandas and sources)."""
    t = arrow_type
    simple: dict[pa.DataType, DataType] = {
        pa.bool_(): BooleanType(),
        pa.int8(): TinyIntType(),
        pa.int16(): SmallIntType(),
        pa.int32(): IntType(),
        pa.int64(): BigIntType(),
        pa.uint8(): SmallIntType(),
        pa.uint16(): IntType(),
        pa.uint32(): BigIntType(),
        pa.uint64(): DecimalType(20, 0),
        pa.float16(): FloatType(),
        pa.float32(): FloatType(),
        pa.float64(): DoubleType(),
        pa.string(): VarCharType(),
        pa.large_string(): VarCharType(),
        pa.string_view(): VarCharType(),
        pa.binary(): VarBinaryType(),
        pa.large_binary(): VarBinaryType(),
        pa.date32(): DateType(),
        pa.date64(): DateType(),
        pa.null(): NullType(),
    }
    if t in simple:
        result = simple[t]
    elif pa.types.is_decimal(t):
        result = DecimalType(min(t.precision, 38), t.scale)
    elif pa.types.is_timestamp(t):
        precision = {"s": 0, "ms": 3, "us": 6, "ns": 9}[t.unit]
        result = (
            LocalZonedTimestampType(precision) if t.tz is not None else TimestampType(precision)
        )
    elif pa.types.is_time(t):
        result = TimeType({"s": 0, "ms": 3, "us": 6, "ns": 9}[t.unit])
    elif pa.types.is_fixed_size_binary(t):
        result = BinaryType(t.byte_width)
    elif pa.types.is_dictionary(t):
        return from_arrow(t.value_type, nullable)
    elif pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        result = ArrayType(from_arrow(t.value_type, t.value_field.nullable))
    elif pa.types.is_map(t):
        result = MapType(from_arrow(t.key_type, False), from_arrow(t.item_type))
    elif pa.types.is_struct(t):
        result = RowType(
            tuple(RowField(f.name, from_arrow(f.type, f.nullable)) for f in t)  # type: ignore[attr-defined]
        )
    else:
        raise TypeError(f"Arrow type {t} has no Flink counterpart; cast it to a supported type first")
    return result.with_nullability(nullable)


def row_type_from_arrow_schema(schema: pa.Schema) -> RowType:
    return RowType(tuple(RowField(f.name, from_arrow(f.type, f.nullable)) for f in schema))


# ------------------------------------------------------------------------------------------------
# Python value -> logical type (from_elements without a schema, lit(...))
# ------------------------------------------------------------------------------------------------


def infer_from_value(value: Any) -> DataType:
    """The type Flink infers for a Python value, as ``from_elements`` does without a schema."""
    if value is None:
        return NullType()
    if isinstance(value, bool):
        return BooleanType(nullable=False)
    if isinstance(value, int):
        return BigIntType(nullable=False)
    if isinstance(value, float):
        return DoubleType(nullable=False)
    if isinstance(value, str):
        return VarCharType(nullable=False)
    if isinstance(value, (bytes, bytearray)):
        return VarBinaryType(nullable=False)
    if isinstance(value, decimal.Decimal):
        return DecimalType(38, 18, nullable=False)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            return LocalZonedTimestampType(6, nullable=False)
        return TimestampType(6, nullable=False)
    if isinstance(value, datetime.date):
        return DateType(nullable=False)
    if isinstance(value, datetime.time):
        return TimeType(0, nullable=False)
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        elem = next((infer_from_value(v) for v in value if v is not None), NullType())
        return ArrayType(elem.as_nullable(), nullable=False)
    if isinstance(value, dict):
        k = next((infer_from_value(k) for k in value), VarCharType())
        v = next((infer_from_value(v) for v in value.values() if v is not None), VarCharType())
        return MapType(k, v.as_nullable(), nullable=False)
    raise TypeError(
        f"cannot infer a Flink type for the Python value {value!r} of type "
        f"{type(value).__name__}; pass a schema, e.g. DataTypes.ROW([...])"
    )


# ------------------------------------------------------------------------------------------------
# common supertype, used by UNION, CASE, COALESCE, IN and comparisons
# ------------------------------------------------------------------------------------------------


def common_type(types: list[DataType]) -> DataType | None:
    """The least restrictive type all of ``types`` widen to, or None if there is none."""
    non_null = [t for t in types if not isinstance(t, NullType)]
    nullable = any(t.nullable for t in types)
    if not non_null:
        return NullType()
    result = non_null[0]
    for t in non_null[1:]:
        widened = _widen(result, t)
        if widened is None:
            return None
        result = widened
    return result.with_nullability(nullable)


def _widen(a: DataType, b: DataType) -> DataType | None:
    a0, b0 = a.as_nullable(), b.as_nullable()
    if a0 == b0:
        return a0
    if a.is_string and b.is_string:
        if isinstance(a, CharType) and isinstance(b, CharType):
            return CharType(max(a.length, b.length))
        la = a.length if hasattr(a, "length") else MAX_LENGTH
        lb = b.length if hasattr(b, "length") else MAX_LENGTH
        return VarCharType(max(la, lb))
    if a.is_numeric and b.is_numeric:
        return numeric_result_type(a, b)
    if isinstance(a, (TimestampType, DateType)) and isinstance(b, (TimestampType, DateType)):
        pa_ = getattr(a, "precision", 0)
        pb = getattr(b, "precision", 0)
        return TimestampType(max(pa_, pb))
    if type(a) is type(b):
        if isinstance(a, (TimestampType, LocalZonedTimestampType, TimeType)):
            return type(a)(max(a.precision, b.precision))  # type: ignore[attr-defined]
        if isinstance(a, (VarBinaryType, BinaryType)):
            return VarBinaryType()
        if isinstance(a, ArrayType):
            e = _widen(a.element_type, b.element_type)  # type: ignore[attr-defined]
            return ArrayType(e) if e is not None else None
    return None


def decimal_of_integral(t: DataType) -> DecimalType:
    return {1: DecimalType(3, 0), 2: DecimalType(5, 0), 3: DecimalType(10, 0), 4: DecimalType(19, 0)}[
        t.rank  # type: ignore[attr-defined]
    ]


def numeric_result_type(a: DataType, b: DataType) -> DataType:
    """Flink's result type of ``a + b`` style arithmetic between two numeric types."""
    if isinstance(a, DoubleType) or isinstance(b, DoubleType):
        return DoubleType()
    if isinstance(a, FloatType) or isinstance(b, FloatType):
        return (
            DoubleType()
            if isinstance(a, DecimalType) or isinstance(b, DecimalType)
            else FloatType()
        )
    if isinstance(a, DecimalType) or isinstance(b, DecimalType):
        da = a if isinstance(a, DecimalType) else decimal_of_integral(a)
        db = b if isinstance(b, DecimalType) else decimal_of_integral(b)
        scale = max(da.scale, db.scale)
        integral = max(da.precision - da.scale, db.precision - db.scale)
        return DecimalType(min(38, integral + scale), scale)
    ra, rb = a.rank, b.rank  # type: ignore[attr-defined]
    return (a if ra >= rb else b).as_nullable()
