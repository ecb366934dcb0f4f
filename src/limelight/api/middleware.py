"""A pure ASGI body-size limit, applied before routing, auth or parsing.

Pure ASGI (not ``BaseHTTPMiddleware``) so that bodies stream through untouched and nothing is
buffered twice. A declared ``Content-Length`` over the limit is refused before a byte is read;
a body without one (chunked) is counted as it streams and refused as soon as it passes the limit.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from limelight.api.problems import ProblemError, body_too_large, problem_response, problem_type


class BodyLimit:
    """Answer 413 (problem+json) to any request whose body is longer than ``max_bytes``."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                response = problem_response(
                    400,
                    "Bad request",
                    "Content-Length must be a non-negative integer",
                    type_=problem_type("bad-content-length"),
                    field="Content-Length",
                )
                await response(scope, receive, send)
                return
            if int(declared) > self.max_bytes:
                await body_too_large(self.max_bytes).response()(scope, receive, send)
                return

        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise body_too_large(self.max_bytes)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except ProblemError as problem:
            # Normally the app's own handler answers; this catches a limit hit outside it.
            if started:
                raise
            await problem.response()(scope, receive, send)
