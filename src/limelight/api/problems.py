"""Every error as ``application/problem+json`` (RFC 9457), so clients parse one shape only.

Domain errors (``LimelightError``), auth failures, request validation, unknown routes, wrong
methods, oversized bodies and unexpected failures all end here. ``field`` names the part of the
request at fault whenever one is, so that a client (or a person reading a log) can fix it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from limelight.errors import LimelightError

MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:limelight:problem:"


def problem_type(slug: str) -> str:
    """The ``type`` URI of a Limelight problem: a stable identifier, not a page to fetch."""
    return TYPE_PREFIX + slug


class Problem(BaseModel):
    """An RFC 9457 problem document (documentation model; extension members are allowed)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(default="about:blank", examples=["urn:limelight:problem:invalid-input"])
    title: str = Field(examples=["Invalid input"])
    status: int = Field(examples=[422])
    detail: str | None = Field(default=None, examples=["Input should be a valid integer"])
    field: str | None = Field(default=None, description="The part of the request at fault.")


class ProblemResponse(Response):
    """A problem document rendered with orjson, with the problem media type."""

    media_type = MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class ProblemError(Exception):
    """A problem raised by the API layer itself (auth, limits, bodies, partial batches)."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        slug: str,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.type = problem_type(slug)
        self.field = field
        self.headers = dict(headers or {})
        self.extensions = dict(extensions or {})

    def response(self) -> ProblemResponse:
        return problem_response(
            self.status,
            self.title,
            self.detail,
            type_=self.type,
            field=self.field,
            headers=self.headers,
            extensions=self.extensions,
        )


def problem_response(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    type_: str = "about:blank",
    field: str | None = None,
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> ProblemResponse:
    """Build a problem+json response; extension members never override the standard ones."""
    body: dict[str, Any] = dict(extensions or {})
    body.update({"type": type_, "title": title, "status": status})
    if detail is not None:
        body["detail"] = detail
    if field is not None:
        body["field"] = field
    return ProblemResponse(body, status_code=status, headers=dict(headers or {}))


def body_too_large(limit: int) -> ProblemError:
    return ProblemError(
        413,
        "Content too large",
        f"the request body exceeds the limit of {limit} bytes",
        slug="content-too-large",
        field="body",
    )


def _slug(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def _field_of(loc: Sequence[Any]) -> str:
    """``("query", "limit")`` -> ``limit``; ``("body", "items", 0)`` -> ``items.0``."""
    parts = [str(part) for part in loc]
    where = parts[0] if parts else ""
    if where in ("query", "path", "header", "cookie") or (where == "body" and len(parts) > 1):
        parts = parts[1:]
    return ".".join(parts) or "request"


async def _limelight_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LimelightError)
    return problem_response(
        exc.status,
        exc.title,
        exc.message,
        type_=problem_type(_slug(type(exc).__name__)),
        field=exc.field,
    )


async def _problem_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    return exc.response()


async def _validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    listed = [
        {"field": _field_of(error.get("loc", ())), "reason": str(error.get("msg", "invalid"))}
        for error in errors
    ]
    first = listed[0] if listed else {"field": "request", "reason": "invalid request"}
    if any(error.get("type") == "json_invalid" for error in errors):
        return problem_response(
            400,
            "Malformed JSON",
            "the request body is not valid JSON",
            type_=problem_type("malformed-json"),
            field="body",
        )
    return problem_response(
        422,
        "Invalid input",
        f"{first['field']}: {first['reason']}",
        type_=problem_type("invalid-input"),
        field=first["field"],
        extensions={"errors": listed},
    )


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    detail = exc.detail if exc.detail and exc.detail != title else None
    if status == 404 and detail is None:
        detail = "no such route; see /docs for the API"
    if status == 405 and detail is None:
        detail = "this route does not accept that method"
    return problem_response(status, title, detail, headers=exc.headers)


async def _unexpected_error(_request: Request, exc: Exception) -> Response:
    # Starlette re-raises after this handler, so the server logs the traceback; the client
    # sees no internals.
    return problem_response(
        500,
        "Internal server error",
        "an unexpected error occurred; it has been logged",
        type_=problem_type("internal-error"),
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Route every error the app can meet to a problem+json response."""
    app.add_exception_handler(LimelightError, _limelight_error)
    app.add_exception_handler(ProblemError, _problem_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for problem answers (the app files them as problem+json)."""
    return {
        status: {"model": Problem, "description": HTTPStatus(status).phrase} for status in statuses
    }
