"""Report a failed job the way its author needs to read it.

A PyFlink user gets Java stack traces; a Volley user should get their own lines. For a Volley error
(a ``VolleyError``: the user built something invalid) we print only the frames from user code and
the message, ``error: <message>``. Volley's internals, the standard library and site-packages are
left out: the fix is in the user's file. Any other exception is a plain Python traceback, minus the
frames of the CLI itself, so it reads exactly as ``python job.py`` would have printed it.
"""

from __future__ import annotations

import os
import sysconfig
import traceback
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import TextIO

from volley.errors import VolleyError

_VOLLEY_DIR = Path(__file__).resolve().parent.parent
_ALIAS_FILE = str(Path(__file__).resolve().with_name("pyflink_alias.py"))


def _library_dirs() -> tuple[str, ...]:
    """Directories whose frames are never user code: Volley, stdlib, site-packages."""
    paths = sysconfig.get_paths()
    dirs = {str(_VOLLEY_DIR)}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        if key in paths:
            dirs.add(str(Path(paths[key]).resolve()))
    return tuple(sorted(dirs))


def is_user_frame(filename: str, library_dirs: Iterable[str] | None = None) -> bool:
    """True for a frame in the user's code, False for Volley, libraries and frozen modules."""
    if filename.startswith("<"):  # <frozen runpy>, <string>, <stdin>
        return False
    resolved = os.path.realpath(filename)
    for root in library_dirs if library_dirs is not None else _library_dirs():
        if resolved == root or resolved.startswith(root + os.sep):
            return False
    return True


def strip_leading_frames(tb: TracebackType | None, script: str) -> TracebackType | None:
    """Drop the CLI and ``runpy`` frames in front of the first frame of ``script``.

    Returns ``tb`` unchanged if the script never appears (the error happened before it ran).
    """
    target = os.path.realpath(script)
    cursor = tb
    while cursor is not None:
        if os.path.realpath(cursor.tb_frame.f_code.co_filename) == target:
            return cursor
        cursor = cursor.tb_next
    return tb


def format_user_frames(tb: TracebackType | None) -> list[str]:
    """Format only the user's frames of a traceback, Python-style."""
    library_dirs = _library_dirs()
    frames = [
        frame for frame in traceback.extract_tb(tb) if is_user_frame(frame.filename, library_dirs)
    ]
    return traceback.format_list(frames) if frames else []


def report_volley_error(exc: VolleyError, out: TextIO) -> None:
    """Print a Volley error as user frames plus ``error: <message>``, the message last.

    A chained cause that is not itself a Volley error (the user's exception inside a UDF) is
    printed first with its own user frames, as Python prints a cause above its consequence,
    because that is where the bug is.
    """
    cause = exc.__cause__
    if cause is not None and not isinstance(cause, VolleyError):
        cause_frames = format_user_frames(cause.__traceback__)
        if cause_frames:
            out.write("Traceback (most recent call last; library frames hidden):\n")
            out.writelines(cause_frames)
        out.writelines(traceback.format_exception_only(type(cause), cause))
        out.write("\nThe above exception was the direct cause of the following error:\n\n")
    frames = format_user_frames(exc.__traceback__)
    if frames:
        out.write("Traceback (most recent call last; Volley internals hidden):\n")
        out.writelines(frames)
    out.write(f"error: {exc}\n")
    for note in getattr(exc, "__notes__", ()):
        out.write(f"  {note}\n")


def report_exception(exc: BaseException, script: str, out: TextIO) -> None:
    """Print any other exception as Python would have for ``python script``.

    The frames of the pyflink alias finder are dropped from the end too: Python hides its own
    import machinery from tracebacks, and the alias is part of that machinery here.
    """
    tb = strip_leading_frames(exc.__traceback__, script)
    report = traceback.TracebackException(type(exc), exc, tb)
    while report.stack and os.path.realpath(report.stack[-1].filename) == _ALIAS_FILE:
        report.stack.pop()
    out.writelines(report.format())
