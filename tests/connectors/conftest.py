"""Fixtures shared by the connector tests."""

from __future__ import annotations

import pytest

from volley.table.types import DataTypes


@pytest.fixture
def id_temp():
    return [("id", DataTypes.INT()), ("temperature", DataTypes.FLOAT())]
