"""What the recommendation service answers: plain, frozen, JSON-ready records."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

PERSONALIZED = "personalized"
COLD_START = "cold_start"
NON_PERSONALIZED = "non_personalized"


@dataclass(frozen=True, slots=True)
class Recommendation:
    """One title on a list, with why it is there."""

    item_id: str
    title: str | None
    score: float
    reason: str
    reason_text: str
    seed_item_id: str | None = None


@dataclass(frozen=True, slots=True)
class ContinueWatching:
    """A started, unfinished title."""

    item_id: str
    title: str | None
    progress: float
    last_at: float


@dataclass(frozen=True)
class RecommendationList:
    """The answer for one person.

    ``label`` says what kind of list this is: ``personalized`` (ranked from their history),
    ``cold_start`` (nothing to personalise from yet: popular and trending) or
    ``non_personalized`` (they opted out of profiling; their history was not used).
    """

    decision_id: str
    user_id: str
    model_version: str | None
    personalized: bool
    label: str
    items: list[Recommendation]
    continue_watching: list[ContinueWatching] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def item_ids(self) -> list[str]:
        return [item.item_id for item in self.items]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SimilarList:
    """Titles like one title."""

    decision_id: str
    item_id: str
    model_version: str | None
    items: list[Recommendation]

    @property
    def item_ids(self) -> list[str]:
        return [item.item_id for item in self.items]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


__all__ = [
    "COLD_START",
    "NON_PERSONALIZED",
    "PERSONALIZED",
    "ContinueWatching",
    "Recommendation",
    "RecommendationList",
    "SimilarList",
]
