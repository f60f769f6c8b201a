"""``execute_sql``: what each parsed SQL statement does to a TableEnvironment."""

from __future__ import annotations

from typing import Any

from volley.errors import PlanError, UnsupportedFeatureError
from volley.plan import nodes as n
from volley.plan.expressions import InputRef
from volley.plan.types import BooleanType, VarCharType
from volley.sql import statements as s
from volley.table.table_result import ResultKind, TableResult
from volley.table.table_schema import flink_sql

#: the environment a statement runs in (``table_environment.TableEnvironment``, which imports
#: this module: named loosely here so that the import goes one way)
TableEnvironment = Any


def execute_statement(t_env: TableEnvironment, stmt: Any) -> TableResult:
    handler = _HANDLERS.get(type(stmt))
    if handler is None:
        raise UnsupportedFeatureError(f"the statement {type(stmt).__name__} is not supported yet")
    return handler(t_env, stmt)


def _ok() -> TableResult:
    result = TableResult.ok()
    result._kind = ResultKind.SUCCESS
    return result


def _query(t_env: TableEnvironment, stmt: s.Query) -> TableResult:
    return t_env._execute_collect(t_env._bind_query(stmt.query))


def _create_table(t_env: TableEnvironment, stmt: s.CreateTable) -> TableResult:
    t_env._catalog.register_table(stmt.name, stmt.table, stmt.if_not_exists)
    return _ok()


def _create_table_as(t_env: TableEnvironment, stmt: Any) -> TableResult:
    plan = t_env._bind_query(stmt.query)
    table = stmt.table
    if not table.columns:
        from volley.plan.catalog import CatalogColumn, CatalogTable

        table = CatalogTable(
            tuple(CatalogColumn(f.name, f.data_type) for f in plan.schema.fields),
            table.options, table.partition_keys, table.primary_key, table.watermark, table.comment,
        )
    t_env._catalog.register_table(stmt.name, table, stmt.if_not_exists)
    return t_env._execute_inserts([(stmt.name, plan, False)])


def _create_view(t_env: TableEnvironment, stmt: s.CreateView) -> TableResult:
    plan = t_env._bind_query(stmt.query)
    if stmt.column_names:
        fields = plan.schema.fields
        if len(stmt.column_names) != len(fields):
            raise PlanError(
                f"view {stmt.name!r} names {len(stmt.column_names)} columns but its query "
                f"returns {len(fields)}"
            )
        refs = tuple(InputRef(i, f.name, f.data_type) for i, f in enumerate(fields))
        plan = n.Project(plan, refs, tuple(stmt.column_names))
    t_env._catalog.register_view(stmt.name, plan, stmt.if_not_exists)
    return _ok()


def _create_function(t_env: TableEnvironment, stmt: s.CreateFunction) -> TableResult:
    if stmt.language.upper() != "PYTHON":
        raise UnsupportedFeatureError(
            f"function {stmt.name!r} is declared LANGUAGE {stmt.language}; Volley runs without a "
            "JVM and supports LANGUAGE PYTHON functions only"
        )
    from volley.table.python_functions import load_function

    if stmt.if_not_exists and t_env._catalog.lookup_function(stmt.name) is not None:
        return _ok()
    t_env._catalog.register_function(stmt.name, load_function(stmt.class_path))
    return _ok()


def _drop(t_env: TableEnvironment, stmt: s.Drop) -> TableResult:
    if stmt.kind == "function":
        t_env._catalog.drop_function(stmt.name, stmt.if_exists)
    else:
        t_env._catalog.drop(stmt.name, stmt.kind, stmt.if_exists)
    return _ok()


def _insert(t_env: TableEnvironment, stmt: s.Insert) -> TableResult:
    return t_env._execute_inserts([_insert_plan(t_env, stmt)])


def _insert_plan(t_env: TableEnvironment, stmt: s.Insert) -> tuple[str, n.Node, bool]:
    plan = t_env._bind_query(stmt.query)
    if stmt.columns:
        target = t_env._catalog.lookup(stmt.table)
        names = target.physical_schema.names
        unknown = [c for c in stmt.columns if c not in names]
        if unknown:
            raise PlanError(
                f"INSERT INTO {stmt.table} names unknown column {unknown[0]!r}; the table has "
                f"{', '.join(names)}"
            )
        if len(stmt.columns) != len(plan.schema.fields):
            raise PlanError(
                f"INSERT INTO {stmt.table} lists {len(stmt.columns)} columns but the query "
                f"returns {len(plan.schema.fields)}"
            )
        from volley.plan.expressions import Literal

        exprs = []
        for name, f in zip(names, target.physical_schema.fields, strict=True):
            if name in stmt.columns:
                i = stmt.columns.index(name)
                exprs.append(InputRef(i, name, plan.schema.fields[i].data_type))
            else:
                exprs.append(Literal(None, f.data_type.as_nullable()))
        plan = n.Project(plan, tuple(exprs), tuple(names))
    return (stmt.table, plan, stmt.overwrite)


def _statement_set(t_env: TableEnvironment, stmt: s.StatementSet) -> TableResult:
    return t_env._execute_inserts([_insert_plan(t_env, i) for i in stmt.inserts])


def _show(t_env: TableEnvironment, stmt: s.Show) -> TableResult:
    kind = stmt.kind
    catalog = t_env._catalog
    if kind == "tables":
        return _list("table name", catalog.list_tables())
    if kind == "views":
        return _list("view name", catalog.list_views())
    if kind in ("functions", "user functions"):
        from volley.plan.functions import FUNCTIONS

        names = sorted(catalog.functions) + ([] if kind == "user functions" else sorted(FUNCTIONS))
        return _list("function name", names)
    if kind == "catalogs":
        return _list("catalog name", [catalog.current_catalog])
    if kind == "databases":
        return _list("database name", [catalog.current_database])
    if kind == "current catalog":
        return _list("current catalog name", [catalog.current_catalog])
    if kind == "current database":
        return _list("current database name", [catalog.current_database])
    if kind == "columns" and stmt.name:
        return _describe(t_env, s.Describe(stmt.name))
    raise UnsupportedFeatureError(f"SHOW {kind.upper()} is not supported yet")


def _list(header: str, names: list[str]) -> TableResult:
    return TableResult.of_rows([header], [VarCharType(nullable=False)], [names])


def _describe(t_env: TableEnvironment, stmt: s.Describe) -> TableResult:
    obj = t_env._catalog.lookup(stmt.name)
    if isinstance(obj, n.Node):
        schema = obj.schema
        names, types = schema.names, schema.types
        computed = [None] * len(names)
        watermark = None
        keys: tuple[str, ...] = ()
    else:
        names = [c.name for c in obj.columns]
        plan = t_env._scan(stmt.name)
        types = plan.schema.types
        computed = [flink_sql(c.expression) if c.expression is not None else None
                    for c in obj.columns]
        watermark = obj.watermark
        keys = obj.primary_key
    columns = [
        names,
        [str(t.as_nullable()) for t in types],  # a time attribute's type carries its marker
        [t.nullable for t in types],
        [f"PRI({', '.join(keys)})" if nm in keys else None for nm in names],
        [f"AS {c}" if c else None for c in computed],
        [flink_sql(watermark.expression) if watermark is not None and watermark.column == nm
         else None for nm in names],
    ]
    return TableResult.of_rows(
        ["name", "type", "null", "key", "extras", "watermark"],
        [VarCharType(), VarCharType(), BooleanType(), VarCharType(), VarCharType(), VarCharType()],
        columns,
    )


def _explain(t_env: TableEnvironment, stmt: s.Explain) -> TableResult:
    inner = stmt.statement
    if isinstance(inner, s.Query):
        text = t_env._explain_plan(t_env._bind_query(inner.query), stmt.details)
    elif isinstance(inner, s.Insert):
        target, plan, _ = _insert_plan(t_env, inner)
        table = t_env._catalog.lookup(target)
        sink = None if isinstance(table, n.Node) else (t_env._catalog.normalize(target), table)
        text = t_env._explain_plan(plan, stmt.details, sink)
    else:
        raise UnsupportedFeatureError("EXPLAIN takes a query or an INSERT statement")
    return TableResult.of_rows(["result"], [VarCharType()], [[text]])


def _set(t_env: TableEnvironment, stmt: s.Set) -> TableResult:
    if stmt.key is None:
        items = sorted(t_env.get_config().get_configuration().to_dict().items())
        return TableResult.of_rows(["key", "value"], [VarCharType(), VarCharType()],
                                   [[k for k, _ in items], [v for _, v in items]])
    t_env.get_config().set(stmt.key, stmt.value)
    return _ok()


def _reset(t_env: TableEnvironment, stmt: s.Reset) -> TableResult:
    config = t_env.get_config().get_configuration()
    if stmt.key is None:
        for k in list(config.key_set()):
            config.remove_config(k)
    else:
        config.remove_config(stmt.key)
    return _ok()


def _use(t_env: TableEnvironment, stmt: s.Use) -> TableResult:
    if stmt.catalog is not None:
        t_env.use_catalog(stmt.catalog)
    if stmt.database is not None:
        t_env.use_database(stmt.database)
    return _ok()


_HANDLERS = {
    s.Query: _query,
    s.CreateTable: _create_table,
    s.CreateView: _create_view,
    s.CreateFunction: _create_function,
    s.Drop: _drop,
    s.Insert: _insert,
    s.StatementSet: _statement_set,
    s.Show: _show,
    s.Describe: _describe,
    s.Explain: _explain,
    s.Set: _set,
    s.Reset: _reset,
    s.Use: _use,
}
if hasattr(s, "CreateTableAs"):
    _HANDLERS[s.CreateTableAs] = _create_table_as
