"""A synthetic world with known context habits, at fixed times (so dayparts never drift).

- 40 titles p01..p40, four genres in turn (Comedy, Horror, Drama, Action), years 1970..2009,
  each with generated artwork variants;
- ``tv00``..``tv14`` watch p01..p10 on a TV in the evening (20:00 UTC);
- ``web00``..``web14`` watch p11..p20 on the web in the morning (08:00 UTC);
- ``ada`` watched two comedies (p01, p05) and is half-way through p09 (Comedy);
- ``carol`` watched p02 and then said no to profiling.
"""

from __future__ import annotations

from itertools import count
from typing import Any

from limelight import Engine
from limelight.datasets.artwork import variants

GENRES = ("Comedy", "Horror", "Drama", "Action")
DAY = 86_400.0
#: Midnight UTC, Tuesday 14 November 2023.
BASE = 1_699_920_000.0
EVENING = BASE + 10 * DAY + 20 * 3600
MORNING = BASE + 10 * DAY + 8 * 3600
_ids = count()


def catalogue() -> list[dict[str, Any]]:
    found = []
    for index in range(40):
        item_id = f"p{index + 1:02d}"
        genres = [GENRES[index % 4]]
        found.append(
            {
                "item_id": item_id,
                "title": f"Title {index + 1}",
                "genres": genres,
                "release_year": 1970 + index,
                "artwork": [art.model_dump() for art in variants(item_id, genres)],
            }
        )
    return found


def event(kind: str, user: str, item: str, at: float, device: str = "web", **props: Any) -> dict:
    return {
        "event_id": f"pw{next(_ids)}-{kind}-{user}",
        "type": kind,
        "user_id": user,
        "timestamp": at,
        "context": {"device": device, "timezone": "UTC"},
        "properties": {"item_id": item, **props},
    }


def history() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for user in range(15):
        for day in range(4):
            item = f"p{(user + day) % 10 + 1:02d}"
            found.append(
                event("play_start", f"tv{user:02d}", item, BASE + day * DAY + 20 * 3600, "tv")
            )
            item = f"p{(user + day) % 10 + 11:02d}"
            found.append(event("play_start", f"web{user:02d}", item, BASE + day * DAY + 8 * 3600))
    for day, item in enumerate(("p01", "p05")):
        at = BASE + (5 + day) * DAY
        found.append(event("play_start", "ada", item, at))
        found.append(event("play_complete", "ada", item, at + 5000))
    found.append(event("play_start", "ada", "p09", BASE + 7 * DAY))
    found.append(event("play_progress", "ada", "p09", BASE + 7 * DAY + 600, progress=0.5))
    found.append(event("play_start", "carol", "p02", BASE + 5 * DAY))
    found.append(
        {
            "event_id": f"pw{next(_ids)}-identify-carol",
            "type": "identify",
            "user_id": "carol",
            "timestamp": BASE + 6 * DAY,
            "consent": {"profiling": False},
        }
    )
    # The same ids on every load: the store reads people in their order, and the models
    # trained on it follow (ALS's random start is per person row), whatever ran before.
    for k, body in enumerate(found):
        body["event_id"] = f"pwh{k}-{body['type']}-{body['user_id']}"
    return found


def load(engine: Engine) -> None:
    accepted, rejected = engine.upsert_items(catalogue())
    assert not rejected and accepted == 40
    result = engine.ingest(history())
    assert not result.rejected, result.rejected
