"""The home page and mood/activity queues for a person (read scope).

Answers are serialised with orjson straight from the service's JSON-ready dicts: a page of 200
tiles through FastAPI's generic encoder would cost more than composing it.

Thin: each route parses its query and asks the Engine's home service
(:mod:`limelight.pages.home`). Every page carries its ``page_id`` and every tile its
``decision_id``: send them back on impressions, clicks and plays.
"""

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from limelight.api.compute import compute
from limelight.api.deps import EngineDep, moment, require
from limelight.api.problems import problem_responses
from limelight.engine import Engine
from limelight.pages.home import attached

router = APIRouter(prefix="/v1", tags=["pages"])

UserId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=261,
        description="An account id, or `anon:<anonymous_id>` for a device not signed in.",
    ),
]


@router.get(
    "/users/{user_id}/home",
    dependencies=[require("read")],
    responses=problem_responses(422),
)
async def home(
    request: Request,
    engine: EngineDep,
    user_id: UserId,
    device: Annotated[
        str | None, Query(max_length=16, description="web, tv, mobile or tablet.")
    ] = None,
    at: Annotated[
        str | None, Query(description="The moment (ISO 8601 or epoch seconds; default now).")
    ] = None,
    tz: Annotated[
        str | None, Query(max_length=64, description="IANA time zone (default UTC).")
    ] = None,
    rows: Annotated[int, Query(ge=1, le=40)] = 10,
    per_row: Annotated[int, Query(ge=1, le=50)] = 20,
    mood: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    """Ordered rows (type, title, reason, items), each tile with its artwork and decision id."""
    page = await compute(
        request,
        _home,
        engine,
        user_id,
        device=device,
        at=moment(at, "at"),
        tz=tz,
        rows=rows,
        per_row=per_row,
        mood=mood or None,
    )
    return Response(page, media_type="application/json")


@router.get(
    "/users/{user_id}/queue",
    dependencies=[require("read")],
    responses=problem_responses(422),
)
async def queue(
    request: Request,
    engine: EngineDep,
    user_id: UserId,
    mood: Annotated[str | None, Query(max_length=32)] = None,
    activity: Annotated[str | None, Query(max_length=32)] = None,
    n: Annotated[int, Query(ge=1, le=200)] = 20,
) -> Response:
    """A sequence that fits the mood or activity and the person's taste; recent skips steer
    it away from their genres at once."""
    found = await compute(request, _queue, engine, user_id, mood=mood, activity=activity, n=n)
    return Response(found, media_type="application/json")


def _home(engine: Engine, user_id: str, **options: Any) -> bytes:
    """The page as JSON bytes (serialised in the lane too: it is CPU work as well)."""
    return orjson.dumps(attached(engine).home(user_id, **options))


def _queue(engine: Engine, user_id: str, **options: Any) -> bytes:
    return orjson.dumps(attached(engine).queue(user_id, **options))
