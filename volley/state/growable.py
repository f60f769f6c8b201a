"""Amortized growth of the numpy arrays that hold state.

State arrays are indexed by dense ids and grow as keys arrive. Reallocating to the exact size
per batch would copy the whole state every batch; doubling the capacity copies each slot O(1)
times on average, so a batch's cost stays proportional to the batch, not to the state.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MIN_CAPACITY = 16


def ensure_capacity(array: np.ndarray, needed: int, fill: Any = 0) -> np.ndarray:
    """``array`` itself when it holds ``needed`` rows, else a copy at least twice as long whose
    new rows are ``fill``."""
    if len(array) >= needed:
        return array
    capacity = max(needed, 2 * len(array), MIN_CAPACITY)
    grown = np.empty((capacity, *array.shape[1:]), dtype=array.dtype)
    grown[: len(array)] = array
    grown[len(array) :] = fill
    return grown
