"""A small known world for the dashboard tests: 30 titles with artwork, and a few people.

- ``ada`` watches comedy and animation on a TV: finished three comedies, is 40% into m04,
  rated m05; her top genres are Comedy and Animation.
- ``bob`` watches action and thrillers on the web.
- ``carol`` said no to profiling (consent ``profiling`` false) after watching a drama.
- ``fan00`` to ``fan19`` each play a few titles, so that popularity has an order: titles with
  low numbers are played by more people.
"""

from __future__ import annotations

import time
from itertools import count
from typing import Any

from limelight import Engine
from limelight.datasets.artwork import variants

GENRES = (
    ("Comedy",),
    ("Comedy", "Animation"),
    ("Action", "Thriller"),
    ("Drama", "Romance"),
    ("Sci-Fi", "Action"),
    ("Horror",),
    ("Documentary",),
    ("Animation", "Children's"),
    ("Drama",),
    ("Thriller", "Crime"),
)
TITLES = (
    "Laugh Track",
    "Paper Moons",
    "Steel Rain",
    "Letters to June",
    "Orbit Nine",
    "The Hollow House",
    "Deep Blue Atlas",
    "Kite & Button",
    "Quiet Harbour",
    "Night Shift",
)
DAY = 86_400.0
_ids = count()


def catalogue(n: int = 30) -> list[dict[str, Any]]:
    """``n`` titles m01..mNN with genres, years and 3-5 generated artwork variants each."""
    found = []
    for index in range(n):
        item_id = f"m{index + 1:02d}"
        genres = list(GENRES[index % len(GENRES)])
        found.append(
            {
                "item_id": item_id,
                "title": f"{TITLES[index % len(TITLES)]} {index // len(TITLES) + 1}",
                "genres": genres,
                "release_year": 1990 + index,
                "duration_s": 5400.0 + 60 * index,
                "description": f"Title number {index + 1}.",
                "artwork": [art.model_dump() for art in variants(item_id, genres)],
            }
        )
    return found


def event(kind: str, user: str, item: str | None, at: float, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_id": f"w{next(_ids)}-{kind}-{user}",
        "type": kind,
        "user_id": user,
        "timestamp": at,
        "context": {"device": extra.pop("device", "web"), "timezone": "UTC"},
        "properties": {"item_id": item, **extra} if item else extra,
    }
    return body


def history(now: float | None = None) -> list[dict[str, Any]]:
    """The events of ada, bob, carol and the fans (all in the past ten days)."""
    start = (time.time() if now is None else now) - 10 * DAY
    found: list[dict[str, Any]] = []
    for day, item in enumerate(("m01", "m11", "m02")):
        at = start + day * DAY + 20 * 3600  # evenings
        found.append(event("play_start", "ada", item, at, device="tv"))
        found.append(event("play_complete", "ada", item, at + 5000, device="tv"))
    found.append(event("play_start", "ada", "m04", start + 4 * DAY + 21 * 3600, device="tv"))
    found.append(
        event("play_progress", "ada", "m04", start + 4 * DAY + 22 * 3600, progress=0.4, device="tv")
    )
    found.append(event("rating", "ada", "m12", start + 5 * DAY, rating=5.0, device="tv"))
    for day, item in enumerate(("m03", "m10", "m13")):
        at = start + day * DAY + 13 * 3600
        found.append(event("play_start", "bob", item, at))
        found.append(event("play_complete", "bob", item, at + 5000))
    found.append(event("play_start", "carol", "m09", start + DAY))
    found.append(
        {
            "event_id": f"w{next(_ids)}-identify-carol",
            "type": "identify",
            "user_id": "carol",
            "timestamp": start + 2 * DAY,
            "consent": {"profiling": False},
        }
    )
    for fan in range(20):
        for rank in range(1 + fan % 4):
            item = f"m{(fan + rank * 3) % 30 + 1:02d}" if fan % 2 else f"m{rank + 1:02d}"
            found.append(event("play_start", f"fan{fan:02d}", item, start + fan * 3600))
    return found


def load(engine: Engine) -> None:
    """Put the world into an Engine (catalogue first, so profiles fold genres)."""
    accepted, rejected = engine.upsert_items(catalogue())
    assert not rejected and accepted == 30
    result = engine.ingest(history())
    assert not result.rejected, result.rejected
