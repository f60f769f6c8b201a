"""Reading typed values out of a table's string options, with errors that name the table.

Every connector option arrives as a string (``'csv.ignore-parse-errors' = 'true'``). These helpers
parse them once, when the source or sink is created, so a typo fails before any data moves.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from volley.connectors.base import TableSpec
from volley.errors import ConnectorError

_TRUE = {"true"}
_FALSE = {"false"}


class TableOptions:
    """The options of one table, read with type checks and helpful errors."""

    def __init__(self, spec: TableSpec) -> None:
        self.spec = spec
        self.raw = spec.options

    def __contains__(self, key: str) -> bool:
        return key in self.raw

    def _shown_key(self, key: str) -> str:
        """The key as the user wrote it, so a legacy table's error names its legacy key."""
        from volley.connectors.registry import LEGACY_MARKER, legacy_key_for

        return legacy_key_for(key, self.spec.raw_options, LEGACY_MARKER in self.raw)

    def shown_key(self, key: str) -> str:
        return self._shown_key(key)

    def require(self, key: str) -> str:
        if key not in self.raw:
            shown = self._shown_key(key)
            given = sorted(self.spec.raw_options or self.raw)
            raise ConnectorError(
                f"table {self.spec.name!r} is missing the required option {shown!r}; "
                f"expected it in the WITH clause, got options {given}; "
                f"add e.g. '{shown}' = '...'"
            )
        return self.raw[key]

    def get_str(self, key: str, default: str | None = None) -> str | None:
        return self.raw.get(key, default)

    def get_bool(self, key: str, default: bool) -> bool:
        value = self.raw.get(key)
        if value is None:
            return default
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ConnectorError(
            f"option {self._shown_key(key)!r} of table {self.spec.name!r} is not a boolean; "
            f"expected 'true' or 'false', got {value!r}"
        )

    def get_int(self, key: str, default: int | None, minimum: int | None = None) -> int | None:
        value = self.raw.get(key)
        if value is None:
            return default
        try:
            number = int(value.strip())
        except ValueError:
            number = None
        if number is None or (minimum is not None and number < minimum):
            lower = "an integer" if minimum is None else f"an integer >= {minimum}"
            raise ConnectorError(
                f"option {self._shown_key(key)!r} of table {self.spec.name!r} is invalid; "
                f"expected {lower}, got {value!r}"
            )
        return number

    def get_float(self, key: str, default: float | None) -> float | None:
        value = self.raw.get(key)
        if value is None:
            return default
        try:
            return float(value.strip())
        except ValueError:
            raise ConnectorError(
                f"option {self._shown_key(key)!r} of table {self.spec.name!r} is invalid; "
                f"expected a number, got {value!r}"
            ) from None

    def get_char(self, key: str, default: str) -> str:
        """A single character option; ``\\t`` written as two characters counts as a tab."""
        value = self.raw.get(key, default)
        unescaped = unescape(value)
        if len(unescaped) != 1:
            raise ConnectorError(
                f"option {self._shown_key(key)!r} of table {self.spec.name!r} must be a single "
                f"character; expected e.g. ',' or '\\t', got {value!r}"
            )
        return unescaped

    def check_known(self, known: Iterable[str], prefixes: Iterable[str] = ()) -> None:
        """Reject keys that are neither in ``known`` nor start with one of ``prefixes``."""
        known_set = set(known)
        prefix_list = tuple(prefixes)
        for key in self.raw:
            if key in known_set or key.startswith(prefix_list) or key.startswith("volley."):
                continue
            close = difflib.get_close_matches(key, sorted(known_set), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ConnectorError(
                f"unsupported option {key!r} for connector {self.raw.get('connector')!r} of table "
                f"{self.spec.name!r}; {hint}expected one of: {', '.join(sorted(known_set))}"
            )


_ESCAPES = {"\\t": "\t", "\\n": "\n", "\\r": "\r", "\\\\": "\\", "\\0": "\0", "\\u0001": "\x01"}


def unescape(value: str) -> str:
    """Turn a two-character escape such as ``\\t`` (as SQL text carries it) into its character."""
    return _ESCAPES.get(value, value)
