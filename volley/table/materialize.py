"""A changelog applied: the table an updating result ends as.

``to_pandas()``/``to_arrow()`` of a streaming query return the final rows, as PyFlink's
``to_pandas`` does: ``+I``/``+U`` rows add, ``-U``/``-D`` rows remove. Without an upsert key a
row is removed by value (one equal copy), and the rows come out in the order PyFlink's
``LinkedHashMultiset`` keeps them: by when a value last appeared anew, its copies together.
With an upsert key a row replaces the key's row and a retraction deletes the key, so an upsert
stream (``+U`` without ``-U``) materializes too. One pass of numpy over the whole changelog.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from volley.common.changelog import DELETE, ROW_KIND_COLUMN, UPDATE_BEFORE


def materialize(changelog: pa.Table, upsert_key: tuple[int, ...] | None = None) -> pa.Table:
    """The final table of ``changelog`` (its last column ``__row_kind``), without that column.
    ``upsert_key``: the columns that key its rows (an empty tuple: at most one row)."""
    rows = changelog.drop_columns([ROW_KIND_COLUMN])
    if changelog.num_rows == 0:
        return rows
    kinds = changelog.column(ROW_KIND_COLUMN).to_numpy()
    adds = (kinds != UPDATE_BEFORE) & (kinds != DELETE)
    ids = _key_ids(rows, upsert_key)
    by_key = np.argsort(ids, kind="stable")  # each key's changes, in order
    key, add = ids[by_key], adds[by_key]
    first = np.ones(len(key), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    starts = np.flatnonzero(first)
    lasts = np.append(starts[1:], len(key)) - 1
    if upsert_key is None:  # a multiset of values: counts
        sign = np.where(add, 1, -1)
        running = np.cumsum(sign)
        count = running - np.repeat(running[starts] - sign[starts], np.diff(np.append(starts,
                                                                                   len(key))))
        appeared = add & (count == 1)
        copies = np.maximum(count[lasts], 0)
    else:  # the key's latest row, if its last change added one
        previous_add = np.concatenate([[False], add[:-1]]) & ~first
        appeared = add & ~previous_add
        copies = add[lasts].astype(np.int64)
    position = np.where(appeared, by_key, -1)
    since = np.maximum.reduceat(position, starts)  # when each key's row last appeared anew
    kept = copies > 0
    order = np.argsort(since[kept], kind="stable")
    source = by_key[lasts][kept][order]  # the key's latest row (an equal value, by value)
    return rows.take(pa.array(np.repeat(source, copies[kept][order])))


def _key_ids(rows: pa.Table, upsert_key: tuple[int, ...] | None) -> np.ndarray:
    """A dense id per distinct key (every column when there is no upsert key); NULLs equal."""
    from volley.state import KeyIndex

    columns = list(range(rows.num_columns)) if upsert_key is None else list(upsert_key)
    if not columns:
        return np.zeros(rows.num_rows, dtype=np.int64)
    keys = [_comparable(rows.column(i).combine_chunks()) for i in columns]
    return KeyIndex([k.type for k in keys]).ids(keys)


def _comparable(column: pa.Array) -> pa.Array:
    """A nested column (list, map, struct) as its stable structural hash: the key index takes
    flat values only."""
    t = column.type
    if not (pa.types.is_nested(t) or pa.types.is_map(t)):
        return column
    from volley.state import hash_columns

    return pa.array(hash_columns([column]), pa.uint64(), mask=column.is_null().to_numpy(
        zero_copy_only=False))
