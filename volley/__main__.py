"""``python -m volley``: the ``volley`` command line."""

from volley.cli.main import main

raise SystemExit(main())
