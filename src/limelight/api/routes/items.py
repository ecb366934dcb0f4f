"""The catalogue: bulk upsert (admin), one item and filtered pages (read)."""

from typing import Annotated

from fastapi import APIRouter, Path, Query

from limelight.api.deps import EngineDep, ItemBatch, moment, require
from limelight.api.problems import ProblemError, problem_responses
from limelight.api.schemas import ItemPage, ItemRejection, ItemsRejected, UpsertResponse
from limelight.catalog.model import Item, ItemKind
from limelight.catalog.store import ItemFilter

router = APIRouter(prefix="/v1/items", tags=["items"])

_ITEM_LIST = {"type": "array", "items": {"$ref": "#/components/schemas/Item"}}
_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {
                            "type": "object",
                            "properties": {"items": _ITEM_LIST},
                            "required": ["items"],
                        },
                        _ITEM_LIST,
                    ]
                }
            }
        },
    }
}


@router.put(
    "",
    response_model=UpsertResponse,
    dependencies=[require("admin")],
    openapi_extra=_BODY,
    responses={**problem_responses(400, 413), 422: {"model": ItemsRejected}},
)
def upsert_items(engine: EngineDep, batch: ItemBatch) -> UpsertResponse:
    """Insert or replace items (``{"items": [...]}`` or a bare array), each checked on its own.

    As with events, a 422 still carries ``accepted`` and ``rejected``: the valid items are stored.
    """
    accepted, refused = engine.upsert_items(batch)
    rejected = [
        ItemRejection(index=r.index, field=r.field, reason=r.reason, item_id=r.event_id)
        for r in refused
    ]
    if rejected:
        raise ProblemError(
            422,
            "Some items were rejected",
            f"{len(rejected)} of {len(batch)} items were rejected (see `rejected`); "
            f"the other {accepted} are stored",
            slug="items-rejected",
            field="items",
            extensions={
                "accepted": accepted,
                "rejected": [entry.model_dump() for entry in rejected],
            },
        )
    return UpsertResponse(accepted=accepted)


@router.get(
    "",
    response_model=ItemPage,
    dependencies=[require("read")],
    responses=problem_responses(422),
)
def list_items(
    engine: EngineDep,
    kind: ItemKind | None = None,
    genre: Annotated[str | None, Query(max_length=100)] = None,
    tag: Annotated[str | None, Query(max_length=100)] = None,
    available_at: Annotated[
        str | None,
        Query(description="Only items available at this moment: ISO 8601 or epoch seconds."),
    ] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Text in the title (case-insensitive).")
    ] = None,
    after: Annotated[
        str | None, Query(max_length=256, description="The `next` of the previous page.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> ItemPage:
    """Items in id order; follow ``next`` (as ``after``) for the next page."""
    found = engine.items(
        ItemFilter(
            kind=kind,
            genre=genre,
            tag=tag,
            available_at=moment(available_at, "available_at"),
            query=q,
            after=after,
            limit=limit + 1,  # one more tells whether another page exists
        )
    )
    page = found[:limit]
    return ItemPage(items=page, next=page[-1].item_id if len(found) > limit else None)


@router.get(
    "/{item_id:path}",
    response_model=Item,
    dependencies=[require("read")],
    responses=problem_responses(404),
)
def get_item(
    engine: EngineDep,
    item_id: Annotated[str, Path(min_length=1, max_length=256)],
) -> Item:
    """One item with its artwork variants. Ids may contain ``/``."""
    return engine.item(item_id)
