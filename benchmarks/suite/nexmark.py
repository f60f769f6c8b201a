"""Nexmark input for the benchmark suite: a vectorized event generator, the DDL, and q0/q1/q2.

Nexmark models an online auction: people register, open auctions and bid on them. Every engine in
the suite (Volley, real PyFlink, DuckDB, and the pyarrow "floor") reads the same three CSV files
this module writes, so their figures are over identical input. The generator follows the Nexmark
specification as the Beam and Flink Nexmark generators implement it; this is an independent,
vectorized (numpy / pyarrow, no per-event Python loop) re-implementation, not a port:

* Events are numbered n = 0, 1, 2, ... and come in blocks of 50: offset ``n % 50`` 0 is a person,
  1..3 are auctions, 4..49 are bids (proportions 1 : 3 : 46). Person and auction ids count from
  1000 with their own counters, so person ``1000 + n // 50`` and auction
  ``1000 + 3 * (n // 50) + (n % 50 - 1)``.
* Event time is ``BASE_TIME`` (2015-07-15 00:00:00 UTC) plus ``n * 10`` microseconds (100,000
  events per second), truncated to the millisecond the TIMESTAMP(3) columns hold. Timestamps
  therefore never decrease in event order across the three files, but they do not strictly
  increase: 100 consecutive events share a millisecond.
* A bid's auction is, with probability 1/2 (Nexmark's hotAuctionRatio 2), the "hot" auction of the
  moment (the newest auction whose base-0 id is a multiple of 100), otherwise a uniformly random one
  of the 101 newest auctions (100 in flight). Its bidder is, with probability 3/4
  (hotBiddersRatio 4), the hot bidder (newest person whose base-0 id is a multiple of 100, plus one
  if that person exists yet), otherwise one of the 1,000 newest people. An auction's seller is
  hot with probability 3/4 (hotSellersRatio 4, base-0 id a multiple of 100), otherwise one of the
  1,000 newest people. Unlike Beam/Flink, which may pick ids up to 10 ahead of the newest
  (PERSON_ID_LEAD / AUCTION_ID_LEAD), every reference here is to a person or auction generated at
  or before the referring event, so joins over the files never dangle.
* Prices are log-distributed cents, ``round(10 ** (6 u) * 100)`` for u uniform in [0, 1); an
  auction's reserve is its initial bid plus another such price, its category 10..14, and it
  expires 1..2h ms after it opens, h being the time Nexmark needs to open 100 more auctions
  (about 16.7 ms at 10 us per event), as in Nexmark's auction length.
* A bid's channel is, with probability 1/2, one of the hot channels Google / Facebook / Baidu /
  Apple, each with its own fixed url ``https://www.nexmark.com/<a>/<b>/<c>/item.htm?query=1``;
  otherwise ``channel-<k>`` for k uniform in 0..9999, whose fixed url is the same form plus
  ``&channel_id=<k>``. The url paths are random strings drawn once per seed.
* People's names come from 11 first and 9 last names, cities and states from Nexmark's short lists,
  credit cards are ``dddd dddd dddd dddd``. Random strings (item names, descriptions, e-mail parts,
  ``extra``) are lowercase letters with an occasional inner space, never leading or trailing.
* ``extra`` pads each record, as Nexmark does, up to the configured average size (person 200,
  auction 500, bid 100 bytes) +-20 %, where the size before padding is *Nexmark's nominal* size:
  8 bytes per number or timestamp plus the length of the strings (for a bid only its four fixed
  fields, 32 bytes, so a bid's ``extra`` averages 68 characters). The CSV rows come out somewhat
  larger than those nominal sizes (the text timestamps are 23 bytes, and a bid carries its channel
  and url): about 220 bytes per person row, 525 per auction row and 187 per bid row.

Files: ``person.csv``, ``auction.csv``, ``bid.csv``, comma-separated, no header, no quoting (the
generated strings never contain a comma, quote or line break; pyarrow's writer would refuse
them), timestamps as ``yyyy-MM-dd HH:mm:ss.SSS``, which Flink's csv format, DuckDB and pyarrow all
read as TIMESTAMP(3). Output is deterministic for a seed: events are generated in chunks of
``CHUNK_EVENTS`` and chunk ``i`` draws from ``numpy.random.default_rng([seed, 1, i])``.

This module imports only the standard library, numpy and pyarrow (no volley), so a script running
in a PyFlink venv can import it from ``sys.path``.
"""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

# --- The model -------------------------------------------------------------------------------

#: Event time of event 0, and the event-time step between consecutive events.
BASE_TIME = _dt.datetime(2015, 7, 15, tzinfo=_dt.UTC)
BASE_EPOCH_MS = int(BASE_TIME.timestamp() * 1000)
INTER_EVENT_DELAY_US = 10

PERSON_PROPORTION = 1
AUCTION_PROPORTION = 3
BID_PROPORTION = 46
PROPORTION_DENOMINATOR = PERSON_PROPORTION + AUCTION_PROPORTION + BID_PROPORTION

FIRST_PERSON_ID = 1000
FIRST_AUCTION_ID = 1000
FIRST_CATEGORY_ID = 10
NUM_CATEGORIES = 5

NUM_ACTIVE_PEOPLE = 1000
NUM_IN_FLIGHT_AUCTIONS = 100
#: A reference is "hot" with probability 1 - 1/ratio; hot ids are multiples of HOT_ID_GRANULE.
HOT_AUCTION_RATIO = 2
HOT_BIDDER_RATIO = 4
HOT_SELLER_RATIO = 4
HOT_ID_GRANULE = 100
HOT_CHANNEL_RATIO = 2
NUM_CHANNELS = 10_000
HOT_CHANNELS = ("Google", "Facebook", "Baidu", "Apple")

AVG_PERSON_BYTES = 200
AVG_AUCTION_BYTES = 500
AVG_BID_BYTES = 100
MIN_STRING_LENGTH = 3

FIRST_NAMES = ("Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah")
FIRST_NAMES += ("Deiter", "Walter")
LAST_NAMES = ("Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones")
LAST_NAMES += ("Noris",)
US_CITIES = ("Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond")
US_CITIES += ("Seattle", "Kent", "Cheyenne")
US_STATES = ("AZ", "CA", "ID", "OR", "WA", "WY")

#: Events per generation chunk (a multiple of 50). Part of the output's definition for a seed.
CHUNK_EVENTS = 1_000_000

# --- Schemas ---------------------------------------------------------------------------------

PERSON_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "BIGINT"),
    ("name", "VARCHAR"),
    ("emailAddress", "VARCHAR"),
    ("creditCard", "VARCHAR"),
    ("city", "VARCHAR"),
    ("state", "VARCHAR"),
    ("dateTime", "TIMESTAMP(3)"),
    ("extra", "VARCHAR"),
)
AUCTION_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "BIGINT"),
    ("itemName", "VARCHAR"),
    ("description", "VARCHAR"),
    ("initialBid", "BIGINT"),
    ("reserve", "BIGINT"),
    ("dateTime", "TIMESTAMP(3)"),
    ("expires", "TIMESTAMP(3)"),
    ("seller", "BIGINT"),
    ("category", "BIGINT"),
    ("extra", "VARCHAR"),
)
BID_COLUMNS: tuple[tuple[str, str], ...] = (
    ("auction", "BIGINT"),
    ("bidder", "BIGINT"),
    ("price", "BIGINT"),
    ("channel", "VARCHAR"),
    ("url", "VARCHAR"),
    ("dateTime", "TIMESTAMP(3)"),
    ("extra", "VARCHAR"),
)
#: (name, SQL type) per column of each file, in file order.
COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "person": PERSON_COLUMNS,
    "auction": AUCTION_COLUMNS,
    "bid": BID_COLUMNS,
}
KINDS = tuple(COLUMNS)

_ARROW_TYPES = {"BIGINT": pa.int64(), "VARCHAR": pa.string(), "TIMESTAMP(3)": pa.timestamp("ms")}
#: The pyarrow schema of each file (timestamps without time zone, millisecond unit).
ARROW_SCHEMAS: dict[str, pa.Schema] = {
    kind: pa.schema([(name, _ARROW_TYPES[sql]) for name, sql in cols])
    for kind, cols in COLUMNS.items()
}


def column_list(kind: str) -> str:
    """The file's columns as ``name TYPE, ...`` with back-quoted names, for Flink SQL DDL.

    Names are quoted because ``dateTime`` is a reserved word in Flink 2.x SQL.
    """
    return ", ".join(f"`{name}` {sql}" for name, sql in COLUMNS[kind])


_DUCKDB_TYPES = {"BIGINT": "BIGINT", "VARCHAR": "VARCHAR", "TIMESTAMP(3)": "TIMESTAMP"}


def duckdb_columns(kind: str) -> list[tuple[str, str]]:
    """(name, DuckDB type) per column of a file, for ``read_csv(..., columns = {...})``."""
    return [(name, _DUCKDB_TYPES[sql]) for name, sql in COLUMNS[kind]]


def ddl(kind: str, table_name: str, path: str | Path, watermark: bool = True) -> str:
    """Flink SQL ``CREATE TABLE`` reading one generated file with the filesystem csv connector.

    With ``watermark`` the table declares ``WATERMARK FOR dateTime AS dateTime - INTERVAL '4'
    SECOND``, as Nexmark's Flink DDL does (dateTime becomes the rowtime attribute).
    """
    lines = [f"    `{name}` {sql}" for name, sql in COLUMNS[kind]]
    if watermark:
        lines.append("    WATERMARK FOR `dateTime` AS `dateTime` - INTERVAL '4' SECOND")
    quoted = str(path).replace("'", "''")
    body = ",\n".join(lines)
    return (
        f"CREATE TABLE {table_name} (\n{body}\n) WITH (\n"
        f"    'connector' = 'filesystem',\n    'path' = '{quoted}',\n    'format' = 'csv'\n)"
    )


def bid_ddl(table_name: str, path: str | Path) -> str:
    """``ddl("bid", table_name, path)``: the bid file as a table with a 4-second watermark."""
    return ddl("bid", table_name, path)


# --- Queries ---------------------------------------------------------------------------------

#: Nexmark q0..q2 in Flink SQL over a table ``bid``, as the SELECT feeding a sink.
QUERIES: dict[str, str] = {
    # q0, pass-through: every bid column.
    "q0": "SELECT auction, bidder, price, channel, url, `dateTime`, extra FROM bid",
    # q1, currency conversion (dollars to euros), in the form of Flink's nexmark q1.
    "q1": "SELECT auction, bidder, 0.908 * price AS price, `dateTime`, extra FROM bid",
    # q2, selection.
    "q2": "SELECT auction, price FROM bid WHERE MOD(auction, 123) = 0",
}

#: Column list of a blackhole sink for each query, with the exact result types of Flink 2.3. In q1
#: Flink types the literal 0.908 as DECIMAL(4, 3) (as it types 0.5 as DECIMAL(2, 1)) and BIGINT
#: as DECIMAL(19, 0), so ``0.908 * price`` is DECIMAL(24, 3) (precision p1 + p2 + 1, scale
#: s1 + s2). Volley types them the same way (DuckDB says DECIMAL(23, 3), the same values).
#: ``dateTime`` is back-quoted because it is a reserved word in Flink 2.x SQL.
SINK_COLUMNS: dict[str, str] = {
    "q0": (
        "auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, "
        "`dateTime` TIMESTAMP(3), extra VARCHAR"
    ),
    "q1": (
        "auction BIGINT, bidder BIGINT, price DECIMAL(24, 3), `dateTime` TIMESTAMP(3), extra VARCHAR"
    ),
    "q2": "auction BIGINT, price BIGINT",
}

#: 0.908 typed as Flink types the literal, DECIMAL(4, 3), so the product is Flink's DECIMAL(24, 3).
_Q1_RATE = pa.scalar(Decimal("0.908"), pa.decimal128(4, 3))


def floor_query(name: str, bid_table: pa.Table) -> pa.Table:
    """Query ``name`` hand-written with pyarrow.compute over a bid table (no engine): the floor.

    q1 is computed exactly in decimal, like the engines: price is cast to DECIMAL(19, 0) and
    multiplied by 0.908 as a DECIMAL(4, 3), giving DECIMAL(24, 3) values (no float rounding; the
    same numbers Flink, Volley and DuckDB produce, in Flink's result type). q2's
    MOD is ``auction - (auction / 123) * 123`` with truncating integer division, which is SQL's MOD
    for the positive ids generated here.
    """
    if name == "q0":
        return bid_table.select(
            ["auction", "bidder", "price", "channel", "url", "dateTime", "extra"]
        )
    if name == "q1":
        price = pc.multiply(pc.cast(bid_table["price"], pa.decimal128(19, 0)), _Q1_RATE)
        cols = [bid_table["auction"], bid_table["bidder"], price]
        cols += [bid_table["dateTime"], bid_table["extra"]]
        return pa.table(cols, names=["auction", "bidder", "price", "dateTime", "extra"])
    if name == "q2":
        auction = bid_table["auction"]
        mod = pc.subtract(auction, pc.multiply(pc.divide(auction, 123), 123))
        return bid_table.filter(pc.equal(mod, 0)).select(["auction", "price"])
    raise KeyError(f"unknown query {name!r}; known: {sorted(QUERIES)}")


def read(kind: str, path: str | Path) -> pa.Table:
    """Read a generated file with pyarrow's CSV reader and the file's schema."""
    schema = ARROW_SCHEMAS[kind]
    return pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(column_names=schema.names),
        convert_options=pacsv.ConvertOptions(
            column_types=schema, strings_can_be_null=False, quoted_strings_can_be_null=False
        ),
    )


def read_bids(path: str | Path) -> pa.Table:
    """``read("bid", path)``: the floor's input."""
    return read("bid", path)


# --- Generation ------------------------------------------------------------------------------

_ALPHABET = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz", dtype=np.uint8)
#: Random byte -> lowercase letter; and -> letter, or a space for about 1 byte value in 13.
_LUT_LETTERS = _ALPHABET[np.arange(256) % 26]
_LUT_SPACED = np.where(np.arange(256) < 20, np.uint8(ord(" ")), _LUT_LETTERS).astype(np.uint8)


def _strings(rng: np.random.Generator, lengths: np.ndarray, spaces: bool = True) -> pa.Array:
    """A string array of random lowercase text with the given lengths, built from raw buffers."""
    lengths = np.asarray(lengths, dtype=np.int64)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    if offsets[-1] >= 2**31:
        raise ValueError("string column too large for one chunk")
    raw = np.frombuffer(rng.bytes(int(offsets[-1])), dtype=np.uint8)
    data = (_LUT_SPACED if spaces else _LUT_LETTERS)[raw]
    if spaces:  # no leading or trailing space: Nexmark's text never needs trimming
        ends = np.concatenate([offsets[:-1], offsets[1:] - 1])[np.tile(lengths > 0, 2)]
        data[ends] = _LUT_LETTERS[raw[ends]]
    return pa.StringArray.from_buffers(
        len(lengths), pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data)
    )


def _next_string_lengths(rng: np.random.Generator, max_length: int, size: int) -> np.ndarray:
    """Nexmark's nextString length: MIN_STRING_LENGTH .. max_length - 1."""
    return rng.integers(MIN_STRING_LENGTH, max_length, size=size)


def _extra(rng: np.random.Generator, current: np.ndarray, average: int) -> pa.Array:
    """Padding from a nominal ``current`` size up to ``average`` bytes, +-20 % (Nexmark's extra)."""
    desired = np.maximum(average - np.asarray(current, dtype=np.int64), 0)
    delta = np.rint(desired * 0.2).astype(np.int64)
    jitter = rng.integers(0, np.maximum(2 * delta, 1))
    return _strings(rng, desired - delta + np.where(delta > 0, jitter, 0))


def _prices(rng: np.random.Generator, size: int) -> np.ndarray:
    """Log-distributed prices in cents: round(10 ** (6 u) * 100), 100 .. 10**8."""
    return np.rint(10.0 ** (rng.random(size) * 6.0) * 100.0).astype(np.int64)


def _timestamps_ms(n: np.ndarray) -> np.ndarray:
    return BASE_EPOCH_MS + (n * INTER_EVENT_DELAY_US) // 1000


def _ts_array(ms: np.ndarray) -> pa.Array:
    return pa.array(ms, type=pa.timestamp("ms"))


def _from_table(values: tuple[str, ...] | pa.Array, index: np.ndarray) -> pa.Array:
    return pc.take(pa.array(values, pa.string()), pa.array(index, pa.int64()))


def _active_person(rng: np.random.Generator, last_person: np.ndarray) -> np.ndarray:
    """Base-0 id of a uniformly random one of the NUM_ACTIVE_PEOPLE newest people."""
    active = np.minimum(last_person + 1, NUM_ACTIVE_PEOPLE)
    return last_person + 1 - active + rng.integers(0, active)


class _Channels:
    """The channel -> url table of one seed: NUM_CHANNELS cold channels, then the hot ones."""

    def __init__(self, seed: int) -> None:
        rng = np.random.default_rng([seed, 0])
        count = NUM_CHANNELS + len(HOT_CHANNELS)
        parts = [_strings(rng, _next_string_lengths(rng, 6, count), spaces=False) for _ in range(3)]
        base = pc.binary_join_element_wise(
            "https://www.nexmark.com/", parts[0], "/", parts[1], "/", parts[2],
            "/item.htm?query=1", "",
        )  # fmt: skip
        ids = [f"&channel_id={k}" for k in range(NUM_CHANNELS)] + [""] * len(HOT_CHANNELS)
        self.urls = pc.binary_join_element_wise(base, pa.array(ids), "")
        names = [f"channel-{k}" for k in range(NUM_CHANNELS)] + list(HOT_CHANNELS)
        self.names = pa.array(names, pa.string())

    def pick(self, rng: np.random.Generator, size: int) -> tuple[pa.Array, pa.Array]:
        hot = rng.integers(0, HOT_CHANNEL_RATIO, size=size) > 0
        which = np.where(
            hot,
            NUM_CHANNELS + rng.integers(0, len(HOT_CHANNELS), size=size),
            rng.integers(0, NUM_CHANNELS, size=size),
        )
        index = pa.array(which, pa.int64())
        return pc.take(self.names, index), pc.take(self.urls, index)


_NAMES = tuple(f"{first} {last}" for first in FIRST_NAMES for last in LAST_NAMES)
_NAME_LENGTHS = np.array([len(name) for name in _NAMES], dtype=np.int64)
_CITY_LENGTHS = np.array([len(city) for city in US_CITIES], dtype=np.int64)
_CARD_DIGIT_COLUMNS = np.array([i + i // 4 for i in range(16)])


def _people(rng: np.random.Generator, n: np.ndarray) -> pa.Table:
    m = len(n)
    base0 = n // PROPORTION_DENOMINATOR
    name_i = rng.integers(0, len(_NAMES), size=m)
    user = _strings(rng, _next_string_lengths(rng, 7, m), spaces=False)
    domain = _strings(rng, _next_string_lengths(rng, 5, m), spaces=False)
    email = pc.binary_join_element_wise(user, "@", domain, ".com", "")
    card = np.full((m, 19), ord(" "), dtype=np.uint8)
    card[:, _CARD_DIGIT_COLUMNS] = rng.integers(
        ord("0"), ord("9") + 1, size=(m, 16), dtype=np.uint8
    )
    card_offsets = np.arange(0, 19 * (m + 1), 19, dtype=np.int32)
    credit_card = pa.StringArray.from_buffers(
        m, pa.py_buffer(card_offsets), pa.py_buffer(card.reshape(-1))
    )
    city_i = rng.integers(0, len(US_CITIES), size=m)
    state_i = rng.integers(0, len(US_STATES), size=m)
    nominal = 8 + _NAME_LENGTHS[name_i] + pc.utf8_length(email).to_numpy() + 19
    nominal += _CITY_LENGTHS[city_i] + 2 + 8
    arrays = [
        pa.array(FIRST_PERSON_ID + base0, pa.int64()),
        _from_table(_NAMES, name_i),
        email,
        credit_card,
        _from_table(US_CITIES, city_i),
        _from_table(US_STATES, state_i),
        _ts_array(_timestamps_ms(n)),
        _extra(rng, nominal, AVG_PERSON_BYTES),
    ]
    return pa.Table.from_arrays(arrays, schema=ARROW_SCHEMAS["person"])


def _auctions(rng: np.random.Generator, n: np.ndarray) -> pa.Table:
    m = len(n)
    epoch, offset = np.divmod(n, PROPORTION_DENOMINATOR)
    base0 = epoch * AUCTION_PROPORTION + (offset - PERSON_PROPORTION)
    last_person = epoch * PERSON_PROPORTION + (PERSON_PROPORTION - 1)
    item_len = _next_string_lengths(rng, 20, m)
    desc_len = _next_string_lengths(rng, 100, m)
    item = _strings(rng, item_len)
    description = _strings(rng, desc_len)
    initial = _prices(rng, m)
    reserve = initial + _prices(rng, m)
    ts = _timestamps_ms(n)
    ahead = (NUM_IN_FLIGHT_AUCTIONS * PROPORTION_DENOMINATOR) // AUCTION_PROPORTION
    horizon = _timestamps_ms(n + ahead) - ts
    expires = ts + 1 + rng.integers(0, np.maximum(2 * horizon, 1))
    hot = rng.integers(0, HOT_SELLER_RATIO, size=m) > 0
    seller = np.where(
        hot, (last_person // HOT_ID_GRANULE) * HOT_ID_GRANULE, _active_person(rng, last_person)
    )
    category = FIRST_CATEGORY_ID + rng.integers(0, NUM_CATEGORIES, size=m)
    nominal = 8 + item_len + desc_len + 8 * 6
    arrays = [
        pa.array(FIRST_AUCTION_ID + base0, pa.int64()),
        item,
        description,
        pa.array(initial, pa.int64()),
        pa.array(reserve, pa.int64()),
        _ts_array(ts),
        _ts_array(expires),
        pa.array(FIRST_PERSON_ID + seller, pa.int64()),
        pa.array(category, pa.int64()),
        _extra(rng, nominal, AVG_AUCTION_BYTES),
    ]
    return pa.Table.from_arrays(arrays, schema=ARROW_SCHEMAS["auction"])


def _bids(rng: np.random.Generator, n: np.ndarray, channels: _Channels) -> pa.Table:
    m = len(n)
    epoch = n // PROPORTION_DENOMINATOR
    last_auction = epoch * AUCTION_PROPORTION + (AUCTION_PROPORTION - 1)
    last_person = epoch * PERSON_PROPORTION + (PERSON_PROPORTION - 1)
    hot = rng.integers(0, HOT_AUCTION_RATIO, size=m) > 0
    in_flight = np.maximum(last_auction - NUM_IN_FLIGHT_AUCTIONS, 0)
    auction = np.where(
        hot,
        (last_auction // HOT_ID_GRANULE) * HOT_ID_GRANULE,
        rng.integers(in_flight, last_auction + 1),
    )
    hot = rng.integers(0, HOT_BIDDER_RATIO, size=m) > 0
    hot_bidder = np.minimum((last_person // HOT_ID_GRANULE) * HOT_ID_GRANULE + 1, last_person)
    bidder = np.where(hot, hot_bidder, _active_person(rng, last_person))
    price = _prices(rng, m)
    channel, url = channels.pick(rng, m)
    arrays = [
        pa.array(FIRST_AUCTION_ID + auction, pa.int64()),
        pa.array(FIRST_PERSON_ID + bidder, pa.int64()),
        pa.array(price, pa.int64()),
        channel,
        url,
        _ts_array(_timestamps_ms(n)),
        _extra(rng, np.full(m, 8 * 4), AVG_BID_BYTES),
    ]
    return pa.Table.from_arrays(arrays, schema=ARROW_SCHEMAS["bid"])


def generate_chunk(
    start: int, stop: int, seed: int = 0, channels: _Channels | None = None
) -> dict[str, pa.Table]:
    """Events ``start`` .. ``stop - 1`` (one chunk: aligned to CHUNK_EVENTS) as three tables."""
    if start % CHUNK_EVENTS or not 0 <= stop - start <= CHUNK_EVENTS:
        raise ValueError("a chunk starts at a multiple of CHUNK_EVENTS and spans at most that")
    channels = channels if channels is not None else _Channels(seed)
    rng = np.random.default_rng([seed, 1, start // CHUNK_EVENTS])
    n = np.arange(start, stop, dtype=np.int64)
    offset = n % PROPORTION_DENOMINATOR
    is_auction = (offset >= PERSON_PROPORTION) & (offset < PERSON_PROPORTION + AUCTION_PROPORTION)
    return {
        "person": _people(rng, n[offset < PERSON_PROPORTION]),
        "auction": _auctions(rng, n[is_auction]),
        "bid": _bids(rng, n[offset >= PERSON_PROPORTION + AUCTION_PROPORTION], channels),
    }


def generate(events: int, out_dir: Path, seed: int = 0) -> dict[str, Path]:
    """Write ``events`` Nexmark events as person.csv, auction.csv and bid.csv into ``out_dir``.

    Returns ``{"person": path, "auction": path, "bid": path}``. Deterministic for ``seed``;
    generated and written CHUNK_EVENTS events at a time, so memory stays bounded.
    """
    if events < 0 or seed < 0:
        raise ValueError("events and seed must be non-negative")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {kind: out_dir / f"{kind}.csv" for kind in KINDS}
    options = pacsv.WriteOptions(include_header=False, quoting_style="none")
    channels = _Channels(seed)
    writers = {
        kind: pacsv.CSVWriter(str(paths[kind]), ARROW_SCHEMAS[kind], write_options=options)
        for kind in KINDS
    }
    try:
        for start in range(0, events, CHUNK_EVENTS):
            tables = generate_chunk(start, min(start + CHUNK_EVENTS, events), seed, channels)
            for kind, table in tables.items():
                writers[kind].write_table(table)
    finally:
        for writer in writers.values():
            writer.close()
    return paths


if __name__ == "__main__":
    import argparse
    import time

    parser = argparse.ArgumentParser(description="Write Nexmark person/auction/bid CSV files.")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    began = time.perf_counter()
    written = generate(args.events, args.out_dir, args.seed)
    took = time.perf_counter() - began
    for kind, path in written.items():
        print(f"{kind:8} {path}  {path.stat().st_size / 1e6:,.1f} MB")
    print(f"{args.events:,} events in {took:.2f} s")
