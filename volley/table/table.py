"""``Table``: PyFlink's Table API over Volley's logical plan.

Every method returns a new ``Table`` holding a bigger plan; nothing runs until ``execute``,
``execute_insert``, ``to_pandas`` or ``to_arrow``. Column errors are raised by the method that
named the column.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyarrow as pa

from volley.errors import PlanError, UnsupportedFeatureError
from volley.lazy import lazy_module
from volley.plan import nodes as n
from volley.plan.expressions import InputRef
from volley.table.expression import Expression

if TYPE_CHECKING:
    import pandas as pd
    from sqlglot import exp

    from volley.sql.binder_expr import Scope
    from volley.sql.binder_query import SelectRequest
    from volley.table.table_result import TableResult
else:
    exp = lazy_module("sqlglot.expressions")

# The binders pull in sqlglot: a plan built only from sources and collected never needs them.
binder_expr = lazy_module("volley.sql.binder_expr")
binder_query = lazy_module("volley.sql.binder_query")


def to_nodes(fields: tuple[Any, ...]) -> list[exp.Expression]:
    """Expressions or PyFlink's legacy strings ("a, b as c") -> syntax trees."""
    nodes: list[exp.Expression] = []
    for f in fields:
        if isinstance(f, str):
            from volley.sql.parser import parse_expression_list

            nodes.extend(parse_expression_list(f))
        elif isinstance(f, Expression):
            nodes.append(f.node)
        else:
            raise PlanError(
                f"expected a column expression such as col('a'), got {f!r} of type "
                f"{type(f).__name__}"
            )
    return nodes


def _single(predicate: Any) -> exp.Expression:
    nodes = to_nodes((predicate,))
    if len(nodes) != 1:
        raise PlanError(f"expected one condition, got {len(nodes)}: {predicate!r}")
    return nodes[0]


class Table:
    def __init__(self, plan: n.Node, t_env: Any, declared: Any = None) -> None:
        # t_env: the TableEnvironment (which imports this module, so it is not imported here)
        """``declared``: the ``CatalogTable`` this table reads whole (``from_path``), whose
        declaration ``print_schema`` shows; tables derived from it do not carry it."""
        self._plan = plan
        self._t_env = t_env
        self._declared = declared

    # -- internals --------------------------------------------------------------------------------
    @property
    def plan(self) -> n.Node:
        return self._plan

    def _scope(self) -> Scope:
        return binder_expr.Scope.of(self._plan.schema, functions=self._t_env._lookup_function)

    def _new(self, plan: n.Node) -> Table:
        return Table(plan, self._t_env)

    def _select(self, req: SelectRequest) -> Table:
        plan, _ = binder_query.build_select(self._plan, self._scope(), req)
        return self._new(plan)

    # -- relational operations --------------------------------------------------------------------
    def select(self, *fields: Any) -> Table:
        return self._select(binder_query.SelectRequest(items=to_nodes(fields), auto_prefix="_c"))

    def over_window(self, *over_windows: Any) -> Any:
        """Over windows (``Over...alias('w')``) for ``.select(col('b').sum.over(col('w')))``;
        see ``volley.table.over_window``."""
        from volley.table.over_window import OverWindowedTable

        return OverWindowedTable(self, over_windows)

    def filter(self, predicate: Any) -> Table:
        plan = binder_expr.bind_filter(self._plan, self._scope(), _single(predicate), "filter")
        return self._new(plan)

    where = filter

    def alias(self, field: str, *fields: str) -> Table:
        names = [field, *fields]
        if len(names) == 1 and "," in field:
            names = [x.strip() for x in field.split(",")]
        schema = self._plan.schema
        if len(names) != len(schema.fields):
            raise PlanError(
                f"alias() got {len(names)} names for {len(schema.fields)} columns "
                f"({', '.join(schema.names)}); give one name per column"
            )
        refs = tuple(InputRef(i, f.name, f.data_type) for i, f in enumerate(schema.fields))
        return self._new(n.Project(self._plan, refs, tuple(names)))

    def add_columns(self, *fields: Any) -> Table:
        existing = [exp.column(name, quoted=True) for name in self._plan.schema.names]
        new = to_nodes(fields)
        return self._select(binder_query.SelectRequest(items=existing + new, auto_prefix="_c"))

    def add_or_replace_columns(self, *fields: Any) -> Table:
        new = to_nodes(fields)
        new_names = {_name_of(x): x for x in new}
        items: list[exp.Expression] = []
        for name in self._plan.schema.names:
            items.append(new_names.pop(name) if name in new_names else exp.column(name, quoted=True))
        items.extend(new_names.values())
        return self._select(binder_query.SelectRequest(items=items, auto_prefix="_c"))

    def drop_columns(self, *fields: Any) -> Table:
        drop = set()
        scope = self._scope()
        for node in to_nodes(fields):
            ref = binder_expr.ExprBinder(scope, context="drop_columns").bind(node)
            if not isinstance(ref, InputRef):
                raise PlanError(f"drop_columns() takes column names; got {node.sql()!r}")
            drop.add(ref.index)
        items = [exp.column(f, quoted=True) for i, f in enumerate(self._plan.schema.names)
                 if i not in drop]
        return self._select(binder_query.SelectRequest(items=items))

    def rename_columns(self, *fields: Any) -> Table:
        renames: dict[int, str] = {}
        scope = self._scope()
        for node in to_nodes(fields):
            if not isinstance(node, exp.Alias):
                raise PlanError(
                    f"rename_columns() takes col('old').alias('new'); got {node.sql()!r}"
                )
            ref = binder_expr.ExprBinder(scope, context="rename_columns").bind(node.this)
            if not isinstance(ref, InputRef):
                raise PlanError(f"rename_columns() renames columns; got {node.this.sql()!r}")
            renames[ref.index] = node.alias
        schema = self._plan.schema
        refs = tuple(InputRef(i, f.name, f.data_type) for i, f in enumerate(schema.fields))
        names = tuple(renames.get(i, f.name) for i, f in enumerate(schema.fields))
        return self._new(n.Project(self._plan, refs, names))

    def distinct(self) -> Table:
        width = len(self._plan.schema.fields)
        return self._new(n.Aggregate(self._plan, tuple(range(width)), ()))

    def group_by(self, *fields: Any) -> GroupedTable:
        return GroupedTable(self, to_nodes(fields))

    def window(self, window: Any) -> Any:
        """Group rows into ``window`` (``Tumble``/``Slide``/``Session`` from
        ``volley.table.window``), then ``group_by`` it."""
        from volley.table.window import GroupWindowedTable

        return GroupWindowedTable(self, window)

    # -- joins ------------------------------------------------------------------------------------
    def _join(self, right: Table, predicate: Any, kind: str) -> Table:
        left_schema, right_schema = self._plan.schema, right._plan.schema
        overlap = set(left_schema.names) & set(right_schema.names)
        if overlap:
            raise PlanError(
                f"join inputs have columns with the same name: {', '.join(sorted(overlap))}; "
                "rename them on one side first, e.g. right.rename_columns(col('id').alias('id2'))"
            )
        condition = None
        if predicate is not None:
            scope = binder_expr.Scope.of(n.Join(self._plan, right._plan, "inner", None).schema,
                                         functions=self._t_env._lookup_function)
            condition = binder_expr.ExprBinder(scope, context="join").bind(_single(predicate))
        from volley.plan.time_joins import join_node

        return self._new(join_node(self._plan, right._plan, kind, condition))

    def join(self, right: Table, join_predicate: Any = None) -> Table:
        return self._join(right, join_predicate, "inner")

    def left_outer_join(self, right: Table, join_predicate: Any = None) -> Table:
        return self._join(right, join_predicate, "left")

    def right_outer_join(self, right: Table, join_predicate: Any) -> Table:
        return self._join(right, join_predicate, "right")

    def full_outer_join(self, right: Table, join_predicate: Any) -> Table:
        return self._join(right, join_predicate, "full")

    def join_lateral(self, *args: Any) -> Table:
        raise UnsupportedFeatureError("table functions (join_lateral) are not supported yet")

    left_outer_join_lateral = join_lateral

    # -- set operations ---------------------------------------------------------------------------
    def union(self, right: Table) -> Table:
        return self._set_operation(right, "union", False)

    def union_all(self, right: Table) -> Table:
        return self._set_operation(right, "union", True)

    def intersect(self, right: Table) -> Table:
        return self._set_operation(right, "intersect", False)

    def intersect_all(self, right: Table) -> Table:
        return self._set_operation(right, "intersect", True)

    def minus(self, right: Table) -> Table:
        return self._set_operation(right, "minus", False)

    def minus_all(self, right: Table) -> Table:
        return self._set_operation(right, "minus", True)

    def _set_operation(self, right: Table, kind: str, all_rows: bool) -> Table:
        if self._t_env._streaming and not (kind == "union" and all_rows):
            # Flink's Table API refuses these on streams (its SQL runs them)
            raise PlanError(
                f"The {kind.upper()} operation on two unbounded tables is currently not "
                "supported. In streaming mode the Table API takes union_all only; write the "
                f"query in SQL ({'EXCEPT' if kind == 'minus' else kind.upper()}"
                f"{' ALL' if all_rows else ''} runs on streams there), or use batch mode")
        return self._new(binder_query.set_operation(self._plan, right._plan, kind, all_rows))

    # -- ordering and limits ----------------------------------------------------------------------
    def order_by(self, *fields: Any) -> Table:
        from volley.table.expression import ordered

        items = [exp.column(name, quoted=True) for name in self._plan.schema.names]
        keys = [k if isinstance(k, exp.Ordered) else ordered(k, desc=False, nulls_first=False)
                for k in to_nodes(fields)]
        return self._select(binder_query.SelectRequest(items=items, order_by=keys))

    def _limit(self, offset: int, fetch: int | None) -> Table:
        plan = self._plan
        if isinstance(plan, n.Sort) and (plan.offset == 0 and plan.fetch is None or fetch is None):
            base_offset = plan.offset + offset
            new_fetch = fetch if plan.fetch is None else (
                plan.fetch - offset if fetch is None else min(fetch, plan.fetch - offset)
            )
            return self._new(n.Sort(plan.input, plan.keys, base_offset, new_fetch))
        return self._new(n.Sort(plan, (), offset, fetch))

    def offset(self, offset: int) -> Table:
        return self._limit(offset, None)

    def fetch(self, fetch: int) -> Table:
        return self._limit(0, fetch)

    def limit(self, fetch: int, offset: int = 0) -> Table:
        return self._limit(offset, fetch)

    # -- functions not supported yet --------------------------------------------------------------
    def map(self, func: Any) -> Table:
        raise UnsupportedFeatureError(
            "Table.map is not supported by Volley yet; use select() with a scalar UDF"
        )

    def flat_map(self, func: Any) -> Table:
        raise UnsupportedFeatureError("Table.flat_map (table functions) is not supported yet")

    def aggregate(self, func: Any) -> Any:
        raise UnsupportedFeatureError(
            "Table.aggregate with a UDAF is not supported by Volley yet; use group_by(...)"
            ".select(...) with built-in aggregates"
        )

    def flat_aggregate(self, func: Any) -> Any:
        raise UnsupportedFeatureError("table aggregate functions are not supported yet")

    # -- schema and explain -----------------------------------------------------------------------
    def get_schema(self):
        from volley.table.table_schema import TableSchema

        if self._declared is not None:
            return TableSchema.of_declared(self._declared, self._plan.schema)
        return TableSchema.of(self._plan.schema)

    get_resolved_schema = get_schema

    def print_schema(self) -> None:
        print(self.get_schema())

    def explain(self, *extra_details: Any) -> str:
        return self._t_env._explain_plan(self._plan, extra_details)

    def __str__(self) -> str:
        return f"Table({', '.join(self._plan.schema.names)})"

    __repr__ = __str__

    # -- execution --------------------------------------------------------------------------------
    def execute(self) -> TableResult:
        return self._t_env._execute_collect(self._plan)

    def execute_insert(self, table_path_or_descriptor: Any, overwrite: bool = False) -> TableResult:
        return self._t_env._execute_inserts([(table_path_or_descriptor, self._plan, overwrite)])

    def insert_into(self, table_path: str, overwrite: bool = False) -> None:
        """Flink 1.11's lazy insert: runs on the next ``t_env.execute(job_name)``."""
        self._t_env._pending_inserts.append((table_path, self._plan, overwrite))

    def to_arrow(self) -> pa.Table:
        """The result as a ``pyarrow.Table`` (not in PyFlink)."""
        return self._t_env._execute_collect(self._plan).to_arrow()

    def to_pandas(self) -> pd.DataFrame:
        return self._t_env._execute_collect(self._plan).to_pandas()

    def to_polars(self) -> Any:
        """The result as a ``polars.DataFrame`` (not in PyFlink; needs the polars extra)."""
        import polars as pl

        return pl.from_arrow(self.to_arrow())


def _name_of(node: exp.Expression) -> str:
    if isinstance(node, exp.Alias):
        return node.alias
    if isinstance(node, exp.Column):
        return node.name
    raise PlanError(f"add_or_replace_columns() needs named columns; give {node.sql()!r} an alias")


class GroupedTable:
    def __init__(self, table: Table, keys: list[exp.Expression]) -> None:
        self._table = table
        self._keys = keys

    def select(self, *fields: Any) -> Table:
        req = binder_query.SelectRequest(items=to_nodes(fields), group_by=self._keys,
                                         auto_prefix="EXPR$")
        return self._table._select(req)

    def aggregate(self, func: Any) -> Any:
        return self._table.aggregate(func)

    def flat_aggregate(self, func: Any) -> Any:
        return self._table.flat_aggregate(func)

