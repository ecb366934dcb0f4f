"""Per-user routes: the live profile (read), and export and erase of personal data (admin)."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from limelight.api.deps import EngineDep, moment, require
from limelight.api.problems import problem_responses
from limelight.api.schemas import Erased, Export, Profile

router = APIRouter(prefix="/v1/users", tags=["users"])

UserId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=261,
        description="An account id, or `anon:<anonymous_id>` for a device not signed in.",
    ),
]


@router.get(
    "/{user_id}/profile",
    response_model=Profile,
    dependencies=[require("read")],
    responses=problem_responses(404, 422),
)
def get_profile(
    engine: EngineDep,
    user_id: UserId,
    at: Annotated[
        str | None,
        Query(description="Decay affinities to this moment: ISO 8601 or epoch seconds."),
    ] = None,
    items: Annotated[int, Query(ge=0, le=1000, description="How many item entries.")] = 50,
) -> Any:
    """The live profile: counts, decayed affinities, habits and recent items."""
    return engine.profile(user_id, at=moment(at, "at"), items=items)


@router.get(
    "/{user_id}/export",
    response_model=Export,
    dependencies=[require("admin")],
    responses=problem_responses(404),
)
def export_user(engine: EngineDep, user_id: UserId) -> Any:
    """Everything kept about the user (events, identity links, profiles, per-item stats, ...)."""
    return engine.export_user(user_id)


@router.delete(
    "/{user_id}",
    response_model=Erased,
    dependencies=[require("admin")],
)
def erase_user(engine: EngineDep, user_id: UserId) -> Erased:
    """Erase the user everywhere, derived state included. Erasing twice is harmless."""
    return Erased(user_id=user_id, erased=engine.erase_user(user_id))
