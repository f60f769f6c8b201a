"""The lookup join: ``o JOIN t FOR SYSTEM_TIME AS OF o.proctime ON o.k = t.k``.

Flink's processing-time temporal join joins each row with the rows the table holds when the row
arrives, looking them up in the connector (JDBC, HBase, Hive). Volley's connectors are files, so
the table is read whole when the operator opens — its current content — and hashed on the join
key; each input row is then joined as it passes (INNER, or LEFT with NULLs when nothing matches).
The table is a cache rebuilt from the connector, not state: a restored job reads it again, as a
lookup would. ``params``: ``kind``, ``left_keys``, ``right_keys``, ``residual``, ``table`` (the
connector's ``TableSpec``), ``steps`` (projections and filters of the table's plan, in order) and
``right_schema``; ``unique_key``: the table's primary key, if it declares one — a file may
hold several rows of a key (appended updates), and its current version is the last of them.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from volley.plan.calls import key_types
from volley.runtime.evaluator import compile_expr, evaluate_columns, evaluate_predicate
from volley.runtime.hash_index import HashIndex
from volley.runtime.join import _gather, _where_residual_holds
from volley.runtime.operator import Operator, OperatorContext, Output, emit_table
from volley.runtime.ops_basic import eval_context, open_functions
from volley.runtime.registry import operator_kind


@operator_kind("lookup_join")
class LookupJoinOp(Operator):
    name = "LookupJoin"

    def open(self, ctx: OperatorContext, out: Output) -> None:
        super().open(ctx, out)
        p = self.params
        self._eval = eval_context(ctx)
        self._left_keys = list(p["left_keys"])
        right_schema: pa.Schema = p["right_schema"]
        types = key_types(self.spec.input_schemas[0], right_schema, self._left_keys,
                          list(p["right_keys"]))
        exprs = [e for kind, e in p["steps"] for e in (e if kind == "project" else (e,))]
        if p["residual"] is not None:
            exprs.append(p["residual"])
        open_functions(ctx, exprs)
        table = self._load()
        right_keys = list(p["right_keys"])
        # rows with a NULL key can never match: they are not held
        valid = np.ones(table.num_rows, dtype=bool)
        for k in right_keys:
            valid &= table.column(k).is_valid().to_numpy(zero_copy_only=False)
        self._table = table if valid.all() else table.filter(pa.array(valid))
        self._types = types
        self._index = HashIndex([_cast(self._table.column(k), t)
                                 for k, t in zip(right_keys, types, strict=True)], types)

    def _load(self) -> pa.Table:
        """The table's current content, through its projections and filters."""
        from volley.connectors import create_source

        source = create_source(self.params["table"])
        table_schema: pa.Schema = self.params["table_schema"]
        batches = [pa.RecordBatch.from_arrays(b.columns, schema=table_schema)
                   for b in source.batches()]
        for kind, step in self.params["steps"]:
            if kind == "project":
                compiled = [compile_expr(e, self._eval) for e in step]
                names = [f"c{i}" for i in range(len(step))]
                types = [e.type.to_arrow() for e in step]
                schema = pa.schema(list(zip(names, types, strict=True)))
                batches = [evaluate_columns(compiled, b, names, schema) for b in batches]
            else:
                predicate = compile_expr(step, self._eval)
                batches = [b.filter(evaluate_predicate(predicate, b)) for b in batches]
        right_schema: pa.Schema = self.params["right_schema"]
        rows = [pa.RecordBatch.from_arrays(
                    [c if c.type == f.type else c.cast(f.type)
                     for c, f in zip(b.columns, right_schema, strict=True)],
                    schema=right_schema) for b in batches]
        table = pa.Table.from_batches(rows, schema=right_schema)
        key = self.params.get("unique_key")
        return table if not key else _last_per_key(table, list(key))

    def process(self, batch: pa.RecordBatch, port: int) -> None:
        if batch.num_rows == 0:
            return
        left = pa.Table.from_batches([batch])
        keys = [_cast(left.column(k), t) for k, t in zip(self._left_keys, self._types, strict=True)]
        valid = np.ones(left.num_rows, dtype=bool)
        for key in keys:
            if key.null_count:
                valid &= key.is_valid().to_numpy(zero_copy_only=False)
        rows = np.flatnonzero(valid)
        take = pa.array(rows)
        li, ri = self._index.pairs([key.take(take) for key in keys])
        li = rows[li]
        li, ri = _where_residual_holds(left, self._table, li, ri, self.params["residual"],
                                       self._eval)
        if self.params["kind"] == "left":
            unmatched = np.setdiff1d(np.arange(left.num_rows, dtype=np.int64), li)
            li = np.concatenate([li, unmatched])
            ri = np.concatenate([ri, np.full(len(unmatched), -1, dtype=np.int64)])
            order = np.argsort(li, kind="stable")  # in input order
            li, ri = li[order], ri[order]
        emit_table(self.out, _gather(left, self._table, li, ri, self.spec.output_schema))


def _last_per_key(table: pa.Table, key: list[int]) -> pa.Table:
    """The last row of each key, in the table's order."""
    from volley.state.key_dictionary import KeyDictionary

    columns = [table.column(k).combine_chunks() for k in key]
    ids = KeyDictionary([c.type for c in columns]).encode(columns)
    _, first_from_end = np.unique(ids[::-1], return_index=True)
    last = np.sort(len(ids) - 1 - first_from_end)
    return table if len(last) == table.num_rows else table.take(pa.array(last))


def _cast(column: pa.Array | pa.ChunkedArray, arrow_type: pa.DataType) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    return column if column.type == arrow_type else column.cast(arrow_type)
