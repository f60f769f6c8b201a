"""The catalog: tables, views and functions known to a TableEnvironment.

A ``CatalogTable`` is what ``CREATE TABLE`` and ``TableDescriptor`` both produce: physical
columns, computed columns (a SQL expression as a sqlglot tree), an optional watermark, options and
partition keys. Views hold a logical plan. Names are matched case-sensitively, as in Flink, with a
hint when only the case differs.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from volley.errors import PlanError, UnknownTableError
from volley.plan.types import DataType, RowField, RowType

if TYPE_CHECKING:
    from sqlglot import exp


@dataclass(frozen=True)
class CatalogColumn:
    """A column of a catalog table: physical (``expression is None``) or computed."""

    name: str
    data_type: DataType | None
    expression: exp.Expression | None = None
    comment: str | None = None

    @property
    def is_physical(self) -> bool:
        return self.expression is None


@dataclass(frozen=True)
class WatermarkSpec:
    """``WATERMARK FOR <column> AS <expression>``."""

    column: str
    expression: exp.Expression


@dataclass(frozen=True)
class CatalogTable:
    """A table declared by DDL or a descriptor: its columns, connector options and keys."""

    columns: tuple[CatalogColumn, ...]
    options: dict[str, str]
    partition_keys: tuple[str, ...] = ()
    primary_key: tuple[str, ...] = ()
    watermark: WatermarkSpec | None = None
    comment: str | None = None

    @property
    def physical_schema(self) -> RowType:
        return RowType(
            tuple(RowField(c.name, c.data_type) for c in self.columns if c.is_physical)  # type: ignore[arg-type]
        )


@dataclass
class Catalog:
    """Per-environment name spaces. Views map to logical plan nodes (``plan.nodes.Node``)."""

    tables: dict[str, CatalogTable] = field(default_factory=dict)
    views: dict[str, Any] = field(default_factory=dict)
    functions: dict[str, Any] = field(default_factory=dict)
    current_catalog: str = "default_catalog"
    current_database: str = "default_database"

    # -- names ------------------------------------------------------------------------------------
    def normalize(self, path: str) -> str:
        """``default_catalog.default_database.t`` and ``t`` name the same table."""
        parts = [p.strip("`") for p in _split_path(path)]
        if len(parts) == 3 and parts[0] == self.current_catalog and parts[1] == self.current_database:
            return parts[2]
        if len(parts) == 2 and parts[0] == self.current_database:
            return parts[1]
        return ".".join(parts)

    def exists(self, path: str) -> bool:
        name = self.normalize(path)
        return name in self.tables or name in self.views

    def lookup(self, path: str) -> CatalogTable | Any:
        name = self.normalize(path)
        if name in self.views:
            return self.views[name]
        if name in self.tables:
            return self.tables[name]
        raise UnknownTableError(_unknown("table", path, self.list_tables()))

    def register_table(self, path: str, table: CatalogTable, ignore_if_exists: bool = False) -> None:
        self._register(self.tables, "table", path, table, ignore_if_exists)

    def register_view(self, path: str, plan: Any, ignore_if_exists: bool = False) -> None:
        self._register(self.views, "view", path, plan, ignore_if_exists)

    def _register(self, space: dict, kind: str, path: str, obj: Any, ignore: bool) -> None:
        name = self.normalize(path)
        if name in self.tables or name in self.views:
            if ignore:
                return
            raise PlanError(
                f"a table or view named {path!r} already exists; drop it first or use "
                f"CREATE {kind.upper()} IF NOT EXISTS"
            )
        space[name] = obj

    def drop(self, path: str, kind: str, if_exists: bool = False) -> bool:
        name = self.normalize(path)
        space = self.views if kind == "view" else self.tables
        if name in space:
            del space[name]
            return True
        if if_exists:
            return False
        raise UnknownTableError(_unknown(kind, path, sorted(space)))

    def list_tables(self) -> list[str]:
        return sorted(set(self.tables) | set(self.views))

    def list_views(self) -> list[str]:
        return sorted(self.views)

    # -- functions --------------------------------------------------------------------------------
    def register_function(self, name: str, fn: Any) -> None:
        self.functions[name.lower()] = fn

    def lookup_function(self, name: str) -> Any | None:
        return self.functions.get(name.lower())

    def drop_function(self, name: str, if_exists: bool = False) -> bool:
        if name.lower() in self.functions:
            del self.functions[name.lower()]
            return True
        if if_exists:
            return False
        raise PlanError(
            f"function {name!r} does not exist; registered functions: "
            f"{', '.join(sorted(self.functions)) or '(none)'}"
        )


def _split_path(path: str) -> list[str]:
    parts, cur, quoted = [], "", False
    for ch in path:
        if ch == "`":
            quoted = not quoted
        elif ch == "." and not quoted:
            parts.append(cur)
            cur = ""
            continue
        cur += ch
    parts.append(cur)
    return parts


def _unknown(kind: str, name: str, known: list[str]) -> str:
    msg = f"{kind} {name!r} not found"
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        msg += f"; did you mean {close[0]!r}?"
    msg += f"; known tables: {', '.join(known) if known else '(none)'}"
    return msg
