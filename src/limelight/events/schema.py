"""The wire schema of events: one typed shape per event type, checked in one pass.

The envelope follows Segment's conventions. Each type has its own ``properties`` shape, and the
shapes form a union tagged by ``type``, so pydantic-core validates a whole event (envelope,
context and type-specific properties) in a single compiled pass and reports the exact field at
fault. Unknown keys in ``context`` and ``properties`` are kept as sent; unknown envelope keys are
refused (they are usually typos).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Required, cast, get_args

from pydantic import ConfigDict, Field, StringConstraints, TypeAdapter, with_config
from typing_extensions import TypedDict

ItemEventType = Literal["impression", "click", "play_start", "play_complete", "skip", "add_to_list"]
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

PRINTABLE = r"^[^\x00-\x1f\x7f]+$"
Id = Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=PRINTABLE)]
EventId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=PRINTABLE)]
Short = Annotated[str, StringConstraints(max_length=64)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0, strict=True)]
Query = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
#: Epoch seconds (or milliseconds, see ``MILLISECONDS_ABOVE``); ISO 8601 strings go to datetime.
Epoch = Annotated[float, Field(ge=0.0, strict=True, allow_inf_nan=False)]
Seconds = Annotated[float, Field(ge=0.0, le=1e7, strict=True)]

_KEEP = ConfigDict(extra="allow")
_STRICT = ConfigDict(extra="forbid")


@with_config(_KEEP)
class Context(TypedDict, total=False):
    """Where the event happened."""

    device: Short
    platform: Short
    app: Annotated[str, StringConstraints(max_length=128)]
    locale: Annotated[str, StringConstraints(max_length=35)]
    timezone: Short
    session_id: Id


@with_config(_KEEP)
class CommonProperties(TypedDict, total=False):
    """Properties any event may carry: what served it and where it was shown."""

    decision_id: Id
    page_id: Id
    position: Annotated[int, Field(ge=0, strict=True)]
    watch_s: Seconds
    duration_s: Seconds


@with_config(_KEEP)
class _ItemBase(CommonProperties, total=False):
    item_id: Required[Id]


@with_config(_KEEP)
class ItemProperties(_ItemBase, total=False):
    progress: Fraction


@with_config(_KEEP)
class ProgressProperties(_ItemBase, total=False):
    progress: Required[Fraction]


@with_config(_KEEP)
class RatingProperties(ItemProperties, total=False):
    rating: Required[Annotated[float, Field(ge=0.0, le=10.0, strict=True)]]


@with_config(_KEEP)
class SearchProperties(CommonProperties, total=False):
    query: Required[
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
    ]


@with_config(_KEEP)
class AdProperties(CommonProperties, total=False):
    ad_id: Required[Id]
    campaign_id: Id


@with_config(_STRICT)
class _Base(TypedDict, total=False):
    event_id: Required[EventId]
    anonymous_id: Id
    timestamp: Epoch | datetime
    context: Context


@with_config(_STRICT)
class Envelope(_Base, total=False):
    """What every event carries (Segment's envelope)."""

    user_id: Id


@with_config(_STRICT)
class ItemEvent(Envelope, total=False):
    type: Required[ItemEventType]
    properties: Required[ItemProperties]


@with_config(_STRICT)
class ProgressEvent(Envelope, total=False):
    type: Required[Literal["play_progress"]]
    properties: Required[ProgressProperties]


@with_config(_STRICT)
class RatingEvent(Envelope, total=False):
    type: Required[Literal["rating"]]
    properties: Required[RatingProperties]


@with_config(_STRICT)
class SearchEvent(Envelope, total=False):
    type: Required[Literal["search"]]
    properties: Required[SearchProperties]


@with_config(_STRICT)
class AdEvent(Envelope, total=False):
    type: Required[Literal["ad_impression", "ad_click"]]
    properties: Required[AdProperties]


@with_config(_STRICT)
class IdentifyEvent(_Base, total=False):
    """Who the user is (traits) and what they agreed to (consent)."""

    type: Required[Literal["identify"]]
    user_id: Required[Id]
    traits: dict[str, Any]
    consent: dict[str, bool]
    properties: dict[str, Any]


@with_config(_STRICT)
class AliasEvent(_Base, total=False):
    """A device's anonymous id (``previous_id``) joins an account (``user_id``)."""

    type: Required[Literal["alias"]]
    user_id: Required[Id]
    previous_id: Required[Id]
    properties: dict[str, Any]


EventIn = Annotated[
    ItemEvent | ProgressEvent | RatingEvent | SearchEvent | AdEvent | IdentifyEvent | AliasEvent,
    Field(discriminator="type"),
]
EVENT_ADAPTER: TypeAdapter[Any] = TypeAdapter(cast(Any, EventIn))
