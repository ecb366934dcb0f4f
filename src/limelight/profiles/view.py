"""The profile as people and APIs read it: decayed to a moment, sorted, with readable times."""

from __future__ import annotations

from typing import Any

from limelight.catalog.model import iso
from limelight.profiles import decay
from limelight.profiles.state import ItemStats, ProfileState

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _affinities(
    values: dict[str, float], landmark: float | None, at: float, half_life_s: float
) -> list[dict[str, Any]]:
    shares = decay.shares(values)
    ranked = [
        {
            "name": name,
            "score": 0.0 if landmark is None else decay.value_at(value, landmark, at, half_life_s),
            "share": shares[name],
        }
        for name, value in values.items()
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
    """A JSON-ready profile; affinity ``score`` is decayed to ``at``, ``share`` is time-free.

    A moment before the profile's latest event reads the scores as of that event: a profile
    keeps sums, not history, so it cannot go back to what it was before an event."""
    seen = at if state.last_seen is None else max(at, state.last_seen)
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
            "genres": _affinities(state.genres, state.landmark, seen, half_life_s),
            "tags": _affinities(state.tags, state.landmark, seen, half_life_s),
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
