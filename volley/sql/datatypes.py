"""SQL type syntax -> Volley logical types.

Defaults follow Flink's SQL type system, which differs from the ``DataTypes`` API in places:
``VARCHAR``/``VARBINARY`` without a length are ``STRING``/``BYTES``; ``CHAR``/``BINARY`` default to
length 1; ``DECIMAL`` to (10, 0); ``TIMESTAMP`` and ``TIMESTAMP_LTZ`` to precision 6; ``TIME`` to 0.
"""

from __future__ import annotations

from sqlglot import exp

from volley.errors import SqlParseError
from volley.plan import types as T

_SIMPLE: dict[exp.DType, type[T.DataType]] = {
    exp.DType.BOOLEAN: T.BooleanType,
    exp.DType.TINYINT: T.TinyIntType,
    exp.DType.SMALLINT: T.SmallIntType,
    exp.DType.INT: T.IntType,
    exp.DType.BIGINT: T.BigIntType,
    exp.DType.FLOAT: T.FloatType,
    exp.DType.DOUBLE: T.DoubleType,
    exp.DType.DATE: T.DateType,
    exp.DType.NULL: T.NullType,
}

SUPPORTED_TYPES = (
    "CHAR(n), VARCHAR(n), STRING, BOOLEAN, BINARY(n), VARBINARY(n), BYTES, DECIMAL(p, s), "
    "TINYINT, SMALLINT, INT, BIGINT, FLOAT, DOUBLE, DATE, TIME(p), TIMESTAMP(p), "
    "TIMESTAMP_LTZ(p), TIMESTAMP(p) WITH LOCAL TIME ZONE, ARRAY<T>, MAP<K, V>, ROW<name T, ...>"
)


def to_data_type(node: exp.Expression) -> T.DataType:
    """The Volley type for a parsed sqlglot ``DataType`` (``NOT NULL`` included)."""
    if not isinstance(node, exp.DataType):
        raise SqlParseError(f"expected a data type; got {node.sql()!r}")
    result = _convert(node)
    return result.with_nullability(node.args.get("nullable") is not False)


def _convert(node: exp.DataType) -> T.DataType:
    kind = node.this
    params = [_int_param(p, node) for p in node.expressions if isinstance(p, exp.DataTypeParam)]
    if kind in _SIMPLE:
        return _SIMPLE[kind]()
    if kind == exp.DType.TEXT:
        return T.VarCharType()
    if kind == exp.DType.VARCHAR:
        return T.VarCharType(params[0]) if params else T.VarCharType()
    if kind == exp.DType.CHAR:
        return T.CharType(params[0] if params else 1)
    if kind == exp.DType.VARBINARY:
        return T.VarBinaryType(params[0]) if params else T.VarBinaryType()
    if kind == exp.DType.BINARY:
        return T.BinaryType(params[0] if params else 1)
    if kind == exp.DType.DECIMAL:
        precision = params[0] if params else 10
        scale = params[1] if len(params) > 1 else 0
        try:
            return T.DecimalType(precision, scale)
        except ValueError as e:
            raise SqlParseError(f"invalid type {node.sql(dialect='flink')}: {e}") from None
    if kind == exp.DType.TIME:
        return T.TimeType(params[0] if params else 0)
    if kind == exp.DType.TIMESTAMP:
        return T.TimestampType(params[0] if params else 6)
    if kind == exp.DType.TIMESTAMPLTZ:
        return T.LocalZonedTimestampType(params[0] if params else 6)
    if kind == exp.DType.ARRAY and len(node.expressions) == 1:
        return T.ArrayType(to_data_type(node.expressions[0]))
    if kind == exp.DType.MAP and len(node.expressions) == 2:
        return T.MapType(to_data_type(node.expressions[0]), to_data_type(node.expressions[1]))
    if kind == exp.DType.STRUCT:
        return T.RowType(tuple(_row_field(f) for f in node.expressions))
    raise SqlParseError(
        f"unsupported data type {node.sql(dialect='flink')!r}; supported types: {SUPPORTED_TYPES}"
    )


def _int_param(param: exp.DataTypeParam, node: exp.DataType) -> int:
    value = param.this
    if isinstance(value, exp.Literal) and not value.is_string and value.this.isdigit():
        return int(value.this)
    raise SqlParseError(
        f"type parameters must be integer literals; got {param.sql()!r} in "
        f"{node.sql(dialect='flink')!r}"
    )


def _row_field(column: exp.Expression) -> T.RowField:
    if not isinstance(column, exp.ColumnDef) or not isinstance(
        column.args.get("kind"), exp.DataType
    ):
        raise SqlParseError(f"expected 'name TYPE' in ROW; got {column.sql()!r}")
    description = None
    data_type = to_data_type(column.args["kind"])
    for constraint in column.args.get("constraints") or []:
        kind = constraint.args.get("kind")
        if isinstance(kind, exp.CommentColumnConstraint):
            description = kind.this.name
        elif isinstance(kind, exp.NotNullColumnConstraint):
            data_type = data_type.with_nullability(bool(kind.args.get("allow_null")))
    return T.RowField(column.name, data_type, description)
