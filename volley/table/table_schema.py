"""``TableSchema``: names and types of a table's columns, printed as PyFlink prints them."""

from __future__ import annotations

from volley.plan.types import DataType, RowType


class TableSchema:
    def __init__(self, names: list[str], types: list[DataType]) -> None:
        self._names = names
        self._types = types

    @staticmethod
    def of(row_type: RowType) -> TableSchema:
        return TableSchema(row_type.names, row_type.types)

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
        for i, (n, t) in enumerate(zip(self._names, self._types, strict=True)):
            sep = "," if i < len(self._names) - 1 else ""
            lines.append(f"  `{n}` {t}{sep}")
        lines.append(")")
        return "\n".join(lines)

    __repr__ = __str__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TableSchema) and other._names == self._names and (
            other._types == self._types
        )
