"""Answers before any model exists: what people watch most right now, from the live stats.

A fresh install has events long before anyone runs ``limelight train``; it must still answer.
:class:`LivePopular` counts distinct people per title in ``profile_items`` (one grouped query,
cached for ``ttl_s``), so a brand-new service shows its most watched titles, and a service with no
events yet shows its newest catalogue entries.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import func, or_, select

from limelight.storage.database import Database
from limelight.storage.schema import profile_items

#: How many titles the live chart keeps.
CHART_SIZE = 1000


class LivePopular:
    """A chart of (item id, distinct people) from the live per-title stats."""

    def __init__(self, database: Database, *, ttl_s: float = 30.0) -> None:
        self.database = database
        self.ttl_s = ttl_s
        # (generation, chart) replaced as one value: the generation tells caches keyed by the
        # chart one chart from the next.
        self._chart: tuple[int, list[tuple[str, int]]] = (0, [])
        self._expires = 0.0
        self._lock = threading.Lock()

    def chart(self) -> tuple[int, list[tuple[str, int]]]:
        """The chart's generation (a new number per reload) and its (item id, people) rows."""
        now = time.monotonic()
        if now < self._expires:
            return self._chart
        with self._lock:
            if now >= self._expires:
                self._chart = (self._chart[0] + 1, self._load())
                self._expires = now + self.ttl_s
        return self._chart

    def invalidate(self) -> None:
        self._expires = 0.0

    def _load(self) -> list[tuple[str, int]]:
        people = func.count(profile_items.c.person_id)
        query = (
            select(profile_items.c.item_id, people)
            .where(
                or_(
                    profile_items.c.plays > 0,
                    profile_items.c.completions > 0,
                    profile_items.c.rating.is_not(None),
                )
            )
            .group_by(profile_items.c.item_id)
            .order_by(people.desc(), profile_items.c.item_id)
            .limit(CHART_SIZE)
        )
        with self.database.read() as connection:
            return [(str(item), int(count)) for item, count in connection.execute(query)]


__all__ = ["LivePopular"]
