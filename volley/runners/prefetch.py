"""Reading a source ahead of the task that consumes it.

Each file source runs a few elements ahead in a thread of its own (``SourcePrefetcher``): reading
and decoding (pyarrow, which releases the GIL) overlap with the operators' work on the second
core, while the order of elements stays exactly the one the source produces and operators and
UDFs still run on the task's thread. Data already in memory needs no thread (``InlineSource``).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from typing import Any

NOTHING = object()
"""What ``next(timeout)`` returns when no element came within the timeout."""


class SourcePrefetcher:
    """Pulls a source iterator in a daemon thread, up to ``budget_bytes`` of batches ahead of
    the runner (always at least one element).

    The budget is in bytes, not elements, because sources may decode in units much larger than
    the batches they yield (a CSV block, a JSON file), and sliced batches of one such unit hold
    all of it. With a budget of a few elements such a reader could not start on its next unit
    until the runner had consumed nearly all of the current one, and decoding and the
    operators' work took turns instead of overlapping.

    ``next()`` returns the source's next element, None at its end, and re-raises (in the
    runner's thread, with its original traceback) an exception the source raised. ``close()``
    stops the thread at its next hand-over, so a cancelled or abandoned job does not leave a
    reader running.
    """

    _END = object()
    BUDGET_BYTES = 32 << 20

    def __init__(self, iterator: Iterator[Any], name: str,
                 budget_bytes: int = BUDGET_BYTES) -> None:
        self._iterator = iterator
        self._budget = budget_bytes
        self._items: deque[tuple[Any, int]] = deque()
        self._bytes = 0
        self._stopped = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._pull, name=f"volley-source-{name}",
                                        daemon=True)
        self._thread.start()

    def _pull(self) -> None:
        try:
            for element in self._iterator:
                if not self._hand_over(element):
                    return
            self._hand_over(self._END)
        except BaseException as error:  # noqa: BLE001 - handed to the runner's thread
            self._hand_over(error)

    def _hand_over(self, item: Any) -> bool:
        size = getattr(item, "nbytes", 0)
        with self._changed:
            while self._items and self._bytes + size > self._budget and not self._stopped:
                self._changed.wait()
            if self._stopped:
                return False
            self._items.append((item, size))
            self._bytes += size
            self._changed.notify_all()
        return True

    def push_back(self, item: Any) -> None:
        """Return an element ``next`` handed out; it comes out again first."""
        with self._changed:
            self._items.appendleft((item, getattr(item, "nbytes", 0)))
            self._bytes += getattr(item, "nbytes", 0)

    def next(self, timeout: float | None = None) -> Any:
        """The next element; None at the end; ``NOTHING`` when ``timeout`` seconds passed
        without one (a source with nothing to read yet: an unbounded stream)."""
        with self._changed:
            if not self._items and not self._changed.wait_for(lambda: self._items, timeout):
                return NOTHING
            item, size = self._items.popleft()
            self._bytes -= size
            self._changed.notify_all()
        if item is self._END:
            return None
        if isinstance(item, BaseException):
            raise item
        return item

    def close(self) -> None:
        with self._changed:
            self._stopped = True
            self._changed.notify_all()


class InlineSource:
    """``SourcePrefetcher``'s interface over batches already in memory, pulled in the runner's
    thread: a thread to read ahead would only add its start and a hand-over per batch."""

    def __init__(self, iterator: Iterator[Any]) -> None:
        self._iterator = iterator
        self._back: list[Any] = []

    def push_back(self, item: Any) -> None:
        self._back.append(item)

    def next(self, timeout: float | None = None) -> Any:
        if self._back:
            return self._back.pop()
        return next(self._iterator, None)

    def close(self) -> None:
        pass
