"""Nexmark q3, q4, q5, q7 and q8: the streaming queries (joins, windows, updating aggregates).

The SQL is Nexmark's Flink SQL (the queries of the Nexmark benchmark's Flink port), over the three
tables ``person``, ``auction`` and ``bid`` that ``nexmark.ddl`` declares with a 4-second
watermark on ``dateTime``. Each query also has a pandas computation of its final result (what a
bounded run's changelog materializes to), which is how the suite checks Volley's answer and
what its ``floor`` engine runs.

Like nexmark.py, this module imports only the standard library, numpy, pandas and pyarrow, so
the PyFlink worker can import it too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.suite import nexmark

QUERIES: dict[str, str] = {
    # q3, local item suggestion: auctions of category 10 by sellers in Oregon, Idaho or
    # California (a regular join over two unbounded streams)
    "q3": """SELECT P.name, P.city, P.state, A.id
FROM auction AS A INNER JOIN person AS P ON A.seller = P.id
WHERE A.category = 10 AND (P.state = 'OR' OR P.state = 'ID' OR P.state = 'CA')""",
    # q4, average closing price per category: the highest bid of each auction made while it
    # was open, averaged per category (a join, then two updating aggregations)
    "q4": """SELECT Q.category, AVG(Q.final) AS avg_final
FROM (
    SELECT MAX(B.price) AS final, A.category
    FROM auction A, bid B
    WHERE A.id = B.auction AND B.`dateTime` BETWEEN A.`dateTime` AND A.expires
    GROUP BY A.id, A.category
) Q
GROUP BY Q.category""",
    # q5, hot items: the auctions with the most bids in each 10-second window sliding by 2
    # seconds (a HOP window aggregation joined with the per-window maximum of itself)
    "q5": """SELECT AuctionBids.auction, AuctionBids.num
FROM (
  SELECT auction, COUNT(*) AS num, window_start AS starttime, window_end AS endtime
  FROM TABLE(HOP(TABLE bid, DESCRIPTOR(`dateTime`), INTERVAL '2' SECOND, INTERVAL '10' SECOND))
  GROUP BY auction, window_start, window_end
) AS AuctionBids
JOIN (
  SELECT MAX(CountBids.num) AS maxn, CountBids.starttime, CountBids.endtime
  FROM (
    SELECT COUNT(*) AS num, window_start AS starttime, window_end AS endtime
    FROM TABLE(HOP(TABLE bid, DESCRIPTOR(`dateTime`), INTERVAL '2' SECOND, INTERVAL '10' SECOND))
    GROUP BY auction, window_start, window_end
  ) AS CountBids
  GROUP BY CountBids.starttime, CountBids.endtime
) AS MaxBids
ON AuctionBids.starttime = MaxBids.starttime AND AuctionBids.endtime = MaxBids.endtime
   AND AuctionBids.num >= MaxBids.maxn""",
    # q7, highest bid: the bids of each 10-second window's highest price (a TUMBLE maximum
    # joined back to the bids of its window)
    "q7": """SELECT B.auction, B.price, B.bidder, B.`dateTime`, B.extra
FROM bid B
JOIN (
  SELECT MAX(price) AS maxprice, window_end AS `dateTime`
  FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(`dateTime`), INTERVAL '10' SECOND))
  GROUP BY window_start, window_end
) B1
ON B.price = B1.maxprice
WHERE B.`dateTime` BETWEEN B1.`dateTime` - INTERVAL '10' SECOND AND B1.`dateTime`""",
    # q8, monitor new users: people who registered and opened an auction in the same
    # 10-second window (two TUMBLE aggregations joined on the window)
    "q8": """SELECT P.id, P.name, P.starttime
FROM (
  SELECT id, name, window_start AS starttime, window_end AS endtime
  FROM TABLE(TUMBLE(TABLE person, DESCRIPTOR(`dateTime`), INTERVAL '10' SECOND))
  GROUP BY id, name, window_start, window_end
) P
JOIN (
  SELECT seller, window_start AS starttime, window_end AS endtime
  FROM TABLE(TUMBLE(TABLE auction, DESCRIPTOR(`dateTime`), INTERVAL '10' SECOND))
  GROUP BY seller, window_start, window_end
) A
ON P.id = A.seller AND P.starttime = A.starttime AND P.endtime = A.endtime""",
}

#: The blackhole sink's columns per query, in Flink's result types (AVG of a BIGINT is a BIGINT).
SINK_COLUMNS: dict[str, str] = {
    "q3": "name VARCHAR, city VARCHAR, state VARCHAR, id BIGINT",
    "q4": "category BIGINT, avg_final BIGINT",
    "q5": "auction BIGINT, num BIGINT",
    "q7": "auction BIGINT, price BIGINT, bidder BIGINT, `dateTime` TIMESTAMP(3), extra VARCHAR",
    "q8": "id BIGINT, name VARCHAR, starttime TIMESTAMP(3)",
}

#: The files each query reads: its throughput is counted over their rows.
READS: dict[str, tuple[str, ...]] = {
    "q3": ("auction", "person"),
    "q4": ("auction", "bid"),
    "q5": ("bid",),
    "q7": ("bid",),
    "q8": ("person", "auction"),
}

_SHARE = {"person": nexmark.PERSON_PROPORTION, "auction": nexmark.AUCTION_PROPORTION,
          "bid": nexmark.BID_PROPORTION}


def rows_read(query: str, events: int) -> int:
    """How many rows ``query`` reads from a stream of ``events`` events."""
    return sum(events * _SHARE[kind] // nexmark.PROPORTION_DENOMINATOR for kind in READS[query])


def read_frame(directory: str | Path, kind: str, columns: list[str]) -> pd.DataFrame:
    """Some columns of one generated file as a pandas DataFrame (timestamps as datetime64)."""
    table = nexmark.read(kind, Path(directory) / f"{kind}.csv")
    return table.select(columns).to_pandas()


def _window_start(ts: pd.Series, size: str) -> pd.Series:
    return ts.dt.floor(size)


def pandas_result(query: str, directory: str | Path) -> pd.DataFrame:
    """The final result of ``query`` over the files in ``directory``, computed with pandas:
    every window has fired (bounded input ends with the watermark at the end of time)."""
    if query == "q3":
        a = read_frame(directory, "auction", ["id", "seller", "category"])
        p = read_frame(directory, "person", ["id", "name", "city", "state"])
        a = a[a.category == 10]
        p = p[p.state.isin(["OR", "ID", "CA"])]
        joined = a.merge(p, left_on="seller", right_on="id", suffixes=("", "_p"))
        return joined[["name", "city", "state", "id"]]
    if query == "q4":
        a = read_frame(directory, "auction", ["id", "category", "dateTime", "expires"])
        b = read_frame(directory, "bid", ["auction", "price", "dateTime"])
        joined = b.merge(a, left_on="auction", right_on="id", suffixes=("_b", ""))
        open_ = (joined.dateTime_b >= joined.dateTime) & (joined.dateTime_b <= joined.expires)
        final = joined[open_].groupby(["id", "category"], as_index=False).price.max()
        per = final.groupby("category").price.agg(["sum", "count"]).reset_index()
        # AVG of a BIGINT is a BIGINT in Flink: the sum divided by the count, truncated
        per["avg_final"] = per["sum"] // per["count"]
        return per[["category", "avg_final"]]
    if query == "q5":
        b = read_frame(directory, "bid", ["auction", "dateTime"])
        last = _window_start(b.dateTime, "2s")
        slide = pd.Timedelta(seconds=2)
        # a bid is in the 5 windows of 10 s starting at its 2-second slice and the 4 before
        starts = pd.concat([pd.DataFrame({"auction": b.auction, "start": last - k * slide})
                            for k in range(5)], ignore_index=True)
        counts = starts.groupby(["auction", "start"]).size().rename("num").reset_index()
        top = counts.groupby("start").num.transform("max")
        return counts[counts.num >= top][["auction", "num"]]
    if query == "q7":
        b = read_frame(directory, "bid", ["auction", "price", "bidder", "dateTime", "extra"])
        end = _window_start(b.dateTime, "10s") + pd.Timedelta(seconds=10)
        top = b.assign(end=end).groupby("end", as_index=False).price.max()
        joined = b.merge(top, on="price")
        within = (joined.dateTime >= joined.end - pd.Timedelta(seconds=10)) & (
            joined.dateTime <= joined.end)
        return joined[within][["auction", "price", "bidder", "dateTime", "extra"]]
    if query == "q8":
        p = read_frame(directory, "person", ["id", "name", "dateTime"])
        a = read_frame(directory, "auction", ["seller", "dateTime"])
        p = p.assign(starttime=_window_start(p.dateTime, "10s"))[["id", "name", "starttime"]]
        a = a.assign(starttime=_window_start(a.dateTime, "10s"))[["seller", "starttime"]]
        joined = p.drop_duplicates().merge(a.drop_duplicates(), left_on=["id", "starttime"],
                                           right_on=["seller", "starttime"])
        return joined[["id", "name", "starttime"]]
    raise KeyError(f"unknown query {query!r}; known: {sorted(QUERIES)}")


def same_rows(got: pd.DataFrame, want: pd.DataFrame) -> tuple[bool, str]:
    """Whether two results hold the same rows (as a multiset, column by column in order), and
    a line saying so."""
    def rows(frame: pd.DataFrame) -> list[tuple]:
        values = [frame[c].astype("datetime64[ms]").astype("int64").to_numpy()
                  if frame[c].dtype.kind == "M" else frame[c].to_numpy() for c in frame.columns]
        return sorted(zip(*(np.asarray(v).tolist() for v in values), strict=True))

    if list(got.columns) != list(want.columns):
        return False, f"columns {list(got.columns)} != {list(want.columns)}"
    a, b = rows(got), rows(want)
    if a == b:
        return True, f"{len(a):,} rows, equal"
    missing = len([r for r in b if r not in set(a)]) if len(b) < 100_000 else "?"
    return False, f"{len(a):,} rows against {len(b):,} expected ({missing} expected rows missing)"
