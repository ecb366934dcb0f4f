"""Mood and activity queues: an ordered sequence that fits a mood and the person's taste.

Why genres and tags: items carry no mood labels yet, so each mood or activity maps to the
genres (and tags of the same names) that fit it (:data:`limelight.pages.rows.MOODS`,
:data:`~limelight.pages.rows.ACTIVITIES`).

Why re-read skips on every call: a ``skip`` must change the rest of the queue at once, so
nothing is cached between calls; the person's recent skips are read from the event store (the
last ``SKIP_WINDOW_S``), the skipped titles leave the queue and each of their genres loses
weight (``SKIP_PENALTY`` per skip, halving every ``SKIP_HALF_LIFE_S``), so the queue steers
away from what was skipped rather than only dropping the one title.

Score of a title: mood fit (share of its genres that fit) + taste (the person's genre shares
it matches) + popularity (log of people, scaled to at most 0.5) - skip penalty (the penalised
genres it has). Titles the person already watched are left out.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, select

from limelight.decisions import DecisionRecord, new_decision_id
from limelight.errors import InvalidInput
from limelight.pages import home as pages_home
from limelight.pages.rows import ACTIVITIES, MOODS
from limelight.recommend.people import read_person
from limelight.storage.schema import events

SKIP_WINDOW_S = 7 * 86_400.0
SKIP_HALF_LIFE_S = 3600.0
SKIP_PENALTY = 0.6
MAX_N = 200

_SKIPS = (
    select(events.c.item_id, events.c.ts)
    .where(
        events.c.person_id == bindparam("person"),
        events.c.type == "skip",
        events.c.ts >= bindparam("since"),
        events.c.item_id.is_not(None),
    )
    .order_by(events.c.ts.desc())
    .limit(100)
)


@dataclass(frozen=True)
class QueueItem:
    item_id: str
    title: str
    score: float
    reason: str


@dataclass(frozen=True)
class Queue:
    decision_id: str
    user_id: str
    mood: str | None
    activity: str | None
    genres: list[str]
    skipped: list[str]
    avoided_genres: dict[str, float]
    items: list[QueueItem] = field(default_factory=list)

    @property
    def item_ids(self) -> list[str]:
        return [item.item_id for item in self.items]


def fitting(mood: str | None, activity: str | None) -> set[str]:
    """The genres a mood and/or activity calls for (refuses unknown names)."""
    if mood is not None and mood not in MOODS:
        raise InvalidInput(f"mood must be one of {', '.join(MOODS)}", field="mood")
    if activity is not None and activity not in ACTIVITIES:
        raise InvalidInput(f"activity must be one of {', '.join(ACTIVITIES)}", field="activity")
    if mood is None and activity is None:
        raise InvalidInput("give a mood or an activity", field="mood")
    return set(MOODS.get(mood or "", ())) | set(ACTIVITIES.get(activity or "", ()))


def build_queue(
    service: pages_home.HomeService,
    user_id: str,
    *,
    mood: str | None = None,
    activity: str | None = None,
    n: int = 20,
    at: float | None = None,
) -> Queue:
    """The queue for ``user_id`` now (see the module docstring); logged as kind ``queue``."""
    if not isinstance(n, int) or not 1 <= n <= MAX_N:
        raise InvalidInput(f"n must be an integer from 1 to {MAX_N}", field="n")
    wanted = fitting(mood, activity)
    moment = time.time() if at is None else float(at)
    snap = service.recommender.catalog_view.get()
    with service.database.read() as connection:
        person = read_person(connection, service.recommender.identity, user_id)
        skips = (
            []
            if person.opted_out
            else connection.execute(
                _SKIPS, {"person": person.person_id, "since": moment - SKIP_WINDOW_S}
            ).all()
        )
    taste = {} if person.opted_out else pages_home.taste(person)
    penalty: dict[str, float] = {}
    skipped = list(dict.fromkeys(str(item) for item, _ in skips))
    for item, ts in skips:
        position = snap.index.get(str(item))
        if position is None:
            continue
        weight = SKIP_PENALTY * 0.5 ** (max(0.0, moment - float(ts)) / SKIP_HALF_LIFE_S)
        for genre in snap.genre_lists[position]:
            penalty[genre] = penalty.get(genre, 0.0) + weight
    people = service.charts.get().people
    top = math.log1p(max(people.values(), default=0))
    seen = set() if person.opted_out else set(person.seen)
    scored: list[tuple[float, str, str]] = []
    for position, item in enumerate(snap.item_ids):
        genres = set(snap.genre_lists[position])
        fits = genres & wanted
        if not fits or item in seen or item in skipped:
            continue
        start, end = snap.available_from[position], snap.available_until[position]
        if (not math.isnan(start) and moment < start) or (not math.isnan(end) and moment >= end):
            continue
        fit = len(fits) / len(genres)
        liked = sum(taste.get(g, 0.0) for g in genres)
        popular = 0.5 * math.log1p(people.get(item, 0)) / top if top > 0 else 0.0
        avoid = sum(penalty.get(g, 0.0) for g in genres)
        reason = f"{', '.join(sorted(fits))} fits the {mood or activity}"
        if liked > 0:
            reason += "; in genres you watch"
        scored.append((fit + liked + popular - avoid, item, reason))
    scored.sort(key=lambda entry: (-entry[0], entry[1]))
    items = [QueueItem(i, snap.titles[snap.index[i]], s, r) for s, i, r in scored[:n]]
    queue = Queue(
        new_decision_id("queue"),
        user_id,
        mood,
        activity,
        sorted(wanted),
        skipped,
        {g: round(v, 4) for g, v in sorted(penalty.items())},
        items,
    )
    service.decisions.record(
        DecisionRecord(
            decision_id=queue.decision_id,
            kind="queue",
            point="queue",
            person_id=None if person.opted_out else person.person_id,
            chosen=queue.item_ids,
            created_at=time.time(),
            context={"mood": mood, "activity": activity, "at": moment, "skipped": skipped},
            policy="mood-taste-skips",
            extra={"scores": [item.score for item in items]},
        )
    )
    return queue


def as_dict(queue: Queue) -> dict[str, Any]:
    return {
        "decision_id": queue.decision_id,
        "user_id": queue.user_id,
        "mood": queue.mood,
        "activity": queue.activity,
        "genres": queue.genres,
        "skipped": queue.skipped,
        "avoided_genres": queue.avoided_genres,
        "items": [
            {"item_id": i.item_id, "title": i.title, "score": i.score, "reason": i.reason}
            for i in queue.items
        ],
    }


__all__ = ["Queue", "QueueItem", "as_dict", "build_queue", "fitting"]
