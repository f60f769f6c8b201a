"""Connectors: the sources and sinks a table's ``connector`` option names.

This layer owns turning a table's options into Arrow batches and back: the option registry (with
PyFlink 1.11's legacy keys translated), the filesystem connector with its csv, json and parquet
formats, datagen, print and blackhole. It imports ``volley.plan.types`` and ``volley.errors``
only; the engine reaches it through ``create_source`` and ``create_sink``. Built-in factories
are registered on first use, so importing Volley does not import every format's libraries.
"""

from volley.connectors.registry import (
    create_sink,
    create_source,
    normalize_options,
    register_factory,
)

__all__ = ["create_sink", "create_source", "normalize_options", "register_factory"]
