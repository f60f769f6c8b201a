"""Helpers: build a TableSpec the way the planner would, and drain a source."""

from __future__ import annotations

import pyarrow as pa

from volley.connectors import normalize_options
from volley.connectors.base import TableSpec
from volley.table.types import DataTypes


def make_spec(name: str, fields: list[tuple[str, object]], options: dict[str, str]) -> TableSpec:
    schema = DataTypes.ROW([DataTypes.FIELD(n, t) for n, t in fields])  # type: ignore[arg-type]
    return TableSpec(name, schema, normalize_options(options), raw_options=dict(options))


def read_all(source) -> pa.Table:
    batches = list(source.batches())
    return pa.Table.from_batches(batches, schema=source.schema.to_arrow_schema())
