"""``TableSchema``: names and types of a table's columns, printed as PyFlink prints them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from volley.plan.types import DataType, RowType

if TYPE_CHECKING:
    from volley.plan.catalog import CatalogTable


class TableSchema:
    def __init__(self, names: list[str], types: list[DataType], extras: list[str] | None = None,
                 watermark: str | None = None) -> None:
        """``extras``: what each column's line adds after its type (a time attribute marker, a
        computed column's expression); ``watermark``: the line a declared watermark adds."""
        self._names = names
        self._types = types
        self._extras = extras if extras is not None else [""] * len(names)
        self._watermark = watermark

    @staticmethod
    def of(row_type: RowType) -> TableSchema:
        return TableSchema(row_type.names, row_type.types)

    @staticmethod
    def of_declared(table: CatalogTable, row_type: RowType) -> TableSchema:
        """The schema of a declared table read whole (``from_path``), as Flink prints a resolved
        schema: time attributes marked, computed columns with their expressions, the watermark."""
        extras = [f" AS {flink_sql(c.expression)}" if c.expression is not None else ""
                  for c in table.columns]
        watermark = None
        if table.watermark is not None:
            column = table.watermark.column
            declared = row_type.types[row_type.names.index(column)].materialized()  # type: ignore[attr-defined]
            text = flink_sql(table.watermark.expression)
            if text.upper() == "SOURCE_WATERMARK()":
                text = "`SOURCE_WATERMARK`()"  # Flink quotes this one function's name
            watermark = f"WATERMARK FOR `{column}`: {declared} AS {text}"
        return TableSchema(row_type.names, row_type.types, extras, watermark)

    def get_field_names(self) -> list[str]:
        return list(self._names)

    def get_field_data_types(self) -> list[DataType]:
        return list(self._types)

    def get_column_names(self) -> list[str]:
        return list(self._names)

    def get_column_data_types(self) -> list[DataType]:
        return list(self._types)

    def get_field_count(self) -> int:
        return len(self._names)

    def get_field_data_type(self, field: int | str) -> DataType | None:
        if isinstance(field, int):
            return self._types[field]
        return self._types[self._names.index(field)] if field in self._names else None

    def get_field_name(self, index: int) -> str:
        return self._names[index]

    def to_row_data_type(self) -> RowType:
        from volley.plan.types import RowField

        return RowType(tuple(RowField(n, t) for n, t in zip(self._names, self._types, strict=True)))

    def __str__(self) -> str:
        lines = ["("]
        entries = [f"`{n}` {t}{extra}"
                   for n, t, extra in zip(self._names, self._types, self._extras, strict=True)]
        if self._watermark is not None:
            entries.append(self._watermark)
        lines.extend(f"  {entry}{',' if i < len(entries) - 1 else ''}"
                     for i, entry in enumerate(entries))
        lines.append(")")
        return "\n".join(lines)

    __repr__ = __str__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TableSchema) and other._names == self._names and (
            other._types == self._types
        )


def flink_sql(expression: Any) -> str:
    """A declared expression (a sqlglot tree) as Flink prints it in schemas and DESCRIBE:
    identifiers in backticks, function names in capitals."""
    from volley.sql.dialect import Flink

    return expression.sql(dialect=Flink, identify=True)
