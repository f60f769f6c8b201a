"""Joins: the batch hash join and the streaming (regular) join, inner or outer.

The streaming join keeps every row of both inputs as declared keyed state (``JoinSideState``,
snapshotted with each row's key group, so it can be restored at another parallelism) and the
runs that hash them (``GrowingBuildSide``) as their index, rebuilt when the state is restored.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from volley.common.changelog import DELETE, ROW_KIND_COLUMN, UPDATE_BEFORE
from volley.plan.calls import ALL_COLUMNS, key_types
from volley.runtime.join import BuildSide, GrowingBuildSide, probe_join, unmatched_build_rows
from volley.runtime.operator import Operator, OperatorContext, Output, buffered_table, emit_table
from volley.runtime.ops_basic import eval_context, open_functions, row_kind_index, with_row_kinds
from volley.runtime.registry import operator_kind
from volley.state import OperatorState

KEY_GROUP_COLUMN = "__key_group"
MATCHES_COLUMN = "__matches"


def _join_params(op: Operator) -> tuple[list[int], list[int], list[pa.DataType]]:
    left_keys, right_keys = list(op.params["left_keys"]), list(op.params["right_keys"])
    schemas = [_values_schema(s) for s in op.spec.input_schemas]
    return left_keys, right_keys, key_types(schemas[0], schemas[1], left_keys, right_keys)


def _values_schema(schema: pa.Schema) -> pa.Schema:
    kinds = row_kind_index(schema)
    return schema if kinds is None else schema.remove(kinds)


@operator_kind("hash_join")
class HashJoinOp(Operator):
    """Batch mode: hashes the right input, then streams the left input through it.

    Left batches that arrive before the right input has ended wait; after that each left batch
    is joined and emitted at once, so only the right (build) side is held in memory — put the
    smaller table on the right. RIGHT and FULL joins emit the unmatched right rows at the end.
    ``params``: ``kind``, ``left_keys``, ``right_keys``, ``residual``, ``columns``
    (``OutputColumns``: which columns to gather, which may stay dictionary-encoded).
    """

    name = "HashJoin"

    def open(self, ctx: OperatorContext, out: Output) -> None:
        super().open(ctx, out)
        self._left_keys, self._right_keys, self._types = _join_params(self)
        self._eval = eval_context(ctx)
        self._build_batches: list[pa.RecordBatch] = []
        self._waiting: list[pa.RecordBatch] = []
        self._build: BuildSide | None = None
        if self.params["residual"] is not None:
            open_functions(ctx, [self.params["residual"]])
        self._checkpointed = ctx.checkpointing  # else no snapshot is ever written: skip them
        self._state = ctx.register_state("buffered-input", OperatorState())
        restored = self._state.get()
        if restored.num_rows:
            self._restore(restored)

    def prepare_snapshot(self, checkpoint_id: int) -> None:
        """Probe rows still waiting (port 0), and the build rows (port 1) with whether the
        build input has ended."""
        if not self._checkpointed:
            return
        build = self._build_batches if self._build is None else \
            self._build.table.to_batches()
        table = buffered_table([self._waiting, build], self.spec.input_schemas)
        built = pa.array([self._build is not None] * table.num_rows, pa.bool_())
        matched = np.zeros(table.num_rows, dtype=bool)  # RIGHT/FULL: build rows seen matched
        if self._build is not None:
            matched[table.num_rows - len(self._build.matched):] = self._build.matched
        self._state.set(table.append_column("__built", built)
                        .append_column("__matched", pa.array(matched)))

    def _restore(self, table: pa.Table) -> None:
        ports = table.column("__port").to_numpy()
        built = bool(table.column("__built")[0].as_py())
        sides = []
        for port, schema in enumerate(self.spec.input_schemas):
            part = table.filter(pa.array(ports == port))
            columns = [f"p{port}c{i}" for i in range(len(schema))]
            sides.append(part.select(columns).rename_columns(schema.names).cast(schema)
                         if part.num_rows else schema.empty_table())
        self._waiting = sides[0].to_batches()
        self._build_batches = sides[1].to_batches()
        if built:
            self.end_input(1)
            assert self._build is not None
            self._build.matched[:] = table.filter(pa.array(ports == 1)).column(
                "__matched").to_numpy(zero_copy_only=False)

    def process(self, batch: pa.RecordBatch, port: int) -> None:
        if port == 1:
            if batch.num_rows:
                self._build_batches.append(batch)
        elif self._build is None:
            self._waiting.append(batch)
        else:
            self._probe(batch)

    def end_input(self, port: int) -> None:
        if port != 1:
            return
        right = pa.Table.from_batches(self._build_batches, schema=self.spec.input_schemas[1])
        self._build_batches = []
        self._build = BuildSide(right, self._right_keys, self._types)
        waiting, self._waiting = self._waiting, []
        for batch in waiting:
            self._probe(batch)

    def _probe(self, batch: pa.RecordBatch) -> None:
        assert self._build is not None
        left = pa.Table.from_batches([batch], schema=self.spec.input_schemas[0])
        result = probe_join(self._build, left, self.params["kind"], self._left_keys,
                            self.params["residual"], self.spec.output_schema, self._eval,
                            self.params.get("columns", ALL_COLUMNS))
        emit_table(self.out, result)

    def finish(self) -> None:
        if self.params["kind"] in ("right", "full") and self._build is not None:
            emit_table(self.out, unmatched_build_rows(
                self._build, self.spec.input_schemas[0], self.spec.output_schema,
                self.params.get("columns", ALL_COLUMNS)))


class JoinSideState:
    """One input's rows of a streaming join as declared keyed state: a snapshot is the live
    rows with their key group (and, on an outer side, how many rows each matches); a restore
    keeps the rows of this subtask's key groups and rebuilds the runs that index them."""

    def __init__(self, side: GrowingBuildSide, max_parallelism: int,
                 key_types: list[pa.DataType]) -> None:
        self.side = side
        self._max_parallelism = max_parallelism
        self._key_types = key_types

    def snapshot(self) -> pa.Table:
        from volley.state import key_groups

        rows = self.side.live_rows()
        if self.side.keys:  # hashed as the exchange hashes them: cast to the join key types
            keys = [rows.column(k).cast(t) for k, t in zip(self.side.keys, self._key_types,
                                                             strict=True)]
            groups = key_groups(keys, self._max_parallelism)
        else:  # no equi-keys: one subtask holds everything, in key group 0
            groups = np.zeros(rows.num_rows, dtype=np.int32)
        if self.side.counted:
            rows = rows.append_column(MATCHES_COLUMN, pa.array(self.side.live_matches()))
        return rows.append_column(KEY_GROUP_COLUMN, pa.array(groups, pa.int32()))

    def restore(self, tables: list[pa.Table], key_group_range=None) -> None:
        for table in tables:
            if key_group_range is not None:
                mask = key_group_range.contains(table.column(KEY_GROUP_COLUMN).to_numpy())
                table = table.filter(pa.array(mask))
            rows = table.drop_columns([KEY_GROUP_COLUMN])
            matches = None
            if MATCHES_COLUMN in rows.column_names:
                matches = rows.column(MATCHES_COLUMN).to_numpy()
                rows = rows.drop_columns([MATCHES_COLUMN])
            if rows.num_rows:
                self.side.add(rows.cast(self.side.schema), matches)


@operator_kind("stream_join")
class StreamJoinOp(Operator):
    """Streaming regular join (Flink's ``StreamingJoinOperator``): each batch is joined with
    every live row the other input has sent, then remembered. An input may be updating: its
    ``-U``/``-D`` rows are joined like the others and then remove one equal stored row each.

    An inner join's rows carry their input row's kind. A LEFT, RIGHT or FULL join also emits
    the rows of its outer side(s) that match nothing, padded with NULLs, and keeps per stored
    row of an outer side how many rows it matches: a padded row is retracted (``-D``) when its
    first match arrives and emitted again (``+I``) when its last match goes (see
    ``outer_join``). A semi or anti join (``EXISTS``, ``IN``, ``NOT EXISTS``, ``NOT IN``) emits
    left rows as they gain their first match or lose their last. ``params``: ``kind`` (inner,
    left, right, full, semi, anti), ``left_keys``, ``right_keys``, ``residual``."""

    name = "Join"

    def open(self, ctx: OperatorContext, out: Output) -> None:
        super().open(ctx, out)
        left_keys, right_keys, types = _join_params(self)
        self._keys = (left_keys, right_keys)
        kind = self.params.get("kind", "inner")
        self._kind = kind
        self._outer = (kind in ("left", "full"), kind in ("right", "full"))
        # an outer side, and a semi/anti join's left side, keep their rows' match counts
        counted = (self._outer[0] or kind in ("semi", "anti"), self._outer[1])
        schemas = [_values_schema(s) for s in self.spec.input_schemas]
        self._sides = (GrowingBuildSide(schemas[0], left_keys, types, counted=counted[0]),
                       GrowingBuildSide(schemas[1], right_keys, types, counted=counted[1]))
        self._kind_columns = [row_kind_index(s) for s in self.spec.input_schemas]
        self._changelog = row_kind_index(self.spec.output_schema) is not None
        out_schema = self.spec.output_schema
        self._out_values = _values_schema(out_schema)
        self._eval = eval_context(ctx)
        for name, side in zip(("left", "right"), self._sides, strict=True):
            ctx.register_state(name, JoinSideState(side, ctx.max_parallelism, types))
        if self.params["residual"] is not None:
            open_functions(ctx, [self.params["residual"]])

    def process(self, batch: pa.RecordBatch, port: int) -> None:
        if batch.num_rows == 0:
            return
        kinds_at = self._kind_columns[port]
        kinds = None
        if kinds_at is not None:
            kinds = batch.column(kinds_at)
            batch = batch.drop_columns([batch.schema.names[kinds_at]])
        probe = pa.Table.from_batches([batch])
        if any(self._outer) or self._kind in ("semi", "anti"):
            self._outer_join(probe, kinds, port)
            return
        results, probe_rows = self._sides[1 - port].join(
            probe, self._keys[port], port == 0, self.params["residual"], self._out_values,
            self._eval)
        if results:
            self._emit_in_probe_order(results, probe_rows, kinds)
        self._remember(probe, kinds, port)

    def _outer_join(self, probe: pa.Table, kinds: pa.Array | None, port: int) -> None:
        from volley.runtime.outer_join import join_changes, semi_anti_changes

        row_kinds = np.zeros(probe.num_rows, dtype=np.int8) if kinds is None \
            else kinds.to_numpy(zero_copy_only=False).astype(np.int8)
        args = (probe, row_kinds, port == 0, self._sides[1 - port], self._keys[port],
                self.params["residual"], self._out_values, self._eval)
        if self._kind in ("semi", "anti"):
            changes = semi_anti_changes(*args, anti=self._kind == "anti")
        else:
            changes = join_changes(*args, self._outer[port], self._outer[1 - port])
        if changes.rows.num_rows:
            table = changes.rows
            if self._changelog:  # (a semi join of insert-only inputs inserts only)
                kind_field = pa.field(ROW_KIND_COLUMN, pa.int8(), nullable=False)
                table = table.append_column(kind_field, pa.array(changes.kinds))
            emit_table(self.out, table)
        self._remember(probe, kinds, port, changes.matches)

    def _emit_in_probe_order(self, results: list[pa.Table], probe_rows: list[np.ndarray],
                             kinds: pa.Array | None) -> None:
        """Matches by probe row, then by when the stored row arrived (the runs are oldest
        first): the same order however the stored rows are split into runs, so a restored
        join emits exactly what an uninterrupted one would."""
        rows = np.concatenate(probe_rows)
        table = pa.concat_tables(results) if len(results) > 1 else results[0]
        if len(results) > 1:
            order = np.argsort(rows, kind="stable")
            table, rows = table.take(pa.array(order)), rows[order]
        if not self._changelog:
            emit_table(self.out, table)
            return
        row_kinds = (pa.array(np.zeros(len(rows), dtype=np.int8)) if kinds is None
                     else kinds.take(pa.array(rows)))
        for out in table.to_batches():
            self.out.emit(with_row_kinds(out, row_kinds.slice(0, out.num_rows)))
            row_kinds = row_kinds.slice(out.num_rows)

    def _remember(self, rows: pa.Table, kinds: pa.Array | None, port: int,
                  matches: np.ndarray | None = None) -> None:
        """Inserts first, then retractions: a batch is a consistent changelog, so a row it
        retracts was inserted before it — in an earlier batch or earlier in this one.
        ``matches``: how many rows of the other side each row matches (an outer side)."""
        if not self._sides[port].counted:
            matches = None
        if kinds is None:
            self._sides[port].add(rows, matches)
            return
        retract = pc.or_(pc.equal(kinds, UPDATE_BEFORE), pc.equal(kinds, DELETE))
        keep = pc.invert(retract)
        self._sides[port].add(rows.filter(keep), None if matches is None else
                              matches[keep.to_numpy(zero_copy_only=False)])
        retracted = rows.filter(retract)
        if retracted.num_rows:
            self._sides[port].remove(retracted)
