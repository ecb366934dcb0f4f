"""The profile as people and APIs read it: decayed to a moment, sorted, with readable times."""

from __future__ import annotations

from typing import Any

from limelight.catalog.model import iso
from limelight.profiles import decay
from limelight.profiles.state import ItemStats, ProfileState

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _affinities(
    entries: dict[str, decay.Decayed], at: float, half_life_s: float
) -> list[dict[str, Any]]:
    shares = decay.shares(entries, half_life_s)
    ranked = [
        {"name": name, "score": decay.value_at(entry, at, half_life_s), "share": shares[name]}
        for name, entry in entries.items()
    ]
    return sorted(ranked, key=lambda entry: (-entry["share"], -entry["score"], entry["name"]))


def profile_view(
    person_id: str,
    state: ProfileState,
    items: dict[str, ItemStats],
    *,
    at: float,
    half_life_s: float,
    devices: list[str],
) -> dict[str, Any]:
    """A JSON-ready profile; affinity ``score`` is decayed to ``at``, ``share`` is time-free."""
    return {
        "person_id": person_id,
        "user_id": state.user_id,
        "anonymous_ids": sorted(set(state.anonymous_ids) | set(devices)),
        "as_of": iso(at),
        "first_seen": iso(state.first_seen),
        "last_seen": iso(state.last_seen),
        "counts": dict(sorted(state.counts.items())),
        "affinities": {
            "half_life_days": half_life_s / decay.DAY_S,
            "genres": _affinities(state.genres, at, half_life_s),
            "tags": _affinities(state.tags, at, half_life_s),
        },
        "habits": {
            "hours": list(state.hours),
            "weekdays": dict(zip(WEEKDAYS, state.weekdays, strict=True)),
            "devices": dict(sorted(state.devices.items(), key=lambda kv: -kv[1])),
            "platforms": dict(sorted(state.platforms.items(), key=lambda kv: -kv[1])),
        },
        "consent": state.consent,
        "traits": state.traits,
        "recent_searches": [{"at": iso(ts), "query": query} for ts, query in state.searches],
        "items": [
            {
                "item_id": item_id,
                "first_at": iso(stats.first_at),
                "last_at": iso(stats.last_at),
                "plays": stats.plays,
                "completions": stats.completions,
                "progress": stats.progress,
                "finished": stats.finished,
                "clicks": stats.clicks,
                "skips": stats.skips,
                "rating": stats.rating,
            }
            for item_id, stats in items.items()
        ],
    }
