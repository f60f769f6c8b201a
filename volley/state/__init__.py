"""Volley's state layer: what survives a crash, and where it lives.

It owns keyed columnar state (``KeyedTable``: values per key in numpy columns indexed by dense
key ids, updated a batch at a time), the stable key hash and key-group ranges that let keyed
state move between parallelisms (``key_groups``), timers as keyed state (``TimerService``),
a subtask's non-keyed state (``OperatorState``) and checkpoints on any ``pyarrow.fs``
filesystem (``CheckpointStorage``). Every snapshot is a ``pyarrow.Table``.

It may import ``volley.common``, ``volley.errors``, pyarrow and numpy only: operators and
runners use it, never the other way round.
"""

import importlib
from typing import TYPE_CHECKING, Any

#: public name -> the module defining it; each module is imported at the first read of one of
#: its names: a stateless job loads none of them, a job without checkpoints no pyarrow.fs
_EXPORTS = {
    "DEFAULT_MAX_PARALLELISM": "key_hashing",
    "KeyGroupRange": "key_hashing",
    "hash_columns": "key_hashing",
    "key_group_range": "key_hashing",
    "key_groups": "key_hashing",
    "subtask_of_key_groups": "key_hashing",
    "CheckpointError": "checkpoint_storage",
    "CheckpointStorage": "checkpoint_storage",
    "StateFile": "checkpoint_storage",
    "resolve_restore_path": "checkpoint_storage",
    "KeyIndex": "key_index",
    "KEY_GROUP_COLUMN": "keyed_table",
    "KeyedTable": "keyed_table",
    "ValueColumn": "keyed_table",
    "SUBTASK_COLUMN": "operator_state",
    "OperatorState": "operator_state",
    "TimerService": "timers",
}

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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'volley.state' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"volley.state.{module}"), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from volley.state.checkpoint_storage import (
        CheckpointError,
        CheckpointStorage,
        StateFile,
        resolve_restore_path,
    )
    from volley.state.key_hashing import (
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
