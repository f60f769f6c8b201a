from __future__ import annotations

import pyarrow.compute as pc
import pytest
from connector_helpers import make_spec, read_all

from volley.connectors import create_source
from volley.errors import ConnectorError
from volley.table.types import DataTypes as T

ALL_TYPES = [
    ("b", T.BOOLEAN()),
    ("i8", T.TINYINT()),
    ("i16", T.SMALLINT()),
    ("i", T.INT()),
    ("l", T.BIGINT()),
    ("f", T.FLOAT()),
    ("d", T.DOUBLE()),
    ("dec", T.DECIMAL(10, 2)),
    ("s", T.STRING()),
    ("c", T.CHAR(3)),
    ("dt", T.DATE()),
    ("ts", T.TIMESTAMP(3)),
    ("ltz", T.TIMESTAMP_LTZ(3)),
    ("by", T.BYTES()),
    ("arr", T.ARRAY(T.INT())),
]


def test_bounded_count_and_all_types():
    source = create_source(
        make_spec("g", ALL_TYPES, {"connector": "datagen", "number-of-rows": "25000"})
    )
    assert source.bounded
    batches = list(source.batches())
    assert [b.num_rows for b in batches] == [10000, 10000, 5000]
    assert batches[0].schema == source.schema.to_arrow_schema()
    assert len(batches[0].column(8)[0].as_py()) == 100


def test_sequence_bounds_source_and_ranges():
    fields = [("id", T.BIGINT()), ("v", T.INT())]
    options = {
        "connector": "datagen",
        "fields.id.kind": "sequence",
        "fields.id.start": "5",
        "fields.id.end": "14",
        "fields.v.min": "1",
        "fields.v.max": "3",
        "batch-size": "4",
    }
    source = create_source(make_spec("g", fields, options))
    assert source.bounded
    table = read_all(source)
    assert table.column("id").to_pylist() == list(range(5, 15))
    assert set(table.column("v").to_pylist()) <= {1, 2, 3}


def test_unbounded_without_rows():
    source = create_source(make_spec("g", [("a", T.INT())], {"connector": "datagen"}))
    assert not source.bounded


def test_null_rate_and_seed_determinism():
    options = {
        "connector": "datagen",
        "number-of-rows": "10000",
        "seed": "7",
        "fields.a.null-rate": "0.25",
    }
    first = read_all(create_source(make_spec("g", [("a", T.INT())], options)))
    second = read_all(create_source(make_spec("g", [("a", T.INT())], options)))
    assert first.equals(second)
    nulls = pc.sum(pc.is_null(first.column("a")).cast("int64")).as_py()
    assert 2200 < nulls < 2800


def test_unknown_field_and_option():
    with pytest.raises(ConnectorError, match="unknown field 'b'; expected one of: a"):
        create_source(
            make_spec("g", [("a", T.INT())], {"connector": "datagen", "fields.b.min": "1"})
        )
    with pytest.raises(ConnectorError, match="unsupported datagen option 'fields.a.mni'"):
        create_source(
            make_spec("g", [("a", T.INT())], {"connector": "datagen", "fields.a.mni": "1"})
        )
    with pytest.raises(ConnectorError, match="unsupported option 'rows-per-secnd'.*did you mean"):
        create_source(
            make_spec("g", [("a", T.INT())], {"connector": "datagen", "rows-per-secnd": "1"})
        )
