"""Dependencies shared by the routes: the Engine, API-key scopes and raw JSON batches.

Routes stay thin by declaring what they need here (``EngineDep``, ``require("read")``,
``EventBatch``). This module deliberately avoids ``from __future__ import annotations``: FastAPI
reads the signature of ``ScopeCheck.__call__`` (an instance method, which has no module globals
to resolve string annotations against), so its annotations must be real objects.
"""

import math
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from limelight.api.problems import ProblemError
from limelight.auth import KeyInfo, KeyRing, grants
from limelight.config import Scope, Settings
from limelight.engine import Engine
from limelight.errors import InvalidInput

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="BearerKey",
    description="An API key sent as `Authorization: Bearer <key>`.",
)
api_key_scheme = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    scheme_name="ApiKeyHeader",
    description="An API key sent as `X-API-Key: <key>`.",
)


async def get_engine(request: Request) -> Engine:
    """The app's Engine, built by the lifespan (so the app must be started, not just made)."""
    engine: Engine | None = getattr(request.app.state, "engine", None)
    if engine is None:
        raise RuntimeError("the app has not started; run it with its lifespan")
    return engine


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def _unauthenticated(scope: str, detail: str) -> ProblemError:
    return ProblemError(
        401,
        "Unauthorized",
        f"{detail}; this route needs a key with the {scope!r} scope",
        slug="unauthenticated",
        headers={"WWW-Authenticate": "Bearer"},
        extensions={"required_scope": scope},
    )


class ScopeCheck:
    """Dependency that admits a request only if its API key grants ``scope``.

    The key comes from ``Authorization: Bearer`` or else ``X-API-Key`` (Bearer wins if both).

    A class (not a closure) so that tests and tools can find which scope each route needs by
    walking ``route.dependant``.
    """

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    async def __call__(
        self,
        request: Request,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
        header_key: Annotated[str | None, Depends(api_key_scheme)],
    ) -> KeyInfo:
        key = bearer.credentials if bearer is not None else header_key
        if not key:
            raise _unauthenticated(
                self.scope, "no API key: send `Authorization: Bearer <key>` or `X-API-Key: <key>`"
            )
        keyring: KeyRing = request.app.state.keyring
        info = keyring.lookup(key)
        if info is None:
            raise _unauthenticated(self.scope, "unknown API key")
        if not grants(info.scopes, self.scope):
            raise ProblemError(
                403,
                "Forbidden",
                f"this key may not do this: the route needs the {self.scope!r} scope "
                f"(or 'admin'); the key has {', '.join(sorted(info.scopes))}",
                slug="missing-scope",
                extensions={"required_scope": self.scope},
            )
        return info


def require(scope: Scope) -> Any:
    """``Security`` dependency for a scope; also lists the scope in the OpenAPI operation."""
    return Security(ScopeCheck(scope), scopes=[scope])


async def json_body(request: Request) -> Any:
    """The request body parsed with orjson (no Pydantic model: events are checked one by one)."""
    body = await request.body()
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise ProblemError(
            400,
            "Malformed JSON",
            f"the request body is not valid JSON ({error})",
            slug="malformed-json",
            field="body",
        ) from error


class BatchBody:
    """Dependency: a JSON body that is ``{"<key>": [...]}`` or a bare array, up to max_batch."""

    def __init__(self, key: str) -> None:
        self.key = key

    async def __call__(
        self, payload: Annotated[Any, Depends(json_body)], settings: SettingsDep
    ) -> list[Any]:
        batch = payload.get(self.key) if isinstance(payload, dict) else payload
        if not isinstance(batch, list):
            raise ProblemError(
                422,
                "Invalid input",
                f'the body must be {{"{self.key}": [...]}} or a JSON array',
                slug="invalid-input",
                field=self.key,
            )
        if len(batch) > settings.max_batch:
            raise ProblemError(
                413,
                "Content too large",
                f"a batch holds at most {settings.max_batch} entries; got {len(batch)}",
                slug="batch-too-large",
                field=self.key,
            )
        return batch


EventBatch = Annotated[list[Any], Depends(BatchBody("batch"))]
ItemBatch = Annotated[list[Any], Depends(BatchBody("items"))]


def moment(value: str | None, field: str) -> float | None:
    """A query parameter given as epoch seconds or ISO 8601 (naive means UTC), as epoch seconds."""
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            stamp = datetime.fromisoformat(text)
        except ValueError:
            raise InvalidInput(
                f"{value!r} is neither ISO 8601 nor epoch seconds", field=field
            ) from None
        return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp()
    if not math.isfinite(seconds):
        raise InvalidInput(f"{value!r} is not a finite number of seconds", field=field)
    return seconds
