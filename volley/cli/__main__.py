"""Makes ``python -m volley.cli`` behave like the ``volley`` console script."""

from volley.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
