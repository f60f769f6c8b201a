"""sqlglot is imported only by the paths that parse or bind expressions (it is ~100 ms of a cold
start), and a lazy module behaves like the module it stands for once touched."""

import subprocess
import sys

from volley.lazy import lazy_module

_COLD_JOB = """
import sys
from volley.table import EnvironmentSettings, TableEnvironment
t_env = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
rows = list(t_env.from_elements([(1,), (2,)], ['x']).execute().collect())
assert len(rows) == 2, rows
print(sorted(m for m in sys.modules if m.split('.')[0] == 'sqlglot'))
"""


def test_table_api_job_over_elements_does_not_import_sqlglot():
    out = subprocess.run([sys.executable, "-c", _COLD_JOB], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_lazy_module_resolves_to_the_real_attributes():
    import json

    lazy_json = lazy_module("json")
    assert lazy_json.dumps is json.dumps
    assert lazy_json.loads('{"a": 1}') == {"a": 1}
    assert "json" in repr(lazy_module("json"))


def test_sql_still_works_after_a_lazy_start():
    script = _COLD_JOB + (
        "r = list(t_env.sql_query('SELECT x + 1 AS y FROM (VALUES (1), (2)) AS t(x)')"
        ".execute().collect())\n"
        "assert [row[0] for row in r] == [2, 3], r\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)


_IMPORT_EACH_FIRST = """
import importlib, pkgutil, sys, volley
names = [m.name for m in pkgutil.walk_packages(volley.__path__, "volley.")
         if m.name != "volley.__main__"]
for name in names:
    for loaded in [m for m in sys.modules if m == "volley" or m.startswith("volley.")]:
        del sys.modules[loaded]
    importlib.import_module(name)
print(len(names))
"""


def test_every_module_imports_on_its_own():
    """Deferred and re-exported imports make cycles easy to build and hard to see: a test run
    imports the Table API first and hides them. Each module is imported first here, in a clean
    module table (a cycle through volley.common once broke ``import volley.runtime.evaluator``)."""
    out = subprocess.run([sys.executable, "-c", _IMPORT_EACH_FIRST], capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) > 50
