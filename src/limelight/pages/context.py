"""The context a page is composed for: device, local time of day and day of week, the session.

Why local time: "evening" means the viewer's evening, so ``at`` (epoch seconds, the moment the
page is for) is read in ``tz`` (an IANA zone; UTC when unknown). Why the session so far: what a
person played or skipped in the last hours says more about what they want now than their
long-term taste, so it steers the page (see :mod:`limelight.pages.home`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from limelight.errors import InvalidInput
from limelight.profiles.state import checked_zone, hour_and_weekday

DEVICES = ("web", "tv", "mobile", "tablet")
DAYPARTS = ("morning", "afternoon", "evening", "night")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: Representative local hours of each daypart, for a preview that picks a daypart by name.
DAYPART_HOURS = {"morning": 9, "afternoon": 14, "evening": 20, "night": 23}
#: A session is what happened in this many seconds before the page.
SESSION_S = 3 * 3600.0


def daypart(hour: int) -> str:
    """The part of the day of a local hour (0-23).

    >>> daypart(8), daypart(13), daypart(20), daypart(2)
    ('morning', 'afternoon', 'evening', 'night')
    """
    if 5 <= hour < 12:
        return "morning"
    if 12 <= hour < 17:
        return "afternoon"
    if 17 <= hour < 22:
        return "evening"
    return "night"


@dataclass(frozen=True)
class Session:
    """What the person did in the session so far (titles played and skipped, newest first)."""

    played: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    genres: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class PageContext:
    """The request's context, resolved: every field is known (defaults filled in)."""

    device: str
    at: float
    tz: str
    hour: int
    daypart: str
    weekday: int
    session: Session = field(default_factory=Session)

    @property
    def weekend(self) -> bool:
        return self.weekday >= 5

    def features(self) -> dict[str, str]:
        """The context the artwork bandit sees (device and daypart, both low-cardinality)."""
        return {"device": self.device, "daypart": self.daypart}

    def as_dict(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "at": self.at,
            "tz": self.tz,
            "hour": self.hour,
            "daypart": self.daypart,
            "time_of_day": self.daypart,
            "day_of_week": WEEKDAYS[self.weekday],
            "weekend": self.weekend,
            "session_played": list(self.session.played),
            "session_skipped": list(self.session.skipped),
        }


def page_context(
    device: str | None = None,
    at: float | None = None,
    tz: str | None = None,
    *,
    daypart_override: str | None = None,
    session: Session | None = None,
) -> PageContext:
    """Resolve a request's context. An unknown device is refused (``InvalidInput``) so an API
    client learns of its typo; ``daypart_override`` moves ``at`` to that part of the local day
    (the preview's time switcher)."""
    chosen = device or "web"
    if chosen not in DEVICES:
        raise InvalidInput(f"device must be one of {', '.join(DEVICES)}", field="device")
    zone = checked_zone(tz or "UTC")
    moment = time.time() if at is None else float(at)
    hour, weekday = hour_and_weekday(moment, zone)
    if daypart_override is not None:
        if daypart_override not in DAYPART_HOURS:
            raise InvalidInput(f"time must be one of {', '.join(DAYPARTS)}", field="time")
        target = DAYPART_HOURS[daypart_override]
        moment += ((target - hour) % 24) * 3600.0
        hour, weekday = hour_and_weekday(moment, zone)
    return PageContext(
        device=chosen,
        at=moment,
        tz=zone,
        hour=hour,
        daypart=daypart(hour),
        weekday=weekday,
        session=session or Session(),
    )


__all__ = ["DAYPARTS", "DEVICES", "PageContext", "Session", "daypart", "page_context"]
