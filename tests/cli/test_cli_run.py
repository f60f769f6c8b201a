"""``volley run``: PyFlink programs run unchanged, and failures read like the user's own code."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from cli_helpers import run_cli

import volley

Job = Callable[..., Path]


def test_version_prints_package_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"volley {volley.__version__}"


def test_no_command_prints_usage_and_fails() -> None:
    result = run_cli()
    assert result.returncode == 2
    assert "usage: volley" in result.stderr


def test_pyflink_modules_are_the_volley_modules(write_job: Job) -> None:
    job = write_job(
        """
        import pyflink
        import pyflink.table
        import pyflink.errors
        from pyflink.errors import PlanError
        import volley, volley.table, volley.errors

        assert pyflink is volley
        assert pyflink.table is volley.table
        assert pyflink.errors is volley.errors
        assert PlanError is volley.errors.PlanError
        print("identity ok")
        """
    )
    result = run_cli("run", str(job))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "identity ok"


def test_pyflink_table_api_names_are_volley_objects(write_job: Job) -> None:
    """Needs the engine's public API (volley.table, volley.table.udf, volley.table.expressions)."""
    job = write_job(
        """
        from pyflink.table import DataTypes, EnvironmentSettings, TableEnvironment
        from pyflink.table.udf import udf
        from pyflink.table.expressions import col
        import volley.table, volley.table.udf, volley.table.expressions

        assert DataTypes is volley.table.DataTypes
        assert EnvironmentSettings is volley.table.EnvironmentSettings
        assert TableEnvironment is volley.table.TableEnvironment
        assert udf is volley.table.udf.udf
        assert col is volley.table.expressions.col
        print("identity ok")
        """
    )
    result = run_cli("run", str(job))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "identity ok"


def test_job_sees_its_argv_name_and_directory(write_job: Job, tmp_path: Path) -> None:
    write_job("VALUE = 42\n", name="helper_mod.py")
    job = write_job(
        """
        import sys
        import helper_mod
        print(sys.argv[1:], __name__, helper_mod.VALUE)
        """
    )
    result = run_cli("run", str(job), "--rows", "5", "-h", cwd=tmp_path.parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['--rows', '5', '-h'] __main__ 42"


def test_job_exit_status_is_passed_through(write_job: Job) -> None:
    job = write_job("import sys\nsys.exit(3)\n")
    assert run_cli("run", str(job)).returncode == 3


def test_missing_job_file_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("run", str(tmp_path / "nope.py"))
    assert result.returncode == 2
    assert "no such job file" in result.stderr


def test_missing_pyflink_module_names_it(write_job: Job) -> None:
    job = write_job("from pyflink.ml.lib import Pipeline\n")
    result = run_cli("run", str(job))
    assert result.returncode == 1
    # The parent package is imported first, so the missing module named is the top-most one.
    assert (
        "ModuleNotFoundError: No module named 'pyflink.ml': Volley does not provide "
        "'pyflink.ml' yet (no 'volley.ml')" in result.stderr
    )
    assert 'File "' + str(job) + '", line 1' in result.stderr
    assert "pyflink_alias.py" not in result.stderr  # the finder is import machinery: hidden


def test_missing_name_in_existing_module_gets_a_note(write_job: Job) -> None:
    job = write_job("from pyflink.errors import NoSuchThing\n")
    result = run_cli("run", str(job))
    assert result.returncode == 1
    assert "cannot import name 'NoSuchThing'" in result.stderr
    assert "Volley does not provide this name in 'pyflink.errors' yet" in result.stderr


def test_volley_error_shows_message_and_user_frames_only(write_job: Job) -> None:
    job = write_job(
        """
        from pyflink.errors import PlanError

        def build_plan():
            raise PlanError("unknown column 'x'; expected one of ['a', 'b']")

        build_plan()
        """
    )
    result = run_cli("run", str(job))
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == "error: unknown column 'x'; expected one of ['a', 'b']"
    assert f'File "{job}", line 7, in <module>' in result.stderr
    assert f'File "{job}", line 5, in build_plan' in result.stderr
    assert "volley/cli" not in result.stderr
    assert "runpy" not in result.stderr


def test_volley_error_shows_the_users_cause(write_job: Job) -> None:
    job = write_job(
        """
        from volley.errors import UdfError

        def my_udf(x):
            return x / 0

        try:
            my_udf(1)
        except ZeroDivisionError as exc:
            raise UdfError("UDF 'my_udf' failed on row 0") from exc
        """
    )
    result = run_cli("run", str(job))
    assert result.returncode == 1
    # Like Python's chained tracebacks: the user's exception first, the Volley error last.
    cause, _, consequence = result.stderr.partition(
        "The above exception was the direct cause of the following error:"
    )
    assert f'File "{job}", line 5, in my_udf' in cause
    assert "ZeroDivisionError: division by zero" in cause
    assert f'File "{job}", line 10, in <module>' in consequence
    assert result.stderr.splitlines()[-1] == "error: UDF 'my_udf' failed on row 0"


def test_full_traceback_flag_shows_the_exception_type(write_job: Job) -> None:
    job = write_job("from volley.errors import PlanError\nraise PlanError('bad plan')\n")
    result = run_cli("run", "--full-traceback", str(job))
    assert result.returncode == 1
    assert "volley.errors.PlanError: bad plan" in result.stderr


def test_other_exceptions_print_the_normal_traceback(write_job: Job) -> None:
    job = write_job(
        """
        def f():
            return {}["missing"]

        f()
        """
    )
    result = run_cli("run", str(job))
    assert result.returncode == 1
    assert result.stderr.startswith("Traceback (most recent call last):\n")
    assert f'File "{job}", line 5, in <module>' in result.stderr
    assert re.search(r"KeyError: 'missing'\s*$", result.stderr)
    assert "volley/cli" not in result.stderr
    assert "runpy" not in result.stderr
