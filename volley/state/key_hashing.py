"""Stable key hashing and key groups, with Flink's ``KeyGroupRangeAssignment`` semantics.

A row's key group is ``hash(key) % max_parallelism``; subtask ``i`` of ``p`` owns a contiguous
range of key groups, so keyed state written at one parallelism can be split or merged by key
group when the job restarts at another. That only works if the hash is the same in every process,
every run and every Volley version: a key hashed into group 17 by yesterday's job must land in 17
today. So the hash is spelled out here in numpy uint64 arithmetic and pinned by golden values in
the tests; Python's ``hash()`` (salted per process for strings) is never used, and changing
anything below breaks every existing checkpoint.

The hash of one value (see ``key_encoding`` for how values are normalized first):

* fixed width (integers, temporals, booleans, floats, decimals): ``fmix64`` of the first uint64
  word, then ``fmix64(h * PRIME + word)`` for each further word;
* strings and binaries: ``fmix64(sum(byte[i] * PRIME**i) + length * LENGTH_MULT)`` over the
  bytes ``i = 0..length-1``, all modulo 2**64;
* lists and maps: the same polynomial over the hashes of their elements (a map is its list of
  key/value structs);
* structs: their fields' hashes combined like several key columns;
* NULL (at any level): the constant ``NULL_HASH``.

Several key columns combine left to right: ``h = fmix64(h * PRIME + hash(next column))``.
Everything is vectorized: the polynomial is a prefix sum over the batch's bytes, differenced at
the row boundaries, so no Python runs per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from volley.state.key_encoding import (
    Bytes,
    Words,
    encode_column,
    gather_runs,
    is_bytes_type,
    is_words_type,
)

DEFAULT_MAX_PARALLELISM = 128

PRIME = np.uint64(0x100000001B3)  # the 64-bit FNV prime: odd, so multiplying is a bijection
LENGTH_MULT = np.uint64(0x9E3779B97F4A7C15)  # 2**64 / golden ratio
NULL_HASH = np.uint64(0x6A09E667F3BCC909)  # fractional bits of sqrt(2)
_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)


def fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finalizer: a bijection that spreads every input bit over the output,
    so sequential integers land in uniformly spread key groups. Returns a new array."""
    with np.errstate(over="ignore"):
        h = h ^ (h >> _S33)
        h = h * _M1
        h ^= h >> _S33
        h *= _M2
        h ^= h >> _S33
    return h


def combine(h: np.ndarray, nxt: np.ndarray) -> np.ndarray:
    """The hash of a tuple extended by one more component."""
    with np.errstate(over="ignore"):
        return fmix64(h * PRIME + nxt)


def hash_columns(columns: Sequence[pa.Array | pa.ChunkedArray]) -> np.ndarray:
    """The stable hash (uint64) of each row's key tuple ``columns``; see the module docstring."""
    if not columns:
        raise ValueError("hash_columns needs at least one key column; got none")
    lengths = {len(c) for c in columns}
    if len(lengths) != 1:
        raise ValueError(f"key columns differ in length; expected one length, got {sorted(lengths)}")
    h = hash_column(columns[0])
    for column in columns[1:]:
        h = combine(h, hash_column(column))
    return h


def hash_column(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """The stable hash (uint64) of each value of one column."""
    if isinstance(column, pa.ChunkedArray):
        if column.num_chunks == 0:
            return np.empty(0, dtype=np.uint64)
        return np.concatenate([hash_column(chunk) for chunk in column.chunks])
    t = column.type
    if pa.types.is_dictionary(t):
        return _hash_dictionary(column)
    if is_words_type(t) or is_bytes_type(t):
        return hash_encoded(encode_column(column))
    if pa.types.is_struct(t):
        return _hash_struct(column)
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_map(t):
        offsets = np.asarray(column.offsets, dtype=np.int64)
        values = column.values.slice(offsets[0], offsets[-1] - offsets[0])
        return _with_nulls(_polynomial(hash_column(values), offsets - offsets[0]), column)
    if pa.types.is_fixed_size_list(t):
        size = t.list_size
        offsets = np.arange(len(column) + 1, dtype=np.int64) * size
        values = column.values.slice(column.offset * size, len(column) * size)
        return _with_nulls(_polynomial(hash_column(values), offsets), column)
    if pa.types.is_list_view(t) or pa.types.is_large_list_view(t):
        return hash_column(column.cast(pa.large_list(t.value_type)))
    raise TypeError(f"cannot hash a key column of type {t}")


def hash_encoded(encoded: Words | Bytes) -> np.ndarray:
    """The hash of a normalized column (the key index hashes what it stores this way)."""
    if isinstance(encoded, Words):
        words = encoded.words
        h = fmix64(words[:, 0])
        for j in range(1, words.shape[1]):
            h = combine(h, words[:, j])
    else:
        lengths = encoded.lengths
        elements, starts = gather_runs(encoded.data, encoded.starts, lengths)
        offsets = np.concatenate([starts, starts[-1:] + lengths[-1:]]) if len(starts) else \
            np.zeros(1, dtype=np.int64)
        h = _polynomial(elements, offsets)
    if encoded.nulls is not None:
        h[encoded.nulls] = NULL_HASH
    return h


_BLOCK = 1 << 16
_INVERSE = pow(int(PRIME), -1, 1 << 64)  # PRIME is odd, so it has an inverse modulo 2**64
_BLOCK_POWER = pow(int(PRIME), _BLOCK, 1 << 64)
_BLOCK_INVERSE = pow(_INVERSE, _BLOCK, 1 << 64)


def _power_table(base: int, n: int) -> np.ndarray:
    """``base**i`` modulo 2**64 for ``i < n``."""
    with np.errstate(over="ignore"):
        powers = np.cumprod(np.full(n, base, dtype=np.uint64), dtype=np.uint64)
    return np.concatenate([np.ones(1, dtype=np.uint64), powers[:-1]])


_POWERS = _power_table(int(PRIME), _BLOCK)
_INVERSE_POWERS = _power_table(_INVERSE, _BLOCK)


def _polynomial(elements: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Per row ``fmix64(sum(elements[o+i] * PRIME**i) + length * LENGTH_MULT)`` where row ``r``
    spans ``elements[offsets[r]:offsets[r+1]]``, packed (``offsets`` ascending, from 0).

    Each element is weighted by ``PRIME**g`` for its position ``g`` in the whole batch, summed
    by a prefix sum differenced at the row boundaries, and each row's sum is brought back to
    start at ``PRIME**0`` by ``PRIME**-start``: four passes over the elements, exact modulo
    2**64, empty rows included. Powers come from two tables of ``_BLOCK`` entries times a power
    per block."""
    lengths = np.diff(offsets)
    total = int(offsets[-1]) if len(offsets) else 0
    with np.errstate(over="ignore"):
        if total:
            blocks = -(-total // _BLOCK)
            terms = np.zeros((blocks, _BLOCK), dtype=np.uint64)
            terms.reshape(-1)[:total] = elements[:total]
            terms *= _POWERS
            terms *= _power_table(_BLOCK_POWER, blocks)[:, None]
            prefix = np.empty(total + 1, dtype=np.uint64)
            prefix[0] = 0
            np.cumsum(terms.reshape(-1)[:total], dtype=np.uint64, out=prefix[1:])
            starts = offsets[:-1]
            unshift = _power_table(_BLOCK_INVERSE, blocks + 1)
            sums = (prefix[offsets[1:]] - prefix[starts]) \
                * (unshift[starts // _BLOCK] * _INVERSE_POWERS[starts % _BLOCK])
        else:
            sums = np.zeros(len(lengths), dtype=np.uint64)
        return fmix64(sums + lengths.astype(np.uint64) * LENGTH_MULT)


def _with_nulls(h: np.ndarray, column: pa.Array) -> np.ndarray:
    if column.null_count:
        h[column.is_null().to_numpy(zero_copy_only=False)] = NULL_HASH
    return h


def _hash_dictionary(column: pa.DictionaryArray) -> np.ndarray:
    """Hash the dictionary once, then take: a dictionary column hashes like its values."""
    dictionary = hash_column(column.dictionary)
    indices = column.indices
    if indices.null_count:
        nulls = indices.is_null().to_numpy(zero_copy_only=False)
        positions = indices.fill_null(0).to_numpy(zero_copy_only=False)
        h = dictionary[positions] if len(dictionary) else np.zeros(len(column), np.uint64)
        h[nulls] = NULL_HASH
        return h
    return dictionary[indices.to_numpy(zero_copy_only=False)]


def _hash_struct(column: pa.StructArray) -> np.ndarray:
    """A struct hashes like the tuple of its fields (``flatten`` honours slicing)."""
    fields = column.flatten()
    if not fields:
        h = np.zeros(len(column), dtype=np.uint64)
    else:
        h = hash_columns(fields)
    return _with_nulls(h, column)


def key_groups(columns: Sequence[pa.Array | pa.ChunkedArray], max_parallelism: int) -> np.ndarray:
    """The key group (int32) of each row: its key hash modulo ``max_parallelism``."""
    return key_groups_of_hashes(hash_columns(columns), max_parallelism)


def key_groups_of_hashes(hashes: np.ndarray, max_parallelism: int) -> np.ndarray:
    return (hashes % np.uint64(max_parallelism)).astype(np.int32)


@dataclass(frozen=True)
class KeyGroupRange:
    """The key groups ``start <= g < end`` one subtask owns."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end:
            raise ValueError(f"invalid key group range; expected 0 <= start <= end, "
                             f"got start={self.start!r}, end={self.end!r}")

    def __contains__(self, key_group: object) -> bool:
        return isinstance(key_group, int | np.integer) and bool(self.start <= key_group < self.end)

    def __len__(self) -> int:
        return self.end - self.start

    def contains(self, key_groups: np.ndarray) -> np.ndarray:
        """A bool mask: which of ``key_groups`` fall in this range."""
        key_groups = np.asarray(key_groups)
        return (key_groups >= self.start) & (key_groups < self.end)


def _check_parallelism(parallelism: int, max_parallelism: int) -> None:
    if not 0 < parallelism <= max_parallelism:
        raise ValueError(f"parallelism must be between 1 and max parallelism "
                         f"{max_parallelism}; got {parallelism!r}")


def key_group_range(subtask: int, parallelism: int, max_parallelism: int) -> KeyGroupRange:
    """The key groups of ``subtask``: Flink's ``computeKeyGroupRangeForOperatorIndex``."""
    _check_parallelism(parallelism, max_parallelism)
    if not 0 <= subtask < parallelism:
        raise ValueError(f"subtask index out of range; expected 0 <= subtask < {parallelism}, "
                         f"got {subtask!r}")
    start = (subtask * max_parallelism + parallelism - 1) // parallelism
    end_inclusive = ((subtask + 1) * max_parallelism - 1) // parallelism
    return KeyGroupRange(start, end_inclusive + 1)


def subtask_of_key_groups(key_groups: np.ndarray, parallelism: int,
                          max_parallelism: int) -> np.ndarray:
    """The subtask (int32) owning each key group: Flink's ``computeOperatorIndexForKeyGroup``."""
    _check_parallelism(parallelism, max_parallelism)
    groups = np.asarray(key_groups, dtype=np.int64)
    return (groups * parallelism // max_parallelism).astype(np.int32)
