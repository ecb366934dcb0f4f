"""The event envelope (Segment-style) and its validation, event by event.

A batch is never all-or-nothing: each event is checked on its own and a bad one is answered with
its index, the field at fault and the reason, while the good ones go on to storage.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails

EventType = Literal[
    "impression",
    "click",
    "play_start",
    "play_progress",
    "play_complete",
    "skip",
    "search",
    "rating",
    "add_to_list",
    "ad_impression",
    "ad_click",
    "identify",
    "alias",
]
EVENT_TYPES: tuple[str, ...] = get_args(EventType)

#: Types that are about one catalogue item and must name it in ``properties.item_id``.
ITEM_EVENTS = frozenset(
    {
        "impression",
        "click",
        "play_start",
        "play_progress",
        "play_complete",
        "skip",
        "rating",
        "add_to_list",
    }
)
AD_EVENTS = frozenset({"ad_impression", "ad_click"})
ANONYMOUS_PREFIX = "anon:"
_ID = r"^[^\x00-\x1f\x7f]+$"
_ID_PATTERN = re.compile(_ID)


class Context(BaseModel):
    """Where the event happened. Unknown keys are kept as sent."""

    model_config = ConfigDict(extra="allow", frozen=True)

    device: str | None = Field(default=None, max_length=64)
    platform: str | None = Field(default=None, max_length=64)
    app: str | None = Field(default=None, max_length=128)
    locale: str | None = Field(default=None, max_length=35)
    timezone: str | None = Field(default=None, max_length=64)
    session_id: str | None = Field(default=None, max_length=256)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown IANA time zone {value!r}") from error
        return value


class EventIn(BaseModel):
    """One event as a client sends it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: str = Field(min_length=1, max_length=128, pattern=_ID)
    type: EventType
    user_id: str | None = Field(default=None, min_length=1, max_length=256, pattern=_ID)
    anonymous_id: str | None = Field(default=None, min_length=1, max_length=256, pattern=_ID)
    timestamp: datetime | None = None
    context: Context = Field(default_factory=Context)
    properties: dict[str, Any] = Field(default_factory=dict)
    traits: dict[str, Any] | None = None
    consent: dict[str, bool] | None = None
    previous_id: str | None = Field(default=None, min_length=1, max_length=256, pattern=_ID)


@dataclass(slots=True)
class Event:
    """A validated event, normalized for storage (times in UTC epoch seconds)."""

    event_id: str
    type: str
    user_id: str | None
    anonymous_id: str | None
    ts: float
    received_at: float
    item_id: str | None
    decision_id: str | None
    session_id: str | None
    context: dict[str, Any]
    properties: dict[str, Any]
    person_id: str = ""
    traits: dict[str, Any] | None = None
    consent: dict[str, bool] | None = None
    previous_id: str | None = None

    def to_row(self) -> dict[str, Any]:
        """The row stored in ``events``."""
        properties = self.properties
        extras = {
            key: value
            for key, value in (
                ("traits", self.traits),
                ("consent", self.consent),
                ("previous_id", self.previous_id),
            )
            if value is not None
        }
        if extras:
            properties = {**properties, **extras}
        return {
            "event_id": self.event_id,
            "type": self.type,
            "user_id": self.user_id,
            "anonymous_id": self.anonymous_id,
            "person_id": self.person_id,
            "item_id": self.item_id,
            "decision_id": self.decision_id,
            "session_id": self.session_id,
            "ts": self.ts,
            "received_at": self.received_at,
            "context": self.context,
            "properties": properties,
        }


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why one event of a batch was refused."""

    index: int
    field: str
    reason: str
    event_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "field": self.field,
            "reason": self.reason,
            "event_id": self.event_id,
        }


@dataclass(slots=True)
class IngestResult:
    """What happened to a batch: how many were stored, were already stored, or were refused."""

    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": [rejection.as_dict() for rejection in self.rejected],
        }


class _Invalid(Exception):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def _require_text(properties: dict[str, Any], key: str, event_type: str) -> str:
    value = properties.get(key)
    if value is None:
        raise _Invalid(f"properties.{key}", f"required for {event_type} events")
    if not isinstance(value, str) or not value or len(value) > 256 or not _ID_PATTERN.match(value):
        raise _Invalid(
            f"properties.{key}", "must be a non-empty string of at most 256 printable characters"
        )
    return value


def _number(
    properties: dict[str, Any], key: str, low: float, high: float, *, required: bool
) -> None:
    value = properties.get(key)
    if value is None:
        if required:
            raise _Invalid(f"properties.{key}", "is required")
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _Invalid(f"properties.{key}", "must be a finite number")
    if not low <= value <= high:
        raise _Invalid(f"properties.{key}", f"must be between {low:g} and {high:g}")


def _check_type_rules(event: EventIn) -> None:
    kind = event.type
    properties = event.properties
    if event.user_id is None and event.anonymous_id is None:
        raise _Invalid("user_id", "an event needs user_id or anonymous_id")
    for name in ("user_id", "previous_id"):
        value = getattr(event, name)
        if value is not None and value.startswith(ANONYMOUS_PREFIX):
            raise _Invalid(name, f"must not start with the reserved prefix {ANONYMOUS_PREFIX!r}")
    if kind in ITEM_EVENTS:
        _require_text(properties, "item_id", kind)
    if kind in AD_EVENTS:
        _require_text(properties, "ad_id", kind)
    if kind == "rating":
        _number(properties, "rating", 0.0, 10.0, required=True)
    if kind == "play_progress":
        _number(properties, "progress", 0.0, 1.0, required=True)
    elif "progress" in properties:
        _number(properties, "progress", 0.0, 1.0, required=False)
    if kind == "search":
        query = properties.get("query")
        if not isinstance(query, str) or not query.strip():
            raise _Invalid("properties.query", "search events need a non-empty query")
        if len(query) > 1000:
            raise _Invalid("properties.query", "must be at most 1000 characters")
    if "position" in properties:
        position = properties["position"]
        if isinstance(position, bool) or not isinstance(position, int) or position < 0:
            raise _Invalid("properties.position", "must be a non-negative integer")
    for key in ("watch_s", "duration_s"):
        if key in properties:
            _number(properties, key, 0.0, 1e7, required=False)
    for key in ("decision_id", "page_id"):
        if key in properties:
            _require_text(properties, key, kind)
    if kind == "identify" and event.user_id is None:
        raise _Invalid("user_id", "identify events need a user_id")
    if kind != "identify" and (event.traits is not None or event.consent is not None):
        raise _Invalid(
            "traits" if event.traits is not None else "consent", "only identify events carry it"
        )
    if kind == "alias":
        if event.user_id is None:
            raise _Invalid("user_id", "alias events need the user_id to merge into")
        if event.previous_id is None:
            raise _Invalid("previous_id", "alias events need the previous (anonymous) id")
    elif event.previous_id is not None:
        raise _Invalid("previous_id", "only alias events carry it")


def _loc(error: ErrorDetails) -> str:
    parts = [str(part) for part in error.get("loc", ())]
    return ".".join(parts) or "event"


def validate_event(
    raw: Any, index: int, *, received_at: float, max_future_skew_s: float
) -> Event | Rejection:
    """Validate one raw event; return the normalized event or the reason it is refused."""
    event_id = raw.get("event_id") if isinstance(raw, dict) else None
    event_id = event_id if isinstance(event_id, str) else None
    if not isinstance(raw, dict):
        return Rejection(index, "event", "each event must be a JSON object")
    try:
        parsed = EventIn.model_validate(raw)
        _check_type_rules(parsed)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        return Rejection(index, _loc(first), str(first.get("msg", "invalid")), event_id)
    except _Invalid as invalid:
        return Rejection(index, invalid.field, invalid.reason, event_id)
    if parsed.timestamp is None:
        ts = received_at
    else:
        stamp = (
            parsed.timestamp if parsed.timestamp.tzinfo else parsed.timestamp.replace(tzinfo=UTC)
        )
        ts = stamp.timestamp()
        if ts > received_at + max_future_skew_s:
            return Rejection(index, "timestamp", "is too far in the future", event_id)
    context = parsed.context.model_dump(exclude_none=True)
    properties = parsed.properties
    return Event(
        event_id=parsed.event_id,
        type=parsed.type,
        user_id=parsed.user_id,
        anonymous_id=parsed.anonymous_id,
        ts=ts,
        received_at=received_at,
        item_id=properties.get("item_id"),
        decision_id=properties.get("decision_id"),
        session_id=context.get("session_id"),
        context=context,
        properties=properties,
        traits=parsed.traits,
        consent=parsed.consent,
        previous_id=parsed.previous_id,
    )


def now_utc() -> float:
    return datetime.now(UTC).timestamp()
