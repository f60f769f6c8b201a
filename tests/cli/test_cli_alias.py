"""The pyflink alias finder, in-process: name mapping and the same-module-object guarantee."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

import volley
import volley.errors
from volley.cli import pyflink_alias


@pytest.fixture
def alias() -> Iterator[None]:
    pyflink_alias.install()
    try:
        yield
    finally:
        pyflink_alias.uninstall()


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("pyflink", "volley"),
        ("pyflink.table", "volley.table"),
        ("pyflink.table.udf", "volley.table.udf"),
        ("pyflinkx", None),
        ("volley", None),
    ],
)
def test_target_name(name: str, target: str | None) -> None:
    assert pyflink_alias.target_name(name) == target


def test_install_is_idempotent_and_first(alias: None) -> None:
    assert pyflink_alias.install() is sys.meta_path[0]
    assert sum(isinstance(f, pyflink_alias.PyflinkAliasFinder) for f in sys.meta_path) == 1


def test_aliased_module_is_the_volley_module(alias: None) -> None:
    import pyflink  # importable only while the alias is installed
    import pyflink.errors

    assert pyflink is volley
    assert pyflink.errors is volley.errors
    assert pyflink.errors.__name__ == "volley.errors"  # the module keeps its real identity


def test_missing_module_error(alias: None) -> None:
    with pytest.raises(ModuleNotFoundError) as info:
        __import__("pyflink.no_such_module")
    assert info.value.name == "pyflink.no_such_module"
    assert str(info.value) == (
        "No module named 'pyflink.no_such_module': Volley does not provide "
        "'pyflink.no_such_module' yet (no 'volley.no_such_module')"
    )


def test_uninstall_forgets_pyflink(alias: None) -> None:
    __import__("pyflink.errors")
    pyflink_alias.uninstall()
    assert "pyflink" not in sys.modules
    # A real `pyflink` (or a folder named pyflink on sys.path, like tests/golden/pyflink) may
    # still import; what matters is that it no longer resolves to Volley.
    try:
        module = __import__("pyflink")
    except ModuleNotFoundError:
        return
    assert not hasattr(module, "__version__") or not module.__name__.startswith("volley")
    assert getattr(module, "TableEnvironment", None) is None
