"""Read models for the dashboard pages: what each page shows, as plain dicts for templates.

Why here and not in the routes: routes stay thin (DESIGN §1) and templates get ready-made
numbers (bar heights, percentages, titles) instead of computing them in Jinja. A few queries
below (counts of profiles, the latest events, user search, popularity, the genre list) read
the schema directly because ``Engine`` has no method for them yet; they are read-only, run on
both backends, and are the natural candidates to move onto ``Engine`` when another caller needs
them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import distinct, func, select, true

from limelight.catalog.model import Artwork, Item, iso
from limelight.engine import Engine
from limelight.storage.database import chunked, rows
from limelight.storage.schema import events, items, profile_items, profiles

ANONYMOUS = "anon:"
WEEKDAY_LABELS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar of a small chart: its label, its value and its length as a share of the max."""

    label: str
    value: float
    fraction: float


def bars(pairs: Iterable[tuple[str, float]]) -> list[Bar]:
    """Bars scaled to the largest value (all zero when there is nothing to show)."""
    listed = list(pairs)
    top = max((value for _, value in listed), default=0.0)
    return [Bar(label, value, value / top if top > 0 else 0.0) for label, value in listed]


def chosen_artwork(item: Item) -> Artwork | None:
    """The variant a page shows until the artwork bandit decides: the default, else the first."""
    variants = item.artwork or []
    return next((art for art in variants if art.is_default), variants[0] if variants else None)


def items_by_id(engine: Engine, item_ids: Sequence[str]) -> dict[str, Item]:
    """Catalogue items for these ids with their artwork, in one query per 500 ids."""
    found: dict[str, Item] = {}
    with engine.database.read() as connection:
        for chunk in chunked(list(dict.fromkeys(item_ids))):
            loaded = rows(connection.execute(select(items).where(items.c.item_id.in_(chunk))))
            art = engine.catalog.artwork(connection, [row["item_id"] for row in loaded])
            for row in loaded:
                found[row["item_id"]] = Item.from_row(row, art.get(row["item_id"], []))
    return found


def popularity(engine: Engine, limit: int = 500) -> list[tuple[str, int]]:
    """Items by how many people have a history with them (played, rated, clicked...), most first."""
    people = func.count().label("people")
    query = (
        select(profile_items.c.item_id, people)
        .group_by(profile_items.c.item_id)
        .order_by(people.desc(), profile_items.c.item_id)
        .limit(limit)
    )
    with engine.database.read() as connection:
        return [(str(item_id), int(count)) for item_id, count in connection.execute(query)]


def people_with(engine: Engine, item_id: str) -> int:
    """How many people have a history with this item."""
    query = (
        select(func.count()).select_from(profile_items).where(profile_items.c.item_id == item_id)
    )
    with engine.database.read() as connection:
        return int(connection.execute(query).scalar_one())


def catalogue_genres(engine: Engine) -> list[str]:
    """Every genre used in the catalogue, sorted (for the catalogue filter)."""
    with engine.database.read() as connection:
        if engine.database.is_sqlite:
            each = func.json_each(items.c.genres).table_valued("value")
            query = select(distinct(each.c.value)).select_from(items.join(each, true()))
        else:
            query = select(distinct(func.jsonb_array_elements_text(items.c.genres)))
        return sorted(str(genre) for (genre,) in connection.execute(query))


def overview(engine: Engine, recent: int = 20) -> dict[str, Any]:
    """The numbers and the latest events for the overview page."""
    anonymous = profiles.c.person_id.like(f"{ANONYMOUS}%")
    with engine.database.read() as connection:
        catalogue = engine.catalog.count(connection)
        users = connection.execute(
            select(func.count()).select_from(profiles).where(~anonymous)
        ).scalar_one()
        devices = connection.execute(
            select(func.count()).select_from(profiles).where(anonymous)
        ).scalar_one()
        latest = rows(
            connection.execute(
                select(
                    events.c.event_id,
                    events.c.type,
                    events.c.person_id,
                    events.c.user_id,
                    events.c.item_id,
                    events.c.decision_id,
                    events.c.ts,
                    events.c.context,
                )
                .order_by(events.c.ts.desc(), events.c.event_id)
                .limit(recent)
            )
        )
    titles = items_by_id(engine, [row["item_id"] for row in latest if row["item_id"]])
    return {
        "catalogue": catalogue,
        "events": engine.event_count(),
        "users": int(users),
        "devices": int(devices),
        "recent": [
            {
                "at": iso(row["ts"]),
                "type": row["type"],
                "person_id": row["person_id"],
                "user_id": row["user_id"],
                "item_id": row["item_id"],
                "title": titles[row["item_id"]].title if row["item_id"] in titles else None,
                "device": (row["context"] or {}).get("device"),
                "decision_id": row["decision_id"],
            }
            for row in latest
        ],
    }


def search_users(engine: Engine, query: str, limit: int = 20) -> list[dict[str, Any]]:
    """Users (people with a profile) whose id starts with ``query``, or contains it after those.

    Anonymous devices are listed only when the query asks for them (starts with ``anon:``).
    """
    needle = query.strip().lower()
    person = func.lower(profiles.c.person_id)
    base = select(profiles.c.person_id, profiles.c.updated_at)
    if not needle.startswith(ANONYMOUS):
        base = base.where(profiles.c.person_id.not_like(f"{ANONYMOUS}%"))
    found: dict[str, dict[str, Any]] = {}
    with engine.database.read() as connection:
        for condition in (
            person.startswith(needle, autoescape=True),
            person.contains(needle, autoescape=True),
        ):
            statement = base.where(condition).order_by(profiles.c.person_id).limit(limit)
            for person_id, updated_at in connection.execute(statement):
                found.setdefault(person_id, {"user_id": person_id, "updated": iso(updated_at)})
            if len(found) >= limit:
                break
    return list(found.values())[:limit]


def user_page(engine: Engine, profile: Mapping[str, Any]) -> dict[str, Any]:
    """The profile page's model: counts, affinity and habit bars, recent items with titles."""
    affinities = profile["affinities"]["genres"]
    habits = profile["habits"]
    listed = profile["items"]
    found = items_by_id(engine, [entry["item_id"] for entry in listed])
    recent = []
    for entry in listed:
        item = found.get(entry["item_id"])
        art = chosen_artwork(item) if item else None
        recent.append(
            {
                **entry,
                "title": item.title if item else entry["item_id"],
                "known": item is not None,
                "artwork": None if art is None else {"artwork_id": art.artwork_id, "url": art.url},
            }
        )
    consent = profile["consent"]
    return {
        "profile": profile,
        "personalized": consent.get("profiling") is not False,
        "genres": [
            {"name": entry["name"], "share": entry["share"], "score": entry["score"]}
            for entry in affinities[:12]
        ],
        "genre_bars": bars((entry["name"], entry["share"]) for entry in affinities[:12]),
        "hours": bars((f"{hour:02d}", count) for hour, count in enumerate(habits["hours"])),
        "weekdays": bars(
            (label, count)
            for label, count in zip(WEEKDAY_LABELS, habits["weekdays"].values(), strict=True)
        ),
        "devices": bars(habits["devices"].items()),
        "recent": recent,
    }
