"""The event envelope (Segment-style) and its validation, event by event.

A batch is never all-or-nothing: each event is checked on its own and a bad one is answered with
its index, the field at fault and the reason, while the good ones go on to storage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from limelight.events.schema import EVENT_ADAPTER, EVENT_TYPES

ANONYMOUS_PREFIX = "anon:"
#: Numeric timestamps are epoch seconds; larger values are taken as milliseconds (as in JS).
MILLISECONDS_ABOVE = 1e11
_VALIDATE = EVENT_ADAPTER.validator.validate_python  # the compiled validator, without wrappers


@lru_cache(maxsize=1024)
def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


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

    def stored_properties(self) -> dict[str, Any]:
        """Properties as stored: identify and alias keep traits, consent and previous_id here."""
        if self.traits is None and self.consent is None and self.previous_id is None:
            return self.properties
        extras = {
            key: value
            for key, value in (
                ("traits", self.traits),
                ("consent", self.consent),
                ("previous_id", self.previous_id),
            )
            if value is not None
        }
        return {**self.properties, **extras}

    def values(self) -> tuple[Any, ...]:
        """The stored row in ``EVENT_COLUMNS`` order, JSON already serialized (hot path)."""
        return (
            self.event_id,
            self.type,
            self.user_id,
            self.anonymous_id,
            self.person_id,
            self.item_id,
            self.decision_id,
            self.session_id,
            self.ts,
            self.received_at,
            _dumps(self.context).decode(),
            _dumps(self.stored_properties()).decode(),
        )

    def to_row(self) -> dict[str, Any]:
        """The row stored in ``events``."""
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
            "properties": self.stored_properties(),
        }


EVENT_COLUMNS = (
    "event_id",
    "type",
    "user_id",
    "anonymous_id",
    "person_id",
    "item_id",
    "decision_id",
    "session_id",
    "ts",
    "received_at",
    "context",
    "properties",
)
_dumps = orjson.dumps


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


def _field(error: ErrorDetails, tag: Any) -> str:
    """The dotted field name of a validation error, without the union's tag."""
    parts = [str(part) for part in error.get("loc", ())]
    if parts and parts[0] == tag:
        parts = parts[1:]
    if parts and parts[0] == "timestamp":
        return "timestamp"  # drop the union member (number or date-time) from the name
    return ".".join(parts) or "type"


def _reason(error: ErrorDetails, raw: dict[str, Any]) -> str:
    kind = error.get("type")
    if kind == "union_tag_invalid":
        return f"unknown event type {raw.get('type')!r}; expected one of {', '.join(EVENT_TYPES)}"
    if kind == "union_tag_not_found":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a field of this event type"
    if error.get("loc", ("",))[-2:-1] == ("timestamp",) or error.get("loc") == ("timestamp",):
        return "must be an ISO 8601 date-time or epoch seconds (milliseconds above 1e11)"
    return str(error.get("msg", "is invalid"))


def validate_event(
    raw: Any, index: int, *, received_at: float, max_future_skew_s: float
) -> Event | Rejection:
    """Validate one raw event; return the normalized event or the reason it is refused."""
    if not isinstance(raw, dict):
        return Rejection(index, "event", "each event must be a JSON object")
    event_id = raw.get("event_id")
    event_id = event_id if isinstance(event_id, str) else None
    try:
        data = _VALIDATE(raw)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        return Rejection(index, _field(first, raw.get("type")), _reason(first, raw), event_id)
    user_id = data.get("user_id")
    anonymous_id = data.get("anonymous_id")
    if user_id is None and anonymous_id is None:
        return Rejection(index, "user_id", "an event needs user_id or anonymous_id", event_id)
    if user_id is not None and user_id.startswith(ANONYMOUS_PREFIX):
        return Rejection(index, "user_id", f"must not start with {ANONYMOUS_PREFIX!r}", event_id)
    previous_id = data.get("previous_id")
    if previous_id is not None and previous_id.startswith(ANONYMOUS_PREFIX):
        return Rejection(
            index, "previous_id", f"must not start with {ANONYMOUS_PREFIX!r}", event_id
        )
    context: dict[str, Any] = data.get("context") or {}
    zone = context.get("timezone")
    if zone is not None and not _known_zone(zone):
        return Rejection(index, "context.timezone", f"unknown IANA time zone {zone!r}", event_id)
    stamp: float | datetime | None = data.get("timestamp")
    if stamp is None:
        ts = received_at
    else:
        if isinstance(stamp, datetime):
            ts = (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp()
        else:
            ts = stamp / 1000.0 if stamp > MILLISECONDS_ABOVE else float(stamp)
        if ts > received_at + max_future_skew_s:
            return Rejection(index, "timestamp", "is too far in the future", event_id)
    properties: dict[str, Any] = data.get("properties") or {}
    return Event(
        event_id=data["event_id"],
        type=data["type"],
        user_id=user_id,
        anonymous_id=anonymous_id,
        ts=ts,
        received_at=received_at,
        item_id=properties.get("item_id"),
        decision_id=properties.get("decision_id"),
        session_id=context.get("session_id"),
        context=context,
        properties=properties,
        traits=data.get("traits"),
        consent=data.get("consent"),
        previous_id=previous_id,
    )


def now_utc() -> float:
    return datetime.now(UTC).timestamp()
