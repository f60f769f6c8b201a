"""Connector lookup: from a table's options to a source or sink.

``normalize_options`` turns the PyFlink 1.11-era keys (``connector.type``, ``format.type``,
``connector.path``, ``format.field-delimiter``, ...) into today's (``connector``, ``format``,
``path``, ``csv.field-delimiter``) so that every connector reads one spelling. A legacy table is
marked with ``volley.legacy-options`` because its filesystem sink behaves differently: Flink 1.11's
CSV sink wrote ONE file at ``path`` (the seed program ``cat``s it), where today's filesystem sink
treats ``path`` as a directory of part files.
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import replace

from volley.connectors.base import ConnectorFactory, TableSink, TableSource, TableSpec
from volley.errors import ConnectorError

LEGACY_MARKER = "volley.legacy-options"
"""Set to ``'true'`` in the normalized options of a table declared with 1.11-era keys."""

_LEGACY_RENAMES = {
    "connector.type": "connector",
    "connector.path": "path",
    "format.type": "format",
    "connector.startup-mode": "scan.startup.mode",
}
_LEGACY_DROPPED = {
    "connector.property-version",
    "connector.version",
    "format.property-version",
    "format.derive-schema",
    "format.schema",
    "update-mode",
}
_LEGACY_DROPPED_PREFIXES = ("format.fields.", "schema.")

#: identifier -> "module:class"; a built-in connector's module is imported when a table uses it
_BUILTINS = {
    "filesystem": "volley.connectors.filesystem:FileSystemFactory",
    "datagen": "volley.connectors.datagen:DataGenFactory",
    "print": "volley.connectors.print:PrintFactory",
    "blackhole": "volley.connectors.blackhole:BlackHoleFactory",
}

_factories: dict[str, ConnectorFactory] = {}


def is_legacy(raw: dict[str, str]) -> bool:
    return "connector.type" in raw or "format.type" in raw


def _legacy_target(key: str, fmt: str | None) -> str | None:
    """The modern key for one legacy key, or None when the key has no modern meaning."""
    if key in _LEGACY_RENAMES:
        return _LEGACY_RENAMES[key]
    if key in _LEGACY_DROPPED or key.startswith(_LEGACY_DROPPED_PREFIXES):
        return None
    if key.startswith("format."):
        suffix = key[len("format.") :]
        if suffix == "comment-prefix":
            suffix = "allow-comments"
        return f"{fmt or 'format'}.{suffix}"
    if key.startswith("connector."):
        return key[len("connector.") :]
    return key


def normalize_options(raw: dict[str, str]) -> dict[str, str]:
    """Translate PyFlink 1.11 legacy option keys to today's; modern options pass unchanged.

    >>> normalize_options({'connector.type': 'filesystem', 'format.type': 'csv',
    ...                    'connector.path': '/tmp/in', 'format.field-delimiter': ';'})
    ... # doctest: +NORMALIZE_WHITESPACE
    {'connector': 'filesystem', 'format': 'csv', 'path': '/tmp/in',
     'csv.field-delimiter': ';', 'volley.legacy-options': 'true'}
    """
    if not is_legacy(raw):
        return dict(raw)
    fmt = raw.get("format.type", raw.get("format"))
    result: dict[str, str] = {}
    origin: dict[str, str] = {}
    for key, value in raw.items():
        target = _legacy_target(key, fmt)
        if target is None:
            continue
        if target == f"{fmt}.allow-comments" and key == "format.comment-prefix":
            value = "true"
        if target in result and result[target] != value:
            raise ConnectorError(
                f"options {origin[target]!r} and {key!r} both set {target!r} to different values; "
                f"expected one of them, got {result[target]!r} and {value!r}; "
                "remove the legacy key"
            )
        result[target] = value
        origin[target] = key
    result[LEGACY_MARKER] = "true"
    return result


def legacy_key_for(key: str, raw: dict[str, str], legacy: bool = False) -> str:
    """The key the user wrote for the normalized ``key`` (for error messages); ``legacy`` says
    the table used 1.11 keys even when ``raw`` was not kept."""
    if key in raw or not (legacy or is_legacy(raw)):
        return key
    fmt = raw.get("format.type") or key.split(".")[0]
    for raw_key in raw:
        if _legacy_target(raw_key, fmt) == key:
            return raw_key
    # a legacy table missing an option: name the legacy spelling it would have used
    reverse = {v: k for k, v in _LEGACY_RENAMES.items()}
    if key in reverse:
        return reverse[key]
    if fmt and key.startswith(f"{fmt}."):
        return "format." + key[len(fmt) + 1 :]
    return key


# -- factories ---------------------------------------------------------------------------------


def register_factory(factory: ConnectorFactory) -> None:
    """Make ``factory`` the one used for tables whose ``connector`` is its identifier."""
    _factories[factory.identifier] = factory


def _factory_named(identifier: str) -> ConnectorFactory | None:
    """The factory registered as ``identifier``, else the built-in one (imported on first use)."""
    if identifier not in _factories and identifier in _BUILTINS:
        module_name, class_name = _BUILTINS[identifier].split(":")
        factory_cls = getattr(importlib.import_module(module_name), class_name)
        _factories[identifier] = factory_cls()
    return _factories.get(identifier)


def known_connectors() -> list[str]:
    return sorted(set(_factories) | set(_BUILTINS))


def _factory_for(spec: TableSpec) -> tuple[ConnectorFactory, TableSpec]:
    if is_legacy(spec.options):  # a caller handed raw options: normalize them here
        raw = spec.raw_options or spec.options
        spec = replace(spec, options=normalize_options(spec.options), raw_options=raw)
    identifier = spec.options.get("connector")
    known = ", ".join(known_connectors())
    if identifier is None:
        raise ConnectorError(
            f"table {spec.name!r} has no 'connector' option; expected one of: {known}; "
            "add e.g. 'connector' = 'filesystem' to the WITH clause"
        )
    factory = _factory_named(identifier)
    if factory is None:
        close = difflib.get_close_matches(identifier, known_connectors(), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConnectorError(
            f"unknown connector {identifier!r} for table {spec.name!r}; "
            f"expected one of: {known}{hint}"
        )
    return factory, spec


def create_source(spec: TableSpec) -> TableSource:
    """The source for ``spec``, built by the factory its ``connector`` option names."""
    factory, spec = _factory_for(spec)
    return factory.create_source(spec)


def create_sink(spec: TableSpec) -> TableSink:
    """The sink for ``spec``, built by the factory its ``connector`` option names."""
    factory, spec = _factory_for(spec)
    return factory.create_sink(spec)
