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
from volley.runtime.join import BuildSide, probe_join
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
        self._build = BuildSide(self._load(), list(p["right_keys"]), types)

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
        result = probe_join(self._build, left, self.params["kind"], self._left_keys,
                            self.params["residual"], self.spec.output_schema, self._eval)
        emit_table(self.out, result)


def _last_per_key(table: pa.Table, key: list[int]) -> pa.Table:
    """The last row of each key, in the table's order."""
    from volley.state.key_dictionary import KeyDictionary

    columns = [table.column(k).combine_chunks() for k in key]
    ids = KeyDictionary([c.type for c in columns]).encode(columns)
    _, first_from_end = np.unique(ids[::-1], return_index=True)
    last = np.sort(len(ids) - 1 - first_from_end)
    return table if len(last) == table.num_rows else table.take(pa.array(last))
