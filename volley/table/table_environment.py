"""``TableEnvironment``: the entry point of the Table API and SQL.

It owns the catalog (tables, views, functions), the configuration and the execution mode, and
turns plans into jobs for the local runner. PyFlink 1.11-era spellings are accepted next to
today's (``register_function``, ``insert_into`` + ``execute(name)``, legacy connector options).

The execution layer (optimizer, planner, runner, operators) is imported with this module, so an
environment is ready to run; the SQL front end (sqlglot, ~0.1 s) is imported at the first
expression or SQL statement, and connectors and formats when a table uses them.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import pyarrow as pa

from volley.connectors.base import TableSpec
from volley.errors import (
    PlanError,
    UnsupportedFeatureError,
)
from volley.lazy import lazy_module
from volley.optimizer import optimize
from volley.physical.planner import PhysicalPlanner
from volley.plan import nodes as n
from volley.plan.catalog import Catalog, CatalogTable
from volley.plan.changelog import UpdateKind
from volley.plan.expressions import Call, Cast, Expr, InputRef
from volley.plan.types import DataType, RowField, RowType, infer_from_value
from volley.runners.local import LocalRunner
from volley.runners.settings import JobSettings
from volley.table.environment_settings import EnvironmentSettings
from volley.table.python_functions import as_udf, load_function
from volley.table.table import Table
from volley.table.table_config import Configuration, TableConfig
from volley.table.table_result import ResultKind, TableResult

# The binders pull in sqlglot (about 100 ms): only SQL and computed columns need them.
binder_expr = lazy_module("volley.sql.binder_expr")
binder_query = lazy_module("volley.sql.binder_query")


class TableEnvironment:
    def __init__(self, settings: EnvironmentSettings, config: TableConfig | None = None) -> None:
        self._settings = settings
        self._config = config or TableConfig(Configuration(settings.get_configuration()))
        self._catalog = Catalog()
        self._pending_inserts: list[tuple[Any, n.Node, bool]] = []
        self._python_files: list[str] = []

    @staticmethod
    def create(environment_settings: EnvironmentSettings | Configuration | None = None
               ) -> TableEnvironment:
        if environment_settings is None:
            environment_settings = EnvironmentSettings.in_streaming_mode()
        if isinstance(environment_settings, Configuration):
            environment_settings = EnvironmentSettings.from_configuration(environment_settings)
        return TableEnvironment(environment_settings)

    # -- mode and config --------------------------------------------------------------------------
    @property
    def _streaming(self) -> bool:
        mode = self._config.get("execution.runtime-mode")
        if mode is not None:
            return str(mode).lower() != "batch"
        return self._settings.is_streaming_mode()

    def get_config(self) -> TableConfig:
        return self._config

    # -- creating tables --------------------------------------------------------------------------
    def from_elements(self, elements: Any, schema: Any = None, verify_schema: bool = True) -> Table:
        rows = [tuple(e) if not isinstance(e, dict) else tuple(e.values()) for e in elements]
        from volley.table.pandas_conversion import split_schema

        names, types = split_schema(schema, "from_elements")
        width = len(rows[0]) if rows else (len(names or types or []))
        for r in rows:
            if len(r) != width:
                raise PlanError(
                    f"from_elements() rows must all have {width} values; got {len(r)} in {r!r}"
                )
        if types is None:
            types = []
            for i in range(width):
                found = [infer_from_value(r[i]) for r in rows if r[i] is not None]
                t = found[0] if found else None
                if t is None:
                    raise PlanError(
                        f"cannot infer the type of column {i + 1}: every value is None; pass a "
                        "schema, e.g. DataTypes.ROW([DataTypes.FIELD('a', DataTypes.INT())])"
                    )
                nullable = any(r[i] is None for r in rows)
                types.append(t.with_nullability(nullable) if nullable else t.as_nullable())
        if names is None:
            names = [f"_{i + 1}" for i in range(width)]
        if len(names) != width:
            raise PlanError(f"from_elements() got {len(names)} column names for rows of {width} values")
        row_type = RowType(tuple(RowField(nm, t) for nm, t in zip(names, types, strict=True)))
        columns = []
        for i, (nm, t) in enumerate(zip(names, types, strict=True)):
            values = [_to_arrow_value(r[i]) for r in rows]
            try:
                columns.append(pa.array(values, type=t.to_arrow()))
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError) as exc:
                bad = next((v for v in values if v is not None and not _fits(v, t)), None)
                raise PlanError(
                    f"from_elements(): value {bad!r} in column {nm!r} does not fit its type {t}; "
                    f"({exc})"
                ) from None
        table = pa.Table.from_arrays(columns, schema=row_type.to_arrow_schema())
        return Table(n.Values(row_type, table), self)

    def from_pandas(self, pdf: Any, schema: Any = None, splits_num: int = 1) -> Table:
        from volley.table.pandas_conversion import pandas_to_arrow

        table, row_type = pandas_to_arrow(pdf, schema)
        return Table(n.Values(row_type, table), self)

    def from_arrow(self, data: pa.Table | pa.RecordBatch) -> Table:
        """A table over Arrow data, without copying it (not in PyFlink)."""
        from volley.plan.types import row_type_from_arrow_schema

        table = pa.Table.from_batches([data]) if isinstance(data, pa.RecordBatch) else data
        row_type = row_type_from_arrow_schema(table.schema)
        return Table(n.Values(row_type, table.cast(row_type.to_arrow_schema())), self)

    def from_polars(self, df: Any) -> Table:
        """A table over a polars DataFrame (not in PyFlink; needs the polars extra)."""
        return self.from_arrow(df.to_arrow())

    def from_path(self, path: str) -> Table:
        declared = self._catalog.lookup(path)
        return Table(self._scan(path), self, None if isinstance(declared, n.Node) else declared)

    def from_descriptor(self, descriptor: Any) -> Table:
        name = f"*anonymous_{uuid.uuid4().hex[:8]}*"
        self._register_descriptor(name, descriptor)
        return self.from_path(name)

    def _scan(self, path: str) -> n.Node:
        obj = self._catalog.lookup(path)
        if isinstance(obj, n.Node):
            return obj
        table: CatalogTable = obj
        name = self._catalog.normalize(path)
        physical = table.physical_schema
        spec = self._spec(name, table)
        from volley.connectors import create_source

        source = create_source(spec)
        scan: n.Node = n.Scan(name, table, physical, is_bounded=source.bounded)
        computed = [c for c in table.columns if not c.is_physical]
        rowtime = table.watermark.column if table.watermark is not None else None
        if not computed and rowtime is None:
            return scan
        scope = binder_expr.Scope.of(physical, functions=self._lookup_function)
        exprs = []
        names = []
        for c in table.columns:
            if c.is_physical:
                idx = physical.names.index(c.name)
                expr: Expr = InputRef(idx, c.name, physical.types[idx])
            else:
                binder = binder_expr.ExprBinder(scope, context=f"computed column {c.name!r}")
                expr = binder.bind(c.expression)
            # a batch job has no event time: its rowtime is a plain TIMESTAMP, as in Flink
            exprs.append(_as_time_attribute(expr, c.name, rowtime if self._streaming else None))
            names.append(c.name)
        scan = n.Project(scan, tuple(exprs), tuple(names))
        if table.watermark is not None:
            scan = self._watermarked(scan, table)
        return scan

    def _watermarked(self, plan: n.Node, table: CatalogTable) -> n.Node:
        """``plan`` with the table's declared watermark assigned on its rowtime column."""
        watermark = table.watermark
        assert watermark is not None
        column = plan.schema.names.index(watermark.column)
        if _is_source_watermark(watermark.expression):
            rowtime = plan.schema.fields[column]
            return n.WatermarkAssigner(plan, column, InputRef(column, rowtime.name,
                                                                 rowtime.data_type),
                                       source_watermark=table.options.get("connector", "?"))
        scope = binder_expr.Scope.of(plan.schema, functions=self._lookup_function)
        expr = binder_expr.ExprBinder(scope, context=f"watermark of {watermark.column!r}").bind(
            watermark.expression)
        return n.WatermarkAssigner(plan, column, expr)

    def _spec(self, name: str, table: CatalogTable) -> TableSpec:
        return TableSpec(name, table.physical_schema, dict(table.options), dict(table.options),
                         table.partition_keys)

    # -- catalog ----------------------------------------------------------------------------------
    def create_temporary_view(self, view_path: str, table_or_data: Any, *fields: Any) -> None:
        if isinstance(table_or_data, Table):
            table = table_or_data
        elif isinstance(table_or_data, pa.Table):
            table = self.from_arrow(table_or_data)
        else:
            table = self.from_pandas(table_or_data)
        if fields:
            table = table.alias(*fields)
        self._catalog.register_view(view_path, table.plan)

    register_table = create_temporary_view

    def create_view(self, view_path: str, table: Table, ignore_if_exists: bool = False) -> None:
        self._catalog.register_view(view_path, table.plan, ignore_if_exists)

    def create_temporary_table(self, path: str, descriptor: Any) -> None:
        self._register_descriptor(path, descriptor)

    def create_table(self, path: str, descriptor: Any) -> None:
        self._register_descriptor(path, descriptor)

    def _register_descriptor(self, path: str, descriptor: Any) -> None:
        from volley.table.descriptors import to_catalog_table

        self._catalog.register_table(path, to_catalog_table(descriptor))

    def drop_temporary_view(self, view_path: str) -> bool:
        return self._catalog.drop(view_path, "view", if_exists=True)

    def drop_view(self, view_path: str, ignore_if_not_exists: bool = True) -> bool:
        return self._catalog.drop(view_path, "view", if_exists=ignore_if_not_exists)

    def drop_temporary_table(self, table_path: str) -> bool:
        return self._catalog.drop(table_path, "table", if_exists=True)

    def drop_table(self, table_path: str, ignore_if_not_exists: bool = True) -> bool:
        return self._catalog.drop(table_path, "table", if_exists=ignore_if_not_exists)

    def list_tables(self) -> list[str]:
        return self._catalog.list_tables()

    def list_temporary_tables(self) -> list[str]:
        return self._catalog.list_tables()

    def list_views(self) -> list[str]:
        return self._catalog.list_views()

    list_temporary_views = list_views

    def list_user_defined_functions(self) -> list[str]:
        return sorted(self._catalog.functions)

    def list_catalogs(self) -> list[str]:
        return [self._catalog.current_catalog]

    def list_databases(self) -> list[str]:
        return [self._catalog.current_database]

    def get_current_catalog(self) -> str:
        return self._catalog.current_catalog

    def get_current_database(self) -> str:
        return self._catalog.current_database

    def use_catalog(self, catalog_name: str) -> None:
        if catalog_name != self._catalog.current_catalog:
            raise UnsupportedFeatureError(
                f"catalog {catalog_name!r} does not exist; Volley has one in-memory catalog, "
                f"{self._catalog.current_catalog!r}"
            )

    def use_database(self, database_name: str) -> None:
        if database_name != self._catalog.current_database:
            raise UnsupportedFeatureError(
                f"database {database_name!r} does not exist; Volley has one database, "
                f"{self._catalog.current_database!r}"
            )

    # -- functions --------------------------------------------------------------------------------
    def _lookup_function(self, name: str) -> Any:
        return self._catalog.lookup_function(name)

    def create_temporary_system_function(self, name: str, function: Any) -> None:
        self._catalog.register_function(name, as_udf(function, name))

    def create_temporary_function(self, path: str, function: Any) -> None:
        self._catalog.register_function(path.split(".")[-1], as_udf(function, path))

    def create_function(self, path: str, function_class_name: Any, ignore_if_exists: bool = False) -> None:
        self._catalog.register_function(path.split(".")[-1], load_function(function_class_name))

    def register_function(self, name: str, function: Any) -> None:
        """Flink 1.10/1.11's name for ``create_temporary_system_function``."""
        self.create_temporary_system_function(name, function)

    def drop_temporary_function(self, path: str) -> bool:
        return self._catalog.drop_function(path.split(".")[-1], if_exists=True)

    def drop_temporary_system_function(self, name: str) -> bool:
        return self._catalog.drop_function(name, if_exists=True)

    drop_function = drop_temporary_function

    def create_java_temporary_function(self, path: str, function_class_name: str) -> None:
        raise UnsupportedFeatureError(
            f"Java function {function_class_name!r} cannot be used: Volley runs without a JVM; "
            "write the function in Python with @udf"
        )

    create_java_temporary_system_function = create_java_temporary_function
    register_java_function = create_java_temporary_function

    # -- Python dependencies ----------------------------------------------------------------------
    def add_python_file(self, file_path: str) -> None:
        import os
        import sys

        path = os.path.abspath(file_path)
        directory = path if os.path.isdir(path) else os.path.dirname(path)
        if directory not in sys.path:
            sys.path.insert(0, directory)
        self._python_files.append(path)

    def set_python_requirements(self, requirements_file_path: str,
                                requirements_cache_dir: str | None = None) -> None:
        """Recorded for cluster runners; a local job uses the current environment."""
        self._config.set("python.requirements", requirements_file_path)

    def add_python_archive(self, archive_path: str, target_dir: str | None = None) -> None:
        import os
        import shutil

        target = target_dir or os.path.basename(archive_path)
        if not os.path.exists(target):
            shutil.unpack_archive(archive_path, target)

    # -- SQL --------------------------------------------------------------------------------------
    def sql_query(self, query: str) -> Table:
        from volley.sql.parser import parse_query

        return Table(self._bind_query(parse_query(query)), self)

    def _bind_query(self, tree: Any) -> n.Node:
        return binder_query.QueryBinder(self._scan, self._lookup_function).bind(tree)

    def execute_sql(self, stmt: str) -> TableResult:
        from volley.sql.parser import parse_statement
        from volley.table.sql_statements import execute_statement

        return execute_statement(self, parse_statement(stmt))

    def explain_sql(self, stmt: str, *extra_details: Any) -> str:
        return self._explain_plan(self.sql_query(stmt).plan, extra_details)

    def create_statement_set(self) -> StatementSet:
        return StatementSet(self)

    # -- execution --------------------------------------------------------------------------------
    def execute(self, job_name: str | None = None) -> Any:
        """Flink 1.11: run every ``insert_into`` issued since the last execute."""
        if not self._pending_inserts:
            raise PlanError(
                "no sinks were defined before execute(); call table.insert_into(...) first, or "
                "use table.execute_insert(...) directly"
            )
        inserts, self._pending_inserts = self._pending_inserts, []
        result = self._execute_inserts(inserts, job_name)
        result.wait()
        return result

    def _explain_plan(self, plan: n.Node, details: Any = (),
                      sink: tuple[str, CatalogTable] | None = None) -> str:
        """The plans; with ``CHANGELOG_MODE`` in ``details`` (streaming mode) each optimized
        node shows its row kinds, as its consumer (a ``sink``: its name and table) takes them.
        A query without a sink shows them as Flink's explain does: as an upsert consumer would
        take them (no -U where the plan can do without; ``collect()`` does get -U rows)."""
        import warnings

        from volley.plan.changelog import ChangelogInference, explain_changelogs

        names = {getattr(d, "name", str(d)).upper() for d in details}
        ignored = sorted(names - {"CHANGELOG_MODE"})
        if ignored:
            warnings.warn(f"explain() does not show {', '.join(ignored)} yet; only "
                          "CHANGELOG_MODE is shown besides the plans", stacklevel=3)
        optimized = self._optimize(plan)
        lines = ["== Abstract Syntax Tree =="] + n.explain_tree(plan)
        lines += ["", "== Optimized Logical Plan =="]
        if "CHANGELOG_MODE" in names and self._streaming:
            inference = ChangelogInference()
            update = UpdateKind.ONLY_UPDATE_AFTER
            if not inference.can_provide(optimized, update):
                update = UpdateKind.BEFORE_AND_AFTER
            if sink is not None:
                optimized = self._conform_to_sink(optimized, *sink)
                update = self._sink_update_kind(inference, optimized, *sink)
            lines += explain_changelogs(optimized, inference, update)
        else:
            lines += n.explain_tree(optimized)
        return "\n".join(lines) + "\n"

    def _sink_update_kind(self, inference: Any, plan: n.Node, name: str,
                          table: CatalogTable) -> UpdateKind:
        """How sink table ``name`` takes ``plan``'s updates (a ChangelogModeError when it cannot):
        an upsert sink (a primary key) takes only its key's updates."""
        from volley.connectors import create_sink

        sink = create_sink(self._spec(name, table))  # checks the options before the job runs
        if not self._streaming:
            return UpdateKind.NONE
        primary_key = tuple(plan.schema.names.index(c) for c in table.primary_key)
        return inference.sink_update_kind(plan, f"default_catalog.default_database.{name}",
                                          sink.accepted_changelog_modes, primary_key)

    def _optimize(self, plan: n.Node) -> n.Node:
        """The logical rewrites for this environment's mode (some hold for bounded input only);
        ``table.optimizer.reuse-sub-plan-enabled`` (Flink's option, default true) says whether a
        sub-plan written twice is computed once."""
        value = str(self._effective_config().get("table.optimizer.reuse-sub-plan-enabled",
                                                 "true")).strip().lower()
        if value not in ("true", "false"):
            raise PlanError(f"'table.optimizer.reuse-sub-plan-enabled' must be true or false; "
                            f"got {value!r}")
        return optimize(plan, batch=not self._streaming, reuse_sub_plans=value == "true")

    def _effective_config(self) -> dict[str, str]:
        """The job's configuration over the process's defaults (``volley run -D ...``)."""
        from volley.common.configuration import process_defaults

        return {**process_defaults(), **self._config.get_configuration().to_dict()}

    def _job_settings(self) -> JobSettings:
        return JobSettings.from_config(self._effective_config(), streaming=self._streaming)

    def _planner(self, settings: JobSettings) -> PhysicalPlanner:
        return PhysicalPlanner(self._streaming, self._table_spec_of, settings.parallelism,
                               settings.max_parallelism, splits_of=_split_count)

    def _table_spec_of(self, scan: n.Scan) -> TableSpec:
        return self._spec(scan.table_name, scan.catalog_table)

    def _submit(self, planner: PhysicalPlanner, name: str, driven: bool = False) -> Any:
        """Start the job; ``execution.target`` chooses the runner (only ``local`` today)."""
        target = str(self._effective_config().get("execution.target", "local")).lower()
        if target not in ("local", "embedded"):
            raise UnsupportedFeatureError(
                f"'execution.target' = {target!r} is not supported by Volley yet; expected "
                "'local' (jobs run in this process, or in worker processes at parallelism > 1)"
            )
        settings = self._job_settings()
        graph = planner.build(name)
        return LocalRunner().submit(graph, settings, self._effective_config(),
                                    self._job_parameters(), driven=driven)

    def _execute_collect(self, plan: n.Node) -> TableResult:
        plan = self._optimize(plan)
        planner = self._planner(self._job_settings())
        planner.add_collect(plan)
        handle = self._submit(planner, "collect", driven=True)
        keys = planner.changelogs.upsert_keys(plan) if self._streaming else None
        key = None if not keys else tuple(sorted(min(keys, key=lambda k: (len(k), sorted(k)))))
        return TableResult(plan.schema, handle.results(), streaming=self._streaming,
                           on_close=handle.cancel, handle=handle, upsert_key=key)

    def _job_parameters(self) -> dict[str, str]:
        """``pipeline.global-job-parameters``: given as ``key:value,key:value`` (Flink's map
        syntax) or as ``pipeline.global-job-parameters.<key>`` entries."""
        config = self._effective_config()
        params: dict[str, str] = {}
        text = config.get("pipeline.global-job-parameters")
        if text:
            for item in _split_map(text):
                key, _, value = item.partition(":")
                params[key.strip().strip("'")] = value.strip().strip("'")
        prefix = "pipeline.global-job-parameters."
        params.update({k[len(prefix):]: v for k, v in config.items() if k.startswith(prefix)})
        return params

    def _execute_inserts(self, inserts: list[tuple[Any, n.Node, bool]],
                         job_name: str | None = None) -> TableResult:
        planner = self._planner(self._job_settings())
        names = []
        for target, plan, overwrite in inserts:
            if not isinstance(target, str):
                name = f"*anonymous_sink_{uuid.uuid4().hex[:8]}*"
                self._register_descriptor(name, target)
                target = name
            obj = self._catalog.lookup(target)
            if isinstance(obj, n.Node):
                raise PlanError(f"cannot insert into {target!r}: it is a view, not a table")
            name = self._catalog.normalize(target)
            plan = self._conform_to_sink(self._optimize(plan), name, obj)
            update = self._sink_update_kind(planner.changelogs, plan, name, obj)
            planner.add_sink(plan, self._spec(name, obj), overwrite, update)
            names.append(f"default_catalog.default_database.{name}")
        handle = self._submit(planner, job_name or "insert")
        from volley.plan.types import BigIntType

        # as in Flink, an INSERT's result is one row of -1s: the job runs on asynchronously
        result = TableResult.of_rows(names, [BigIntType(nullable=False)] * len(names),
                                     [[-1] for _ in names])
        result._handle = handle
        result._kind = ResultKind.SUCCESS_WITH_CONTENT
        from volley.table.table_result import JobClient

        result._job_client = JobClient(handle.job_id, handle)
        result._insert = True
        return result

    def _conform_to_sink(self, plan: n.Node, name: str, table: CatalogTable) -> n.Node:
        target = table.physical_schema
        source = plan.schema
        if len(source.fields) != len(target.fields):
            raise PlanError(
                f"cannot insert into {name!r}: the query has {len(source.fields)} columns "
                f"({', '.join(f'{f.name} {f.data_type}' for f in source.fields)}) but the table "
                f"has {len(target.fields)} ({', '.join(f'{f.name} {f.data_type}' for f in target.fields)})"
            )
        exprs = []
        for i, (s, t) in enumerate(zip(source.fields, target.fields, strict=True)):
            ref = InputRef(i, s.name, s.data_type)
            st, tt = s.data_type, t.data_type
            if st.as_nullable() == tt.as_nullable():
                exprs.append(ref)
                continue
            compatible = (st.is_numeric and tt.is_numeric) or (st.is_string and tt.is_string) or (
                st.is_temporal and tt.is_temporal) or type(st) is type(tt) or st.type_name() == "NULL"
            if not compatible:
                raise PlanError(
                    f"cannot insert into {name!r}: column {t.name!r} has type {tt} but the "
                    f"query gives {st} ({s.name!r}); CAST the query column to {tt}"
                )
            exprs.append(Cast(ref, tt.with_nullability(st.nullable)))
        return n.Project(plan, tuple(exprs), tuple(target.names))


def _is_source_watermark(expression: Any) -> bool:
    """``WATERMARK FOR ts AS SOURCE_WATERMARK()``: the connector is to emit the watermarks."""
    return type(expression).__name__ == "Anonymous" and \
        str(expression.name).upper() == "SOURCE_WATERMARK" and not expression.expressions


def _as_time_attribute(expr: Expr, column: str, rowtime: str | None) -> Expr:
    """A declared column's expression, its type marked when the column is a time attribute:
    the column a watermark is declared on (rowtime) or one computed as PROCTIME()."""
    kind = None
    if column == rowtime:
        kind = "rowtime"
    elif isinstance(expr, Call) and expr.fn == "proctime":
        kind = "proctime"
    if kind is None or not hasattr(expr.type, "as_time_attribute"):
        return expr
    return replace(expr, type=expr.type.as_time_attribute(kind))  # type: ignore[attr-defined]


def _split_count(table: TableSpec, parallelism: int) -> int:
    from volley.connectors import create_source

    return len(create_source(table).splits(parallelism))


def _split_map(text: str) -> list[str]:
    """Flink's ``k1:v1,k2:v2`` map syntax, with values quoted when they hold a comma."""
    items, current, quote = [], "", None
    for ch in text:
        if ch in "'\"" and quote in (None, ch):
            quote = None if quote else ch
        if ch == "," and quote is None:
            items.append(current)
            current = ""
        else:
            current += ch
    if current.strip():
        items.append(current)
    return [i for i in items if i.strip()]


def _to_arrow_value(v: Any) -> Any:
    from volley.common.row import Row

    if isinstance(v, Row) and v._fields is not None:
        return v.as_dict()
    return v


def _fits(v: Any, t: DataType) -> bool:
    try:
        pa.array([v], type=t.to_arrow())
        return True
    except Exception:
        return False


class StatementSet:
    """Several INSERTs run as one job (shared sources are read once)."""

    def __init__(self, t_env: TableEnvironment) -> None:
        self._t_env = t_env
        self._inserts: list[tuple[Any, n.Node, bool]] = []

    def add_insert_sql(self, stmt: str) -> StatementSet:
        from volley.sql.parser import parse_statement
        from volley.sql.statements import Insert

        parsed = parse_statement(stmt)
        if not isinstance(parsed, Insert):
            raise PlanError(f"add_insert_sql() takes an INSERT statement; got {stmt!r}")
        self._inserts.append((parsed.table, self._t_env._bind_query(parsed.query), parsed.overwrite))
        return self

    def add_insert(self, target_path: Any, table: Table, overwrite: bool = False) -> StatementSet:
        self._inserts.append((target_path, table.plan, overwrite))
        return self

    def explain(self, *extra_details: Any) -> str:
        t_env = self._t_env
        texts = []
        for target, plan, _ in self._inserts:
            sink = None
            if isinstance(target, str) and not isinstance(t_env._catalog.lookup(target), n.Node):
                sink = (t_env._catalog.normalize(target), t_env._catalog.lookup(target))
            texts.append(t_env._explain_plan(plan, extra_details, sink))
        return "\n".join(texts)

    def execute(self) -> TableResult:
        return self._t_env._execute_inserts(self._inserts)

    def attach_as_datastream(self) -> None:
        raise UnsupportedFeatureError("attach_as_datastream is not supported by Volley yet")


class StreamTableEnvironment(TableEnvironment):
    @staticmethod
    def create(stream_execution_environment: Any = None,
               environment_settings: EnvironmentSettings | None = None) -> StreamTableEnvironment:
        from volley.datastream import RuntimeExecutionMode

        if environment_settings is None:
            streaming = True
            if stream_execution_environment is not None:
                streaming = stream_execution_environment.runtime_mode != RuntimeExecutionMode.BATCH
            environment_settings = EnvironmentSettings(streaming)
        env = StreamTableEnvironment(environment_settings)
        if stream_execution_environment is not None:
            env.get_config().get_configuration().add_all(
                stream_execution_environment.get_configuration())
        return env

    def from_data_stream(self, *args: Any) -> Table:
        raise UnsupportedFeatureError("the DataStream API is not supported by Volley yet")

    def to_data_stream(self, *args: Any) -> Any:
        raise UnsupportedFeatureError("the DataStream API is not supported by Volley yet")

    to_append_stream = to_data_stream
    to_retract_stream = to_data_stream
    to_changelog_stream = to_data_stream


BatchTableEnvironment = TableEnvironment
