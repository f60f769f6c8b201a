from __future__ import annotations

import datetime

import pyarrow as pa
import sqlglot
from connector_helpers import make_spec

from volley.connectors import create_sink
from volley.table.descriptors import FormatDescriptor, Schema, TableDescriptor, to_catalog_table
from volley.table.types import DataTypes as T


def test_print_rows_like_flink(capsys):
    fields = [
        ("id", T.INT()),
        ("name", T.STRING()),
        ("t", T.FLOAT()),
        ("ts", T.TIMESTAMP(3)),
        ("arr", T.ARRAY(T.INT())),
        ("m", T.MAP(T.STRING(), T.INT())),
    ]
    spec = make_spec("p", fields, {"connector": "print"})
    sink = create_sink(spec)
    data = {
        "id": [1, None],
        "name": ["Alice", None],
        "t": [1.0, None],
        "ts": [datetime.datetime(2024, 1, 2, 3, 4, 5), None],
        "arr": [[1, None], None],
        "m": [[("a", 1)], None],
    }
    sink.write(pa.record_batch(data, schema=spec.schema.to_arrow_schema()))
    sink.finish()
    assert capsys.readouterr().out == (
        "+I[1, Alice, 1.0, 2024-01-02T03:04:05, [1, null], {a=1}]\n"
        "+I[null, null, null, null, null, null]\n"
    )


def test_print_identifier_row_kinds_and_stderr(capsys):
    sink = create_sink(
        make_spec(
            "p",
            [("a", T.BIGINT())],
            {"connector": "print", "print-identifier": "out", "standard-error": "true"},
        )
    )
    kinds = pa.array([0, 1, 2, 3], pa.int8())
    sink.write(pa.record_batch({"a": [1, 2, 3, 4], "__row_kind": kinds}))
    assert capsys.readouterr().err == "out> +I[1]\nout> -U[2]\nout> +U[3]\nout> -D[4]\n"


def test_blackhole_counts():
    sink = create_sink(make_spec("b", [("a", T.INT())], {"connector": "blackhole"}))
    sink.write(pa.record_batch({"a": [1, 2]}))
    assert sink.rows == 2


def test_descriptor_options_and_catalog_table():
    schema = (
        Schema.new_builder()
        .column("id", T.INT())
        .column("ts", T.TIMESTAMP(3))
        .column_by_expression("doubled", "id * 2")
        .watermark("ts", "ts - INTERVAL '5' SECOND")
        .build()
    )
    descriptor = (
        TableDescriptor.for_connector("filesystem")
        .schema(schema)
        .option("path", "/tmp/x")
        .format(FormatDescriptor.for_format("csv").option("field-delimiter", ";").build())
        .partitioned_by("id")
        .comment("demo")
        .build()
    )
    assert descriptor.get_options() == {
        "connector": "filesystem",
        "path": "/tmp/x",
        "format": "csv",
        "csv.field-delimiter": ";",
    }
    assert descriptor.get_partition_keys() == ["id"]
    assert descriptor.get_comment() == "demo"
    assert str(descriptor) == (
        "(\n  `id` INT,\n  `ts` TIMESTAMP(3),\n  `doubled` AS id * 2,\n"
        "  WATERMARK FOR `ts` AS ts - INTERVAL '5' SECOND\n)\n"
        "COMMENT 'demo'\nPARTITIONED BY (`id`)\nWITH (\n  'connector' = 'filesystem',\n"
        "  'path' = '/tmp/x',\n  'format' = 'csv',\n  'csv.field-delimiter' = ';'\n)"
    )
    table = to_catalog_table(descriptor)
    assert [c.name for c in table.physical_schema.fields] == ["id", "ts"]
    assert table.columns[2].expression == sqlglot.parse_one("id * 2")
    assert table.watermark is not None and table.watermark.column == "ts"
    assert table.partition_keys == ("id",)


def test_format_option_key_prefix_and_string_format():
    d = (
        TableDescriptor.for_connector("kafka")
        .format(
            FormatDescriptor.for_format("json").option("ignore-parse-errors", True).build(),
            "value.format",
        )
        .format("csv", "key.format")
        .build()
    )
    assert d.get_options() == {
        "connector": "kafka",
        "value.format": "json",
        "value.json.ignore-parse-errors": "true",
        "key.format": "csv",
    }


def test_schema_from_row_type_and_fields():
    row = T.ROW([T.FIELD("a", T.INT()), T.FIELD("b", T.STRING())])
    assert str(Schema.new_builder().from_row_data_type(row).build()) == str(
        Schema.new_builder().from_fields(["a", "b"], [T.INT(), T.STRING()]).build()
    )
