"""PyFlink's ``TableDescriptor``, ``FormatDescriptor`` and ``Schema``: tables declared in Python.

``TableDescriptor.for_connector('filesystem').schema(...).option('path', p).format('csv')
.build()`` is the Python spelling of ``CREATE TABLE ... WITH (...)``; ``to_catalog_table`` turns it
into the same ``CatalogTable`` the DDL produces. Computed columns and watermark expressions are
SQL text, parsed with sqlglot when the table reaches the catalog.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from volley.errors import PlanError
from volley.lazy import lazy_module
from volley.plan.catalog import CatalogColumn, CatalogTable, WatermarkSpec
from volley.plan.types import DataType, RowType

# Expression text is parsed when the table reaches the catalog; a table without computed
# columns or a watermark never imports sqlglot.
sqlglot = lazy_module("sqlglot")


@dataclass(frozen=True)
class _Column:
    """A column of a ``Schema`` being built: a type, or a computed column's expression."""

    name: str
    data_type: DataType | None = None
    expression: str | None = None
    comment: str | None = None

    def __str__(self) -> str:
        text = f"`{self.name}` " + (
            f"AS {self.expression}" if self.expression else str(self.data_type)
        )
        return text + (f" COMMENT '{self.comment}'" if self.comment else "")


class Schema:
    """The columns, watermark and primary key of a table (``pyflink.table.Schema``)."""

    def __init__(
        self,
        columns: tuple[_Column, ...],
        watermark: tuple[str, str] | None,
        primary_key: tuple[str, ...],
    ) -> None:
        self._columns = columns
        self._watermark = watermark
        self._primary_key = primary_key

    @staticmethod
    def new_builder() -> Schema.Builder:
        return Schema.Builder()

    @property
    def columns(self) -> tuple[_Column, ...]:
        return self._columns

    def __str__(self) -> str:
        lines = [str(c) for c in self._columns]
        if self._watermark:
            lines.append(f"WATERMARK FOR `{self._watermark[0]}` AS {self._watermark[1]}")
        if self._primary_key:
            keys = ", ".join(f"`{k}`" for k in self._primary_key)
            lines.append(f"CONSTRAINT `PK` PRIMARY KEY ({keys}) NOT ENFORCED")
        return "(\n" + ",\n".join("  " + line for line in lines) + "\n)"

    def __repr__(self) -> str:
        return str(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schema) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))

    class Builder:
        """Collects columns in order; ``build`` checks names before anything runs."""

        def __init__(self) -> None:
            self._columns: list[_Column] = []
            self._watermark: tuple[str, str] | None = None
            self._primary_key: tuple[str, ...] = ()

        def from_schema(self, schema: Schema) -> Schema.Builder:
            self._columns.extend(schema._columns)
            self._watermark = schema._watermark or self._watermark
            self._primary_key = schema._primary_key or self._primary_key
            return self

        def from_row_data_type(self, row_type: RowType) -> Schema.Builder:
            if not isinstance(row_type, RowType):
                raise PlanError(
                    f"from_row_data_type needs a ROW type; expected DataTypes.ROW([...]), "
                    f"got {row_type!r}"
                )
            for f in row_type.fields:
                self.column(f.name, f.data_type)
            return self

        def from_fields(
            self, field_names: list[str], field_data_types: list[DataType]
        ) -> Schema.Builder:
            if len(field_names) != len(field_data_types):
                raise PlanError(
                    f"from_fields needs one type per name; expected {len(field_names)} types, "
                    f"got {len(field_data_types)}"
                )
            for name, data_type in zip(field_names, field_data_types, strict=True):
                self.column(name, data_type)
            return self

        def column(self, column_name: str, data_type: DataType | str) -> Schema.Builder:
            if isinstance(data_type, str):
                raise PlanError(
                    f"column {column_name!r} has its type as text {data_type!r}; expected a "
                    "DataType such as DataTypes.INT()"
                )
            self._columns.append(_Column(column_name, data_type=data_type))
            return self

        def column_by_expression(self, column_name: str, expr: str) -> Schema.Builder:
            if not isinstance(expr, str):
                raise PlanError(
                    f"computed column {column_name!r} needs SQL text; expected e.g. "
                    f"'price * 2', got {expr!r}"
                )
            self._columns.append(_Column(column_name, expression=expr))
            return self

        def column_by_metadata(
            self, column_name: str, data_type: DataType, *args: Any
        ) -> Schema.Builder:
            from volley.errors import UnsupportedFeatureError

            raise UnsupportedFeatureError(
                f"metadata column {column_name!r} is not supported; the filesystem, datagen, "
                "print and blackhole connectors expose no metadata; use a computed column"
            )

        def with_comment(self, comment: str) -> Schema.Builder:
            if not self._columns:
                raise PlanError(
                    "with_comment needs a column before it; expected .column(...) first"
                )
            last = self._columns[-1]
            self._columns[-1] = _Column(last.name, last.data_type, last.expression, comment)
            return self

        def watermark(self, column_name: str, watermark_expr: str) -> Schema.Builder:
            self._watermark = (column_name, watermark_expr)
            return self

        def primary_key(self, *column_names: str) -> Schema.Builder:
            self._primary_key = tuple(column_names)
            return self

        def primary_key_named(self, constraint_name: str, *column_names: str) -> Schema.Builder:
            return self.primary_key(*column_names)

        def build(self) -> Schema:
            names = [c.name for c in self._columns]
            duplicates = sorted({n for n in names if names.count(n) > 1})
            if duplicates:
                raise PlanError(
                    f"schema has duplicate column {duplicates[0]!r}; expected unique names, "
                    f"got {names}"
                )
            referenced = ([self._watermark[0]] if self._watermark else []) + list(self._primary_key)
            for name in referenced:
                if name not in names:
                    raise PlanError(
                        f"schema refers to unknown column {name!r}; expected one of {names}"
                    )
            return Schema(tuple(self._columns), self._watermark, self._primary_key)


class FormatDescriptor:
    """A format and its options; in a table they become ``<format>.<key>`` options."""

    def __init__(self, format: str, options: dict[str, str]) -> None:
        self._format = format
        self._options = dict(options)

    @staticmethod
    def for_format(format: str) -> FormatDescriptor.Builder:
        return FormatDescriptor.Builder(format)

    def get_format(self) -> str:
        return self._format

    def get_options(self) -> dict[str, str]:
        return dict(self._options)

    def __str__(self) -> str:
        options = ", ".join(f"{k}={v}" for k, v in self._options.items())
        return f"{self._format}[{options}]"

    class Builder:
        def __init__(self, format: str) -> None:
            self._format = format
            self._options: dict[str, str] = {}

        def option(self, key: str, value: Any) -> FormatDescriptor.Builder:
            self._options[str(key)] = _option_text(value)
            return self

        def build(self) -> FormatDescriptor:
            return FormatDescriptor(self._format, self._options)


def _option_text(value: Any) -> str:
    """Flink option values are strings; booleans print as ``true``/``false``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True)
class TableDescriptor:
    """A table's schema, options, partition keys and comment (``pyflink.table.TableDescriptor``)."""

    _schema: Schema | None
    _options: dict[str, str] = field(default_factory=dict)
    _partition_keys: tuple[str, ...] = ()
    _comment: str | None = None

    @staticmethod
    def for_connector(connector: str) -> TableDescriptor.Builder:
        return TableDescriptor.Builder().option("connector", connector)

    def get_schema(self) -> Schema | None:
        return self._schema

    def get_options(self) -> dict[str, str]:
        return dict(self._options)

    def get_partition_keys(self) -> list[str]:
        return list(self._partition_keys)

    def get_comment(self) -> str | None:
        return self._comment

    def to_builder(self) -> TableDescriptor.Builder:
        builder = TableDescriptor.Builder()
        builder._schema = self._schema
        builder._options = dict(self._options)
        builder._partition_keys = self._partition_keys
        builder._comment = self._comment
        return builder

    def __str__(self) -> str:
        parts = [str(self._schema) if self._schema else "()"]
        if self._comment:
            parts.append(f"COMMENT '{self._comment}'")
        if self._partition_keys:
            parts.append(
                "PARTITIONED BY (" + ", ".join(f"`{k}`" for k in self._partition_keys) + ")"
            )
        options = ",\n".join(f"  '{k}' = '{v}'" for k, v in self._options.items())
        parts.append("WITH (\n" + options + "\n)")
        return "\n".join(parts)

    class Builder:
        def __init__(self) -> None:
            self._schema: Schema | None = None
            self._options: dict[str, str] = {}
            self._partition_keys: tuple[str, ...] = ()
            self._comment: str | None = None

        def schema(self, schema: Schema) -> TableDescriptor.Builder:
            self._schema = schema
            return self

        def option(self, key: str, value: Any) -> TableDescriptor.Builder:
            self._options[str(key)] = _option_text(value)
            return self

        def format(
            self, format: str | FormatDescriptor, format_option_key: str | None = None
        ) -> TableDescriptor.Builder:
            """``'format' = 'csv'``; a FormatDescriptor's options become ``csv.<key>``.
            ``format_option_key`` (e.g. ``'key.format'``) replaces ``'format'`` and prefixes the
            format options (``'key.csv.<key>'``)."""
            key = format_option_key or "format"
            prefix = key[: -len("format")] if key.endswith("format") else f"{key}."
            if isinstance(format, FormatDescriptor):
                self._options[key] = format.get_format()
                for k, v in format.get_options().items():
                    self._options[f"{prefix}{format.get_format()}.{k}"] = v
            else:
                self._options[key] = format
            return self

        def partitioned_by(self, *partition_keys: str) -> TableDescriptor.Builder:
            self._partition_keys = tuple(partition_keys)
            return self

        def comment(self, comment: str) -> TableDescriptor.Builder:
            self._comment = comment
            return self

        def build(self) -> TableDescriptor:
            if self._schema is not None:
                names = [c.name for c in self._schema.columns]
                for key in self._partition_keys:
                    if key not in names:
                        raise PlanError(
                            f"partition key {key!r} is not a column; expected one of {names}"
                        )
            return TableDescriptor(
                self._schema, dict(self._options), self._partition_keys, self._comment
            )


def to_catalog_table(descriptor: TableDescriptor) -> CatalogTable:
    """The catalog table a descriptor declares, as ``CREATE TABLE`` would have produced it."""
    schema = descriptor.get_schema()
    if schema is None:
        raise PlanError(
            "a TableDescriptor needs a schema to become a table; expected "
            ".schema(Schema.new_builder()...build()), got none"
        )
    columns = tuple(
        CatalogColumn(
            c.name,
            c.data_type,
            sqlglot.parse_one(c.expression) if c.expression is not None else None,
            c.comment,
        )
        for c in schema.columns
    )
    watermark = None
    if schema._watermark is not None:
        column, text = schema._watermark
        watermark = WatermarkSpec(column, sqlglot.parse_one(text))
    return CatalogTable(
        columns=columns,
        options=descriptor.get_options(),
        partition_keys=tuple(descriptor.get_partition_keys()),
        primary_key=schema._primary_key,
        watermark=watermark,
        comment=descriptor.get_comment(),
    )
