"""Population charts learned from the event store: popular, trending, and by device and daypart.

Why from events and not from a trained model: the page must work before any model exists and
must show what is trending *now*; reading the events of engagement once and keeping the counts
in memory costs one scan per refresh, not per page. The counts are refreshed when the event
count changed, checked at most every ``refresh_s`` seconds, in the background (``ChartCache``).

Context charts answer "what do people watch on this device / at this time of day": a title's
count within the context, shrunk towards its overall share (lift with a prior), kept only when
the context has enough events (``min_support``) and is not the whole data (a context that holds
every event says nothing beyond "popular").
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from limelight.pages.context import daypart
from limelight.pages.refresh import Refresher
from limelight.profiles.state import hour_and_weekday
from limelight.storage.database import Database
from limelight.storage.schema import events

ENGAGEMENT = ("play_start", "play_complete", "rating", "click", "add_to_list")
TRENDING_HALF_LIFE_S = 7 * 86_400.0


@dataclass(frozen=True)
class Charts:
    """Titles ranked by people, by recent activity, and per device and daypart."""

    popular: list[tuple[str, float]] = field(default_factory=list)
    trending: list[tuple[str, float]] = field(default_factory=list)
    by_device: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    by_daypart: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    people: dict[str, int] = field(default_factory=dict)
    latest: float = 0.0
    #: Derived views of these charts (e.g. in catalogue positions), kept as long as they are.
    derived: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)


def _contextual(
    within: dict[str, Counter[str]], overall: Counter[str], total: int, min_support: int
) -> dict[str, list[tuple[str, float]]]:
    """Per context value, titles by smoothed lift times log count (see the module docstring)."""
    out: dict[str, list[tuple[str, float]]] = {}
    for key, counts in within.items():
        size = sum(counts.values())
        if size < min_support or size >= total:
            continue
        scored = []
        for item, count in counts.items():
            if count < 2:
                continue
            expected = overall[item] / total * size
            lift = (count + 1.0) / (expected + 1.0)
            if lift > 1.0:
                scored.append((item, lift * math.log1p(count)))
        scored.sort(key=lambda pair: (-pair[1], pair[0]))
        if scored:
            out[key] = scored[:500]
    return out


def compute(database: Database, *, min_support: int = 30) -> Charts:
    """Read engagement events once and build every chart."""
    query = select(events.c.person_id, events.c.item_id, events.c.ts, events.c.context).where(
        events.c.type.in_(ENGAGEMENT), events.c.item_id.is_not(None)
    )
    with database.read() as connection:
        found = connection.execute(query).all()
    if not found:
        return Charts()
    latest = max(float(row[2]) for row in found)
    people: dict[str, set[str]] = {}
    trend: dict[str, float] = {}
    overall: Counter[str] = Counter()
    by_device: dict[str, Counter[str]] = {}
    by_daypart: dict[str, Counter[str]] = {}
    for person, item, ts, context in found:
        people.setdefault(item, set()).add(person)
        overall[item] += 1
        trend[item] = trend.get(item, 0.0) + 0.5 ** ((latest - float(ts)) / TRENDING_HALF_LIFE_S)
        ctx = context or {}
        device = ctx.get("device")
        if isinstance(device, str):
            by_device.setdefault(device, Counter())[item] += 1
        zone = ctx.get("timezone")
        hour, _ = hour_and_weekday(float(ts), zone if isinstance(zone, str) else None)
        by_daypart.setdefault(daypart(hour), Counter())[item] += 1
    counts = {item: len(who) for item, who in people.items()}
    total = len(found)
    return Charts(
        popular=sorted(((i, float(c)) for i, c in counts.items()), key=lambda p: (-p[1], p[0])),
        trending=sorted(trend.items(), key=lambda pair: (-pair[1], pair[0])),
        by_device=_contextual(by_device, overall, total, min_support),
        by_daypart=_contextual(by_daypart, overall, total, min_support),
        people=counts,
        latest=latest,
    )


class ChartCache:
    """The charts, kept fresh off the request path.

    The first ``get`` computes them (there is nothing to answer with yet). After that, at most
    every ``refresh_s`` seconds, a ``get`` starts one background refresh, which recounts the
    events and rebuilds the charts if the count changed, and answers at once with the charts
    it has. Why: the rebuild scans every engagement event (1.7-1.8 s for MovieLens-100K's
    300,000 here). Done inside a request, as it was, it stalled that request every
    ``refresh_s`` while events were arriving, and with pages composed one at a time
    (``limelight.api.compute``) every page queued behind it.
    """

    def __init__(self, database: Database, *, refresh_s: float = 30.0, min_support: int = 30):
        self.database = database
        self.refresh_s = refresh_s
        self.min_support = min_support
        self._charts: Charts | None = None
        self._mark = -1
        self._inline = False
        self._background = Refresher(
            "limelight-charts", self._refresh, "could not refresh the home page charts", refresh_s
        )

    def get(self) -> Charts:
        charts = self._charts
        if charts is None or self._inline:
            self._background.run_here(self._take_inline)
            assert self._charts is not None
            return self._charts
        self._background.kick()
        return charts

    def current(self) -> Charts | None:
        """The charts in use, without building or refreshing them (None before the first)."""
        return self._charts

    def _take_inline(self) -> bool:
        """Whether ``get`` must build the charts itself (none yet, or asked by ingest)."""
        needed = self._charts is None or self._inline
        self._inline = False
        return needed

    def on_events(self, stored: Sequence[object]) -> None:
        """Ingest listener: charts built from a log without engagement are rebuilt by the next
        ``get`` itself (there was nothing to answer with: a server started before its data
        came); other charts wait for the timed background refresh."""
        charts = self._charts
        if stored and charts is not None and not charts.popular:
            self._inline = True

    def _refresh(self) -> None:
        with self.database.read() as connection:
            mark = int(connection.execute(select(func.count()).select_from(events)).scalar_one())
        if self._charts is None or mark != self._mark:
            charts = compute(self.database, min_support=self.min_support)
            self._charts, self._mark = charts, mark

    def wait(self, timeout_s: float = 60.0) -> None:
        """Block until a background refresh (if any) finishes (tests, tools)."""
        self._background.wait(timeout_s)

    def close(self) -> None:
        """Start no more refreshes and let a running one finish (before the database closes)."""
        self._background.close()


__all__ = ["ChartCache", "Charts", "compute"]
