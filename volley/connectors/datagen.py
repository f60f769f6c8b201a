"""Flink's datagen connector: random or sequence rows, generated a batch at a time with numpy.

Options as in Flink: ``number-of-rows`` (bounded when given), ``rows-per-second`` (default 10000;
throttles an unbounded source only), and per field ``fields.<name>.kind`` (``random`` or
``sequence``), ``.start``/``.end`` (sequence), ``.min``/``.max`` (random numbers), ``.length``
(random strings, default 100; collection sizes, default 3), ``.null-rate`` and ``.max-past``.
Volley extensions: ``seed`` for reproducible output and ``batch-size`` (default 10,000 rows).
A source with a sequence field ends when the shortest sequence does, as in Flink.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

import numpy as np
import pyarrow as pa

from volley.connectors.base import ConnectorFactory, TableSource, TableSpec
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

    @property
    def schema(self) -> RowType:
        return self.spec.schema

    def batches(self, columns: Sequence[int] | None = None) -> Iterator[pa.RecordBatch]:
        rng = np.random.default_rng(self.seed)
        arrow_schema = self.spec.schema.to_arrow_schema()
        throttle = not self.bounded
        size = min(self.batch_size, self.rows_per_second) if throttle else self.batch_size
        produced = 0
        started = time.monotonic()
        while self.total_rows is None or produced < self.total_rows:
            n = size if self.total_rows is None else min(size, self.total_rows - produced)
            arrays = [self._column(rng, f, produced, n) for f in self.spec.schema.fields]
            batch = pa.RecordBatch.from_arrays(arrays, schema=arrow_schema)
            produced += n
            if throttle:
                ahead = produced / self.rows_per_second - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
            yield batch if columns is None else batch.select(list(columns))

    def _column(self, rng: np.random.Generator, field, offset: int, n: int) -> pa.Array:
        spec = self.fields[field.name]
        if spec.kind == "sequence":
            return sequence_values(int(spec.start) + offset, n, field.data_type)
        return random_values(rng, n, field.data_type, spec)


class DataGenFactory(ConnectorFactory):
    identifier = "datagen"

    def create_source(self, spec: TableSpec) -> DataGenSource:
        return DataGenSource(spec)
