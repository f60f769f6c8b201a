"""The Nexmark generator of the benchmark suite, and q0/q1/q2 on Volley, the floor and DuckDB."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from benchmarks.suite import nexmark
from volley.table import EnvironmentSettings, TableEnvironment

EVENTS = 5_000
SEED = 7


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return nexmark.generate(EVENTS, tmp_path_factory.mktemp("nexmark"), seed=SEED)


@pytest.fixture(scope="module")
def tables(files: dict[str, Path]) -> dict[str, pa.Table]:
    return {kind: nexmark.read(kind, path) for kind, path in files.items()}


def _event_numbers(kind: str, rows: int) -> np.ndarray:
    """Event number of each row of a file, from Nexmark's 1 : 3 : 46 block layout."""
    i = np.arange(rows, dtype=np.int64)
    if kind == "person":
        return i * 50
    if kind == "auction":
        return (i // 3) * 50 + 1 + i % 3
    return (i // 46) * 50 + 4 + i % 46


def _person_event(person_id: np.ndarray) -> np.ndarray:
    return (person_id - 1000) * 50


def _auction_event(auction_id: np.ndarray) -> np.ndarray:
    base0 = auction_id - 1000
    return (base0 // 3) * 50 + 1 + base0 % 3


def _col(table: pa.Table, name: str) -> np.ndarray:
    column = table[name]
    if pa.types.is_timestamp(column.type):
        column = column.cast(pa.int64())
    return column.to_numpy()


def test_files_are_written_and_proportions_are_1_3_46(files, tables):
    assert set(files) == {"person", "auction", "bid"}
    assert {kind: path.name for kind, path in files.items()} == {
        "person": "person.csv",
        "auction": "auction.csv",
        "bid": "bid.csv",
    }
    assert {kind: t.num_rows for kind, t in tables.items()} == {
        "person": 100,
        "auction": 300,
        "bid": 4600,
    }


def test_partial_last_block(tmp_path):
    # 5,020 events: 100 full blocks, then person, 3 auctions and 16 bids of block 100.
    written = nexmark.generate(5_020, tmp_path, seed=SEED)
    counts = {kind: nexmark.read(kind, path).num_rows for kind, path in written.items()}
    assert counts == {"person": 101, "auction": 303, "bid": 4616}
    empty = nexmark.generate(0, tmp_path / "empty", seed=SEED)
    assert all(path.stat().st_size == 0 for path in empty.values())


def test_ids_count_from_1000(tables):
    assert _col(tables["person"], "id").tolist() == list(range(1000, 1100))
    assert _col(tables["auction"], "id").tolist() == list(range(1000, 1300))


def test_references_point_to_existing_people_and_auctions(tables):
    bid, auction = tables["bid"], tables["auction"]
    bid_event = _event_numbers("bid", bid.num_rows)
    auction_event = _event_numbers("auction", auction.num_rows)
    bid_auction, bidder = _col(bid, "auction"), _col(bid, "bidder")
    seller = _col(auction, "seller")
    assert set(bid_auction) <= set(_col(auction, "id"))
    assert set(bidder) <= set(_col(tables["person"], "id"))
    assert set(seller) <= set(_col(tables["person"], "id"))
    assert (_auction_event(bid_auction) < bid_event).all()
    assert (_person_event(bidder) < bid_event).all()
    assert (_person_event(seller) < auction_event).all()
    # Not degenerate: about half the bids go to hot auctions (base-0 id a multiple of 100),
    # and the rest spread over many auctions.
    hot = (bid_auction - 1000) % 100 == 0
    assert 0.4 < hot.mean() < 0.7
    assert len(set(bid_auction[~hot])) > 100
    assert len(set(bidder)) > 50


def test_event_time_follows_event_number(tables):
    base = nexmark.BASE_EPOCH_MS
    assert base == datetime(2015, 7, 15, tzinfo=UTC).timestamp() * 1000 == 1436918400000
    events, stamps = [], []
    for kind, table in tables.items():
        n = _event_numbers(kind, table.num_rows)
        ts = _col(table, "dateTime")
        assert (ts == base + n * 10 // 1000).all(), kind
        events.append(n)
        stamps.append(ts)
    n, ts = np.concatenate(events), np.concatenate(stamps)
    order = np.argsort(n)
    assert (np.diff(n[order]) == 1).all()  # every event number 0 .. EVENTS - 1 once
    assert len(n) == EVENTS
    assert (np.diff(ts[order]) >= 0).all()  # monotonic (100 events share each millisecond)
    assert ts[order][-1] - ts[order][0] == (EVENTS - 1) * 10 // 1000


def test_field_domains(tables):
    person, auction, bid = tables["person"], tables["auction"], tables["bid"]
    cards = person["creditCard"].to_pylist()
    assert all(re.fullmatch(r"\d{4} \d{4} \d{4} \d{4}", c) for c in cards)
    assert all(re.fullmatch(r"[a-z]+@[a-z]+\.com", e) for e in person["emailAddress"].to_pylist())
    assert set(person["city"].to_pylist()) <= set(nexmark.US_CITIES)
    assert set(person["state"].to_pylist()) <= set(nexmark.US_STATES)
    first_last = {f"{f} {last}" for f in nexmark.FIRST_NAMES for last in nexmark.LAST_NAMES}
    assert set(person["name"].to_pylist()) <= first_last
    assert (_col(auction, "reserve") > _col(auction, "initialBid")).all()
    assert (_col(auction, "expires") > _col(auction, "dateTime")).all()
    assert set(_col(auction, "category")) == {10, 11, 12, 13, 14}
    price = _col(bid, "price")
    assert price.min() >= 100 and price.max() <= 10**8
    assert np.median(price) < 10**6  # log-distributed: median around 10 ** 3 * 100
    channels = bid["channel"].to_pylist()
    hot = [c in nexmark.HOT_CHANNELS for c in channels]
    assert 0.4 < np.mean(hot) < 0.6
    assert all(c in nexmark.HOT_CHANNELS or re.fullmatch(r"channel-\d+", c) for c in channels)
    for channel, url in zip(channels, bid["url"].to_pylist(), strict=True):
        assert re.fullmatch(
            r"https://www\.nexmark\.com/[a-z]+/[a-z]+/[a-z]+/item\.htm\?query=1.*", url
        )
        if channel not in nexmark.HOT_CHANNELS:
            assert url.endswith(f"&channel_id={channel.removeprefix('channel-')}")
    # extra pads to Nexmark's nominal sizes: bids 100 - 32 = 68 characters on average, +-20 %.
    extra_len = pc.utf8_length(bid["extra"]).to_numpy()
    assert extra_len.min() >= 54 and extra_len.max() <= 82
    assert 60 < extra_len.mean() < 76
    for table in tables.values():
        for name in table.column_names:
            if pa.types.is_string(table[name].type):
                values = table[name].to_pylist()
                assert all(v and v == v.strip() for v in values), name


def test_csv_text_layout(files):
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}"
    for kind, path in files.items():
        text = path.read_text()
        assert '"' not in text and "\r" not in text
        lines = text.splitlines()
        assert lines[0].split(",")[0] == "1000"  # no header row
        width = len(nexmark.COLUMNS[kind])
        assert all(line.count(",") == width - 1 for line in lines), kind
        stamp_at = [i for i, (_, sql) in enumerate(nexmark.COLUMNS[kind]) if sql == "TIMESTAMP(3)"]
        for line in lines[:200]:
            fields = line.split(",")
            assert all(re.fullmatch(stamp, fields[i]) for i in stamp_at), line
    first_bid = files["bid"].read_text().splitlines()[0].split(",")
    assert first_bid[5] == "2015-07-15 00:00:00.000"


def test_schemas_parse_the_files(files, tables):
    assert nexmark.read_bids(files["bid"]).equals(tables["bid"])
    for kind, table in tables.items():
        assert table.schema == nexmark.ARROW_SCHEMAS[kind]
        assert table.schema.names == [name for name, _ in nexmark.COLUMNS[kind]]
        assert all(table[name].null_count == 0 for name in table.column_names)


def test_deterministic_for_a_seed(files, tmp_path):
    again = nexmark.generate(EVENTS, tmp_path / "again", seed=SEED)
    other = nexmark.generate(EVENTS, tmp_path / "other", seed=SEED + 1)
    for kind in files:
        assert again[kind].read_bytes() == files[kind].read_bytes()
        assert other[kind].read_bytes() != files[kind].read_bytes()


def test_ddl_and_sink_columns_name_the_columns():
    ddl = nexmark.bid_ddl("bid", "/data/it's/bid.csv")
    assert ddl.startswith("CREATE TABLE bid (")
    assert "WATERMARK FOR `dateTime` AS `dateTime` - INTERVAL '4' SECOND" in ddl
    assert "'path' = '/data/it''s/bid.csv'" in ddl and "'format' = 'csv'" in ddl
    assert "`creditCard` VARCHAR" in nexmark.ddl("person", "person", "p.csv")
    assert "`expires` TIMESTAMP(3)" in nexmark.ddl("auction", "auction", "a.csv")
    assert set(nexmark.QUERIES) == set(nexmark.SINK_COLUMNS) == {"q0", "q1", "q2"}


# --- q0 / q1 / q2 on three engines --------------------------------------------------------------


def _rows(table: pa.Table) -> list[tuple]:
    return [tuple(row.values()) for row in table.to_pylist()]


def _duckdb_rows(name: str, bid_path: Path) -> list[tuple]:
    columns = ", ".join(f"'{col}': '{sql}'" for col, sql in nexmark.duckdb_columns("bid"))
    con = duckdb.connect()
    con.execute(
        f"CREATE VIEW bid AS SELECT * FROM read_csv('{bid_path}', header = false, "
        f"auto_detect = false, delim = ',', quote = '\"', columns = {{{columns}}})"
    )
    return con.execute(nexmark.QUERIES[name]).fetchall()  # DuckDB reads `quoted` names too


def _volley_env(bid_path: Path) -> TableEnvironment:
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    t_env.execute_sql(nexmark.bid_ddl("bid", bid_path))
    return t_env


@pytest.mark.parametrize("name", ["q0", "q1", "q2"])
def test_query_agrees_on_volley_floor_and_duckdb(name, files, tables):
    floor = _rows(nexmark.floor_query(name, tables["bid"]))
    with _volley_env(files["bid"]).sql_query(nexmark.QUERIES[name]).execute().collect() as it:
        volley = [tuple(row) for row in it]
    duck = _duckdb_rows(name, files["bid"])
    if name in ("q0", "q1"):
        assert len(floor) == 4600
    assert floor, "the query selects nothing: a vacuous comparison"
    assert volley == floor
    assert duck == floor


def test_q1_is_exact_decimal_and_q2_selects_multiples_of_123(tables):
    q1 = nexmark.floor_query("q1", tables["bid"])
    assert q1.schema.field("price").type == pa.decimal128(24, 3)
    prices = tables["bid"]["price"].to_pylist()
    assert [p * 908 for p in prices] == [int(v.scaleb(3)) for v in q1["price"].to_pylist()]
    q2 = nexmark.floor_query("q2", tables["bid"])
    expected = [
        (a, p) for a, p in _rows(tables["bid"].select(["auction", "price"])) if a % 123 == 0
    ]
    assert _rows(q2) == expected and expected


def _types(columns: str) -> list[str]:
    """SQL types of a ``name TYPE, ...`` list, VARCHAR spelled STRING as the engines print it."""
    types = [part.split(" ", 1)[1] for part in re.split(r",\s*(?![^()]*\))", columns)]
    return [t.replace("VARCHAR", "STRING") for t in types]


@pytest.mark.parametrize("name", ["q0", "q1", "q2"])
def test_volley_result_types_are_flinks(name, files):
    """The sink columns are Flink 2.3's result types (q1: DECIMAL(24, 3)); Volley says the same
    (the query keeps dateTime's rowtime mark, which a sink column does not have)."""
    schema = _volley_env(files["bid"]).sql_query(nexmark.QUERIES[name]).get_schema()
    types = [str(getattr(t, "materialized", lambda t=t: t)()) for t in schema.get_field_data_types()]
    assert types == _types(nexmark.SINK_COLUMNS[name])


@pytest.mark.parametrize("name", ["q0", "q1", "q2"])
def test_volley_inserts_into_the_blackhole_sink(name, files):
    t_env = _volley_env(files["bid"])
    t_env.execute_sql(
        f"CREATE TABLE sink ({nexmark.SINK_COLUMNS[name]}) WITH ('connector' = 'blackhole')"
    )
    t_env.execute_sql(f"INSERT INTO sink {nexmark.QUERIES[name]}").wait()
