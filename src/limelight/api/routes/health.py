"""``/healthz``: open, and honest about the database (a load balancer acts on it)."""

from fastapi import APIRouter
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

import limelight
from limelight.api.deps import EngineDep
from limelight.api.problems import ProblemError, problem_responses
from limelight.api.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, responses=problem_responses(503))
def healthz(engine: EngineDep) -> Health:
    """200 when the database answers ``SELECT 1``, else 503."""
    try:
        with engine.database.read() as connection:
            connection.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError) as error:
        raise ProblemError(
            503,
            "Service unavailable",
            f"the database does not answer ({type(error).__name__})",
            slug="database-unavailable",
        ) from error
    return Health(status="ok", database=engine.database.dialect, version=limelight.__version__)
