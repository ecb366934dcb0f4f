"""The app factory. Nothing is built at import time; the Engine is built when the app starts.

``create_app(settings)`` is what tests and ``serve`` use; ``app_from_env`` is for
``uvicorn --factory limelight.api.app:app_from_env``, reading ``LIMELIGHT_*`` settings.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from http import HTTPStatus
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from pydantic import TypeAdapter

import limelight
from limelight.api.compute import open_lane
from limelight.api.middleware import BodyLimit
from limelight.api.problems import (
    MEDIA_TYPE,
    Problem,
    install_problem_handlers,
)
from limelight.api.routes import (
    decisions,
    events,
    experiments,
    health,
    home,
    items,
    recommendations,
    users,
)
from limelight.auth import KeyRing
from limelight.config import Settings
from limelight.engine import Engine
from limelight.events.schema import EVENT_ADAPTER
from limelight.pages.home import attached
from limelight.web import install_web

DESCRIPTION = """\
Limelight's HTTP API, a thin layer over `limelight.Engine`.

Send an API key as `Authorization: Bearer <key>` or `X-API-Key: <key>`. Scopes: `ingest`
(POST /v1/events only, safe to ship in apps), `read` (profiles, catalogue), `admin` (everything).
Errors are `application/problem+json` (RFC 9457) and name the `field` at fault.
"""


def create_app(
    settings: Settings,
    engine: Engine | None = None,
    *,
    on_ready: Callable[[], None] | None = None,
) -> FastAPI:
    """Build the API. With no ``engine``, one is built on startup and closed on shutdown.

    A given ``engine`` is used as is and left open: whoever made it closes it. ``on_ready`` runs
    once the engine is open and warm, before the first request (the server freezes the garbage
    collector's view of what start-up built there).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Built in a worker thread: opening the database and migrating it block.
        owned = engine is None
        open_lane(app, settings.compute_threads)
        if engine is None:
            app.state.engine = await anyio.to_thread.run_sync(Engine, settings)
        else:
            app.state.engine = engine
        # Ready means ready for pages at full speed (see ``HomeService.warm``).
        await anyio.to_thread.run_sync(attached(app.state.engine).warm)
        if on_ready is not None:
            on_ready()
        try:
            yield
        finally:
            if owned:
                app.state.engine.close()
            app.state.engine = None

    app = FastAPI(
        title="Limelight",
        version=limelight.__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.keyring = KeyRing(settings)
    app.state.engine = None
    install_problem_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.include_router(recommendations.router)  # before items: /v1/items/{id:path} is greedy
    app.include_router(home.router)  # before users: /v1/users/{id:path} is greedy
    for module in (health, events, users, items, experiments, decisions):
        app.include_router(module.router)
    install_web(app)  # the dashboard under /ui: pages, login, static files, artwork
    build_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build_openapi()  # FastAPI caches this very dict, so it is amended in place
        _document_problems(schema)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _document_problems(schema: dict[str, Any]) -> None:
    """Make the generated schema tell the truth about bodies and errors.

    Adds the event schema that the raw-JSON events route refers to, files every error answer
    under problem+json, documents 401/403 on every guarded operation, and replaces FastAPI's
    default 422 (``{"detail": [...]}``, which this API never sends), so that routes added later
    are documented right without extra care.
    """
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    adapters: dict[str, TypeAdapter[Any]] = {
        "EventIn": EVENT_ADAPTER,
        "Problem": TypeAdapter(Problem),
    }
    for root, adapter in adapters.items():
        found = adapter.json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in {**found.pop("$defs", {}), root: found}.items():
            components.setdefault(name, definition)
    default_422 = "#/components/schemas/HTTPValidationError"

    def problem(status: int) -> dict[str, Any]:
        return {
            "description": HTTPStatus(status).phrase,
            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }

    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status in (401, 403) if operation.get("security") else ():
                responses.setdefault(str(status), problem(status))
            if default_422 in str(responses.get("422")):
                responses["422"] = problem(422)
            for status, answer in responses.items():
                content = answer.get("content", {})
                if status[:1] in ("4", "5") and "application/json" in content:
                    content.setdefault(MEDIA_TYPE, content.pop("application/json"))
    if default_422 not in str(schema.get("paths")):
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)


def app_from_env() -> FastAPI:
    """The app configured from ``LIMELIGHT_*`` environment variables (for ``uvicorn --factory``)."""
    return create_app(Settings())
