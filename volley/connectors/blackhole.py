"""Flink's blackhole connector: a sink that takes everything and keeps nothing (for benchmarks).

Not transactional: there is nothing to commit (``prepare_commit`` returns no committables).
"""

from __future__ import annotations

import pyarrow as pa

from volley.connectors.base import ChangelogMode, ConnectorFactory, TableSink, TableSpec


class BlackHoleSink(TableSink):
    def __init__(self, spec: TableSpec) -> None:
        self.spec = spec
        self.rows = 0

    @property
    def accepted_changelog_modes(self) -> frozenset[ChangelogMode]:
        """Anything; updates preferably as an upsert stream (no -U), as Flink's blackhole."""
        return frozenset(ChangelogMode)

    def write(self, batch: pa.RecordBatch) -> None:
        self.rows += batch.num_rows


class BlackHoleFactory(ConnectorFactory):
    identifier = "blackhole"

    def create_sink(self, spec: TableSpec) -> BlackHoleSink:
        return BlackHoleSink(spec)
