"""Entry point of the ``volley`` command (``volley.cli.main:main`` in pyproject.toml).

``volley run job.py [args...]`` runs a PyFlink program unchanged; ``volley sql`` runs Flink SQL
statements. Subcommand modules are imported only when chosen, so a broken engine cannot break
``volley --version`` or ``volley --help``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import volley


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; separate from ``main`` so tests and docs can inspect it."""
    parser = argparse.ArgumentParser(
        prog="volley",
        description="Run PyFlink Table API programs and Flink SQL on Volley, without a JVM.",
    )
    parser.add_argument("--version", action="version", version=f"volley {volley.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="run a PyFlink program, with its pyflink imports served by Volley",
        description="Run a PyFlink program unchanged: `import pyflink...` resolves to Volley.",
    )
    run.add_argument(
        "--full-traceback",
        action="store_true",
        help="show Volley's internal frames when a Volley error is raised",
    )
    run.add_argument(
        "-s", "--from-checkpoint",
        metavar="PATH",
        help="restore the job from a checkpoint: one checkpoint directory (chk-N), or the "
        "checkpoints directory, whose latest complete checkpoint is used",
    )
    run.add_argument(
        "-D",
        dest="settings",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a configuration setting for every job of the program, e.g. "
        "-D parallelism.default=2 (the program's own settings win)",
    )
    run.add_argument("script", help="the Python file to run (the job)")
    run.add_argument(
        "args", nargs=argparse.REMAINDER, help="arguments passed to the job as sys.argv[1:]"
    )

    sql = commands.add_parser(
        "sql",
        help="run Flink SQL statements",
        description="Run `;`-separated Flink SQL statements; query results are printed.",
    )
    source = sql.add_mutually_exclusive_group(required=True)
    source.add_argument("-f", "--file", help="SQL script to run ('-' reads standard input)")
    source.add_argument("-e", "--execute", help="SQL statements to run, separated by ';'")
    sql.add_argument(
        "--streaming",
        action="store_true",
        help="run in streaming mode (default: batch mode)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: ``sys.argv[1:]``), run the subcommand, return the exit status."""
    parser = build_parser()
    args = parser.parse_args(list(argv) if argv is not None else sys.argv[1:])
    if args.command == "run":
        from volley.cli.run import run_script

        defaults = {}
        for item in args.settings:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                print(f"error: -D expects KEY=VALUE; got {item!r}", file=sys.stderr)
                return 2
            defaults[key.strip()] = value.strip()
        if args.from_checkpoint:
            defaults["execution.state-recovery.path"] = args.from_checkpoint
        return run_script(args.script, list(args.args), full_traceback=args.full_traceback,
                          defaults=defaults)
    if args.command == "sql":
        from volley.cli.sql import read_script, run_sql

        try:
            script = read_script(args.file, args.execute)
        except OSError as exc:
            print(f"error: cannot read SQL script: {exc}", file=sys.stderr)
            return 2
        return run_sql(script, streaming=args.streaming)
    parser.print_help(sys.stderr)
    return 2
