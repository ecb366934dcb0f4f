"""Recommendations for a person and titles like a title (read scope).

Thin: each route parses its query, asks the Engine's recommendation service, and returns what
it answered. Every answer carries the ``decision_id`` it was logged under (send it back on the
impressions and plays it leads to) and the ``model_version`` that produced it.

This router must be included before the items router: ``/v1/items/{item_id:path}`` would
otherwise swallow ``/v1/items/{item_id}/similar``.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from limelight.api.compute import compute
from limelight.api.deps import EngineDep, moment, require
from limelight.api.problems import problem_responses
from limelight.engine import Engine
from limelight.recommend.results import RecommendationList, SimilarList
from limelight.recommend.service import attached

router = APIRouter(prefix="/v1", tags=["recommendations"])


class RecommendedItem(BaseModel):
    """One title on the list and why it is there."""

    item_id: str
    title: str | None
    score: float = Field(description="The ranker's score (higher first); not a probability.")
    reason: str = Field(
        examples=["because_you_watched"],
        description="because_you_watched, trending, new_for_you, popular, for_you or similar_to.",
    )
    reason_text: str = Field(examples=["Because you watched Toy Story"])
    seed_item_id: str | None = Field(
        default=None, description="The title named by the reason, when there is one."
    )


class ContinueItem(BaseModel):
    """A started, unfinished title."""

    item_id: str
    title: str | None
    progress: float
    last_at: float


class Recommendations(BaseModel):
    """A ranked list for one person, with their unfinished titles kept apart."""

    decision_id: str
    user_id: str
    model_version: str | None
    personalized: bool
    label: str = Field(
        description="personalized, cold_start (nothing to personalise from yet) or "
        "non_personalized (the person opted out of profiling)."
    )
    items: list[RecommendedItem]
    continue_watching: list[ContinueItem]
    context: dict[str, object]


class Similar(BaseModel):
    """Titles like one title."""

    decision_id: str
    item_id: str
    model_version: str | None
    items: list[RecommendedItem]


def _recommendations(found: RecommendationList) -> Recommendations:
    return Recommendations.model_validate(found.as_dict())


def _similar(found: SimilarList) -> Similar:
    return Similar.model_validate(found.as_dict())


@router.get(
    "/users/{user_id}/recommendations",
    response_model=Recommendations,
    dependencies=[require("read")],
    responses=problem_responses(422),
)
async def recommendations(
    request: Request,
    engine: EngineDep,
    user_id: Annotated[
        str,
        Path(
            min_length=1,
            max_length=261,
            description="An account id, or `anon:<anonymous_id>` for a device not signed in.",
        ),
    ],
    n: Annotated[int, Query(ge=1, le=100, description="How many titles.")] = 10,
    device: Annotated[
        str | None, Query(max_length=64, description="The requesting device (a ranker feature).")
    ] = None,
    at: Annotated[
        str | None,
        Query(description="The moment to recommend for (ISO 8601 or epoch seconds; default now)."),
    ] = None,
    diversity: Annotated[
        float | None,
        Query(ge=0.0, le=1.0, description="0 keeps the ranker's order; 1 spreads genres most."),
    ] = None,
    tz: Annotated[
        str | None,
        Query(
            max_length=64,
            description="IANA time zone of the request (default UTC): the ranker's hour of day "
            "and day of week are the person's own.",
        ),
    ] = None,
) -> Recommendations:
    """The person's list: ranked candidates after the rules, each with a reason."""
    found = await compute(
        request,
        _recommend,
        engine,
        user_id,
        n,
        device=device,
        at=moment(at, "at"),
        diversity=diversity,
        tz=tz,
    )
    return _recommendations(found)


@router.get(
    "/items/{item_id}/similar",
    response_model=Similar,
    dependencies=[require("read")],
    responses=problem_responses(404, 422),
)
async def similar(
    request: Request,
    engine: EngineDep,
    item_id: Annotated[str, Path(min_length=1, max_length=256)],
    n: Annotated[int, Query(ge=1, le=100, description="How many titles.")] = 10,
) -> Similar:
    """Titles like this one (available now); a title the model has not seen yet is matched by
    its genres."""
    return _similar(await compute(request, _similar_to, engine, item_id, n))


def _recommend(engine: Engine, user_id: str, n: int, **options: Any) -> RecommendationList:
    return attached(engine).recommend(user_id, n, **options)


def _similar_to(engine: Engine, item_id: str, n: int) -> SimilarList:
    return attached(engine).similar(item_id, n)
