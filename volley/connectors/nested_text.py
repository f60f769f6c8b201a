"""Assembling text for nested values (ARRAY, MAP, ROW) a column at a time.

Both the json format and the print connector render a list column as its elements' text joined
per row; this does that with Arrow kernels: flatten, render the elements, regroup by offsets, join.
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc


def offsets_of(lists: pa.Array) -> pa.Array:
    """Offsets into ``pc.list_flatten(lists)`` (null lists count as empty)."""
    lengths = pc.fill_null(pc.list_value_length(lists), 0)
    return pa.concat_arrays(
        [pa.array([0], pa.int32()), pc.cumulative_sum(lengths).cast(pa.int32())]
    )


def join_lists(
    lists: pa.Array,
    render: Callable[[pa.Array], pa.Array],
    separator: str,
    opening: str,
    closing: str,
) -> pa.Array:
    """``opening + separator.join(render(elements)) + closing`` per row; null rows stay null."""
    flat = pc.list_flatten(lists)
    texts = render(flat)
    regrouped = pa.ListArray.from_arrays(offsets_of(lists), texts, mask=pc.is_null(lists))
    joined = pc.binary_join(regrouped, separator)
    return pc.binary_join_element_wise(opening, joined, closing, "")


def _as_list(maps: pa.Array) -> pa.Array:
    entry = pa.struct(
        [
            pa.field("key", maps.type.key_type, nullable=False),
            pa.field("value", maps.type.item_type),
        ]
    )
    return maps.cast(pa.list_(pa.field("entries", entry, nullable=False)))


def join_map(
    maps: pa.Array,
    render_key: Callable[[pa.Array], pa.Array],
    render_value: Callable[[pa.Array], pa.Array],
    pair: str,
    separator: str,
    opening: str,
    closing: str,
) -> pa.Array:
    lists = _as_list(maps)
    entries = pc.list_flatten(lists)
    keys, values = entries.field(0), entries.field(1)
    pairs = pc.binary_join_element_wise(render_key(keys), render_value(values), pair)
    regrouped = pa.ListArray.from_arrays(offsets_of(lists), pairs, mask=pc.is_null(lists))
    joined = pc.binary_join(regrouped, separator)
    return pc.binary_join_element_wise(opening, joined, closing, "")
