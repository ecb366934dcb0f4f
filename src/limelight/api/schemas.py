"""Response shapes, declared so that /docs shows what each route answers.

Shapes owned by other packages (the profile view, the personal-data export) are declared with
their known fields and ``extra="allow"``, so a field added there reaches clients before it
reaches these docs.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from limelight.api.problems import Problem
from limelight.catalog.model import Item


class Health(BaseModel):
    status: str = Field(examples=["ok"])
    database: str = Field(examples=["sqlite"])
    version: str


class EventRejection(BaseModel):
    """Why one event of a batch was refused."""

    index: int
    field: str
    reason: str
    event_id: str | None = None


class IngestResponse(BaseModel):
    """What happened to a batch of events (every event either accepted, duplicate or rejected)."""

    accepted: int
    duplicates: int
    rejected: list[EventRejection] = Field(default_factory=list)


class EventsRejected(Problem):
    """422 when some events were refused: the others ARE stored, and resending is safe."""

    accepted: int
    duplicates: int
    rejected: list[EventRejection]


class ItemRejection(BaseModel):
    """Why one item of a batch was refused."""

    index: int
    field: str
    reason: str
    item_id: str | None = None


class UpsertResponse(BaseModel):
    accepted: int
    rejected: list[ItemRejection] = Field(default_factory=list)


class ItemsRejected(Problem):
    """422 when some items were refused: the others ARE stored."""

    accepted: int
    rejected: list[ItemRejection]


class ItemPage(BaseModel):
    """One page of the catalogue; pass ``next`` as ``after`` to get the following page."""

    items: list[Item]
    next: str | None = Field(description="The last item id of this page when more may follow.")


class Affinity(BaseModel):
    name: str
    score: float = Field(description="Decayed to `as_of`.")
    share: float = Field(description="Share of the total, independent of time.")


class Affinities(BaseModel):
    model_config = ConfigDict(extra="allow")

    half_life_days: float
    genres: list[Affinity]
    tags: list[Affinity]


class ProfileItem(BaseModel):
    model_config = ConfigDict(extra="allow")

    item_id: str
    first_at: str | None
    last_at: str | None
    plays: int
    completions: int
    progress: float
    finished: bool
    clicks: int
    skips: int
    rating: float | None


class Profile(BaseModel):
    """The live profile of a person, decayed to ``as_of``."""

    model_config = ConfigDict(extra="allow")

    person_id: str
    user_id: str | None
    anonymous_ids: list[str]
    as_of: str | None
    first_seen: str | None
    last_seen: str | None
    counts: dict[str, int]
    affinities: Affinities
    habits: dict[str, Any]
    consent: dict[str, Any] | None = None
    traits: dict[str, Any] | None = None
    recent_searches: list[dict[str, Any]] = Field(default_factory=list)
    items: list[ProfileItem] = Field(default_factory=list)


class Export(BaseModel):
    """Everything kept about a user: one member per personal-data hook (``core`` first)."""

    model_config = ConfigDict(extra="allow")

    user_id: str
    devices: list[str]


class Erased(BaseModel):
    user_id: str
    erased: dict[str, int] = Field(description="Rows removed, per personal-data hook.")
