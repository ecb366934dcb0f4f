"""Page KPIs computed from events joined to logged pages.

Why join through the tiles' decision ids: a click or play on a home tile carries the decision
id of the artwork decision that served it (the id on the tile); the page decision (kind
``page``) lists every tile's decision id, so each engaged event finds its page without trusting
a client-sent page id. Events that only carry ``properties.page_id`` join by that.

- page click-through rate: pages with at least one click / pages served;
- tile click-through rate: clicks / tiles served;
- play starts from home: ``play_start`` events that join to a page;
- time to first play: per page with a play, seconds from serving to its first play start
  (median and mean).
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select

from limelight.pages.order import KIND, POINT
from limelight.storage.database import Database
from limelight.storage.schema import decisions, events


@dataclass(frozen=True)
class PageKpis:
    pages: int
    tiles: int
    clicks: int
    pages_clicked: int
    play_starts: int
    pages_played: int
    page_ctr: float
    tile_ctr: float
    time_to_first_play_median_s: float | None
    time_to_first_play_mean_s: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def report(self) -> str:
        """A few lines for a terminal or a note."""
        ttfp = (
            "n/a"
            if self.time_to_first_play_median_s is None
            else f"{self.time_to_first_play_median_s:.1f} s median"
        )
        return (
            f"pages {self.pages}, tiles {self.tiles}\n"
            f"page CTR {self.page_ctr:.3f} ({self.pages_clicked} pages with a click)\n"
            f"tile CTR {self.tile_ctr:.4f} ({self.clicks} clicks)\n"
            f"play starts from home {self.play_starts} ({self.pages_played} pages)\n"
            f"time to first play {ttfp}"
        )


def page_kpis(
    database: Database, *, since: float | None = None, until: float | None = None
) -> PageKpis:
    """KPIs of home pages served in [since, until) (see the module docstring)."""
    query = select(decisions.c.decision_id, decisions.c.created_at, decisions.c.extra).where(
        decisions.c.kind == KIND, decisions.c.point == POINT
    )
    if since is not None:
        query = query.where(decisions.c.created_at >= since)
    if until is not None:
        query = query.where(decisions.c.created_at < until)
    with database.read() as connection:
        pages = connection.execute(query).all()
        first = min((float(row[1]) for row in pages), default=None)
        engaged = (
            []
            if first is None
            else connection.execute(
                select(events.c.type, events.c.decision_id, events.c.ts, events.c.properties).where(
                    events.c.type.in_(("click", "play_start")), events.c.ts >= first
                )
            ).all()
        )
    served_at = {str(page_id): float(at) for page_id, at, _ in pages}
    page_of: dict[str, str] = {}
    tiles = 0
    for page_id, _, extra in pages:
        for tile in (extra or {}).get("tiles") or []:
            page_of[str(tile[2])] = str(page_id)
            tiles += 1
    clicks = plays = 0
    clicked: set[str] = set()
    first_play: dict[str, float] = {}
    for kind, decision_id, ts, properties in engaged:
        page = page_of.get(str(decision_id)) if decision_id else None
        if page is None:
            hinted = (properties or {}).get("page_id")
            page = hinted if isinstance(hinted, str) and hinted in served_at else None
        if page is None:
            continue
        if kind == "click":
            clicks += 1
            clicked.add(page)
        else:
            plays += 1
            delay = max(0.0, float(ts) - served_at[page])
            first_play[page] = min(first_play.get(page, delay), delay)
    delays = list(first_play.values())
    count = len(pages)
    return PageKpis(
        pages=count,
        tiles=tiles,
        clicks=clicks,
        pages_clicked=len(clicked),
        play_starts=plays,
        pages_played=len(first_play),
        page_ctr=len(clicked) / count if count else 0.0,
        tile_ctr=clicks / tiles if tiles else 0.0,
        time_to_first_play_median_s=statistics.median(delays) if delays else None,
        time_to_first_play_mean_s=statistics.fmean(delays) if delays else None,
    )


__all__ = ["PageKpis", "page_kpis"]
