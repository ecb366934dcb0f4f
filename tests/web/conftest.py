"""Fixtures for the dashboard: an app with keys of each scope, the small world, signed-in clients.

``ui`` is an in-process client (TestClient, lifespan included) whose Engine holds the world of
``tests/web/world.py``; ``signed_in(scope)`` logs a fresh client in through the form, the way a
browser does, so the tests exercise the real cookie.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from limelight import Engine, Settings
from limelight.api import create_app
from limelight.config import ApiKey
from tests.web import world

with warnings.catch_warnings():
    # Starlette warns once, on import, that it prefers httpx2 over the installed httpx (about
    # the environment, not this code); every other warning stays an error.
    warnings.filterwarnings("ignore", category=StarletteDeprecationWarning, message=".*httpx2")
    from fastapi.testclient import TestClient

KEYS = {
    "ingest": "web-test-ingest-key-0001",
    "read": "web-test-read-key-000001",
    "admin": "web-test-admin-key-00001",
}
HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def keyed(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "api_keys": [
                ApiKey(key=key, scopes=frozenset([scope]), name=scope)  # type: ignore[list-item]
                for scope, key in KEYS.items()
            ]
        }
    )


def assert_problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    """Check an RFC 9457 problem answer and return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    if field is not None:
        assert body.get("field") == field, body
    return body


@pytest.fixture
def problem() -> Callable[..., dict[str, Any]]:
    return assert_problem


@pytest.fixture
def web_settings(tmp_path: Path) -> Settings:
    """SQLite settings with one key per scope (for tests where the backend does not matter)."""
    return keyed(Settings(data_dir=tmp_path))


@pytest.fixture
def app_client(web_settings: Settings) -> Iterator[TestClient]:
    """The app started on an empty database, no one signed in."""
    with TestClient(create_app(web_settings)) as started:
        yield started


@pytest.fixture
def world_client(settings: Settings) -> Iterator[TestClient]:
    """The app on each backend, started, with the small world loaded through its Engine."""
    with TestClient(create_app(keyed(settings))) as started:
        world.load(started.app.state.engine)
        yield started


def engine_of(client: TestClient) -> Engine:
    engine: Engine = client.app.state.engine
    return engine


def login(client: TestClient, scope: str, next_url: str = "/ui/") -> Any:
    """Sign in through the form as a browser does; returns the login answer (not followed)."""
    return client.post(
        "/ui/login",
        content=f"api_key={KEYS[scope]}&next={next_url}",
        headers={**HTML, "Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )


@pytest.fixture
def signed_in(world_client: TestClient) -> Callable[[str], TestClient]:
    """Signs ``world_client`` in with the key of a scope and returns it."""

    def sign_in(scope: str) -> TestClient:
        answer = login(world_client, scope)
        assert answer.status_code == 303, answer.text
        world_client.headers.update(HTML)
        return world_client

    return sign_in
