"""Command line: ``volley run job.py`` and ``volley sql``.

This layer sits on top of everything: it may import the public API (``volley.table``) but nothing
imports it. Heavy imports happen inside the subcommands, so ``volley --version`` and the pyflink
alias work even when the engine itself cannot be imported.
"""

__all__: list[str] = []
