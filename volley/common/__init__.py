"""Shared public types, mirroring ``pyflink.common``."""

from volley.common.row import Row, RowKind
from volley.table.table_config import Configuration

__all__ = ["Row", "RowKind", "Configuration"]
