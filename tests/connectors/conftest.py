"""Fixtures shared by the connector tests."""

from __future__ import annotations

import pytest

from volley.table.types import DataTypes


@pytest.fixture
def id_temp():
    return [("id", DataTypes.INT()), ("temperature", DataTypes.FLOAT())]


@pytest.fixture(autouse=True, params=["whole-file", "streamed"])
def csv_read_path(request, monkeypatch):
    """Every connector test runs on both csv read paths: small files parsed whole, and files
    streamed block by block (what files over ``WHOLE_FILE_BYTES`` take)."""
    if request.param == "streamed":
        from volley.connectors import csv_format

        monkeypatch.setattr(csv_format, "WHOLE_FILE_BYTES", -1)
    return request.param
