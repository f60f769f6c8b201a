"""``ExplainDetail``: what ``explain()`` shows besides the plan (``pyflink.table.ExplainDetail``).

Volley shows ``CHANGELOG_MODE`` (streaming mode: each node's row kinds, as Flink prints them);
the others are accepted with a warning, the plan printed without them.
"""

from __future__ import annotations

from enum import Enum


class ExplainDetail(Enum):
    ESTIMATED_COST = 0
    CHANGELOG_MODE = 1
    JSON_EXECUTION_PLAN = 2
    PLAN_ADVICE = 3
