"""Catalogue items and their artwork variants, as clients send them and as we return them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ItemKind = Literal[
    "movie",
    "series",
    "season",
    "episode",
    "track",
    "album",
    "podcast",
    "podcast_episode",
    "live",
    "short",
    "clip",
]
_ID = r"^[^\x00-\x1f\x7f]+$"


def _epoch(value: datetime | None) -> float | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def iso(ts: float | None) -> str | None:
    """Epoch seconds as an ISO 8601 UTC string."""
    return (
        None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")
    )


class Artwork(BaseModel):
    """One artwork variant of a title (a thumbnail the artwork bandit can choose)."""

    model_config = ConfigDict(extra="forbid")

    artwork_id: str = Field(min_length=1, max_length=128, pattern=_ID)
    url: str = Field(min_length=1, max_length=2048)
    attributes: dict[str, Any] = Field(default_factory=dict)
    is_default: bool = False


class Item(BaseModel):
    """A catalogue item: a movie, series, episode, track, podcast, ..."""

    model_config = ConfigDict(extra="forbid")

    item_id: str = Field(min_length=1, max_length=256, pattern=_ID)
    kind: ItemKind = "movie"
    title: str = Field(min_length=1, max_length=1000)
    genres: list[str] = Field(default_factory=list, max_length=50)
    tags: list[str] = Field(default_factory=list, max_length=500)
    release_year: int | None = Field(default=None, ge=1800, le=2200)
    duration_s: float | None = Field(default=None, ge=0, le=1e7)
    maturity_rating: str | None = Field(default=None, max_length=32)
    description: str | None = Field(default=None, max_length=100_000)
    available_from: datetime | None = None
    available_until: datetime | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    artwork: list[Artwork] | None = Field(default=None, max_length=100)

    @field_validator("genres", "tags")
    @classmethod
    def _clean(cls, values: list[str]) -> list[str]:
        cleaned: list[str] = []
        for value in values:
            text = value.strip()
            if not text or len(text) > 100:
                raise ValueError("entries must be non-empty strings of at most 100 characters")
            if text not in cleaned:
                cleaned.append(text)
        return cleaned

    @model_validator(mode="after")
    def _window(self) -> Item:
        start, end = _epoch(self.available_from), _epoch(self.available_until)
        if start is not None and end is not None and end <= start:
            raise ValueError("available_until must be after available_from")
        if self.artwork is not None:
            ids = [art.artwork_id for art in self.artwork]
            if len(ids) != len(set(ids)):
                raise ValueError("artwork ids must be unique within an item")
            if sum(art.is_default for art in self.artwork) > 1:
                raise ValueError("at most one artwork variant can be the default")
        return self

    def to_row(self, updated_at: float) -> dict[str, Any]:
        return {
            "item_id": self.item_id,
            "kind": self.kind,
            "title": self.title,
            "genres": self.genres,
            "tags": self.tags,
            "release_year": self.release_year,
            "duration_s": self.duration_s,
            "maturity_rating": self.maturity_rating,
            "description": self.description,
            "available_from": _epoch(self.available_from),
            "available_until": _epoch(self.available_until),
            "attributes": self.attributes,
            "updated_at": updated_at,
        }

    @classmethod
    def from_row(cls, row: dict[str, Any], artwork: list[dict[str, Any]] | None = None) -> Item:
        def moment(ts: float | None) -> datetime | None:
            return None if ts is None else datetime.fromtimestamp(ts, UTC)

        return cls(
            item_id=row["item_id"],
            kind=row["kind"],
            title=row["title"],
            genres=row["genres"],
            tags=row["tags"],
            release_year=row["release_year"],
            duration_s=row["duration_s"],
            maturity_rating=row["maturity_rating"],
            description=row["description"],
            available_from=moment(row["available_from"]),
            available_until=moment(row["available_until"]),
            attributes=row["attributes"],
            artwork=None
            if artwork is None
            else [
                Artwork(
                    artwork_id=art["artwork_id"],
                    url=art["url"],
                    attributes=art["attributes"],
                    is_default=art["is_default"],
                )
                for art in artwork
            ],
        )

    def is_available(self, at: float) -> bool:
        """Whether the item may be shown at time ``at`` (epoch seconds)."""
        start, end = _epoch(self.available_from), _epoch(self.available_until)
        return (start is None or start <= at) and (end is None or at < end)
