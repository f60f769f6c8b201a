"""Fixtures shared by the connector tests."""

from __future__ import annotations

import pytest

from volley.table.types import DataTypes


@pytest.fixture
def id_temp():
    return [("id", DataTypes.INT()), ("temperature", DataTypes.FLOAT())]


@pytest.fixture(autouse=True, params=["whole-file", "windowed"])
def csv_read_path(request, monkeypatch):
    """Every connector test runs on both csv read paths: small files parsed whole, and large
    ones (over ``WHOLE_FILE_BYTES``) read a window at a time, here with tiny windows so that a
    test file spans many. A file with the quote or escape character streams block by block from
    the first window that holds one, so the quoting tests also run the streaming reader."""
    if request.param == "windowed":
        from volley.connectors import csv_format

        monkeypatch.setattr(csv_format, "WHOLE_FILE_BYTES", -1)
        monkeypatch.setattr(csv_format, "WINDOW_BYTES", 64)
    return request.param
