"""Streaming OVER aggregation: Flink's over-aggregate functions, a batch of rows at a time.

Rows are emitted once each, with their aggregates appended (an insert-only stream), partition by
partition in the order of the time attribute:

* ordered by **rowtime**, a row waits (``pending``, a ``TimeOrderedRows``) until the watermark
  passes its time; then every due row is emitted, in time order (ties: in arrival order). A row
  that arrives too late is dropped and counted: with an unbounded frame when its time is not after
  the watermark, with a bounded one when it is not after the last time its partition emitted (as
  Flink's ``RowTime*UnboundedPrecedingOver`` / ``RowTime*BoundedPrecedingFunction`` decide);
* ordered by **proctime**, rows are emitted as they arrive, in arrival order.

What a partition remembers between firings is keyed state, by partition key:

* unbounded frames (``... UNBOUNDED PRECEDING``): per aggregate the running count and sum, min or
  max (``partitions``), carried into the next firing as one leading row per partition;
* bounded frames (``ROWS n PRECEDING``, ``RANGE INTERVAL ... PRECEDING``): the rows still inside
  a future frame (``retained``, keyed by partition and position, holding their time and the
  aggregated columns), expired as the frame moves on.

Each firing computes the frames of the due rows together with the remembered ones by
``over_frames``: a firing costs its rows and what their partitions remember, never the rest.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from volley.errors import JobExecutionError
from volley.plan.calls import AggCall, OverFrame
from volley.runtime.keyed_rows import RowColumns, TimeOrderedRows
from volley.runtime.ops_time import epoch_millis
from volley.runtime.over_frames import OrderValues, frame_aggregate, frame_bounds, run_bounds
from volley.state import KeyedTable, ValueColumn

MIN_TIME = -(2**63)
# a global window is one partition: the key index needs a key column, so it gets a constant one
_GLOBAL_KEY_TYPE = pa.int8()


def _accumulator_type(agg: AggCall, arg_type: pa.DataType | None) -> pa.DataType | None:
    """What a running frame keeps per aggregate beside its count (None: the count alone)."""
    if agg.fn == "count":
        return None
    assert arg_type is not None
    if agg.fn in ("min", "max"):
        return arg_type
    if pa.types.is_decimal(arg_type):
        return pa.decimal128(38, arg_type.scale)
    if pa.types.is_floating(arg_type):
        return pa.float64()
    return pa.int64()


class OverAggregation:
    """See the module docstring. ``time_index`` is the ORDER BY column (a time attribute, ascending);
    ``rowtime`` says whether rows wait for the watermark."""

    def __init__(self, in_schema: pa.Schema, partition_keys: tuple[int, ...], time_index: int,
                 aggs: tuple[AggCall, ...], frame: OverFrame, out_schema: pa.Schema,
                 rowtime: bool, max_parallelism: int) -> None:
        self.in_schema, self.out_schema = in_schema, out_schema
        self.partition_keys, self.time_index = partition_keys, time_index
        if not rowtime and frame.start is None:
            # rows arriving one after another have no peers: a running frame on processing time
            # counts rows (Flink's ProcTimeUnboundedPrecedingFunction, for ROWS and RANGE alike)
            frame = OverFrame("rows", None, 0)
        self.aggs, self.frame, self.rowtime = aggs, frame, rowtime
        self.bounded = frame.start is not None
        key_types = [in_schema.field(k).type for k in partition_keys] or [_GLOBAL_KEY_TYPE]
        group_columns = len(partition_keys)
        self.key_types = key_types
        self.args = sorted({a.arg for a in aggs if a.arg is not None})
        values = [ValueColumn("last", pa.int64(), MIN_TIME)]
        if self.bounded:
            values += [ValueColumn("next", pa.int64()), ValueColumn("first", pa.int64())]
            self.retained_columns = RowColumns(pa.schema([in_schema.field(a) for a in self.args]),
                                               "a")
            self.retained = KeyedTable([*key_types, pa.int64()],
                                       [ValueColumn("ts", pa.int64()),
                                        *self.retained_columns.value_columns()],
                                       max_parallelism, key_group_columns=group_columns)
        else:
            self.acc_types = [_accumulator_type(a, in_schema.field(a.arg).type
                                                if a.arg is not None else None) for a in aggs]
            acc_fields = [pa.field(f"v{j}", t) for j, t in enumerate(self.acc_types)
                          if t is not None]
            self.acc_columns = RowColumns(pa.schema(acc_fields), "acc")
            values += [ValueColumn(f"n{j}", pa.int64()) for j in range(len(aggs))]
            values += self.acc_columns.value_columns()
        self.partitions = KeyedTable(key_types, values, max_parallelism,
                                     key_group_columns=group_columns)
        self.pending = TimeOrderedRows(key_types, in_schema, max_parallelism) if rowtime \
            else None
        self.watermark = MIN_TIME
        self.late_rows = 0

    def states(self) -> dict:
        states: dict = {"partitions": self.partitions}
        if self.bounded:
            states["retained"] = self.retained
        if self.pending is not None:
            states["pending"] = self.pending
        return states

    # -- input -----------------------------------------------------------------------------------

    def _keys(self, columns: list[pa.Array], n: int) -> list[pa.Array]:
        if not self.partition_keys:
            return [pa.array(np.zeros(n, dtype=np.int8))]
        return [columns[k] for k in self.partition_keys]

    def _times(self, column: pa.Array) -> np.ndarray:
        if column.null_count:
            name = self.in_schema.field(self.time_index).name
            raise JobExecutionError(
                f"the time attribute {name!r} of an OVER window is NULL in {column.null_count} "
                "row(s); a time attribute must not be NULL: filter those rows out (WHERE "
                f"{name} IS NOT NULL) or give them a time with COALESCE")
        return epoch_millis(column)

    def add(self, batch: pa.RecordBatch) -> pa.Table | None:
        """Take a batch: proctime rows are computed and returned at once; rowtime rows wait,
        except those too late, which are dropped."""
        if not batch.num_rows:
            return None
        columns = list(batch.columns)
        ts = self._times(batch.column(self.time_index))
        keys = self._keys(columns, batch.num_rows)
        if not self.rowtime:
            return self._fire(keys, columns, ts)
        if self.bounded:
            ids = self.partitions.lookup(keys)
            last = np.full(len(ts), MIN_TIME, dtype=np.int64)
            found = ids >= 0
            last[found] = self.partitions.column("last")[ids[found]]
            on_time = ts > last
        else:
            on_time = ts > self.watermark
        if not on_time.all():
            self.late_rows += int((~on_time).sum())
            mask = pa.array(on_time)
            columns = [c.filter(mask) for c in columns]
            keys = [k.filter(mask) for k in keys]
            ts = ts[on_time]
        assert self.pending is not None
        self.pending.add(keys, columns, ts)
        return None

    def advance(self, watermark: int) -> pa.Table | None:
        """The watermark moved to ``watermark``: the rows it passed, computed."""
        self.watermark = max(self.watermark, watermark)
        if self.pending is None:
            return None
        due = self.pending.pop(watermark)
        if due is None:
            return None
        keys, columns, ts = due
        return self._fire(keys, columns, ts)

    # -- one firing ------------------------------------------------------------------------------

    def _fire(self, keys: list[pa.Array], columns: list[pa.Array], ts: np.ndarray) -> pa.Table:
        """Compute the rows (in emission order: by time, then arrival) and update the state."""
        n = len(ts)
        pids = self.partitions.ids(keys)
        self.partitions.set_live(pids)
        touched, local = np.unique(pids, return_inverse=True)
        if self.bounded:
            results = self._bounded(touched, local, columns, ts)
        else:
            results = self._unbounded(touched, local, columns, ts)
        last = self.partitions.column("last")
        np.maximum.at(last, pids, ts)
        out = pa.Table.from_arrays([*columns, *results], schema=self.out_schema)
        assert out.num_rows == n
        return out

    def _order(self, part: np.ndarray, is_due: np.ndarray, rank: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
        """The combined rows sorted by partition, remembered rows first, then rank; and the
        sorted partition numbers."""
        order = np.lexsort((rank, is_due, part))
        return order, part[order]

    def _unbounded(self, touched: np.ndarray, local: np.ndarray, columns: list[pa.Array],
                   ts: np.ndarray) -> list[pa.Array]:
        """Running frames: one leading row per touched partition carries its accumulators."""
        m, n = len(touched), len(ts)
        part = np.concatenate([np.arange(m), local])
        is_due = np.concatenate([np.zeros(m, np.int8), np.ones(n, np.int8)])
        rank = np.concatenate([np.zeros(m, np.int64), np.arange(n, dtype=np.int64)])
        order, part = self._order(part, is_due, rank)
        due_sorted = is_due[order] == 1
        times = np.concatenate([np.full(m, MIN_TIME, np.int64), ts])[order]
        peer_id = None
        if self.frame.mode == "range":
            change = np.concatenate([[True], (part[1:] != part[:-1]) | (times[1:] != times[:-1])])
            peer_id = np.cumsum(change) - 1
        lo, hi = frame_bounds(self.frame, part, peer_id)
        part_start, part_end = run_bounds(part)
        heads = np.flatnonzero(np.concatenate([[True], part[1:] != part[:-1]]))
        acc_values = self.acc_columns.read(self.partitions, touched)
        results_sorted, accs = [], iter(acc_values)
        new_counts, new_values = [], []
        for j, (agg, acc_type) in enumerate(zip(self.aggs, self.acc_types, strict=True)):
            counts_before = self.partitions.column(f"n{j}")[touched]
            if agg.arg is None:
                arg, due_counts = None, np.ones(n, np.int64)
            else:
                arg = columns[agg.arg]
                due_counts = arg.is_valid().to_numpy(zero_copy_only=False).astype(np.int64)
            counts = np.concatenate([counts_before, due_counts])[order]
            combined = None
            if acc_type is not None:
                assert arg is not None
                combined = pa.concat_arrays([next(accs), arg.cast(acc_type)]).take(
                    pa.array(order))
            target = self.out_schema.field(len(columns) + j).type
            results_sorted.append(frame_aggregate(agg.fn, combined, lo, hi, target, counts,
                                                  due_sorted))
            # the accumulators after this firing: each partition over all of its rows
            ps, pe = part_start[heads], part_end[heads]
            new_counts.append(frame_aggregate("count", combined, ps, pe, pa.int64(), counts)
                              .to_numpy(zero_copy_only=False))
            if acc_type is not None:
                fn = "sum" if agg.fn in ("sum", "avg") else agg.fn
                new_values.append(frame_aggregate(fn, combined, ps, pe, acc_type, counts))
        for j, counts in enumerate(new_counts):
            self.partitions.column(f"n{j}")[touched] = counts
        if new_values:
            self.acc_columns.write(self.partitions, touched, new_values)
        return _back_to_arrival(results_sorted, order[due_sorted] - m, n)

    def _bounded(self, touched: np.ndarray, local: np.ndarray, columns: list[pa.Array],
                 ts: np.ndarray) -> list[pa.Array]:
        """Bounded frames: the partitions' retained rows come first, then the due rows."""
        n = len(ts)
        first = self.partitions.column("first")[touched]
        nxt = self.partitions.column("next")[touched]
        lengths = nxt - first
        owners = np.repeat(np.arange(len(touched)), lengths)
        positions = np.repeat(first - (np.cumsum(lengths) - lengths), lengths) + \
            np.arange(int(lengths.sum()), dtype=np.int64)
        key_columns = self._partition_keys(touched, owners)
        rids = self.retained.lookup([*key_columns, pa.array(positions, pa.int64())])
        assert (rids >= 0).all(), "a retained row of an OVER window is missing from its state"
        r = len(rids)
        part = np.concatenate([owners, local])
        is_due = np.concatenate([np.zeros(r, np.int8), np.ones(n, np.int8)])
        rank = np.concatenate([positions, np.arange(n, dtype=np.int64)])
        order, part = self._order(part, is_due, rank)
        due_sorted = is_due[order] == 1
        times = np.concatenate([self.retained.column("ts")[rids], ts])[order]
        peer_id = None
        order_values = None
        if self.frame.mode == "range":
            change = np.concatenate([[True], (part[1:] != part[:-1]) | (times[1:] != times[:-1])])
            peer_id = np.cumsum(change) - 1
            order_values = OrderValues(times, np.zeros(len(times), bool))
        lo, hi = frame_bounds(self.frame, part, peer_id, order_values)
        retained_args = dict(zip(self.args, self.retained_columns.read(self.retained, rids),
                                 strict=True))
        combined = {a: pa.concat_arrays([retained_args[a], columns[a].cast(retained_args[a].type)])
                    .take(pa.array(order)) for a in self.args}
        results_sorted = []
        for j, agg in enumerate(self.aggs):
            target = self.out_schema.field(len(columns) + j).type
            arg = combined[agg.arg] if agg.arg is not None else None
            results_sorted.append(frame_aggregate(agg.fn, arg, lo, hi, target, mask=due_sorted))
        self._retain(touched, local, columns, ts, part, times, first, nxt)
        return _back_to_arrival(results_sorted, order[due_sorted] - r, n)

    def _partition_keys(self, touched: np.ndarray, owners: np.ndarray) -> list[pa.Array]:
        """The partition key columns of ``touched[owners]``."""
        index = pa.array(owners, pa.int64())
        return [c.take(index) for c in self.partitions.key_columns(touched)]

    def _retain(self, touched: np.ndarray, local: np.ndarray, columns: list[pa.Array],
                ts: np.ndarray, part: np.ndarray, times: np.ndarray, first: np.ndarray,
                nxt: np.ndarray) -> None:
        """Store the due rows after their partitions' retained rows and drop the rows no later
        frame reaches: beyond the last ``n`` (ROWS n PRECEDING), or older than the offset before
        the partition's newest time (RANGE)."""
        n = len(ts)
        order = np.lexsort((np.arange(n), local))
        counts = np.bincount(local, minlength=len(touched))
        position = np.repeat(nxt - (np.cumsum(counts) - counts), counts) + np.arange(n)
        positions = np.empty(n, dtype=np.int64)
        positions[order] = position
        key_columns = self._partition_keys(touched, local)
        ids = self.retained.ids([*key_columns, pa.array(positions, pa.int64())])
        self.retained.set_live(ids)
        self.retained.column("ts")[ids] = ts
        self.retained_columns.write(self.retained, ids, [columns[a] for a in self.args])
        new_next = nxt + counts
        reach = -self.frame.start  # type: ignore[operator]
        if self.frame.mode == "rows":
            new_first = np.maximum(first, new_next - int(reach))
        else:
            newest = np.full(len(touched), MIN_TIME, dtype=np.int64)
            np.maximum.at(newest, part, times)
            expired = times <= newest[part] - reach
            new_first = first + np.bincount(part[expired], minlength=len(touched))
        drop = new_first - first
        if drop.sum():
            owners = np.repeat(np.arange(len(touched)), drop)
            gone = np.repeat(first - (np.cumsum(drop) - drop), drop) + \
                np.arange(int(drop.sum()), dtype=np.int64)
            keys = self._partition_keys(touched, owners)
            self.retained.delete(self.retained.lookup([*keys, pa.array(gone, pa.int64())]))
            self.retained.compact()
        self.partitions.column("next")[touched] = new_next
        self.partitions.column("first")[touched] = new_first


def _back_to_arrival(results_sorted: list[pa.Array], rows: np.ndarray, n: int) -> list[pa.Array]:
    """Results computed in (partition, time) order, put back in the due rows' own order."""
    where = np.empty(n, dtype=np.int64)
    where[rows] = np.arange(n, dtype=np.int64)
    index = pa.array(where)
    return [r.take(index) for r in results_sorted]
