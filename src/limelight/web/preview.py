"""The INTERIM home page composition behind ``/ui/home/<user>``, until ``Engine.home`` exists.

Why it exists: the preview page, its templates and its browser test need a page model of the
final shape now, while the real composition (issue 5: candidates, ranking, row order, the
artwork decision point) is being built. ``build_page`` makes that model from what is already
stored, with simple rules stated in every reason, so nothing on the page pretends to be a model:

- rows: Continue watching (started, not finished), a mood row when a mood is chosen, Recently
  played, "Popular in <genre>" for the person's top three genres, and Popular overall; a person
  with no profile, or who said no to profiling (consent ``profiling`` false), gets only the
  popularity rows and the page is labelled non-personalized;
- popularity is how many people have a history with a title (``profile_items``);
- artwork is each title's default variant (no artwork decision yet);
- context: ``device`` sets how many tiles a row holds, ``mood`` adds its row, ``time_of_day``
  is recorded with the decisions but changes nothing yet;
- each row is logged in the decision log (kind ``page_row``, policy ``interim-preview``) so the
  ids on the tiles are real and clicks join to what was served.

Replace the call in ``limelight.web.routes`` with ``Engine.home`` when it lands; the template
only needs the returned dict's shape.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from limelight.catalog.model import Item
from limelight.decisions import DecisionRecord, new_decision_id
from limelight.engine import Engine
from limelight.errors import UnknownUser
from limelight.web.views import chosen_artwork, items_by_id, popularity

POLICY = "interim-preview"
POINT = "home-preview"
DEVICES = ("web", "tv", "mobile", "tablet")
#: Tiles per row by device: a TV row shows fewer, larger tiles.
PER_ROW = {"web": 12, "tv": 8, "mobile": 6, "tablet": 10}
TIMES = ("morning", "afternoon", "evening", "night")
#: Moods, and the genres (MovieLens names) that fit each until items carry mood tags.
MOODS: dict[str, tuple[str, ...]] = {
    "light": ("Comedy", "Animation", "Children's", "Musical"),
    "intense": ("Action", "Thriller", "Horror", "Crime", "War"),
    "thoughtful": ("Drama", "Documentary", "Film-Noir", "Mystery"),
    "romantic": ("Romance",),
    "adventurous": ("Adventure", "Sci-Fi", "Fantasy", "Western"),
}
TOP_GENRES = 3
POOL = 500


def time_of_day(hour: int) -> str:
    """The bucket of an hour of the day (0-23)."""
    if 5 <= hour < 12:
        return "morning"
    if 12 <= hour < 17:
        return "afternoon"
    if 17 <= hour < 22:
        return "evening"
    return "night"


def page_context(raw: Mapping[str, Any], *, now: float | None = None) -> dict[str, Any]:
    """The context a page is built for, with unknown values replaced by defaults.

    A preview should always render, so a wrong query value falls back instead of failing.
    """
    moment = time.time() if now is None else now
    device = raw.get("device")
    when = raw.get("time_of_day")
    mood = raw.get("mood")
    return {
        "device": device if device in DEVICES else "web",
        "time_of_day": when
        if when in TIMES
        else time_of_day(datetime.fromtimestamp(moment, UTC).hour),
        "mood": mood if mood in MOODS else None,
        "at": datetime.fromtimestamp(moment, UTC).isoformat().replace("+00:00", "Z"),
    }


def _tile(item: Item, reason: str) -> dict[str, Any]:
    art = chosen_artwork(item)
    return {
        "item_id": item.item_id,
        "title": item.title,
        "artwork": None if art is None else {"artwork_id": art.artwork_id, "url": art.url},
        "reason": reason,
    }


def _in_genre(genre: str) -> Callable[[Item], bool]:
    return lambda item: genre in item.genres


def _anything(_item: Item) -> bool:
    return True


def _in_catalogue(_item: Item) -> str:
    return "In the catalogue"


def build_page(engine: Engine, user_id: str, context: Mapping[str, Any]) -> dict[str, Any]:
    """The interim home page for ``user_id`` in ``context`` (see the module docstring).

    Returns ``{"page_id", "user_id", "context", "label", "rows"}``; each row has ``type``,
    ``title``, ``reason`` and ``items``, each item ``item_id``, ``title``, ``artwork``,
    ``decision_id``, ``position`` and ``reason``.
    """
    settled = page_context(context)
    per_row = PER_ROW[settled["device"]]
    try:
        profile: dict[str, Any] | None = engine.profile(user_id, items=200)
    except UnknownUser:
        profile = None
    personalized = profile is not None and profile["consent"].get("profiling") is not False
    popular = popularity(engine, POOL)
    people = dict(popular)
    history: list[dict[str, Any]] = profile["items"] if profile and personalized else []
    catalogue = items_by_id(
        engine, [item_id for item_id, _ in popular] + [entry["item_id"] for entry in history]
    )
    if not popular:  # nothing watched yet anywhere: the catalogue in its own order
        catalogue.update({item.item_id: item for item in engine.items()})
    seen = {entry["item_id"] for entry in history}
    ranked = [item_id for item_id, _ in popular if item_id in catalogue] or list(catalogue)
    placed: set[str] = set()
    rows: list[dict[str, Any]] = []

    def add(kind: str, title: str, reason: str, tiles: list[dict[str, Any]]) -> None:
        if tiles:
            rows.append({"type": kind, "title": title, "reason": reason, "items": tiles[:per_row]})
            placed.update(tile["item_id"] for tile in tiles[:per_row])

    def fresh(keep: Callable[[Item], bool], reason: Callable[[Item], str]) -> list[dict[str, Any]]:
        """Unseen titles in popularity order that pass ``keep`` and are not on the page yet."""
        picked = []
        for item_id in ranked:
            item = catalogue[item_id]
            if item_id in seen or item_id in placed or not keep(item):
                continue
            picked.append(_tile(item, reason(item)))
            if len(picked) == per_row:
                break
        return picked

    def watched_by(item: Item) -> str:
        count = people.get(item.item_id, 0)
        return f"{count} {'person has' if count == 1 else 'people have'} watched this"

    if personalized:
        started = [
            entry
            for entry in history
            if 0 < entry["progress"] < 0.95
            and not entry["finished"]
            and entry["item_id"] in catalogue
        ]
        add(
            "continue_watching",
            "Continue watching",
            "Titles you started and have not finished, most recent first.",
            [
                _tile(catalogue[entry["item_id"]], f"You are {entry['progress']:.0%} through")
                for entry in started
            ],
        )
    mood = settled["mood"]
    if mood is not None:
        genres = MOODS[mood]
        a_mood = f"{'an' if mood[0] in 'aeiou' else 'a'} {mood} mood"
        add(
            "mood",
            f"For {a_mood}",
            f"Popular titles in genres that fit {a_mood}: {', '.join(genres)}.",
            fresh(
                lambda item: bool(set(item.genres) & set(genres)),
                lambda item: f"{', '.join(sorted(set(item.genres) & set(genres)))} fits {a_mood}",
            ),
        )
    if personalized:
        recent = [
            entry
            for entry in history
            if entry["item_id"] in catalogue and entry["item_id"] not in placed
        ]
        add(
            "recently_played",
            "Recently played",
            "What you played, rated or clicked most recently (not already in a row above).",
            [
                _tile(catalogue[entry["item_id"]], f"Last played {entry['last_at'][:10]}")
                for entry in recent
            ],
        )
        affinities = profile["affinities"]["genres"] if profile else []
        for entry in [entry for entry in affinities if entry["share"] > 0][:TOP_GENRES]:
            genre = entry["name"]
            add(
                f"genre:{genre}",
                f"Popular in {genre}",
                f"{genre} makes up {entry['share']:.0%} of your taste profile; these are its "
                "most watched titles you have not seen.",
                fresh(_in_genre(genre), watched_by),
            )
    else:
        counts: dict[str, int] = {}
        for item_id in ranked:
            for genre in catalogue[item_id].genres:
                counts[genre] = counts.get(genre, 0) + people.get(item_id, 0)
        for genre in sorted(counts, key=lambda name: (-counts[name], name))[:TOP_GENRES]:
            add(
                f"genre:{genre}",
                f"Popular in {genre}",
                f"{genre} is among the most watched genres; its most watched titles.",
                fresh(_in_genre(genre), watched_by),
            )
    add(
        "popular",
        "Popular on Limelight" if popular else "From the catalogue",
        "The titles watched by the most people."
        if popular
        else "Nothing has been watched yet: titles in catalogue order.",
        fresh(_anything, watched_by if popular else _in_catalogue),
    )
    return _logged(engine, user_id, settled, personalized, rows)


def _logged(
    engine: Engine,
    user_id: str,
    context: dict[str, Any],
    personalized: bool,
    rows: list[dict[str, Any]],
) -> dict[str, Any]:
    """The page with a page id, and one logged decision per row whose id is on its tiles."""
    page_id = new_decision_id("page")
    now = time.time()
    records = []
    for row in rows:
        decision_id = new_decision_id("d")
        chosen = [tile["item_id"] for tile in row["items"]]
        for position, tile in enumerate(row["items"]):
            tile["decision_id"] = decision_id
            tile["position"] = position
        records.append(
            DecisionRecord(
                decision_id=decision_id,
                kind="page_row",
                point=POINT,
                person_id=user_id,
                chosen=chosen,
                created_at=now,
                context={**context, "row_type": row["type"]},
                page_id=page_id,
                policy=POLICY,
                extra={
                    "title": row["title"],
                    "reasons": [tile["reason"] for tile in row["items"]],
                    "artwork": [(tile["artwork"] or {}).get("artwork_id") for tile in row["items"]],
                },
            )
        )
    engine.decisions.record_many(records)
    return {
        "page_id": page_id,
        "user_id": user_id,
        "context": context,
        "label": "personalized" if personalized else "non-personalized",
        "rows": rows,
    }
