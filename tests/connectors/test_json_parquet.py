from __future__ import annotations

import datetime
import os

import pyarrow as pa
import pytest
from connector_helpers import make_spec, read_all

from volley.connectors import create_sink, create_source
from volley.errors import ConnectorError, MalformedRowError
from volley.table.types import DataTypes as T

FIELDS = [
    ("id", T.BIGINT()),
    ("name", T.STRING()),
    ("score", T.DOUBLE()),
    ("day", T.DATE()),
    ("ts", T.TIMESTAMP(3)),
    ("tags", T.ARRAY(T.STRING())),
    ("attrs", T.MAP(T.STRING(), T.INT())),
    ("pos", T.ROW([T.FIELD("x", T.INT()), T.FIELD("y", T.STRING())])),
]
ROWS = {
    "id": [1, 2],
    "name": ['a "q"\n', None],
    "score": [98.0, None],
    "day": [datetime.date(2024, 1, 2), None],
    "ts": [datetime.datetime(2024, 1, 2, 3, 4, 5, 123000), None],
    "tags": [["x", None], None],
    "attrs": [[("k", 1)], None],
    "pos": [{"x": 1, "y": "z"}, None],
}


def opts(fmt, path, **extra):
    return {"connector": "filesystem", "format": fmt, "path": str(path), **extra}


def write(spec, data):
    sink = create_sink(spec)
    sink.open()
    sink.write(pa.record_batch(data, schema=spec.schema.to_arrow_schema()))
    sink.finish()


@pytest.mark.parametrize("fmt", ["json", "parquet"])
def test_round_trip_nested(tmp_path, fmt):
    write(make_spec("s", FIELDS, opts(fmt, tmp_path / "o")), ROWS)
    table = read_all(create_source(make_spec("r", FIELDS, opts(fmt, tmp_path / "o"))))
    assert table.to_pydict() == ROWS


def test_json_output_text(tmp_path):
    fields = [("id", T.INT()), ("t", T.FLOAT()), ("s", T.STRING()), ("ts", T.TIMESTAMP(3))]
    data = {"id": [1], "t": [98.0], "s": [None], "ts": [datetime.datetime(2024, 1, 2, 3, 4, 5)]}
    write(make_spec("s", fields, opts("json", tmp_path / "o")), data)
    (part,) = os.listdir(tmp_path / "o")
    assert (tmp_path / "o" / part).read_text() == (
        '{"id":1,"t":98.0,"s":null,"ts":"2024-01-02 03:04:05"}\n'
    )


def test_json_missing_fields_are_null_and_extra_ignored(tmp_path):
    path = tmp_path / "in.json"
    path.write_text('{"id": 1, "extra": true}\n\n{"name": "b"}\n')
    table = read_all(create_source(make_spec("r", FIELDS[:2], opts("json", path))))
    assert table.to_pydict() == {"id": [1, None], "name": [None, "b"]}


def test_json_malformed_line_and_ignore(tmp_path):
    path = tmp_path / "in.json"
    path.write_text('{"id": 1}\n{"id": 2\n{"id": "x"}\n{"id": 4}\n')
    fields = [("id", T.BIGINT())]
    with pytest.raises(MalformedRowError, match=r"line 2: .*'json.ignore-parse-errors' = 'true'"):
        list(create_source(make_spec("r", fields, opts("json", path))).batches())
    source = create_source(
        make_spec("r", fields, opts("json", path, **{"json.ignore-parse-errors": "true"}))
    )
    assert read_all(source).column("id").to_pylist() == [1, 4]
    assert source.skipped_rows == 2


def test_parquet_casts_and_missing_column(tmp_path):
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"id": pa.array([1, 2], pa.int64())}), tmp_path / "f.parquet")
    table = read_all(create_source(make_spec("r", [("id", T.INT())], opts("parquet", tmp_path))))
    assert table.schema.field("id").type == pa.int32()
    source = create_source(make_spec("r", [("nope", T.INT())], opts("parquet", tmp_path)))
    with pytest.raises(ConnectorError, match="has no column 'nope'"):
        list(source.batches())


def test_parquet_reads_row_groups_in_order_in_bounded_batches(tmp_path):
    """Rows come back in file order across row groups, in batches no larger than the reader's
    batch size (a 1M-row group is not handed over whole), with only the asked-for columns."""
    import pyarrow.parquet as pq

    from volley.connectors.parquet_format import BATCH_ROWS

    n = 2 * BATCH_ROWS + 1234
    pq.write_table(
        pa.table({"id": pa.array(range(n), pa.int64()), "v": pa.array(range(n), pa.float64())}),
        tmp_path / "f.parquet",
        row_group_size=BATCH_ROWS + 17,  # groups and batches do not line up
    )
    source = create_source(
        make_spec("r", [("id", T.BIGINT()), ("v", T.DOUBLE())], opts("parquet", tmp_path))
    )
    batches = list(source.batches())
    assert len(batches) >= 3 and max(b.num_rows for b in batches) <= BATCH_ROWS
    table = pa.Table.from_batches(batches)
    assert table.column("id").to_pylist() == list(range(n))
    assert table.column("v").to_pylist() == [float(i) for i in range(n)]
