"""Work that refreshes a page's cached inputs in a background thread, at most every period.

Why: the charts and everyone's row counts are reads over many rows (1.7 s and 34 ms on
MovieLens-100K). Done inline, one page per period paid for them and the pages queued behind it
waited too; done here, pages answer with what they have while one thread reads afresh. A failed
refresh is logged and tried again a period later; the caches keep what they had.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)


class Refresher:
    """Runs ``work`` in a daemon thread named ``name`` when :meth:`kick` finds it due."""

    def __init__(self, name: str, work: Callable[[], None], failure: str, period_s: float):
        self.name = name
        self.work = work
        self.failure = failure
        self.period_s = period_s
        self.thread: threading.Thread | None = None
        self._next = 0.0
        self._closed = False
        self._lock = threading.Lock()
        self._here = threading.Lock()

    def run_here(self, needed: Callable[[], bool]) -> None:
        """Do the work on this thread when ``needed()`` says so (checked again under a lock,
        so that callers arriving together run it once): there is nothing to answer with yet.
        The next background run is then a period away."""
        with self._here:
            if needed():
                self._next = time.monotonic() + self.period_s
                self.work()

    def kick(self) -> None:
        """Start a run when one is due, none is running and the refresher is open."""
        if time.monotonic() < self._next:
            return
        with self._lock:
            now = time.monotonic()
            busy = self.thread is not None and self.thread.is_alive()
            if busy or self._closed or now < self._next:
                return
            self._next = now + self.period_s
            self.thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self.thread.start()

    def _run(self) -> None:
        try:
            self.work()
        except Exception:  # keep what the cache has; try again next period
            logger.exception(self.failure)

    def wait(self, timeout_s: float = 60.0) -> None:
        """Block until a running refresh (if any) finishes (tests, tools)."""
        thread = self.thread
        if thread is not None:
            thread.join(timeout_s)

    def close(self) -> None:
        """Start no more runs and let a running one finish (before the database closes)."""
        with self._lock:
            self._closed = True
        self.wait()


__all__ = ["Refresher"]
