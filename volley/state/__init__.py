"""Volley's state layer: what survives a crash, and where it lives.

It owns keyed columnar state (``KeyedTable``: values per key in numpy columns indexed by dense
key ids, updated a batch at a time), the stable key hash and key-group ranges that let keyed
state move between parallelisms (``key_groups``), timers as keyed state (``TimerService``),
a subtask's non-keyed state (``OperatorState``) and checkpoints on any ``pyarrow.fs``
filesystem (``CheckpointStorage``). Every snapshot is a ``pyarrow.Table``.

It may import ``volley.common``, ``volley.errors``, pyarrow and numpy only: operators and
runners use it, never the other way round.
"""

from volley.state.checkpoint_storage import (
    CheckpointError,
    CheckpointStorage,
    StateFile,
    resolve_restore_path,
)
from volley.state.key_groups import (
    DEFAULT_MAX_PARALLELISM,
    KeyGroupRange,
    hash_columns,
    key_group_range,
    key_groups,
    subtask_of_key_groups,
)
from volley.state.key_index import KeyIndex
from volley.state.keyed_table import KEY_GROUP_COLUMN, KeyedTable, ValueColumn
from volley.state.operator_state import SUBTASK_COLUMN, OperatorState
from volley.state.timers import TimerService

__all__ = [
    "DEFAULT_MAX_PARALLELISM",
    "KEY_GROUP_COLUMN",
    "SUBTASK_COLUMN",
    "CheckpointError",
    "CheckpointStorage",
    "KeyGroupRange",
    "KeyIndex",
    "KeyedTable",
    "OperatorState",
    "StateFile",
    "TimerService",
    "ValueColumn",
    "hash_columns",
    "key_group_range",
    "key_groups",
    "resolve_restore_path",
    "subtask_of_key_groups",
]
