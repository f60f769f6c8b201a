"""Flink's datagen connector: random or sequence rows, generated a batch at a time with numpy.

Options as in Flink: ``number-of-rows`` (bounded when given), ``rows-per-second`` (default 10000;
throttles an unbounded source only), and per field ``fields.<name>.kind`` (``random`` or
``sequence``), ``.start``/``.end`` (sequence), ``.min``/``.max`` (random numbers), ``.length``
(random strings, default 100; collection sizes, default 3), ``.null-rate`` and ``.max-past``.
Volley extensions: ``seed`` for reproducible output and ``batch-size`` (default 10,000 rows).
A source with a sequence field ends when the shortest sequence does, as in Flink.

Rows are numbered globally, ``0, 1, ...``, and generated in blocks of ``batch-size`` rows (of
``number-of-rows`` when fewer). A sequence field's value is ``start`` plus the row's number. With
a ``seed``, a random field's values in block ``b`` come from numpy's generator seeded with
``(seed, b, the field's index in the schema)``: a row's values depend on its number only, never
on how the rows are split across subtasks, where a read resumed, or which columns are read.
(Before split sources, one generator drew every column in turn, so a seeded table's values
differ from those earlier versions produced.) Timestamps and dates are relative to the current
time, so they differ between runs even with a seed. Without a seed, values are random, as in Flink.

Splits: a bounded table's rows are divided into ``parallelism`` contiguous ranges; an unbounded
one's blocks are dealt out in turn (split ``i`` of ``p`` gets blocks ``i, i + p, ...``), and each
split produces ``rows-per-second / p`` rows per second. A split's position is the number of its
rows produced.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from volley.connectors.base import ConnectorFactory, SourceSplit, TableSource, TableSpec
from volley.connectors.datagen_values import (
    FieldSpec,
    random_values,
    sequence_values,
    supports_sequence,
)
from volley.connectors.options import TableOptions
from volley.errors import ConnectorError
from volley.plan.types import RowType

TABLE_OPTIONS = (
    "connector",
    "rows-per-second",
    "number-of-rows",
    "seed",
    "batch-size",
    "scan.parallelism",
)
FIELD_OPTIONS = ("kind", "start", "end", "min", "max", "length", "null-rate", "max-past", "var-len")
DEFAULT_BATCH = 10_000


def _parse_duration_ms(text: str) -> int:
    """Flink durations: ``5000`` (ms), ``10 s``, ``1 min``, ``2 h``, ``1 d``."""
    units = {"": 1, "ms": 1, "s": 1000, "sec": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}
    number = text.strip().rstrip("abcdefghijklmnopqrstuvwxyz ")
    unit = text.strip()[len(number) :].strip()
    if unit not in units or not number.isdigit():
        raise ConnectorError(
            f"datagen option 'max-past' is not a duration; expected e.g. '10 s' or '5000', "
            f"got {text!r}"
        )
    return int(number) * units[unit]


def _field_specs(spec: TableSpec, options: TableOptions) -> dict[str, FieldSpec]:
    names = spec.schema.names
    raw: dict[str, dict[str, str]] = {n: {} for n in names}
    for key, value in spec.options.items():
        if not key.startswith("fields."):
            continue
        name, _, option = key[len("fields.") :].rpartition(".")
        if name not in raw:
            raise ConnectorError(
                f"datagen option {key!r} of table {spec.name!r} names an unknown field {name!r}; "
                f"expected one of: {', '.join(names)}"
            )
        if option not in FIELD_OPTIONS:
            raise ConnectorError(
                f"unsupported datagen option {key!r} of table {spec.name!r}; expected "
                f"'fields.{name}.<option>' with <option> one of: {', '.join(FIELD_OPTIONS)}"
            )
        raw[name][option] = value
    result = {}
    for f in spec.schema.fields:
        o = raw[f.name]
        kind = o.get("kind", "sequence" if "start" in o and "end" in o else "random")
        result[f.name] = _field_spec(spec.name, f.name, f.data_type, kind, o, options)
    return result


def _field_spec(
    table: str, name: str, data_type, kind: str, o: dict[str, str], options
) -> FieldSpec:
    where = f"field {name!r} of datagen table {table!r}"
    if kind not in ("random", "sequence"):
        raise ConnectorError(
            f"{where} has an unknown kind; expected 'random' or 'sequence', got {kind!r}"
        )
    if kind == "sequence":
        if not supports_sequence(data_type):
            raise ConnectorError(
                f"{where} cannot be a sequence; expected a numeric or string type, got {data_type}"
            )
        missing = [k for k in ("start", "end") if k not in o]
        if missing:
            raise ConnectorError(
                f"{where} is a sequence without 'fields.{name}.{missing[0]}'; expected both "
                f"'fields.{name}.start' and 'fields.{name}.end'"
            )
        try:
            start, end = int(o["start"]), int(o["end"])
        except ValueError:
            raise ConnectorError(
                f"{where} has a non-integer sequence bound; expected integers, got "
                f"start={o['start']!r}, end={o['end']!r}"
            ) from None
        if end < start:
            raise ConnectorError(
                f"{where} has an empty sequence; expected start <= end, got {start} > {end}"
            )
        return FieldSpec(kind=kind, start=str(start), end=str(end))
    try:
        null_rate = float(o.get("null-rate", "0"))
        length = int(o["length"]) if "length" in o else None
    except ValueError:
        raise ConnectorError(
            f"{where} has a non-numeric 'null-rate' or 'length'; expected numbers, got {o}"
        ) from None
    if not 0.0 <= null_rate <= 1.0:
        raise ConnectorError(f"{where} has a bad 'null-rate'; expected 0..1, got {null_rate}")
    max_past = _parse_duration_ms(o["max-past"]) if "max-past" in o else 0
    return FieldSpec(
        kind=kind,
        min=o.get("min"),
        max=o.get("max"),
        length=length,
        null_rate=null_rate,
        max_past_ms=max_past,
    )


class DataGenSource(TableSource):
    """Rows numbered ``0, 1, ...`` (globally), generated in blocks of ``batch-size`` rows; a row's
    values depend on its number only, so any split layout or resume position reproduces them."""

    def __init__(self, spec: TableSpec) -> None:
        options = TableOptions(spec)
        options.check_known(TABLE_OPTIONS, ("fields.",))
        self.spec = spec
        self.fields = _field_specs(spec, options)
        self.number_of_rows = options.get_int("number-of-rows", None, minimum=0)
        self.rows_per_second = options.get_int("rows-per-second", 10_000, minimum=1) or 10_000
        self.batch_size = options.get_int("batch-size", DEFAULT_BATCH, minimum=1) or DEFAULT_BATCH
        self.seed = options.get_int("seed", None)
        lengths = [
            int(f.end) - int(f.start) + 1 for f in self.fields.values() if f.kind == "sequence"
        ]
        limits = [n for n in [self.number_of_rows, min(lengths, default=None)] if n is not None]
        self.total_rows: int | None = min(limits) if limits else None
        self.bounded = self.total_rows is not None
        # A small bounded table is one block: no generating 10,000 rows to keep 5.
        self.block_rows = min(self.batch_size, max(self.total_rows or self.batch_size, 1))

    @property
    def schema(self) -> RowType:
        return self.spec.schema

    def splits(self, parallelism: int = 1) -> list[SourceSplit]:
        """``parallelism`` splits: contiguous ranges of the rows of a bounded table, or the
        blocks ``i, i + parallelism, ...`` of an unbounded one."""
        p = max(parallelism, 1)
        if self.total_rows is None:
            return [SourceSplit(f"datagen-{i}-of-{p}", ("blocks", i, p)) for i in range(p)]
        total = self.total_rows
        return [
            SourceSplit(f"datagen-{i}-of-{p}", ("rows", i * total // p, (i + 1) * total // p))
            for i in range(p)
        ]

    def read_split(
        self,
        split: SourceSplit,
        position: Any | None = None,
        columns: Sequence[int] | None = None,
    ) -> Iterator[tuple[pa.RecordBatch, int]]:
        """Batches of the split's rows after the first ``position``; the position is the number
        of the split's rows produced."""
        wanted = list(range(len(self.spec.schema.fields))) if columns is None else list(columns)
        schema = self.spec.schema.to_arrow_schema()
        schema = pa.schema([schema.field(i) for i in wanted])
        produced = int(position or 0)
        blocks = _BlockValues(self, wanted)
        kind, first, second = split.info
        if kind == "rows":
            pieces = _row_pieces(first + produced, second, self.block_rows)
            rate = None
        else:
            rate = self.rows_per_second / second
            size = max(1, min(self.batch_size, int(rate)))
            pieces = _block_pieces(first, second, produced, self.block_rows, size)
        started, since_start = time.monotonic(), 0
        for block, offset, n in pieces:
            batch = pa.RecordBatch.from_arrays(blocks.columns(block, offset, n), schema=schema)
            produced += n
            since_start += n
            if rate is not None:
                ahead = since_start / rate - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
            yield batch, produced


def _row_pieces(start: int, stop: int, block_rows: int) -> Iterator[tuple[int, int, int]]:
    """(block, offset in block, rows) covering rows ``start:stop``, a block at most each."""
    while start < stop:
        block, offset = divmod(start, block_rows)
        n = min(block_rows - offset, stop - start)
        yield block, offset, n
        start += n


def _block_pieces(
    index: int, count: int, produced: int, block_rows: int, size: int
) -> Iterator[tuple[int, int, int]]:
    """(block, offset in block, rows) of the endless blocks ``index, index + count, ...`` after
    their first ``produced`` rows, ``size`` rows at most each."""
    while True:
        nth, offset = divmod(produced, block_rows)
        n = min(size, block_rows - offset)
        yield index + nth * count, offset, n
        produced += n


class _BlockValues:
    """The values of the columns ``wanted`` for rows of one block.

    With a seed, a random column's values for block ``b`` come from a generator seeded with
    (seed, b, column index): the whole block is generated and the rows asked for are sliced out,
    so a row's values do not depend on where a batch starts. Without one, values are random."""

    def __init__(self, source: DataGenSource, wanted: list[int]) -> None:
        self.source = source
        self.fields = [source.spec.schema.fields[i] for i in wanted]
        self.wanted = wanted
        self.rng = np.random.default_rng() if source.seed is None else None
        self._block: int | None = None
        self._random: dict[int, pa.Array] = {}

    def columns(self, block: int, offset: int, n: int) -> list[pa.Array]:
        source = self.source
        first_row = block * source.block_rows + offset
        if self.rng is None and block != self._block:
            self._block, self._random = block, {}
        arrays = []
        for i, f in zip(self.wanted, self.fields, strict=True):
            spec = source.fields[f.name]
            if spec.kind == "sequence":
                arrays.append(sequence_values(int(spec.start) + first_row, n, f.data_type))
            elif self.rng is not None:
                arrays.append(random_values(self.rng, n, f.data_type, spec))
            else:
                if i not in self._random:
                    seed = [source.seed % 2**64, block, i]  # type: ignore[operator]
                    rng = np.random.default_rng(seed)
                    self._random[i] = random_values(rng, source.block_rows, f.data_type, spec)
                arrays.append(self._random[i].slice(offset, n))
        return arrays


class DataGenFactory(ConnectorFactory):
    identifier = "datagen"

    def create_source(self, spec: TableSpec) -> DataGenSource:
        return DataGenSource(spec)
