"""MovieLens-100K as a streaming service would have seen it: a catalogue and an event log.

Why three events per rating: a rating means the person watched the title, so each becomes a
``play_start``, a ``play_complete`` and a ``rating`` at the rating's own time. Event ids are
derived from (user, item, type), so loading twice stores nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from limelight.catalog.model import Item
from limelight.datasets.artwork import variants
from limelight.datasets.movielens_records import MovieLens100K

ID_PREFIX = "ml100k"
RATING_EVENTS = ("play_start", "play_complete", "rating")


def catalogue(data: MovieLens100K, *, seed: int = 7) -> list[Item]:
    """One movie item per title, with seeded artwork variants."""
    return [
        Item(
            item_id=movie.item_id,
            kind="movie",
            title=movie.title,
            genres=movie.genres,
            release_year=movie.release_year,
            attributes={"source": "movielens-100k"},
            artwork=variants(movie.item_id, movie.genres, seed=seed),
        )
        for movie in data.movies
    ]


def event_count(data: MovieLens100K) -> int:
    """How many events :func:`events` yields."""
    raters = {rating.user_id for rating in data.ratings}
    return len(RATING_EVENTS) * len(data.ratings) + len(raters)


def events(data: MovieLens100K) -> Iterator[dict[str, Any]]:
    """The event log in time order; a user's ``identify`` comes just before their first play.

    Users without ratings send nothing (MovieLens-100K has none).
    """
    users = {user.user_id: user for user in data.users}
    ordered = sorted(data.ratings, key=lambda r: (r.ts, r.user_id, r.item_id))
    introduced: set[str] = set()
    for rating in ordered:
        user_id, item_id = rating.user_id, rating.item_id
        if user_id not in introduced:
            introduced.add(user_id)
            user = users[user_id]
            yield {
                "event_id": f"{ID_PREFIX}:{user_id}:identify",
                "type": "identify",
                "user_id": user_id,
                "timestamp": rating.ts,
                "traits": {
                    "age": user.age,
                    "gender": user.gender,
                    "occupation": user.occupation,
                    "zip_code": user.zip_code,
                },
            }
        for kind in RATING_EVENTS:
            properties: dict[str, Any] = {"item_id": item_id}
            if kind == "rating":
                properties["rating"] = rating.rating
            yield {
                "event_id": f"{ID_PREFIX}:{user_id}:{item_id}:{kind}",
                "type": kind,
                "user_id": user_id,
                "timestamp": rating.ts,
                "properties": properties,
            }
