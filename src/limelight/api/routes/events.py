"""``POST /v1/events``: a batch is validated event by event; good events are stored."""

from fastapi import APIRouter

from limelight.api.deps import EngineDep, EventBatch, require
from limelight.api.problems import ProblemError, problem_responses
from limelight.api.schemas import EventRejection, EventsRejected, IngestResponse

router = APIRouter(prefix="/v1", tags=["events"])

_EVENT_LIST = {"type": "array", "items": {"$ref": "#/components/schemas/EventIn"}}
_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {
                            "type": "object",
                            "properties": {"batch": _EVENT_LIST},
                            "required": ["batch"],
                        },
                        _EVENT_LIST,
                    ]
                }
            }
        },
    }
}


@router.post(
    "/events",
    response_model=IngestResponse,
    dependencies=[require("ingest")],
    openapi_extra=_BODY,
    responses={**problem_responses(400, 413), 422: {"model": EventsRejected}},
)
def ingest_events(engine: EngineDep, batch: EventBatch) -> IngestResponse:
    """Store a batch of events (``{"batch": [...]}`` or a bare array).

    200 when every event was accepted or already stored. When some are refused the answer is
    422 and still carries ``accepted``, ``duplicates`` and ``rejected`` (index, field, reason):
    the good events of the batch ARE stored, and resending the whole batch is safe because
    ingest is idempotent on ``event_id``.
    """
    result = engine.ingest(batch)
    rejected = [
        EventRejection(index=r.index, field=r.field, reason=r.reason, event_id=r.event_id)
        for r in result.rejected
    ]
    if rejected:
        raise ProblemError(
            422,
            "Some events were rejected",
            f"{len(rejected)} of {len(batch)} events were rejected (see `rejected`); the other "
            f"{result.accepted + result.duplicates} are stored, and resending is safe",
            slug="events-rejected",
            field="batch",
            extensions={
                "accepted": result.accepted,
                "duplicates": result.duplicates,
                "rejected": [entry.model_dump() for entry in rejected],
            },
        )
    return IngestResponse(accepted=result.accepted, duplicates=result.duplicates)
