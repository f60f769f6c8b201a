"""Jobs as handles, restart strategies, the UDF lifecycle and parallel subtasks."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from volley.common import JobStatus
from volley.errors import ConfigurationError, JobCancelledError, UdfError, UnsupportedFeatureError
from volley.table import EnvironmentSettings, TableEnvironment
from volley.table.expressions import col
from volley.table.types import DataTypes
from volley.table.udf import ScalarFunction, udf


def _env(streaming: bool = True, **config: str) -> TableEnvironment:
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode() if streaming
                                    else EnvironmentSettings.in_batch_mode())
    for key, value in config.items():
        t_env.get_config().set(key.replace("_", "."), value)
    return t_env


def _set(t_env: TableEnvironment, **config: str) -> None:
    for key, value in config.items():
        t_env.get_config().set(key, value)


def _materialized(rows) -> Counter:
    """A changelog applied: +I/+U add a row, -U/-D take it away."""
    result: Counter = Counter()
    for row in rows:
        result[tuple(row)] += 1 if row.get_row_kind().value in (0, 2) else -1
    return +result


def _numbers(t_env: TableEnvironment, n: int):
    t_env.execute_sql(f"""CREATE TABLE nums (id BIGINT) WITH ('connector' = 'datagen',
        'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '{n}',
        'batch-size' = '100')""")
    return t_env.from_path("nums")


# -- restart strategies ----------------------------------------------------------------------------

class FailsOnce(ScalarFunction):
    """Raises the first time it sees ``at``, in the whole test process."""

    def __init__(self, at: int) -> None:
        self.at, self.failed = at, False

    def eval(self, x):
        if x == self.at and not self.failed:
            self.failed = True
            raise ValueError(f"boom at {x}")
        return x


def test_a_failed_job_restarts_from_its_last_checkpoint_and_loses_nothing(tmp_path):
    t_env = _env()
    _set(t_env, **{"execution.checkpointing.interval": "1 ms",
                   "execution.checkpointing.dir": str(tmp_path / "ck"),
                   "restart-strategy.type": "fixed-delay",
                   "restart-strategy.fixed-delay.attempts": "1",
                   "restart-strategy.fixed-delay.delay": "0 s"})
    fails_once = udf(FailsOnce(1500), result_type=DataTypes.BIGINT())
    result = _numbers(t_env, 3000).select(fails_once(col("id")).alias("x")) \
        .group_by().select(col("x").count.alias("n"), col("x").sum.alias("s")).execute()
    rows = _materialized(result.collect())
    assert rows == Counter({(3000, 3000 * 3001 // 2): 1})
    client = result.get_job_client()
    assert client.get_job_status() is JobStatus.FINISHED
    assert client._handle.metrics["restarts"] == 1


def test_without_a_restart_strategy_the_users_error_ends_the_job():
    t_env = _env()
    fails = udf(FailsOnce(7), result_type=DataTypes.BIGINT())
    result = _numbers(t_env, 100).select(fails(col("id"))).execute()
    with pytest.raises(UdfError) as info:
        list(result.collect())
    assert isinstance(info.value.__cause__, ValueError)
    assert "boom at 7" in str(info.value.__cause__)
    assert result.get_job_client().get_job_status() is JobStatus.FAILED


def test_restarts_stop_after_the_configured_attempts():
    attempts = []

    class AlwaysFails(ScalarFunction):
        def open(self, context):
            attempts.append(1)

        def eval(self, x):
            raise RuntimeError("never works")

    t_env = _env()
    _set(t_env, **{"restart-strategy.type": "fixed-delay",
                   "restart-strategy.fixed-delay.attempts": "2",
                   "restart-strategy.fixed-delay.delay": "10 ms"})
    fails = udf(AlwaysFails(), result_type=DataTypes.BIGINT())
    with pytest.raises(UdfError, match="never works|AlwaysFails"):
        list(_numbers(t_env, 10).select(fails(col("id"))).execute().collect())
    assert len(attempts) == 3


def test_settings_volley_cannot_honour_are_refused_with_their_name(tmp_path):
    t_env = _env()
    _set(t_env, **{"execution.checkpointing.interval": "10 s"})
    with pytest.raises(ConfigurationError, match="execution.checkpointing.dir"):
        t_env.from_elements([(1,)]).execute()
    t_env = _env()
    _set(t_env, **{"restart-strategy.type": "failure-rate"})
    with pytest.raises(UnsupportedFeatureError, match="failure-rate"):
        t_env.from_elements([(1,)]).execute()


# -- job handles -----------------------------------------------------------------------------------

def _unbounded(t_env: TableEnvironment, name: str = "src"):
    t_env.execute_sql(f"""CREATE TABLE {name} (id BIGINT) WITH ('connector' = 'datagen',
        'rows-per-second' = '1000')""")
    return t_env.from_path(name)


def test_execute_insert_returns_at_once_and_the_job_can_be_waited_for_and_cancelled():
    t_env = _env()
    _unbounded(t_env)
    t_env.execute_sql("CREATE TABLE sink (id BIGINT) WITH ('connector' = 'blackhole')")
    started = time.monotonic()
    result = t_env.execute_sql("INSERT INTO sink SELECT id FROM src")
    assert time.monotonic() - started < 2
    client = result.get_job_client()
    assert client.get_job_status() is JobStatus.RUNNING
    with pytest.raises(TimeoutError):
        result.wait(200)
    client.cancel()
    with pytest.raises(JobCancelledError):
        result.wait(10_000)
    assert client.get_job_status() is JobStatus.CANCELED


def test_closing_a_collect_iterator_cancels_an_unbounded_job():
    t_env = _env()
    result = _unbounded(t_env).execute()
    with result.collect() as rows:
        first = [next(rows) for _ in range(5)]
    assert len(first) == 5
    assert result.get_job_client().get_job_status() is JobStatus.CANCELED


def test_an_insert_result_is_one_row_of_minus_one_per_sink_as_in_flink(tmp_path):
    t_env = _env(streaming=False)
    t_env.execute_sql(f"CREATE TABLE o (id BIGINT) WITH ('connector' = 'filesystem', "
                      f"'path' = '{tmp_path}', 'format' = 'csv')")
    result = t_env.from_elements([(1,), (2,)], ["id"]).execute_insert("o")
    result.wait()
    assert [tuple(r) for r in result.collect()] == [(-1,)]


# -- the UDF lifecycle -----------------------------------------------------------------------------

class Lifecycle(ScalarFunction):
    def __init__(self) -> None:
        self.events: list[str] = []
        self.threads: set[int] = set()

    def open(self, context):
        self.events.append(f"open {context.get_job_parameter('mode', '?')}")

    def eval(self, x):
        if x is not None and x < 0:
            raise ValueError("negative")
        return x

    def close(self):
        self.events.append("close")


def test_a_function_is_opened_with_job_parameters_once_per_job_and_always_closed():
    function = Lifecycle()
    f = udf(function, result_type=DataTypes.BIGINT())
    t_env = _env(streaming=False)
    _set(t_env, **{"pipeline.global-job-parameters": "mode:test,other:1"})
    table = t_env.from_elements([(1,), (2,)], ["x"])
    table.filter(f(col("x")) > 0).select(f(col("x"))).execute().collect().close()
    list(table.filter(f(col("x")) > 0).execute().collect())
    assert function.events == ["open test", "close", "open test", "close"]
    bad = t_env.from_elements([(-1,)], ["x"])
    with pytest.raises(UdfError):
        list(bad.select(f(col("x"))).execute().collect())
    assert function.events[-2:] == ["open test", "close"]


# -- parallel subtasks -----------------------------------------------------------------------------

@pytest.mark.parametrize("sql", [
    "SELECT id % 7 AS k, COUNT(*) AS c, SUM(id) AS s FROM nums GROUP BY id % 7",
    "SELECT a.id, b.id FROM nums a JOIN nums b ON a.id = b.id + 1 WHERE a.id < 50",
    "SELECT c, COUNT(*) AS n FROM (SELECT id % 5 AS k, COUNT(*) AS c FROM nums GROUP BY id % 5) "
    "GROUP BY c",
])
def test_parallelism_2_gives_the_results_of_parallelism_1(sql):
    results = []
    for parallelism in ("1", "2"):
        t_env = _env()
        _set(t_env, **{"parallelism.default": parallelism})
        _numbers(t_env, 1000)
        results.append(_materialized(t_env.sql_query(sql).execute().collect()))
    assert results[0] == results[1]
    assert results[0]


def test_an_error_in_a_worker_process_reaches_the_client_with_the_workers_traceback():
    t_env = _env()
    _set(t_env, **{"parallelism.default": "2"})
    f = udf(Lifecycle(), result_type=DataTypes.BIGINT())
    table = t_env.from_elements([(i,) for i in range(10)] + [(-5,)], ["x"])
    with pytest.raises(UdfError) as info:
        list(table.select(f(col("x"))).execute().collect())
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert "raised in subtask" in notes and "negative" in notes


def test_a_parallel_job_can_be_cancelled():
    t_env = _env()
    _set(t_env, **{"parallelism.default": "2"})
    result = _unbounded(t_env).execute()
    rows = result.collect()
    assert next(rows) is not None
    threading.Thread(target=rows.close).start()
    with pytest.raises(JobCancelledError):
        result.get_job_client().wait(30)
    assert result.get_job_client().get_job_status() is JobStatus.CANCELED


@pytest.mark.parametrize("parallelism", ["1", "2"])
def test_a_checkpoint_can_be_triggered_on_a_running_job(tmp_path, parallelism):
    from volley.state import CheckpointStorage

    t_env = _env()
    _set(t_env, **{"execution.checkpointing.interval": "1 h",
                   "execution.checkpointing.dir": str(tmp_path / "ck"),
                   "parallelism.default": parallelism})
    t_env.execute_sql(f"CREATE TABLE o (id BIGINT) WITH ('connector' = 'filesystem', "
                      f"'path' = '{tmp_path / 'out'}', 'format' = 'csv')")
    result = _unbounded(t_env).execute_insert("o")
    client = result.get_job_client()
    checkpoint_id = client._handle.trigger_checkpoint(timeout=30)
    assert checkpoint_id in CheckpointStorage(str(tmp_path / "ck")).complete_checkpoints()
    client.cancel()


def test_trigger_checkpoint_needs_a_checkpointed_job():
    t_env = _env()
    result = _unbounded(t_env).execute()
    with pytest.raises(ConfigurationError, match="execution.checkpointing"):
        result.get_job_client()._handle.trigger_checkpoint()
    result.collect().close()


def test_late_rows_dropped_are_counted_in_the_jobs_metrics(tmp_path):
    """A row arriving after its window fired is dropped and counted (Flink's
    numLateRecordsDropped). (At parallelism 2 each file would be a source subtask of its own,
    and the window would wait for the slower one's watermark: nothing would be late.)"""
    # a batch per file, the watermark after each: b.csv's row comes after its window fired
    (tmp_path / "a.csv").write_text("1,2024-01-01 00:00:10\n1,2024-01-01 00:01:30\n")
    (tmp_path / "b.csv").write_text("1,2024-01-01 00:00:20\n")
    t_env = _env()
    t_env.execute_sql(f"CREATE TABLE s (k BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) "
                      f"WITH ('connector' = 'filesystem', 'path' = '{tmp_path}', "
                      "'format' = 'csv', 'csv.ignore-parse-errors' = 'false')")
    result = t_env.sql_query(
        "SELECT k, window_start, COUNT(*) AS c FROM TABLE(TUMBLE(TABLE s, DESCRIPTOR(ts), "
        "INTERVAL '1' MINUTE)) GROUP BY k, window_start, window_end").execute()
    rows = sorted((r[0], r[2]) for r in result.collect())
    assert rows == [(1, 1), (1, 1)]
    counters = result.get_job_client().get_metrics()["counters"]
    assert sum(v for k, v in counters.items() if k.endswith(".numLateRecordsDropped")) == 1
