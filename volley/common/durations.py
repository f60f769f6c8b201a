"""Flink's duration and memory-size settings as text: ``10 s``, ``500ms``, ``1 min``, ``PT10S``."""

from __future__ import annotations

import re

from volley.errors import ConfigurationError

_UNITS_MS = {
    "": 1, "ms": 1, "milli": 1, "millis": 1, "millisecond": 1, "milliseconds": 1,
    "s": 1000, "sec": 1000, "secs": 1000, "second": 1000, "seconds": 1000,
    "min": 60_000, "m": 60_000, "mins": 60_000, "minute": 60_000, "minutes": 60_000,
    "h": 3_600_000, "hour": 3_600_000, "hours": 3_600_000,
    "d": 86_400_000, "day": 86_400_000, "days": 86_400_000,
}
_ISO = re.compile(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?", re.IGNORECASE)


def parse_duration_ms(text: str | int | float, key: str) -> int:
    """Milliseconds of a Flink duration (a bare number is milliseconds).

    >>> parse_duration_ms("10 s", "k"), parse_duration_ms("1min", "k"), parse_duration_ms(250, "k")
    (10000, 60000, 250)
    """
    if isinstance(text, int | float):
        return int(text)
    value = text.strip()
    iso = _ISO.fullmatch(value)
    if iso and value.upper() != "PT":
        hours, minutes, seconds = (float(g) if g else 0.0 for g in iso.groups())
        return int(round((hours * 3600 + minutes * 60 + seconds) * 1000))
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([a-zA-Z]*)", value)
    if not match or match.group(2).lower() not in _UNITS_MS:
        raise ConfigurationError(
            f"{key!r} is not a duration; expected e.g. '10 s', '500 ms', '1 min' or a number "
            f"of milliseconds, got {text!r}"
        )
    return int(float(match.group(1)) * _UNITS_MS[match.group(2).lower()])
