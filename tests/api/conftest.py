"""Fixtures for the HTTP API: keys of each scope, an in-process client, and a real server.

``client`` runs the app in-process (TestClient, lifespan included) on each backend of the
``settings`` fixture. ``live_server`` starts ``limelight.api.server.serve`` in a subprocess on a
free 127.0.0.1 port, for what only a real server shows: concurrent requests and crashes.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from starlette.exceptions import StarletteDeprecationWarning

from limelight import Engine, Settings
from limelight.api import create_app
from limelight.config import ApiKey

with warnings.catch_warnings():
    # Starlette warns once, on import, that it prefers httpx2 over the installed httpx. That is
    # about the environment, not this code; every other warning stays an error.
    warnings.filterwarnings("ignore", category=StarletteDeprecationWarning, message=".*httpx2")
    from fastapi.testclient import TestClient


@dataclass(frozen=True)
class Keys:
    """One API key per scope, plus helpers to send them."""

    ingest: str = "test-ingest-key-00000001"
    read: str = "test-read-key-000000001"
    admin: str = "test-admin-key-00000001"

    def of(self, scope: str) -> str:
        return str(getattr(self, scope))

    def bearer(self, scope: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.of(scope)}"}

    def configured(self) -> list[dict[str, Any]]:
        return [
            {"key": self.of(scope), "scopes": [scope], "name": scope}
            for scope in ("ingest", "read", "admin")
        ]


KEYS = Keys()


@pytest.fixture
def keys() -> Keys:
    return KEYS


@pytest.fixture
def api_settings(settings: Settings) -> Settings:
    """The backend's settings with one key per scope."""
    return settings.model_copy(
        update={"api_keys": [ApiKey.model_validate(entry) for entry in KEYS.configured()]}
    )


@pytest.fixture
def client(api_settings: Settings) -> Iterator[TestClient]:
    """The app in-process, started (its own Engine) and stopped around the test."""
    with TestClient(create_app(api_settings)) as started:
        yield started


@pytest.fixture
def app_engine(client: TestClient) -> Engine:
    """The Engine the app under test uses."""
    engine: Engine = client.app.state.engine
    return engine


_ids = count()


@pytest.fixture
def make_event() -> Callable[..., dict[str, Any]]:
    """Builds a valid event dict with a fresh event id (keyword arguments override fields)."""

    def build(kind: str = "play_start", user: str | None = "u1", **fields: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"event_id": f"api-{next(_ids)}", "type": kind}
        if user is not None:
            body["user_id"] = user
        if kind in ("play_start", "click", "play_complete", "skip", "add_to_list", "rating"):
            body["properties"] = {"item_id": "m1"}
        body.update(fields)
        return body

    return build


def assert_problem(
    response: httpx.Response, status: int, field: str | None = None
) -> dict[str, Any]:
    """Check an RFC 9457 problem answer and return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert isinstance(body["type"], str) and body["type"]
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body.get("detail"), str) and body["detail"]
    if field is not None:
        assert body.get("field") == field, body
    return body


@pytest.fixture
def problem() -> Callable[..., dict[str, Any]]:
    return assert_problem


# -- a real server ----------------------------------------------------------------------------

_SERVE = (
    "import sys\n"
    "from limelight.api.server import serve\n"
    "from limelight.config import Settings\n"
    "serve(Settings(), '127.0.0.1', int(sys.argv[1]))\n"
)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LiveServer:
    """``limelight.api.server.serve`` in a subprocess, configured only through the environment."""

    def __init__(self, settings: Settings, log: Path) -> None:
        self.settings = settings
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LIMELIGHT_")}
        env["LIMELIGHT_DATA_DIR"] = str(self.settings.data_dir)
        if self.settings.database_url:
            env["LIMELIGHT_DATABASE_URL"] = self.settings.database_url
        env["LIMELIGHT_API_KEYS"] = orjson.dumps(KEYS.configured()).decode()
        return env

    def start(self, timeout_s: float = 60.0) -> None:
        """Start the server and wait until /healthz answers 200."""
        assert self.process is None, "already running"
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _SERVE, str(port)],
                env=self._environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.process = None
                pytest.fail(f"the server exited on start:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        pytest.fail(f"the server did not become healthy:\n{self.log.read_text()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handler, no flush, no goodbye."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> None:
        """Graceful stop (SIGTERM), escalating to SIGKILL if it hangs."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=20)
        self.process = None


@pytest.fixture
def live_server(api_settings: Settings, tmp_path: Path) -> Iterator[LiveServer]:
    """A real server on this test's backend (not started: call ``start()``)."""
    server = LiveServer(api_settings, tmp_path / "server.log")
    try:
        yield server
    finally:
        server.stop()
