"""``Row`` and ``RowKind``: PyFlink's row type for elements, results and UDF values."""

from __future__ import annotations

from typing import Any

from volley.common.changelog import RowKind


class Row(tuple):
    """A tuple with optional field names and a row kind, like ``pyflink.common.Row``.

    ``Row(1, 'a')`` is positional; ``Row(id=1, name='a')`` has names (kept in the given order).
    ``Row('id', 'name')`` with only strings and no values builds a row *class* when called again,
    as in PyFlink: ``Person = Row('id', 'name'); Person(1, 'a')``.
    """

    _fields: tuple[str, ...] | None
    _row_kind: RowKind

    def __new__(cls, *args: Any, **kwargs: Any) -> Row:
        if args and kwargs:
            raise ValueError("Row takes positional values or named values, not both")
        if kwargs:
            row = tuple.__new__(cls, kwargs.values())
            row._fields = tuple(kwargs)
        else:
            row = tuple.__new__(cls, args)
            row._fields = None
        row._row_kind = RowKind.INSERT
        return row

    def __call__(self, *args: Any) -> Row:
        """A Row of field names used as a constructor: ``Row('a', 'b')(1, 2)``."""
        if self._fields is not None or not all(isinstance(n, str) for n in self):
            raise TypeError("only a Row of field names can be called to create a row")
        if len(args) != len(self):
            raise ValueError(f"expected {len(self)} values for fields {tuple(self)}; got {len(args)}")
        return Row(**dict(zip(self, args, strict=True)))

    def as_dict(self, recursive: bool = False) -> dict[str, Any]:
        if self._fields is None:
            raise TypeError("cannot convert a Row without field names to a dict")

        def conv(v: Any) -> Any:
            if recursive and isinstance(v, Row) and v._fields is not None:
                return v.as_dict(True)
            if recursive and isinstance(v, list):
                return [conv(x) for x in v]
            return v

        return {k: conv(v) for k, v in zip(self._fields, self, strict=True)}

    def get_row_kind(self) -> RowKind:
        return self._row_kind

    def set_row_kind(self, row_kind: RowKind) -> None:
        self._row_kind = row_kind

    def get_fields_by_names(self, names: list[str]) -> list[Any]:
        return [self[n] for n in names]

    def __getitem__(self, item: Any) -> Any:  # type: ignore[override]
        if isinstance(item, str):
            if self._fields is None or item not in self._fields:
                raise KeyError(
                    f"row has no field {item!r}; fields: {list(self._fields or [])}"
                )
            return tuple.__getitem__(self, self._fields.index(item))
        return tuple.__getitem__(self, item)

    def __getattr__(self, item: str) -> Any:
        if item.startswith("_"):
            raise AttributeError(item)
        fields = self.__dict__.get("_fields") if hasattr(self, "__dict__") else None
        if fields and item in fields:
            return tuple.__getitem__(self, fields.index(item))
        raise AttributeError(f"row has no field {item!r}")

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Row) and other._row_kind != self._row_kind:
            return False
        return tuple.__eq__(self, other)

    def __hash__(self) -> int:
        return tuple.__hash__(self)

    def __reduce__(self):
        if self._fields is not None:
            return (_make_named_row, (self._fields, tuple(self), self._row_kind))
        return (_make_row, (tuple(self), self._row_kind))

    def __repr__(self) -> str:
        if self._fields is not None:
            inner = ", ".join(f"{k}={v!r}" for k, v in zip(self._fields, self, strict=True))
        else:
            inner = ", ".join(repr(v) for v in self)
        return f"Row({inner})"


def _make_row(values: tuple, kind: RowKind) -> Row:
    r = Row(*values)
    r._row_kind = kind
    return r


def _make_named_row(fields: tuple, values: tuple, kind: RowKind) -> Row:
    r = Row(**dict(zip(fields, values, strict=True)))
    r._row_kind = kind
    return r
