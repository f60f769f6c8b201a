"""Key columns as plain numpy data: the one normalization that hashing and the key index share.

A key is hashed and compared by its value, not by how Arrow happens to store it: an int32 5 and
an int64 5 are the same key (the two sides of a join may differ in width), -0.0 is 0.0, every
NaN is one NaN (SQL groups them together), a dictionary-encoded column is its decoded values and
a string equals the binary of its bytes. Normalizing once gives one of two shapes:

* ``Words``: a fixed-width value as ``k`` uint64 words per row: integers, dates, times,
  timestamps, durations and booleans as their int64 value; floats as the bits of a float64;
  decimals as the two's complement of their unscaled value (two words for decimal128);
* ``Bytes``: strings and binaries as a byte buffer with a start and a length per row.

NULL rows have all-zero words or a zero length, and are flagged in ``nulls``. Nested types
(struct, list, map) have no encoding here: ``key_groups`` hashes them structurally, and the key
index does not take them as keys.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from volley.errors import UnsupportedFeatureError


@dataclass(frozen=True)
class Words:
    """Fixed-width keys: ``words`` is (n, k) uint64, zero on NULL rows."""

    words: np.ndarray
    nulls: np.ndarray | None  # bool per row, None when no row is NULL


@dataclass(frozen=True)
class Bytes:
    """Variable-width keys: row ``i`` is ``data[starts[i]:starts[i] + lengths[i]]``."""

    data: np.ndarray  # uint8
    starts: np.ndarray  # int64
    lengths: np.ndarray  # int64, zero on NULL rows
    nulls: np.ndarray | None


def gather_runs(data: np.ndarray, starts: np.ndarray,
                lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The runs ``data[starts[i]:starts[i] + lengths[i]]`` packed one after another, and the
    start of each run in the packing: a slice when the runs already follow each other (a
    batch's own rows, in order), else one fancy index over their total length."""
    packed = np.cumsum(lengths) - lengths
    total = int(packed[-1] + lengths[-1]) if len(lengths) else 0
    if len(starts) and np.array_equal(starts - starts[0], packed):
        first = int(starts[0])
        return data[first : first + total], packed
    index = np.repeat(starts - packed, lengths) + np.arange(total, dtype=np.int64)
    return data[index], packed


def null_mask(column: pa.Array) -> np.ndarray | None:
    if column.null_count == 0:
        return None
    return column.is_null().to_numpy(zero_copy_only=False)


def is_words_type(t: pa.DataType) -> bool:
    return (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)
            or pa.types.is_temporal(t) and not pa.types.is_interval(t)
            or pa.types.is_decimal(t) or pa.types.is_null(t))


def is_bytes_type(t: pa.DataType) -> bool:
    return (pa.types.is_string(t) or pa.types.is_binary(t) or pa.types.is_large_string(t)
            or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t)
            or pa.types.is_string_view(t) or pa.types.is_binary_view(t))


def word_count(t: pa.DataType) -> int:
    """uint64 words per value of a ``Words`` type: more than one for wide decimals only."""
    return t.bit_width // 64 if pa.types.is_decimal(t) and t.bit_width > 64 else 1


def value_type(t: pa.DataType) -> pa.DataType:
    """The type a key column is compared as: a dictionary's value type, else itself."""
    return t.value_type if pa.types.is_dictionary(t) else t


def encode_column(column: pa.Array | pa.ChunkedArray) -> Words | Bytes:
    """``column`` normalized (see the module docstring); raises for nested types."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    t = column.type
    if is_bytes_type(t):
        return _encode_bytes(column)
    if is_words_type(t):
        return _encode_words(column)
    raise UnsupportedFeatureError(
        f"a key column of type {t} cannot be used as a state key; expected a scalar type "
        f"(integer, floating, boolean, decimal, temporal, string or binary), got {t}")


def _fixed_view(column: pa.Array, dtype: np.dtype) -> np.ndarray:
    """The values of a fixed-width column as numpy, without copying (read-only)."""
    buffer = column.buffers()[1]
    return np.frombuffer(buffer, dtype=dtype, count=len(column),
                         offset=column.offset * dtype.itemsize)


def _encode_words(column: pa.Array) -> Words:
    t, n = column.type, len(column)
    nulls = null_mask(column)
    if pa.types.is_null(t) or n == 0:
        nulls = np.ones(n, dtype=bool) if n else None
        return Words(np.zeros((n, word_count(t)), dtype=np.uint64), nulls)
    if pa.types.is_boolean(t):
        values = pc.fill_null(column, False).to_numpy(zero_copy_only=False).astype(np.uint64)
        return Words(values.reshape(n, 1), nulls)
    if pa.types.is_floating(t):
        floats = _fixed_view(column, np.dtype(f"f{t.bit_width // 8}")).astype(np.float64)
        floats[floats == 0] = 0.0  # -0.0 is 0.0
        floats[np.isnan(floats)] = np.nan  # one NaN
        words = floats.view(np.uint64)
    elif word_count(t) > 1:
        k = word_count(t)
        flat = np.frombuffer(column.buffers()[1], dtype=np.uint64, count=n * k,
                             offset=column.offset * k * 8)
        words = flat.reshape(n, k).copy()
        if nulls is not None:
            words[nulls] = 0
        return Words(words, nulls)
    else:  # integers, temporals, small decimals: their int64 value
        signed = not (pa.types.is_unsigned_integer(t))
        dtype = np.dtype(f"{'i' if signed else 'u'}{t.bit_width // 8}")
        words = _fixed_view(column, dtype).astype(np.int64).view(np.uint64)
    if nulls is not None:
        words[nulls] = 0
    return Words(words.reshape(n, 1), nulls)


def _encode_bytes(column: pa.Array) -> Bytes:
    t = column.type
    if not (pa.types.is_string(t) or pa.types.is_binary(t)
            or pa.types.is_large_string(t) or pa.types.is_large_binary(t)):
        column = column.cast(pa.large_binary())
        t = column.type
    n = len(column)
    width = np.int64 if (pa.types.is_large_string(t) or pa.types.is_large_binary(t)) else np.int32
    buffers = column.buffers()
    if n == 0:
        empty = np.empty(0, dtype=np.int64)
        return Bytes(np.empty(0, dtype=np.uint8), empty, empty, None)
    offsets = np.frombuffer(buffers[1], dtype=width, count=n + 1,
                            offset=column.offset * np.dtype(width).itemsize).astype(np.int64)
    data = (np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None
            else np.empty(0, dtype=np.uint8))
    lengths = np.diff(offsets)
    nulls = null_mask(column)
    if nulls is not None:
        lengths[nulls] = 0
    return Bytes(data, offsets[:-1], lengths, nulls)
