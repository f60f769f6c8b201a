"""``volley run job.py [args...]``: run a PyFlink program unchanged on Volley.

The program is executed the way ``python job.py`` would execute it (``__name__ == "__main__"``,
``sys.argv[0]`` is the script, its directory first on ``sys.path``), with ``pyflink`` imports
redirected to Volley. The exit status is the job's: 0, the code it passed to ``sys.exit``, or 1 on
an uncaught exception.
"""

from __future__ import annotations

import os
import runpy
import sys
from typing import TextIO

from volley.cli import pyflink_alias
from volley.cli.tracebacks import report_exception, report_volley_error
from volley.errors import VolleyError


def run_script(
    script: str,
    args: list[str],
    *,
    full_traceback: bool = False,
    err: TextIO | None = None,
    defaults: dict[str, str] | None = None,
) -> int:
    """Run ``script`` with ``args`` as a PyFlink program and return the process exit code.
    ``defaults``: configuration every job of the program starts from."""
    out = err if err is not None else sys.stderr
    if defaults:
        from volley.common.configuration import set_process_defaults

        set_process_defaults(defaults)
    if not os.path.isfile(script):
        out.write(f"error: no such job file: {script!r}\n")
        return 2
    pyflink_alias.install()
    sys.argv = [script, *args]
    # `python job.py` puts the script's directory first, so jobs can import their sibling modules.
    sys.path[0:1] = [os.path.dirname(os.path.abspath(script))]
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as exc:
        return _exit_code(exc, out)
    except KeyboardInterrupt:
        out.write("interrupted\n")
        return 130
    except VolleyError as exc:
        if full_traceback:
            report_exception(exc, script, out)
        else:
            report_volley_error(exc, out)
        return 1
    except BaseException as exc:  # everything else the job raises is reported, like Python does
        _explain_missing_name(exc)
        report_exception(exc, script, out)
        return 1
    finally:
        # The job's prints come first, as they would in one terminal stream.
        sys.stdout.flush()
        out.flush()
    return 0


def _exit_code(exc: SystemExit, out: TextIO) -> int:
    """Mirror the interpreter: None is success, an int is the status, anything else is printed."""
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    out.write(f"{code}\n")
    return 1


def _explain_missing_name(exc: BaseException) -> None:
    """Add a note when ``from pyflink.x import Name`` fails because Volley lacks ``Name``.

    Python's message talks about ``volley.x`` (the module object really is Volley's), which
    would puzzle someone who wrote ``pyflink.x``.
    """
    if type(exc) is not ImportError or not exc.name or exc.name.split(".")[0] != "volley":
        return
    message = str(exc)
    if not message.startswith("cannot import name"):
        return
    pyflink_name = pyflink_alias.ALIAS + exc.name[len(pyflink_alias.TARGET) :]
    exc.add_note(
        f"Volley does not provide this name in {pyflink_name!r} yet "
        f"({pyflink_name!r} is served by {exc.name!r})."
    )
