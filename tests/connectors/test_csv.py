from __future__ import annotations

import datetime
import decimal
import os

import pyarrow as pa
import pytest
from connector_helpers import make_spec, read_all

from volley.connectors import create_sink, create_source, csv_format
from volley.errors import ConnectorError, MalformedRowError
from volley.table.types import DataTypes

LEGACY = {"connector.type": "filesystem", "format.type": "csv"}


def csv_opts(path, **extra):
    return {"connector": "filesystem", "format": "csv", "path": str(path), **extra}


def test_seed_program_round_trip(tmp_path, id_temp):
    """The 1.11 seed: `1,` reads as a null FLOAT; the legacy sink writes ONE file at path."""
    src_path, out_path = tmp_path / "input", tmp_path / "output"
    src_path.write_text("1,98.0\n1,\n1,100.0\n2,99.0\n")
    source = create_source(
        make_spec("mySource", id_temp, {**LEGACY, "connector.path": str(src_path)})
    )
    table = read_all(source)
    assert table.column("temperature").to_pylist() == [98.0, None, 100.0, 99.0]
    assert table.schema.field("id").type == pa.int32()
    sink = create_sink(make_spec("mySink", id_temp, {**LEGACY, "connector.path": str(out_path)}))
    sink.open()
    for batch in source.batches():
        sink.write(batch)
    sink.finish()
    assert out_path.is_file()
    assert out_path.read_text() == "1,98.0\n1,\n1,100.0\n2,99.0\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_modern_sink_writes_part_files_into_directory(tmp_path, id_temp):
    out = tmp_path / "out"
    sink = create_sink(make_spec("s", id_temp, csv_opts(out)))
    sink.open()
    sink.write(pa.record_batch({"id": pa.array([1, 2], pa.int64()), "t": [1.5, None]}))
    # before finish only a hidden in-progress file exists
    assert all(name.startswith(".") for name in os.listdir(out))
    sink.finish()
    names = os.listdir(out)
    assert len(names) == 1 and names[0].startswith("part-") and names[0].endswith("-0-0")
    assert (out / names[0]).read_text() == "1,1.5\n2,\n"
    # and the directory reads back through a source
    table = read_all(create_source(make_spec("r", id_temp, csv_opts(out))))
    assert table.to_pydict() == {"id": [1, 2], "temperature": [1.5, None]}


def test_directory_source_reads_sorted_non_hidden_files(tmp_path, id_temp):
    (tmp_path / "b").write_text("2,2.0\n")
    (tmp_path / "a").write_text("1,1.0\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c").write_text("3,3.0\n")
    (tmp_path / ".hidden").write_text("9,9.0\n")
    (tmp_path / "_SUCCESS").write_text("")
    table = read_all(create_source(make_spec("t", id_temp, csv_opts(tmp_path))))
    assert table.column("id").to_pylist() == [1, 2, 3]


def test_missing_path_fails_on_read(tmp_path, id_temp):
    source = create_source(make_spec("t", id_temp, csv_opts(tmp_path / "nope")))
    with pytest.raises(ConnectorError, match="does not exist"):
        list(source.batches())


def test_malformed_value_error_text(tmp_path, id_temp):
    path = tmp_path / "in.csv"
    path.write_text("1,98.0\n2,99.0\n3,abc\n4,1.0\n")
    source = create_source(make_spec("t", id_temp, csv_opts(path)))
    with pytest.raises(MalformedRowError) as e:
        list(source.batches())
    assert str(e.value) == (
        f"malformed row in {str(path)!r} line 3, column 'temperature': cannot parse 'abc' as "
        "FLOAT; fix the row or set 'csv.ignore-parse-errors' = 'true' to skip malformed rows"
    )


def test_malformed_legacy_error_names_legacy_key(tmp_path, id_temp):
    path = tmp_path / "in.csv"
    path.write_text("x,1.0\n")
    spec = make_spec("t", id_temp, {**LEGACY, "connector.path": str(path)})
    with pytest.raises(
        MalformedRowError,
        match="line 1, column 'id': cannot parse 'x' as INT; "
        "fix the row or set 'format.ignore-parse-errors'",
    ):
        list(create_source(spec).batches())


def test_wrong_column_count_error(tmp_path, id_temp):
    path = tmp_path / "in.csv"
    path.write_text("1,1.0\n2,2.0,7\n")
    with pytest.raises(MalformedRowError) as e:
        list(create_source(make_spec("t", id_temp, csv_opts(path))).batches())
    assert "line 2: expected 2 fields, got 3: '2,2.0,7'" in str(e.value)


def test_ignore_parse_errors_skips_and_counts(tmp_path, id_temp):
    path = tmp_path / "in.csv"
    path.write_text("1,98.0\n1,\n1,abc\n2,99.0,5\nx,1\n3,3.0\n")
    source = create_source(
        make_spec("t", id_temp, csv_opts(path, **{"csv.ignore-parse-errors": "true"}))
    )
    table = read_all(source)
    assert table.to_pydict() == {"id": [1, 1, 3], "temperature": [98.0, None, 3.0]}
    assert source.skipped_rows == 3


def test_error_after_many_good_rows_keeps_emitted_rows_once(tmp_path):
    path = tmp_path / "big.csv"
    lines = [f"{i},{i}.5" for i in range(300_000)]
    lines[250_000] = "oops,1"
    path.write_text("\n".join(lines) + "\n")
    fields = [("id", DataTypes.BIGINT()), ("v", DataTypes.DOUBLE())]
    source = create_source(
        make_spec("t", fields, csv_opts(path, **{"csv.ignore-parse-errors": "true"}))
    )
    ids = read_all(source).column("id").to_pylist()
    assert len(ids) == 299_999 and len(set(ids)) == 299_999 and 250_000 not in ids
    strict = create_source(make_spec("t", fields, csv_opts(path)))
    with pytest.raises(MalformedRowError, match="line 250001, column 'id': cannot parse 'oops'"):
        list(strict.batches())


def test_empty_field_null_rules(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("1,,\n,x,\n")
    fields = [("a", DataTypes.INT()), ("s", DataTypes.STRING()), ("d", DataTypes.DOUBLE())]
    table = read_all(create_source(make_spec("t", fields, csv_opts(path))))
    assert table.to_pydict() == {"a": [1, None], "s": ["", "x"], "d": [None, None]}
    table = read_all(
        create_source(make_spec("t", fields, csv_opts(path, **{"csv.null-literal": ""})))
    )
    assert table.column("s").to_pylist() == [None, "x"]


def test_null_literal(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("n/a,n/a\n1,\n")
    fields = [("a", DataTypes.INT()), ("s", DataTypes.STRING())]
    table = read_all(
        create_source(make_spec("t", fields, csv_opts(path, **{"csv.null-literal": "n/a"})))
    )
    assert table.to_pydict() == {"a": [None, 1], "s": [None, ""]}


def test_delimiter_tab_escape_quotes_comments(tmp_path):
    path = tmp_path / "in.tsv"
    path.write_text("# comment\n1\t'a\tb'\n# another\n2\tc\n")
    fields = [("a", DataTypes.INT()), ("s", DataTypes.STRING())]
    options = csv_opts(
        path,
        **{
            "csv.field-delimiter": "\\t",
            "csv.quote-character": "'",
            "csv.allow-comments": "true",
        },
    )
    table = read_all(create_source(make_spec("t", fields, options)))
    assert table.to_pydict() == {"a": [1, 2], "s": ["a\tb", "c"]}


def _no_slow_path(*args, **kwargs):
    raise AssertionError("the fast csv path failed over to the slow one")


@pytest.mark.parametrize(
    ("text", "extra", "expected"),
    [
        ('1,"two\nlines"\n2,plain\n', {}, ["two\nlines", "plain"]),
        ("1,one\\\nmore\n2,plain\n", {"csv.escape-character": "\\"}, ["one\nmore", "plain"]),
        ("1,no quotes\n2,at all\n", {}, ["no quotes", "at all"]),
    ],
    ids=["quoted", "escaped", "neither"],
)
def test_values_may_span_lines_only_when_quoted_or_escaped(tmp_path, monkeypatch, text, extra,
                                                          expected):
    """A file without quote or escape characters is parsed as one value per line (faster);
    one with them keeps values that hold a newline, also across pyarrow's blocks (tiny here:
    a block ends inside a value), without falling back to the slow exact reader."""
    monkeypatch.setattr(csv_format, "BLOCK_SIZE", 16)
    monkeypatch.setattr(csv_format, "WHOLE_FILE_BLOCK_SIZE", 16)
    monkeypatch.setattr(csv_format, "tolerant_batches", _no_slow_path)
    path = tmp_path / "in.csv"
    path.write_text(text * 3)
    fields = [("a", DataTypes.INT()), ("s", DataTypes.STRING())]
    table = read_all(create_source(make_spec("t", fields, csv_opts(path, **extra))))
    assert table.to_pydict() == {"a": [1, 2] * 3, "s": expected * 3}


def test_comment_line_numbers_in_errors(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("# header comment\n1\n# c\nbad\n")
    options = csv_opts(path, **{"csv.allow-comments": "true"})
    with pytest.raises(MalformedRowError, match="line 4, column 'a'"):
        list(create_source(make_spec("t", [("a", DataTypes.INT())], options)).batches())


def test_all_scalar_types_round_trip(tmp_path):
    fields = [
        ("b", DataTypes.BOOLEAN()),
        ("i", DataTypes.TINYINT()),
        ("l", DataTypes.BIGINT()),
        ("f", DataTypes.FLOAT()),
        ("d", DataTypes.DOUBLE()),
        ("dec", DataTypes.DECIMAL(10, 2)),
        ("s", DataTypes.STRING()),
        ("dt", DataTypes.DATE()),
        ("tm", DataTypes.TIME()),
        ("ts", DataTypes.TIMESTAMP(3)),
        ("ltz", DataTypes.TIMESTAMP_LTZ(3)),
        ("by", DataTypes.BYTES()),
        ("arr", DataTypes.ARRAY(DataTypes.INT())),
    ]
    spec = make_spec("t", fields, csv_opts(tmp_path / "out"))
    ts = datetime.datetime(2024, 1, 2, 3, 4, 5, 123000)
    data = {
        "b": [True, None],
        "i": [7, None],
        "l": [2**40, None],
        "f": [98.0, None],
        "d": [1e7, None],
        "dec": [decimal.Decimal("1.50"), None],
        "s": ['Hello, "World"', None],
        "dt": [datetime.date(2024, 1, 2), None],
        "tm": [datetime.time(3, 4, 5), None],
        "ts": [ts, None],
        "ltz": [ts.replace(tzinfo=datetime.UTC), None],
        "by": [b"\x01\x02", None],
        "arr": [[1, 2], None],
    }
    batch = pa.record_batch(data, schema=spec.schema.to_arrow_schema())
    sink = create_sink(spec)
    sink.open()
    sink.write(batch)
    sink.finish()
    (part,) = (tmp_path / "out").iterdir()
    assert part.read_text().splitlines()[0] == (
        'true,7,1099511627776,98.0,1.0E7,1.50,"Hello, ""World""",2024-01-02,03:04:05,'
        "2024-01-02 03:04:05.123,2024-01-02 03:04:05.123Z,AQI=,1;2"
    )
    table = read_all(create_source(make_spec("t", fields, csv_opts(tmp_path / "out"))))
    got = table.to_pydict()
    assert got["s"] == ['Hello, "World"', ""]
    for name in data:
        if name != "s":
            assert got[name] == data[name], name


def test_sink_casts_compatible_batches_and_rejects_impossible(tmp_path, id_temp):
    sink = create_sink(make_spec("s", id_temp, csv_opts(tmp_path / "o")))
    sink.open()
    sink.write(pa.record_batch({"x": pa.array([1], pa.int64()), "y": pa.array([2], pa.int64())}))
    with pytest.raises(ConnectorError, match="column 'id' of table 's' cannot take"):
        sink.write(pa.record_batch({"x": ["abc"], "y": [1.0]}))
    with pytest.raises(ConnectorError, match="expected 2 columns"):
        sink.write(pa.record_batch({"x": [1]}))
    sink.finish()


def test_sink_rejects_updates(tmp_path, id_temp):
    sink = create_sink(make_spec("s", id_temp, csv_opts(tmp_path / "o")))
    batch = pa.record_batch({"id": [1], "t": [1.0], "__row_kind": pa.array([3], pa.int8())})
    with pytest.raises(ConnectorError, match="accepts inserts only; expected \\+I rows, got -D"):
        sink.write(batch)


def test_rolling_policy_creates_several_parts(tmp_path):
    fields = [("a", DataTypes.BIGINT())]
    opts = csv_opts(tmp_path / "o", **{"sink.rolling-policy.file-size": "1kb"})
    sink = create_sink(make_spec("s", fields, opts))
    sink.open()
    for i in range(5):
        sink.write(pa.record_batch({"a": list(range(i * 300, (i + 1) * 300))}))
    sink.finish()
    parts = sorted(os.listdir(tmp_path / "o"))
    assert len(parts) == 5
    table = read_all(create_source(make_spec("r", fields, csv_opts(tmp_path / "o"))))
    assert sorted(table.column("a").to_pylist()) == list(range(1500))


def _windowed(monkeypatch, window_bytes=64):
    """Make every file 'large': read a window of ``window_bytes`` at a time."""
    monkeypatch.setattr(csv_format, "WHOLE_FILE_BYTES", 0)
    monkeypatch.setattr(csv_format, "WINDOW_BYTES", window_bytes)


ID_V = [("id", DataTypes.BIGINT()), ("v", DataTypes.DOUBLE())]


@pytest.mark.parametrize("trailing_newline", [True, False])
@pytest.mark.parametrize("header", [True, False])
def test_large_file_read_window_by_window_keeps_every_row_once(tmp_path, monkeypatch,
                                                               trailing_newline, header):
    """Windows end at line ends, rows come in file order, the skipped first line is skipped
    once (not at every window's start), and no window falls back to the slow reader."""
    _windowed(monkeypatch)
    monkeypatch.setattr(csv_format, "tolerant_batches", _no_slow_path)
    path = tmp_path / "big.csv"
    lines = [f"{i},{i}.5" for i in range(500)]
    text = ("id,v\n" if header else "") + "\n".join(lines) + ("\n" if trailing_newline else "")
    path.write_text(text)
    options = csv_opts(path, **({"csv.ignore-first-line": "true"} if header else {}))
    source = create_source(make_spec("t", ID_V, options))
    batches = list(source.batches())
    assert len(batches) > 10  # many windows
    table = pa.Table.from_batches(batches)
    assert table.column("id").to_pylist() == list(range(500))
    assert table.column("v").to_pylist() == [i + 0.5 for i in range(500)]


def test_large_file_streams_the_rest_from_the_first_window_with_a_quote(tmp_path, monkeypatch):
    """A quoted value may hold a line end, so windows cannot be cut after one appears: the
    rest of the file streams with multi-line parsing and the value keeps its newline."""
    _windowed(monkeypatch)
    monkeypatch.setattr(csv_format, "tolerant_batches", _no_slow_path)
    path = tmp_path / "big.csv"
    rows = [f"{i},plain{i}" for i in range(100)]
    rows[60] = '60,"two\nlines"'
    path.write_text("\n".join(rows) + "\n")
    fields = [("id", DataTypes.BIGINT()), ("s", DataTypes.STRING())]
    table = read_all(create_source(make_spec("t", fields, csv_opts(path))))
    expected = [f"plain{i}" for i in range(100)]
    expected[60] = "two\nlines"
    assert table.column("id").to_pylist() == list(range(100))
    assert table.column("s").to_pylist() == expected


def test_large_file_malformed_row_in_a_later_window(tmp_path, monkeypatch):
    """The slow path takes over from the first row not yet emitted: the error names the right
    line, and with ignore-parse-errors only that row is skipped."""
    _windowed(monkeypatch)
    path = tmp_path / "big.csv"
    lines = [f"{i},{i}.5" for i in range(300)]
    lines[250] = "oops,1"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(MalformedRowError, match="line 251, column 'id': cannot parse 'oops'"):
        list(create_source(make_spec("t", ID_V, csv_opts(path))).batches())
    source = create_source(
        make_spec("t", ID_V, csv_opts(path, **{"csv.ignore-parse-errors": "true"}))
    )
    ids = read_all(source).column("id").to_pylist()
    assert ids == [i for i in range(300) if i != 250]
    assert source.skipped_rows == 1


def test_empty_file_has_no_rows(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    assert read_all(create_source(make_spec("t", ID_V, csv_opts(path)))).num_rows == 0
