"""Every error is application/problem+json (RFC 9457) and names the field at fault."""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from limelight import Settings
from limelight.api import create_app
from limelight.api.middleware import BodyLimit


@pytest.fixture
def small_client(api_settings: Settings) -> Iterator[TestClient]:
    """An app with small limits: 2 KiB bodies, batches of at most 5."""
    small = api_settings.model_copy(update={"max_body_bytes": 2048, "max_batch": 5})
    with TestClient(create_app(small)) as started:
        yield started


def test_unknown_route_is_a_404_problem(client: TestClient, problem) -> None:
    problem(client.get("/v1/nothing-here"), 404)


def test_wrong_method_is_a_405_problem_with_allow(client: TestClient, problem) -> None:
    response = client.post("/healthz")
    problem(response, 405)
    assert response.headers["allow"] == "GET"


def test_declared_body_over_the_limit_is_413(small_client: TestClient, keys, problem) -> None:
    response = small_client.post(
        "/v1/events", content=b"[" + b" " * 4096 + b"]", headers=keys.bearer("ingest")
    )
    problem(response, 413, field="body")


def test_streamed_body_over_the_limit_is_413(small_client: TestClient, keys, problem) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"["
        for _ in range(10):
            yield b" " * 512
        yield b"]"

    response = small_client.post("/v1/events", content=chunks(), headers=keys.bearer("ingest"))
    assert "content-length" not in response.request.headers
    problem(response, 413, field="body")


def test_streamed_body_under_the_limit_passes(small_client: TestClient, keys) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"["
        yield b"]"

    response = small_client.post("/v1/events", content=chunks(), headers=keys.bearer("ingest"))
    assert response.status_code == 200, response.text


def test_batch_longer_than_max_batch_is_413_naming_batch(
    small_client: TestClient, keys, problem, make_event
) -> None:
    events = [make_event() for _ in range(6)]
    problem(
        small_client.post("/v1/events", json=events, headers=keys.bearer("ingest")),
        413,
        field="batch",
    )
    items = [{"item_id": f"i{n}", "title": "t"} for n in range(6)]
    problem(
        small_client.put("/v1/items", json={"items": items}, headers=keys.bearer("admin")),
        413,
        field="items",
    )


@pytest.mark.parametrize("body", [b"{not json", b"", b"[1, 2"])
def test_invalid_json_is_400_naming_body(client: TestClient, keys, problem, body: bytes) -> None:
    for method, url, scope in (("POST", "/v1/events", "ingest"), ("PUT", "/v1/items", "admin")):
        response = client.request(method, url, content=body, headers=keys.bearer(scope))
        problem(response, 400, field="body")


@pytest.mark.parametrize(
    "body", [b'{"events": []}', b'{"batch": {"a": 1}}', b'"hello"', b"3", b"null"]
)
def test_a_body_that_is_not_a_batch_is_422_naming_batch(
    client: TestClient, keys, problem, body: bytes
) -> None:
    response = client.post("/v1/events", content=body, headers=keys.bearer("ingest"))
    problem(response, 422, field="batch")
    items = client.put("/v1/items", content=body, headers=keys.bearer("admin"))
    problem(items, 422, field="items")


def test_query_validation_is_a_422_problem_naming_the_parameter(
    client: TestClient, keys, problem
) -> None:
    headers = keys.bearer("read")
    body = problem(client.get("/v1/items", params={"limit": 0}, headers=headers), 422, "limit")
    assert body["errors"][0]["field"] == "limit"
    problem(client.get("/v1/items", params={"limit": "many"}, headers=headers), 422, "limit")
    problem(client.get("/v1/items", params={"kind": "opera"}, headers=headers), 422, "kind")
    problem(client.get("/v1/users/u1/profile?items=5000", headers=headers), 422, "items")
    problem(client.get("/v1/users/u1/profile?at=yesterday", headers=headers), 422, "at")
    problem(client.get("/v1/items?available_at=soon", headers=headers), 422, "available_at")


def test_unknown_user_and_item_are_404_problems(client: TestClient, keys, problem) -> None:
    problem(client.get("/v1/users/nobody/profile", headers=keys.bearer("read")), 404, "user_id")
    problem(client.get("/v1/users/nobody/export", headers=keys.bearer("admin")), 404, "user_id")
    problem(client.get("/v1/items/nothing", headers=keys.bearer("read")), 404, "item_id")


def test_unexpected_errors_are_500_problems_without_internals(
    api_settings: Settings, keys, problem, make_event, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_batch: object) -> None:
        raise RuntimeError("secret internals")

    with TestClient(create_app(api_settings), raise_server_exceptions=False) as client:
        monkeypatch.setattr(client.app.state.engine, "ingest", broken)
        response = client.post("/v1/events", json=[make_event()], headers=keys.bearer("ingest"))
    body = problem(response, 500)
    assert "secret" not in response.text
    assert body["title"] == "Internal server error"


def test_healthz_is_503_when_the_database_does_not_answer(
    client: TestClient, app_engine, problem, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable() -> None:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(app_engine.database, "read", unreachable)
    problem(client.get("/healthz"), 503)


def test_body_limit_refuses_a_malformed_content_length() -> None:
    """Servers normally refuse this first; the middleware must not trust it either."""
    sent: list[dict[str, object]] = []

    async def app(scope: object, receive: object, send: object) -> None:
        raise AssertionError("the app must not be reached")

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [(b"content-length", b"12x")],
    }
    anyio.run(BodyLimit(app, max_bytes=1024), scope, receive, send)
    assert sent[0]["status"] == 400
    body = orjson.loads(sent[1]["body"])  # type: ignore[arg-type]
    assert body["field"] == "Content-Length"
