"""Volley: a Python stream and batch processing engine with PyFlink's API and no JVM.

Import from the PyFlink-shaped modules: ``volley.table``, ``volley.datastream``, ``volley.common``.

Importing Volley installs a ``sys.excepthook`` that prints an uncaught ``VolleyError`` with the
user's own frames only (a failing UDF shows the user's line first); other exceptions and
``VOLLEY_FULL_TRACEBACK=1`` keep Python's usual traceback.
"""

import os
import sys

from volley.errors import VolleyError

__version__ = "0.1.0"

__all__ = ["VolleyError", "__version__"]


def _install_excepthook() -> None:
    previous = sys.excepthook

    def hook(exc_type, exc, tb):  # type: ignore[no-untyped-def]
        if isinstance(exc, VolleyError) and not os.environ.get("VOLLEY_FULL_TRACEBACK"):
            from volley.cli.tracebacks import report_volley_error

            report_volley_error(exc, sys.stderr)
            return
        previous(exc_type, exc, tb)

    if getattr(sys.excepthook, "__module__", None) != __name__:
        sys.excepthook = hook


_install_excepthook()
