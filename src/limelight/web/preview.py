"""The home preview behind ``/ui/home/<user>``: the real home page (:mod:`limelight.pages`)
with the preview's context switcher mapped onto it.

Why a thin adapter remains: the preview must always render, so values a browser may send that
the API would refuse (an unknown device, time or mood in a hand-edited URL) fall back to the
defaults here; and a preview row holds as many tiles as the device shows at once (a TV row
fewer, larger tiles), which is what the context switcher makes visible.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from limelight.engine import Engine
from limelight.pages.context import DAYPARTS, DEVICES
from limelight.pages.home import attached
from limelight.pages.rows import MOODS

TIMES = DAYPARTS
#: Tiles per row by device: a TV row shows fewer, larger tiles.
PER_ROW = {"web": 12, "tv": 8, "mobile": 6, "tablet": 10}
ROWS = 10


def build_page(engine: Engine, user_id: str, context: Mapping[str, Any]) -> dict[str, Any]:
    """The home page for ``user_id`` with the switcher's ``device``, ``time_of_day`` and
    ``mood`` (unknown values fall back to the defaults: web, the current time, no mood)."""
    device = context.get("device")
    device = device if device in DEVICES else "web"
    when = context.get("time_of_day")
    mood = context.get("mood")
    return attached(engine).home(
        user_id,
        device=device,
        rows=ROWS,
        per_row=PER_ROW[device],
        mood=mood if mood in MOODS else None,
        daypart=when if when in TIMES else None,
    )


__all__ = ["DEVICES", "MOODS", "PER_ROW", "TIMES", "build_page"]
