"""SourcePrefetcher: order, errors, the byte budget and close()."""

import threading
import time

import pyarrow as pa
import pytest

from volley.runners.prefetch import SourcePrefetcher


def _batch(rows: int, start: int = 0) -> pa.RecordBatch:
    return pa.record_batch({"x": pa.array(range(start, start + rows), pa.int64())})


def _drain(prefetcher: SourcePrefetcher) -> list:
    out = []
    while (item := prefetcher.next()) is not None:
        out.append(item)
    return out


def test_elements_arrive_in_order_and_end_with_none():
    batches = [_batch(10, i * 10) for i in range(50)]
    got = _drain(SourcePrefetcher(iter(batches), "t"))
    assert [b.column(0).to_pylist() for b in got] == [b.column(0).to_pylist() for b in batches]


def test_a_source_error_is_raised_in_the_callers_thread_after_the_elements_before_it():
    def source():
        yield _batch(3)
        raise ValueError("bad row 7")

    prefetcher = SourcePrefetcher(source(), "t")
    assert prefetcher.next().num_rows == 3
    with pytest.raises(ValueError, match="bad row 7"):
        prefetcher.next()


def test_the_reader_stays_within_the_byte_budget():
    pulled = []
    batch_bytes = _batch(1000).nbytes

    def source():
        for i in range(100):
            pulled.append(i)
            yield _batch(1000)

    prefetcher = SourcePrefetcher(source(), "t", budget_bytes=5 * batch_bytes)
    time.sleep(0.2)  # let the reader run as far ahead as it may
    # five batches fit the budget, the generator has produced one more that waits to be handed over
    assert len(pulled) <= 6
    assert len(_drain(prefetcher)) == 100


def test_an_element_larger_than_the_budget_still_passes():
    big = _batch(100_000)
    got = _drain(SourcePrefetcher(iter([big, big]), "t", budget_bytes=1))
    assert [b.num_rows for b in got] == [100_000, 100_000]


def test_close_stops_the_reader_thread():
    def endless():
        while True:
            yield _batch(1000)

    prefetcher = SourcePrefetcher(endless(), "t", budget_bytes=1)
    prefetcher.next()
    prefetcher.close()
    deadline = time.monotonic() + 5
    while any(t.name == "volley-source-t" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the reader thread did not stop"
        time.sleep(0.01)


def test_in_memory_sources_are_pulled_without_a_thread(monkeypatch):
    """VALUES / from_pandas data is already in memory: the runner pulls it inline, and a file
    source in the same job still gets its reading thread."""
    import pandas as pd

    import volley.runners.local as local
    from volley.table import EnvironmentSettings, TableEnvironment
    from volley.table.expressions import col

    started = []

    class Recording(SourcePrefetcher):
        def __init__(self, iterator, name, *args, **kwargs):
            started.append(name)
            super().__init__(iterator, name, *args, **kwargs)

    monkeypatch.setattr(local, "SourcePrefetcher", Recording)
    t_env = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
    got = t_env.from_pandas(pd.DataFrame({"a": [1.0, 2.0, 3.0]})).filter(col("a") > 1.5)
    assert got.to_pandas()["a"].tolist() == [2.0, 3.0]
    assert started == []
    t_env.execute_sql("CREATE TABLE g (x BIGINT) WITH ('connector' = 'datagen', "
                      "'number-of-rows' = '3')")
    with t_env.execute_sql("SELECT * FROM g").collect() as rows:
        assert len(list(rows)) == 3
    assert len(started) == 1
