"""Live profile state and how one event folds into it.

Every rule here is order-independent (sums, minima, maxima, decayed sums and latest-by-timestamp
values), so folding events live gives the same profile as rebuilding it from the raw log, and two
profiles merge (on ``alias``) into what one person's history would have produced.
"""

from __future__ import annotations

from array import array
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson

from limelight.errors import InvalidInput
from limelight.events.model import Event
from limelight.profiles import decay

HABIT_TYPES = frozenset(
    {"click", "play_start", "skip", "search", "rating", "add_to_list", "ad_click"}
)
IDENTITY_TYPES = frozenset({"identify", "alias"})
ITEM_STAT_TYPES = frozenset(
    {"click", "play_start", "play_progress", "play_complete", "skip", "rating", "add_to_list"}
)
RECENT_SEARCHES = 20


@dataclass(frozen=True, slots=True)
class FoldConfig:
    """The knobs of profile folding, taken from Settings."""

    half_life_s: float
    weights: dict[str, float]
    rating_midpoint: float


@dataclass(frozen=True, slots=True)
class ItemMeta:
    """What folding needs to know about a catalogue item."""

    genres: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_time(ts: float, timezone: str | None) -> datetime:
    """The event's wall-clock time where the person was (UTC when unknown)."""
    return datetime.fromtimestamp(ts, _zone(timezone) if timezone else UTC)


_OFFSETS: dict[tuple[str, int], float] = {}


def checked_zone(name: str, field: str = "tz") -> str:
    """``name`` when it is an IANA time zone this machine knows, else ``InvalidInput`` naming
    ``field`` (a request's zone is the caller's to get right)."""
    try:
        _zone(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {name!r}", field=field) from None
    return name


def utc_offset(ts: float, timezone: str | None) -> float:
    """Seconds east of UTC in ``timezone`` at ``ts`` (0 when unknown), cached per zone and hour.

    Offsets change only on the hour (UTC) in every zone in use, so one look-up per zone and
    hour serves every event of that hour.
    """
    if not timezone:
        return 0.0
    key = (timezone, int(ts // 3600))
    cached = _OFFSETS.get(key)
    if cached is None:
        if len(_OFFSETS) > 100_000:
            _OFFSETS.clear()
        delta = local_time(ts, timezone).utcoffset()
        cached = _OFFSETS[key] = delta.total_seconds() if delta is not None else 0.0
    return cached


def hour_and_weekday(ts: float, timezone: str | None) -> tuple[int, int]:
    """Local hour (0-23) and weekday (Monday 0) of an event (see :func:`utc_offset`)."""
    offset = utc_offset(ts, timezone)
    local = int((ts + offset) // 3600)
    return local % 24, (local // 24 + 3) % 7  # 1970-01-01 was a Thursday


ITEM_STAT_COLUMNS = (
    "person_id",
    "item_id",
    "first_at",
    "last_at",
    "plays",
    "completions",
    "progress",
    "progress_at",
    "clicks",
    "skips",
    "rating",
    "rating_at",
)


@dataclass(slots=True)
class ItemStats:
    """One person's history with one item."""

    first_at: float
    last_at: float
    plays: int = 0
    completions: int = 0
    progress: float = 0.0
    progress_at: float | None = None
    clicks: int = 0
    skips: int = 0
    rating: float | None = None
    rating_at: float | None = None

    def fold(self, event: Event) -> None:
        ts = event.ts
        if ts < self.first_at:  # comparisons, not min/max: this runs for most events
            self.first_at = ts
        if ts > self.last_at:
            self.last_at = ts
        kind = event.type
        if kind == "play_start":
            self.plays += 1
            self._progress(float(event.properties.get("progress", 0.0)), event.ts)
        elif kind == "play_progress":
            self._progress(float(event.properties["progress"]), event.ts)
        elif kind == "play_complete":
            self.completions += 1
            self._progress(float(event.properties.get("progress", 1.0)), event.ts)
        elif kind == "click":
            self.clicks += 1
        elif kind == "skip":
            self.skips += 1
        elif kind == "rating" and (self.rating_at is None or event.ts >= self.rating_at):
            self.rating = float(event.properties["rating"])
            self.rating_at = event.ts

    def _progress(self, value: float, at: float) -> None:
        # Latest position wins (a re-watch starts again); ties keep the furthest.
        if (
            self.progress_at is None
            or at > self.progress_at
            or (at == self.progress_at and value > self.progress)
        ):
            self.progress = value
            self.progress_at = at

    def merge(self, other: ItemStats) -> None:
        self.first_at = min(self.first_at, other.first_at)
        self.last_at = max(self.last_at, other.last_at)
        self.plays += other.plays
        self.completions += other.completions
        self.clicks += other.clicks
        self.skips += other.skips
        if other.progress_at is not None:
            self._progress(other.progress, other.progress_at)
        if other.rating_at is not None and (
            self.rating_at is None or other.rating_at >= self.rating_at
        ):
            self.rating, self.rating_at = other.rating, other.rating_at

    @property
    def finished(self) -> bool:
        """Watched to the end (or nearly) on the latest play."""
        return self.progress >= 0.95 or (self.completions > 0 and self.progress_at is None)

    def values(self, person_id: str, item_id: str) -> tuple[Any, ...]:
        """The stored row in ``ITEM_STAT_COLUMNS`` order (hot path)."""
        return (
            person_id,
            item_id,
            self.first_at,
            self.last_at,
            self.plays,
            self.completions,
            self.progress,
            self.progress_at,
            self.clicks,
            self.skips,
            self.rating,
            self.rating_at,
        )

    def to_row(self, person_id: str, item_id: str) -> dict[str, Any]:
        return {
            "person_id": person_id,
            "item_id": item_id,
            "first_at": self.first_at,
            "last_at": self.last_at,
            "plays": self.plays,
            "completions": self.completions,
            "progress": self.progress,
            "progress_at": self.progress_at,
            "clicks": self.clicks,
            "skips": self.skips,
            "rating": self.rating,
            "rating_at": self.rating_at,
        }

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ItemStats:
        return cls(
            first_at=row["first_at"],
            last_at=row["last_at"],
            plays=row["plays"],
            completions=row["completions"],
            progress=row["progress"],
            progress_at=row["progress_at"],
            clicks=row["clicks"],
            skips=row["skips"],
            rating=row["rating"],
            rating_at=row["rating_at"],
        )


def _counts(size: int) -> array[int]:
    """Zeroed counters: an array of ints is one object the garbage collector never tracks."""
    return array("q", bytes(8 * size))


def _plain(value: Any) -> Any:
    """orjson's fallback for the count arrays."""
    if isinstance(value, array):
        return value.tolist()
    raise TypeError(f"cannot serialize {type(value).__name__}")


def _add_counts(target: dict[str, int], source: dict[str, int]) -> None:
    for key, value in source.items():
        target[key] = target.get(key, 0) + value


@dataclass(slots=True)
class ProfileState:
    """Everything kept per person apart from per-item stats; stored as one JSON document.

    Sequences are tuples or arrays of counts, and the dicts hold only atoms or tuples of
    atoms: the garbage collector stops tracking all of them, so the writer's in-memory
    profiles (see ``ProfileStore``) cost it one object each instead of dozens. ``dumps``
    writes the JSON document."""

    user_id: str | None = None
    anonymous_ids: tuple[str, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)
    first_seen: float | None = None
    last_seen: float | None = None
    #: Genre and tag affinities, forward-decayed against ``landmark`` (see ``decay``).
    genres: dict[str, float] = field(default_factory=dict)
    tags: dict[str, float] = field(default_factory=dict)
    landmark: float | None = None
    hours: array[int] = field(default_factory=lambda: _counts(24))
    weekdays: array[int] = field(default_factory=lambda: _counts(7))
    devices: dict[str, int] = field(default_factory=dict)
    platforms: dict[str, int] = field(default_factory=dict)
    traits: dict[str, Any] = field(default_factory=dict)
    traits_at: float | None = None
    consent: dict[str, bool] = field(default_factory=dict)
    consent_at: float | None = None
    searches: tuple[tuple[float, str], ...] = ()  # (ts, query), newest first

    def fold(self, event: Event, meta: ItemMeta | None, config: FoldConfig) -> None:
        """Fold one event into the profile."""
        kind, ts = event.type, event.ts
        counts = self.counts
        counts[kind] = counts.get(kind, 0) + 1
        if event.user_id is not None:
            self.user_id = event.user_id
        if event.anonymous_id is not None and event.anonymous_id not in self.anonymous_ids:
            self.anonymous_ids = (*self.anonymous_ids, event.anonymous_id)
        # Comparisons rather than min/max: this runs for every event ingested.
        if self.first_seen is None or ts < self.first_seen:
            self.first_seen = ts
        if self.last_seen is None or ts > self.last_seen:
            self.last_seen = ts
        if kind in IDENTITY_TYPES:
            if kind == "identify":
                self._identify(event)
            return
        context = event.context
        if context:
            device = context.get("device")
            if device:
                self.devices[device] = self.devices.get(device, 0) + 1
            platform = context.get("platform")
            if platform:
                self.platforms[platform] = self.platforms.get(platform, 0) + 1
        if kind in HABIT_TYPES:
            hour, weekday = hour_and_weekday(ts, context.get("timezone"))
            self.hours[hour] += 1
            self.weekdays[weekday] += 1
        if kind == "search":
            self._search(ts, str(event.properties["query"]))
        weight = config.weights.get(kind, 0.0)
        if kind == "rating":
            weight *= float(event.properties["rating"]) - config.rating_midpoint
        if weight and meta is not None:
            half_life = config.half_life_s
            landmark = self.landmark
            if landmark is None or ts - landmark > decay.REBASE_AFTER * half_life:
                landmark = self._move_landmark(ts, half_life)
            scaled = weight * 2.0 ** ((ts - landmark) / half_life)  # one power for every key
            genres, tags = self.genres, self.tags
            for genre in meta.genres:
                genres[genre] = genres.get(genre, 0.0) + scaled
            for tag in meta.tags:
                tags[tag] = tags.get(tag, 0.0) + scaled

    def _move_landmark(self, to: float, half_life_s: float) -> float:
        """Put the affinities' landmark at ``to`` (the first time, or to rebase them)."""
        if self.landmark is not None:
            decay.rebase((self.genres, self.tags), self.landmark, to, half_life_s)
        self.landmark = to
        return to

    def _identify(self, event: Event) -> None:
        if event.traits:
            newer = self.traits_at is None or event.ts >= self.traits_at
            for key, value in event.traits.items():
                if newer or key not in self.traits:
                    self.traits[key] = value
            self.traits_at = event.ts if newer else self.traits_at
        if event.consent:
            newer = self.consent_at is None or event.ts >= self.consent_at
            for key, value in event.consent.items():
                if newer or key not in self.consent:
                    self.consent[key] = value
            self.consent_at = event.ts if newer else self.consent_at

    def _search(self, ts: float, query: str) -> None:
        searches = sorted((*self.searches, (ts, query)), key=lambda entry: -entry[0])
        self.searches = tuple(searches[:RECENT_SEARCHES])

    def merge(self, other: ProfileState, config: FoldConfig) -> None:
        """Absorb another person's profile (an anonymous device history joining an account)."""
        self.user_id = self.user_id or other.user_id
        for anonymous_id in other.anonymous_ids:
            if anonymous_id not in self.anonymous_ids:
                self.anonymous_ids = (*self.anonymous_ids, anonymous_id)
        _add_counts(self.counts, other.counts)
        if other.first_seen is not None:
            self.first_seen = (
                other.first_seen
                if self.first_seen is None
                else min(self.first_seen, other.first_seen)
            )
        if other.last_seen is not None:
            self.last_seen = (
                other.last_seen if self.last_seen is None else max(self.last_seen, other.last_seen)
            )
        if other.landmark is not None:
            half_life = config.half_life_s
            if self.landmark is None or other.landmark > self.landmark:
                self._move_landmark(other.landmark, half_life)  # the later one: no overflow
            assert self.landmark is not None
            scale = decay.growth(other.landmark, self.landmark, half_life)
            for mine, theirs in ((self.genres, other.genres), (self.tags, other.tags)):
                for key, value in theirs.items():
                    mine[key] = mine.get(key, 0.0) + value * scale
        self.hours = array("q", (a + b for a, b in zip(self.hours, other.hours, strict=True)))
        self.weekdays = array(
            "q", (a + b for a, b in zip(self.weekdays, other.weekdays, strict=True))
        )
        _add_counts(self.devices, other.devices)
        _add_counts(self.platforms, other.platforms)
        for ts, query in other.searches:
            self._search(ts, query)
        # Identity data comes from identify events, which only signed-in users send.
        if other.traits_at is not None and (
            self.traits_at is None or other.traits_at > self.traits_at
        ):
            self.traits = {**self.traits, **other.traits}
            self.traits_at = other.traits_at
        if other.consent_at is not None and (
            self.consent_at is None or other.consent_at > self.consent_at
        ):
            self.consent = {**self.consent, **other.consent}
            self.consent_at = other.consent_at

    def dumps(self) -> bytes:
        """The stored JSON document (orjson, with the count arrays as lists)."""
        return orjson.dumps(self, default=_plain)

    def plain(self) -> dict[str, Any]:
        """The stored document as plain JSON values."""
        document: dict[str, Any] = orjson.loads(self.dumps())
        return document

    @classmethod
    def from_json(cls, data: dict[str, Any], half_life_s: float | None = None) -> ProfileState:
        """The state of a stored document. Documents written before forward decay (a
        ``[value, time]`` pair per genre and tag) need the half-life to be read."""
        state: ProfileState | None = None
        if len(data) == len(cls.__slots__):
            with suppress(TypeError):
                state = cls(**data)  # the stored document of this version: one call
        if state is None:
            state = cls()  # older or partial documents: take what is there
            for name in cls.__slots__:
                if name in data:
                    setattr(state, name, data[name])
        # JSON arrays back to the tuples folding makes (see the class docstring).
        state.anonymous_ids = tuple(state.anonymous_ids)
        if state.landmark is None and (state.genres or state.tags):
            state._from_pairs(half_life_s)
        state.hours = array("q", state.hours)
        state.weekdays = array("q", state.weekdays)
        state.searches = tuple((entry[0], entry[1]) for entry in state.searches)
        return state

    def _from_pairs(self, half_life_s: float | None) -> None:
        """Affinities of a document written before forward decay, onto one landmark."""
        if half_life_s is None:
            raise ValueError("a profile document of the old format needs the half-life to read")
        pairs: list[dict[str, Any]] = [self.genres, self.tags]
        landmark = max(entry[1] for values in pairs for entry in values.values())
        self.genres = decay.from_pairs(pairs[0], landmark, half_life_s)
        self.tags = decay.from_pairs(pairs[1], landmark, half_life_s)
        self.landmark = landmark

    @staticmethod
    def is_old(data: dict[str, Any]) -> bool:
        """Whether a stored document predates forward decay."""
        return "landmark" not in data and bool(data.get("genres") or data.get("tags"))
