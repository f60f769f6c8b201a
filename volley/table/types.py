"""``DataTypes``: PyFlink's factory of logical types (the classes live in ``volley.plan.types``)."""

from __future__ import annotations

from volley.errors import UnsupportedFeatureError
from volley.plan.types import (
    MAX_LENGTH,
    ArrayType,
    BigIntType,
    BinaryType,
    BooleanType,
    CharType,
    DataType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IntType,
    LocalZonedTimestampType,
    MapType,
    NullType,
    RowField,
    RowType,
    SmallIntType,
    TimestampType,
    TimeType,
    TinyIntType,
    VarBinaryType,
    VarCharType,
)


class DataTypes:
    """Factory methods named and shaped as PyFlink's ``DataTypes``."""

    @staticmethod
    def NULL() -> DataType:
        return NullType()

    @staticmethod
    def BOOLEAN(nullable: bool = True) -> DataType:
        return BooleanType(nullable=nullable)

    @staticmethod
    def TINYINT(nullable: bool = True) -> DataType:
        return TinyIntType(nullable=nullable)

    @staticmethod
    def SMALLINT(nullable: bool = True) -> DataType:
        return SmallIntType(nullable=nullable)

    @staticmethod
    def INT(nullable: bool = True) -> DataType:
        return IntType(nullable=nullable)

    @staticmethod
    def BIGINT(nullable: bool = True) -> DataType:
        return BigIntType(nullable=nullable)

    @staticmethod
    def FLOAT(nullable: bool = True) -> DataType:
        return FloatType(nullable=nullable)

    @staticmethod
    def DOUBLE(nullable: bool = True) -> DataType:
        return DoubleType(nullable=nullable)

    @staticmethod
    def DECIMAL(precision: int = 10, scale: int = 0, nullable: bool = True) -> DataType:
        return DecimalType(precision, scale, nullable=nullable)

    @staticmethod
    def CHAR(length: int = 1, nullable: bool = True) -> DataType:
        return CharType(length, nullable=nullable)

    @staticmethod
    def VARCHAR(length: int = MAX_LENGTH, nullable: bool = True) -> DataType:
        return VarCharType(length, nullable=nullable)

    @staticmethod
    def STRING(nullable: bool = True) -> DataType:
        return VarCharType(MAX_LENGTH, nullable=nullable)

    @staticmethod
    def BINARY(length: int = 1, nullable: bool = True) -> DataType:
        return BinaryType(length, nullable=nullable)

    @staticmethod
    def VARBINARY(length: int = MAX_LENGTH, nullable: bool = True) -> DataType:
        return VarBinaryType(length, nullable=nullable)

    @staticmethod
    def BYTES(nullable: bool = True) -> DataType:
        return VarBinaryType(MAX_LENGTH, nullable=nullable)

    @staticmethod
    def DATE(nullable: bool = True) -> DataType:
        return DateType(nullable=nullable)

    @staticmethod
    def TIME(precision: int = 0, nullable: bool = True) -> DataType:
        return TimeType(precision, nullable=nullable)

    @staticmethod
    def TIMESTAMP(precision: int = 6, nullable: bool = True) -> DataType:
        return TimestampType(precision, nullable=nullable)

    @staticmethod
    def TIMESTAMP_LTZ(precision: int = 6, nullable: bool = True) -> DataType:
        return LocalZonedTimestampType(precision, nullable=nullable)

    TIMESTAMP_WITH_LOCAL_TIME_ZONE = TIMESTAMP_LTZ

    @staticmethod
    def ARRAY(element_type: DataType, nullable: bool = True) -> DataType:
        return ArrayType(element_type, nullable=nullable)

    @staticmethod
    def MAP(key_type: DataType, value_type: DataType, nullable: bool = True) -> DataType:
        return MapType(key_type, value_type, nullable=nullable)

    @staticmethod
    def FIELD(name: str, data_type: DataType, description: str | None = None) -> RowField:
        return RowField(name, data_type, description)

    @staticmethod
    def ROW(row_fields: list[RowField] | None = None, nullable: bool = True) -> RowType:
        return RowType(tuple(row_fields or ()), nullable=nullable)

    @staticmethod
    def MULTISET(element_type: DataType, nullable: bool = True) -> DataType:
        raise UnsupportedFeatureError(
            "DataTypes.MULTISET is not supported by Volley yet; use DataTypes.MAP(element, INT())"
        )

    @staticmethod
    def INTERVAL(*args: object, **kwargs: object) -> DataType:
        raise UnsupportedFeatureError(
            "DataTypes.INTERVAL columns are not supported by Volley yet; store durations as "
            "BIGINT milliseconds"
        )


__all__ = ["DataTypes", "DataType", "RowType", "RowField"]
