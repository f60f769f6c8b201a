from __future__ import annotations

import pytest
from connector_helpers import make_spec

from volley.connectors import create_sink, create_source, normalize_options
from volley.connectors.base import TableSpec
from volley.errors import ConnectorError
from volley.table.types import DataTypes


def test_legacy_keys_are_translated():
    options = normalize_options(
        {
            "connector.type": "filesystem",
            "format.type": "csv",
            "connector.path": "/tmp/input",
            "format.field-delimiter": "|",
            "format.ignore-parse-errors": "true",
            "format.null-literal": "n/a",
            "connector.property-version": "1",
            "format.fields.0.name": "id",
        }
    )
    assert options == {
        "connector": "filesystem",
        "format": "csv",
        "path": "/tmp/input",
        "csv.field-delimiter": "|",
        "csv.ignore-parse-errors": "true",
        "csv.null-literal": "n/a",
        "volley.legacy-options": "true",
    }


def test_modern_keys_pass_unchanged():
    raw = {"connector": "filesystem", "path": "/x", "format": "csv"}
    assert normalize_options(raw) == raw


def test_conflicting_legacy_and_modern_keys():
    with pytest.raises(ConnectorError, match="both set 'path'"):
        normalize_options({"connector.type": "filesystem", "connector.path": "/a", "path": "/b"})


def test_unknown_connector_lists_known():
    spec = make_spec("t", [("a", DataTypes.INT())], {"connector": "kafak"})
    with pytest.raises(ConnectorError) as e:
        create_source(spec)
    assert str(e.value) == (
        "unknown connector 'kafak' for table 't'; expected one of: blackhole, datagen, "
        "filesystem, print"
    )


def test_missing_connector():
    spec = TableSpec("t", DataTypes.ROW([DataTypes.FIELD("a", DataTypes.INT())]), {})
    with pytest.raises(ConnectorError, match="table 't' has no 'connector' option"):
        create_sink(spec)


def test_missing_path_names_table_and_option():
    spec = make_spec("src", [("a", DataTypes.INT())], {"connector": "filesystem", "format": "csv"})
    with pytest.raises(ConnectorError, match="table 'src' is missing the required option 'path'"):
        create_source(spec)


def test_missing_legacy_path_names_legacy_key():
    spec = make_spec(
        "src", [("a", DataTypes.INT())], {"connector.type": "filesystem", "format.type": "csv"}
    )
    with pytest.raises(ConnectorError, match="missing the required option 'connector.path'"):
        create_source(spec)


def test_unknown_filesystem_option_suggests():
    spec = make_spec(
        "t",
        [("a", DataTypes.INT())],
        {"connector": "filesystem", "format": "csv", "path": "/x", "csv.field-delimeter": ";"},
    )
    with pytest.raises(ConnectorError, match="did you mean 'csv.field-delimiter'"):
        create_source(spec)


def test_sink_only_connector_cannot_be_read():
    spec = make_spec("p", [("a", DataTypes.INT())], {"connector": "print"})
    with pytest.raises(ConnectorError, match="cannot be read from"):
        create_source(spec)


def test_raw_legacy_options_are_normalized_by_create():
    spec = TableSpec(
        "t",
        DataTypes.ROW([DataTypes.FIELD("a", DataTypes.INT())]),
        {"connector.type": "blackhole"},
    )
    assert create_sink(spec).accepted_changelog_modes
