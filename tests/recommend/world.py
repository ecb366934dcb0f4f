"""A small streaming service whose right answers are obvious, loaded through the real ingest path.

* Action titles ``A0``..``A9`` (PG-13; ``A9`` is R), Romance ``R0``..``R9`` (PG), kids' titles
  ``K0``..``K4`` (G), one unrated documentary ``D0``, and a two-part saga ``X`` then ``Y``
  (Sci-Fi, PG).
* People ``a0``..``a19`` watch Action, ``r0``..``r19`` Romance, ``k0``..``k5`` three of the
  kids' titles, and ``s0``..``s9`` some Action and then always ``X`` followed by ``Y``.
* Everything is dated in the two months before ``NOW``; every watch is a ``play_start`` and a
  ``play_complete``.
"""

from __future__ import annotations

from itertools import count
from typing import Any

import numpy as np

from limelight import Engine
from limelight.recommend.service import RecommendationService
from limelight.recommend.training import TrainingConfig

DAY = 86_400.0
NOW = 1_750_000_000.0  # mid-June 2025: every event is in the past
START = NOW - 60 * DAY
_ids = count()

ACTION = [f"A{i}" for i in range(10)]
ROMANCE = [f"R{i}" for i in range(10)]
KIDS = [f"K{i}" for i in range(5)]

#: Small trees train in well under a second and still separate the groups.
FAST = TrainingConfig(
    validate=False, ranker={"n_estimators": 20, "min_child_samples": 5, "num_leaves": 7}
)


def catalogue() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for i, item in enumerate(ACTION):
        items.append(
            {
                "item_id": item,
                "title": f"Action Movie {i}",
                "genres": ["Action"] if i % 2 else ["Action", "Thriller"],
                "release_year": 2000 + i,
                "maturity_rating": "R" if i == 9 else "PG-13",
            }
        )
    for i, item in enumerate(ROMANCE):
        items.append(
            {
                "item_id": item,
                "title": f"Romance Movie {i}",
                "genres": ["Romance"] if i % 2 else ["Romance", "Drama"],
                "release_year": 2000 + i,
                "maturity_rating": "PG",
            }
        )
    for i, item in enumerate(KIDS):
        items.append(
            {
                "item_id": item,
                "title": f"Cartoon {i}",
                "genres": ["Animation", "Family"],
                "maturity_rating": "G",
            }
        )
    items.append({"item_id": "D0", "title": "A Documentary", "genres": ["Documentary"]})
    for item, title in (("X", "Saga Part I"), ("Y", "Saga Part II")):
        items.append(
            {"item_id": item, "title": title, "genres": ["Sci-Fi"], "maturity_rating": "PG"}
        )
    return items


def watch(user: str, item: str, at: float, device: str = "tv") -> list[dict[str, Any]]:
    """A finished viewing: a start and a completion a little later."""
    context = {"device": device}
    return [
        {
            "event_id": f"w{next(_ids)}",
            "type": "play_start",
            "user_id": user,
            "timestamp": at,
            "context": context,
            "properties": {"item_id": item},
        },
        {
            "event_id": f"w{next(_ids)}",
            "type": "play_complete",
            "user_id": user,
            "timestamp": at + 3600.0,
            "context": context,
            "properties": {"item_id": item, "progress": 1.0},
        },
    ]


def event(kind: str, user: str, at: float, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_id": f"e{next(_ids)}",
        "type": kind,
        "user_id": user,
        "timestamp": at,
    }
    body.update(fields)
    return body


def history() -> list[dict[str, Any]]:
    rng = np.random.default_rng(7)
    events: list[dict[str, Any]] = []
    groups = (("a", ACTION[:9], 20, 5), ("r", ROMANCE, 20, 5), ("k", KIDS, 6, 3))
    for group, titles, people, watched in groups:
        for person in range(people):
            start = START + float(rng.integers(0, 20)) * DAY + person * 60.0
            chosen = rng.choice(len(titles), size=watched, replace=False)
            for step, index in enumerate(chosen):
                events += watch(f"{group}{person}", titles[int(index)], start + step * DAY)
    for person in range(10):
        start = START + float(rng.integers(0, 20)) * DAY + person * 60.0
        for step, index in enumerate(rng.choice(9, size=3, replace=False)):
            events += watch(f"s{person}", ACTION[int(index)], start + step * DAY)
        events += watch(f"s{person}", "X", start + 4 * DAY)
        events += watch(f"s{person}", "Y", start + 5 * DAY)
    ordered = sorted(events, key=lambda e: e["timestamp"])
    # The same ids on every load: the order the store reads people in follows them, and with
    # it the models trained (ALS's random start is per person row), whatever ran before.
    for k, body in enumerate(ordered):
        body["event_id"] = f"h{k}"
    return ordered


def load(engine: Engine) -> None:
    stored, refused = engine.upsert_items(catalogue())
    assert not refused and stored == len(catalogue())
    events = history()
    for start in range(0, len(events), 500):
        result = engine.ingest(events[start : start + 500])
        assert not result.rejected, result.rejected[:3]


def service(engine: Engine, **options: Any) -> RecommendationService:
    """A service that notices new versions and catalogue changes at once (tests)."""
    settings: dict[str, Any] = {"poll_interval_s": 0.0, "catalog_refresh_s": 0.0}
    settings.update(options)
    return RecommendationService.from_engine(engine, **settings)


__all__ = [
    "ACTION",
    "DAY",
    "FAST",
    "KIDS",
    "NOW",
    "ROMANCE",
    "START",
    "catalogue",
    "event",
    "history",
    "load",
    "service",
    "watch",
]
