"""Split sources: a read stopped at any batch and resumed from its position by a NEW source
object gives what reading straight through gives; the splits for any parallelism together give
what ``batches()`` gives.

Files are small, with the readers' block, window and batch sizes shrunk so that every file is
several batches (and, on the autouse ``windowed`` csv path, several windows)."""

from __future__ import annotations

import collections
import itertools
import json
import threading
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from connector_helpers import make_spec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from volley.connectors import create_source, csv_format, json_format, parquet_format
from volley.errors import ConnectorError, MalformedRowError
from volley.table.types import DataTypes as T

FIELDS = [("id", T.BIGINT()), ("name", T.STRING()), ("score", T.DOUBLE())]
SIZES = {"a": 23, "b": 1, "c": 0, "sub/d": 40, "sub/e": 9}
# hypothesis runs every example in one test call: the function-scoped fixtures (the csv read
# path's monkeypatch, the shrunk sizes) hold for all of them, which is what is wanted here
PROPERTY = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _rows(offset: int, n: int) -> list[dict]:
    return [
        {"id": offset + i, "name": None if i % 7 == 3 else f"n{offset + i}", "score": i / 4}
        for i in range(n)
    ]


def _write_csv(path, rows: list[dict], quoted_at: int | None) -> None:
    lines = []
    for i, r in enumerate(rows):
        name = "" if r["name"] is None else r["name"]
        if i == quoted_at:
            name = f'"{name}, with\nnewline"'  # a value spanning lines: the streaming path
        lines.append(f"{r['id']},{name},{r['score']}\n")
    path.write_text("".join(lines))


def _write(directory, fmt: str) -> dict:
    """A directory of files of ``fmt`` (one empty, one in a subdirectory, one hidden); returns
    the table's options."""
    offset = 0
    for name, n in SIZES.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = _rows(offset, n)
        offset += 1000
        if fmt == "csv":
            _write_csv(path, rows, quoted_at=17 if name == "sub/d" else None)
        elif fmt == "json":
            path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        else:
            table = pa.Table.from_pylist(rows, schema=_arrow_schema())
            pq.write_table(table, path, row_group_size=7)
    (directory / ".hidden").write_text("garbage")
    return {"connector": "filesystem", "format": fmt, "path": str(directory)}


def _arrow_schema() -> pa.Schema:
    return make_spec("t", FIELDS, {"connector": "datagen"}).schema.to_arrow_schema()


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr(parquet_format, "BATCH_ROWS", 5)
    monkeypatch.setattr(json_format, "BLOCK_SIZE", 128)
    monkeypatch.setattr(csv_format, "WHOLE_FILE_BLOCK_SIZE", 128)
    monkeypatch.setattr(csv_format, "BLOCK_SIZE", 128)
    monkeypatch.setattr(csv_format, "WINDOW_BLOCK_SIZE", (128, 128))


def _table(batches, schema: pa.Schema) -> pa.Table:
    return pa.Table.from_batches(list(batches), schema=schema)


def _multiset(table: pa.Table) -> collections.Counter:
    return collections.Counter(repr(r) for r in table.to_pylist())


def _resumed(make_source, split_index: int, stop_after: int, columns) -> pa.Table:
    """Split ``split_index`` read for ``stop_after`` batches, then by a new source from there."""
    source = make_source()
    split = source.splits(1)[split_index]
    batches, position = [], None
    for i, (batch, pos) in enumerate(source.read_split(split, None, columns)):
        if i == stop_after:
            break
        batches.append(batch)
        position = pos
    json.dumps(position)  # positions go into checkpoint manifests
    fresh = make_source()
    (same,) = [s for s in fresh.splits(1) if s.split_id == split.split_id]
    batches += [b for b, _ in fresh.read_split(same, position, columns)]
    return batches


def _check_resume(make_source, data, columns=None, row_positions=True) -> None:
    source = make_source()
    schema = source.schema.to_arrow_schema()
    if columns is not None:
        schema = pa.schema([schema.field(i) for i in columns])
    for index, split in enumerate(source.splits(1)):
        straight = [b for b, _ in source.read_split(split, None, columns)]
        stop_after = data.draw(st.integers(0, len(straight)), label=f"stop in {split.split_id}")
        resumed = _resumed(make_source, index, stop_after, columns)
        everything = _table(straight, schema)
        assert _table(resumed, schema).equals(everything), split.split_id
        if row_positions:  # a file's position counts rows: any count resumes, not only yielded
            rows = data.draw(st.integers(0, everything.num_rows), label=f"rows of {split.split_id}")
            tail = make_source().read_split(split, rows, columns)
            assert _table((b for b, _ in tail), schema).equals(everything.slice(rows))


def _check_parallel_union(source, parallelism: int) -> None:
    schema = source.schema.to_arrow_schema()
    splits = source.splits(parallelism)
    subtasks = [splits[i::parallelism] for i in range(parallelism)]  # round-robin by index
    union = [b for part in subtasks for s in part for b, _ in source.read_split(s)]
    assert _multiset(_table(union, schema)) == _multiset(_table(source.batches(), schema))


@pytest.mark.usefixtures("small_blocks")
@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
@PROPERTY
@given(data=st.data())
def test_filesystem_split_resumes_from_any_batch(tmp_path_factory, fmt, data):
    options = _write(tmp_path_factory.mktemp(fmt), fmt)
    columns = data.draw(
        st.none() | st.lists(st.integers(0, len(FIELDS) - 1), min_size=1, max_size=3, unique=True),
        label="columns",
    )
    _check_resume(lambda: create_source(make_spec("t", FIELDS, options)), data, columns)


@pytest.mark.usefixtures("small_blocks")
@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_filesystem_splits_are_files_and_cover_the_table(tmp_path, fmt):
    source = create_source(make_spec("t", FIELDS, _write(tmp_path, fmt)))
    splits = source.splits(2)
    assert [s.split_id for s in splits] == ["a", "b", "c", "sub/d", "sub/e"]
    assert len([b for b, _ in source.read_split(splits[3])]) > 3  # several batches in a file
    table = _table(source.batches(), source.schema.to_arrow_schema())
    assert table.num_rows == sum(SIZES.values())
    for parallelism in (1, 2, 3):
        _check_parallel_union(source, parallelism)


def test_single_file_split_is_named_by_the_file(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("1,a,1.0\n2,b,2.0\n")
    source = create_source(
        make_spec("t", FIELDS, {"connector": "filesystem", "format": "csv", "path": str(path)})
    )
    (split,) = source.splits(4)
    assert split.split_id == "in.csv"
    assert [pos for _, pos in source.read_split(split)][-1] == 2
    assert [b.num_rows for b, _ in source.read_split(split, 1)] == [1]
    assert list(source.read_split(split, 2)) == []


@pytest.mark.parametrize("fmt", ["csv", "json"])
@PROPERTY
@given(data=st.data())
def test_resume_past_skipped_malformed_rows(tmp_path_factory, fmt, data):
    """With ignore-parse-errors, the exact slow path takes over at the bad row; a resumed read
    skips the same well-formed rows whichever path it is on."""
    path = tmp_path_factory.mktemp(fmt) / f"in.{fmt}"
    good = _rows(0, 30)
    if fmt == "csv":
        text = "".join(f"{r['id']},{r['name'] or ''},{r['score']}\n" for r in good)
        lines = text.splitlines(keepends=True)
        lines[12] = "12,x,not-a-number\n"
    else:
        lines = [json.dumps(r) + "\n" for r in good]
        lines[12] = '{"id": 12, "name": \n'
    path.write_text("".join(lines))
    options = {
        "connector": "filesystem",
        "format": fmt,
        "path": str(path),
        f"{fmt}.ignore-parse-errors": "true",
    }
    _check_resume(lambda: create_source(make_spec("t", FIELDS, options)), data)


def test_a_split_whose_file_went_away_says_so(tmp_path):
    (tmp_path / "a").write_text("1,a,1.0\n")
    source = create_source(
        make_spec("t", FIELDS, {"connector": "filesystem", "format": "csv", "path": str(tmp_path)})
    )
    (split,) = source.splits(1)
    (tmp_path / "a").unlink()
    with pytest.raises(ConnectorError, match=r"file '.*/a' of table 't' is gone; .*split 'a'"):
        list(source.read_split(split, 1))


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_resumed_read_still_names_the_malformed_line(tmp_path, fmt):
    path = tmp_path / f"in.{fmt}"
    if fmt == "csv":
        path.write_text("1,a,1.0\n2,b,2.0\n3,c,oops\n")
        expected = r"line 3, column 'score'"
    else:
        path.write_text('{"id": 1}\n{"id": 2}\n{"id": 3\n')
        expected = r"line 3: "
    source = create_source(
        make_spec("t", FIELDS, {"connector": "filesystem", "format": fmt, "path": str(path)})
    )
    (split,) = source.splits(1)
    with pytest.raises(MalformedRowError, match=rf"in {str(path)!r} {expected}"):
        list(source.read_split(split, 1))


def test_parquet_resume_skips_row_groups_by_metadata(tmp_path, monkeypatch):
    """A position past whole row groups does not decode them."""
    pq.write_table(
        pa.table({"id": pa.array(range(30), pa.int64())}), tmp_path / "f", row_group_size=10
    )
    decoded = []
    original = pq.ParquetFile.iter_batches

    def spy(self, *args, **kwargs):
        decoded.append(kwargs.get("row_groups"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", spy)
    source = create_source(
        make_spec(
            "t",
            [("id", T.BIGINT())],
            {"connector": "filesystem", "format": "parquet", "path": str(tmp_path)},
        )
    )
    (split,) = source.splits(1)
    rows = [v for b, _ in source.read_split(split, 23) for v in b.column(0).to_pylist()]
    assert rows == list(range(23, 30))
    assert decoded == [[2]]


# -- datagen ------------------------------------------------------------------------------------

DATAGEN_FIELDS = [
    ("id", T.BIGINT()),
    ("v", T.INT()),
    ("s", T.STRING()),
    ("d", T.DOUBLE()),
    ("b", T.BOOLEAN()),
    ("arr", T.ARRAY(T.INT())),
]


def _datagen_options(rows: int, batch_size: int, **extra) -> dict:
    return {
        "connector": "datagen",
        "number-of-rows": str(rows),
        "batch-size": str(batch_size),
        "seed": "11",
        "fields.id.kind": "sequence",
        "fields.id.start": "100",
        "fields.id.end": "100000",
        "fields.v.min": "0",
        "fields.v.max": "1000",
        "fields.v.null-rate": "0.2",
        "fields.s.length": "4",
        **extra,
    }


def _datagen(options: dict):
    return create_source(make_spec("g", DATAGEN_FIELDS, options))


@PROPERTY
@given(
    data=st.data(),
    rows=st.integers(0, 60),
    batch_size=st.integers(1, 9),
    parallelism=st.integers(1, 4),
)
def test_datagen_split_resumes_and_splits_cover_the_table(data, rows, batch_size, parallelism):
    options = _datagen_options(rows, batch_size)
    source = _datagen(options)
    schema = source.schema.to_arrow_schema()
    everything = _table(source.batches(), schema)
    assert everything.column("id").to_pylist() == list(range(100, 100 + rows))
    splits = source.splits(parallelism)
    assert len(splits) == parallelism
    # contiguous ranges: the splits in order are the table in order, whatever the layout
    in_order = [b for s in splits for b, _ in source.read_split(s)]
    assert _table(in_order, schema).equals(everything)
    _check_parallel_union(source, parallelism)
    # a read resumed anywhere, by a new source
    for split in splits:
        straight = [b for b, _ in source.read_split(split)]
        stop_after = data.draw(st.integers(0, len(straight)))
        position = None
        head = []
        for i, (batch, pos) in enumerate(source.read_split(split)):
            if i == stop_after:
                break
            head.append(batch)
            position = pos
        tail = [b for b, _ in _datagen(options).read_split(split, position)]
        assert _table(head + tail, schema).equals(_table(straight, schema))
        rows_read = data.draw(st.integers(0, sum(b.num_rows for b in straight)))
        tail = [b for b, _ in _datagen(options).read_split(split, rows_read)]
        assert _table(tail, schema).equals(_table(straight, schema).slice(rows_read))


def test_datagen_seeded_values_do_not_depend_on_columns_read():
    source = _datagen(_datagen_options(25, 4))
    everything = _table(source.batches(), source.schema.to_arrow_schema())
    only = pa.Table.from_batches(list(source.batches([3, 1])))
    assert only.column(0).equals(everything.column("d"))
    assert only.column(1).equals(everything.column("v"))


def test_datagen_unseeded_values_differ_between_runs():
    options = _datagen_options(50, 10)
    del options["seed"]
    first, second = (_table(_datagen(options).batches(), None) for _ in range(2))
    assert first.column("id").equals(second.column("id"))
    assert not first.column("s").equals(second.column("s"))


@pytest.mark.parametrize("parallelism", [1, 2, 3])
def test_datagen_unbounded_splits_deal_out_blocks(parallelism):
    fields = [("v", T.BIGINT()), ("s", T.STRING())]
    options = {
        "connector": "datagen",
        "seed": "5",
        "batch-size": "4",
        "rows-per-second": "1000000000",
        "fields.s.length": "2",
    }
    source = create_source(make_spec("g", fields, options))
    assert not source.bounded
    schema = source.schema.to_arrow_schema()
    blocks = 3

    def first(split, n):
        return [b for b, _ in itertools.islice(source.read_split(split), n)]

    (single,) = source.splits(1)
    reference = _table(first(single, blocks * parallelism), schema)
    union = [b for s in source.splits(parallelism) for b in first(s, blocks)]
    assert _multiset(_table(union, schema)) == _multiset(reference)
    # and resuming an unbounded split
    split = source.splits(parallelism)[-1]
    straight = first(split, 5)
    position = list(itertools.islice(source.read_split(split), 2))[-1][1]
    resumed = straight[:2] + [b for b, _ in itertools.islice(source.read_split(split, position), 3)]
    assert _table(resumed, schema).equals(_table(straight, schema))


def test_datagen_unbounded_rate_is_shared_by_splits(monkeypatch):
    slept = []
    this_thread = threading.get_ident()
    real_sleep = time.sleep

    def sleep(seconds):  # threads left by other tests still sleep for real and are not counted
        if threading.get_ident() == this_thread:
            slept.append(seconds)
        else:
            real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", sleep)
    source = create_source(
        make_spec(
            "g",
            [("v", T.INT())],
            {"connector": "datagen", "rows-per-second": "6", "batch-size": "100"},
        )
    )
    # each of 3 splits produces 2 rows per second: batches of 2 rows, a second apart (time.sleep
    # does not sleep here, so the n-th batch is n seconds ahead of the clock)
    batches = [b for b, _ in itertools.islice(source.read_split(source.splits(3)[0]), 3)]
    assert [b.num_rows for b in batches] == [2, 2, 2]
    assert [round(s) for s in slept] == [1, 2, 3]
