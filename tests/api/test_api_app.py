"""The app factory: nothing built before start, the Engine's owner closes it, env config."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from limelight import Engine, Settings
from limelight.api import app_from_env, create_app


def test_the_app_builds_its_engine_on_start_and_closes_it_on_shutdown(
    api_settings: Settings,
) -> None:
    app = create_app(api_settings)
    assert app.state.engine is None  # nothing touched the database yet
    with TestClient(app) as client:
        assert isinstance(app.state.engine, Engine)
        assert client.get("/healthz").json()["database"] == app.state.engine.database.dialect
    assert app.state.engine is None


def test_a_given_engine_is_used_and_left_open(api_settings: Settings, engine: Engine) -> None:
    app = create_app(api_settings, engine)
    with TestClient(app) as client:
        assert app.state.engine is engine
        client.get("/healthz").raise_for_status()
    assert engine.event_count() == 0  # still usable: its owner closes it


def test_app_from_env_reads_limelight_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIMELIGHT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LIMELIGHT_MAX_BATCH", "7")
    monkeypatch.setenv(
        "LIMELIGHT_API_KEYS", '[{"key": "env-key-0000000000000", "scopes": ["read"]}]'
    )
    app = app_from_env()
    assert app.state.settings.max_batch == 7
    with TestClient(app) as client:
        response = client.get("/v1/items", headers={"X-API-Key": "env-key-0000000000000"})
    assert response.json() == {"items": [], "next": None}
    assert (tmp_path / "limelight.sqlite").exists()
