"""``CREATE TABLE`` / ``CREATE VIEW`` trees -> statement dataclasses with catalog objects."""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from volley.errors import SqlParseError, UnsupportedFeatureError
from volley.plan.catalog import CatalogColumn, CatalogTable, WatermarkSpec
from volley.sql.datatypes import to_data_type
from volley.sql.dialect import MetadataColumnConstraint
from volley.sql.statements import CreateTable, CreateTableAs, CreateView


def table_name(node: exp.Expression) -> str:
    """``cat.db.t`` as a dotted string, backtick-quoting parts that contain a dot or backtick."""
    if isinstance(node, exp.Schema):
        node = node.this
    if not isinstance(node, exp.Table):
        raise SqlParseError(f"expected a table name; got {node.sql(dialect='flink')!r}")
    return ".".join(_quote_part(part.name) for part in node.parts)


def _quote_part(name: str) -> str:
    return f"`{name.replace('`', '``')}`" if ("." in name or "`" in name) else name


def create_statement(node: exp.Create) -> CreateTable | CreateTableAs | CreateView:
    kind = (node.args.get("kind") or "").upper()
    properties = node.args.get("properties")
    props = list(properties.expressions) if properties else []
    temporary = any(isinstance(p, exp.TemporaryProperty) for p in props)
    if_not_exists = bool(node.args.get("exists"))
    if node.args.get("replace"):
        raise UnsupportedFeatureError(
            f"CREATE OR REPLACE {kind} is not supported; DROP the {kind.lower()} first"
        )
    name = table_name(node.this)
    if kind == "VIEW":
        query = node.expression
        if not isinstance(query, exp.Query):
            raise SqlParseError("CREATE VIEW needs 'AS <query>'")
        columns = node.this.expressions if isinstance(node.this, exp.Schema) else []
        return CreateView(name, query, tuple(c.name for c in columns), if_not_exists, temporary)
    if kind != "TABLE":
        raise UnsupportedFeatureError(f"CREATE {kind} is not supported")
    table = _catalog_table(node.this, props)
    if node.expression is not None:
        if not isinstance(node.expression, exp.Query):
            raise SqlParseError("CREATE TABLE ... AS needs a query after AS")
        return CreateTableAs(name, table, node.expression, if_not_exists, temporary)
    return CreateTable(name, table, if_not_exists, temporary)


def _catalog_table(target: exp.Expression, props: list[exp.Expression]) -> CatalogTable:
    columns: list[CatalogColumn] = []
    primary_key: tuple[str, ...] = ()
    watermark: WatermarkSpec | None = None
    elements = target.expressions if isinstance(target, exp.Schema) else []
    for element in elements:
        if isinstance(element, exp.ColumnDef):
            column, column_pk = _column(element)
            columns.append(column)
            if column_pk:
                primary_key = _set_primary_key(primary_key, (column.name,))
        elif isinstance(element, exp.PrimaryKey):
            _check_not_enforced(element)
            primary_key = _set_primary_key(primary_key, tuple(e.name for e in element.expressions))
        elif isinstance(element, exp.WatermarkColumnConstraint):
            if watermark is not None:
                raise SqlParseError("a table can have only one WATERMARK")
            watermark = WatermarkSpec(element.this.name, element.expression)
        else:
            raise UnsupportedFeatureError(
                f"table constraint {element.sql(dialect='flink')!r} is not supported; Flink "
                "tables take columns, one WATERMARK and a PRIMARY KEY (...) NOT ENFORCED"
            )
    options: dict[str, str] = {}
    partition_keys: tuple[str, ...] = ()
    comment = None
    for prop in props:
        if type(prop) is exp.Property:  # subclasses (COMMENT, PARTITIONED BY) come below
            options[_option_text(prop.this)] = _option_text(prop.args["value"])
        elif isinstance(prop, exp.SchemaCommentProperty):
            comment = prop.this.name
        elif isinstance(prop, exp.PartitionedByProperty):
            keys = prop.this.expressions if isinstance(prop.this, exp.Schema) else [prop.this]
            partition_keys = tuple(k.name for k in keys)
        elif not isinstance(prop, exp.TemporaryProperty):
            raise UnsupportedFeatureError(
                f"CREATE TABLE clause {prop.sql(dialect='flink')!r} is not supported"
            )
    return CatalogTable(
        columns=tuple(columns),
        options=options,
        partition_keys=partition_keys,
        primary_key=primary_key,
        watermark=watermark,
        comment=comment,
    )


def _column(node: exp.ColumnDef) -> tuple[CatalogColumn, bool]:
    kind = node.args.get("kind")
    data_type = to_data_type(kind) if kind is not None else None
    expression: exp.Expression | None = None
    comment = None
    primary = False
    for constraint in node.args.get("constraints") or []:
        c = constraint.args.get("kind") if isinstance(constraint, exp.ColumnConstraint) else None
        if isinstance(c, exp.NotNullColumnConstraint) and data_type is not None:
            data_type = data_type.with_nullability(bool(c.args.get("allow_null")))
        elif isinstance(c, exp.CommentColumnConstraint):
            comment = c.this.name
        elif isinstance(c, exp.ComputedColumnConstraint):
            expression = c.this
        elif isinstance(c, exp.PrimaryKeyColumnConstraint):
            _check_not_enforced(c)
            primary = True
        elif isinstance(c, MetadataColumnConstraint):
            raise UnsupportedFeatureError(
                f"metadata column {node.name!r} (METADATA) is not supported; declare a physical "
                "or computed column instead"
            )
        else:
            raise UnsupportedFeatureError(
                f"column constraint {constraint.sql(dialect='flink')!r} on {node.name!r} is not "
                "supported"
            )
    if data_type is None and expression is None:
        raise SqlParseError(f"column {node.name!r} needs a type or 'AS <expression>'")
    return CatalogColumn(node.name, data_type, expression, comment), primary


def _check_not_enforced(node: exp.Expression) -> None:
    options = [str(o).upper() for o in node.args.get("options") or []]
    if "NOT ENFORCED" not in options:
        raise SqlParseError(
            "Flink does not enforce primary keys; write PRIMARY KEY (...) NOT ENFORCED"
        )


def _set_primary_key(current: tuple[str, ...], new: tuple[str, ...]) -> tuple[str, ...]:
    if current:
        raise SqlParseError("a table can have only one PRIMARY KEY")
    return new


def _option_text(node: Any) -> str:
    """Option keys and values are string literals in Flink; accept bare words and numbers too."""
    if isinstance(node, exp.Expression):
        return node.name if isinstance(node, (exp.Literal, exp.Identifier, exp.Var)) else node.sql()
    return str(node)
