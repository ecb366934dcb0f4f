"""A bounded, thread-safe memo of answers keyed by everything they depend on.

Why keyed by the inputs and never invalidated: what the serving path keeps here (a history's
ranked candidate pool, a title's neighbours) is a pure function of its key (the model version,
the history as stored, the catalogue version...), so a stale entry cannot be served: a new
event changes the history, hence the key, and the old entry just ages out. Least recently used
entries go first once ``size`` is reached.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Memo(Generic[K, V]):
    """At most ``size`` answers (0 keeps none), least recently used dropped first."""

    def __init__(self, size: int) -> None:
        if size < 0:
            raise ValueError("size must be >= 0")
        self.size = size
        self.hits = 0
        self.misses = 0
        self._found: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K, make: Callable[[], V]) -> V:
        """The answer kept for ``key``, else ``make()`` (called outside the lock, so two
        threads may both make a missing answer; both are equal, the later one is kept)."""
        with self._lock:
            found = self._found.get(key)
            if found is not None:
                self._found.move_to_end(key)
                self.hits += 1
                return found
            self.misses += 1
        made = make()
        if self.size:
            with self._lock:
                self._found[key] = made
                while len(self._found) > self.size:
                    self._found.popitem(last=False)
        return made

    def clear(self) -> None:
        with self._lock:
            self._found.clear()

    def __len__(self) -> int:
        return len(self._found)


__all__ = ["Memo"]
