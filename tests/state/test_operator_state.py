"""OperatorState: own rows back at the same parallelism, round-robin at another."""

from __future__ import annotations

import pyarrow as pa
import pytest

from volley.state.operator_state import SUBTASK_COLUMN, OperatorState

SCHEMA = pa.schema([("split", pa.string()), ("position", pa.int64())])


def _snapshots(parallelism: int, rows_per_subtask: list[int]) -> list[pa.Table]:
    snaps = []
    for subtask, n in enumerate(rows_per_subtask):
        state = OperatorState(SCHEMA, subtask, parallelism)
        state.set(pa.table({"split": [f"s{subtask}-{i}" for i in range(n)],
                            "position": list(range(n))}, schema=SCHEMA))
        snaps.append(state.snapshot())
    return snaps


def test_same_parallelism_gives_each_subtask_its_own_rows():
    snaps = _snapshots(3, [2, 0, 3])
    assert snaps[0].column_names == ["split", "position", SUBTASK_COLUMN]
    assert snaps[0].schema.field(SUBTASK_COLUMN).type == pa.int32()
    for subtask, expected in enumerate([["s0-0", "s0-1"], [], ["s2-0", "s2-1", "s2-2"]]):
        state = OperatorState(SCHEMA)
        state.restore(list(reversed(snaps)), subtask, 3)
        assert state.get().column("split").to_pylist() == expected
        assert state.get().schema == SCHEMA
        assert (state.subtask, state.parallelism) == (subtask, 3)


@pytest.mark.parametrize("new_parallelism", [1, 2, 4])
def test_other_parallelism_deals_rows_round_robin(new_parallelism):
    snaps = _snapshots(3, [2, 0, 3])
    all_rows = ["s0-0", "s0-1", "s2-0", "s2-1", "s2-2"]
    got = []
    for subtask in range(new_parallelism):
        state = OperatorState(SCHEMA, subtask, new_parallelism)
        state.restore(snaps[::-1])  # the order of the files does not matter
        rows = state.get().column("split").to_pylist()
        assert rows == all_rows[subtask::new_parallelism]
        got.extend(rows)
    assert sorted(got) == all_rows


def test_empty_and_invalid():
    state = OperatorState(SCHEMA, 1, 2)
    assert state.get().num_rows == 0 and state.get().schema == SCHEMA
    state.restore([])
    assert state.get().num_rows == 0
    with pytest.raises(ValueError, match="reserved"):
        state.set(pa.table({SUBTASK_COLUMN: [1]}))
    with pytest.raises(ValueError, match="not an operator state snapshot"):
        state.restore([pa.table({"split": ["x"]})])
    with pytest.raises(ValueError, match="subtask index out of range"):
        OperatorState(SCHEMA, 2, 2)
    with pytest.raises(ValueError, match="different runs"):
        state.restore(_snapshots(2, [1, 1]) + _snapshots(3, [1]))
