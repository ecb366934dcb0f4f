"""GET /v1/users/{id}/recommendations and GET /v1/items/{id}/similar over HTTP (read scope)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from limelight import Engine, Settings
from limelight.api.app import create_app
from limelight.recommend.registry import ModelStore
from limelight.recommend.service import attach, attached
from limelight.recommend.training import train
from tests.recommend import world
from tests.recommend.world import NOW


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("api-model")
    with Engine(Settings(data_dir=folder)) as engine:
        world.load(engine)
        world.service(engine).train(world.FAST)
    return ModelStore.for_data_dir(folder).root


@pytest.fixture
def ready(client: TestClient, app_engine: Engine, model_folder: Path) -> TestClient:
    """The app with the world loaded, a model in use and a service that polls at once."""
    world.load(app_engine)
    target = ModelStore.for_data_dir(app_engine.settings.data_dir)
    target.root.mkdir(parents=True, exist_ok=True)
    version = ModelStore(model_folder).current()
    assert version is not None
    shutil.copytree(model_folder / version, target.root / version)
    target.publish(version)
    attach(app_engine, world.service(app_engine))
    return client


def test_recommendations_carry_a_decision_and_the_model_version(
    ready: TestClient, app_engine: Engine, keys: Any
) -> None:
    response = ready.get(
        "/v1/users/a1/recommendations",
        params={"n": 4, "device": "tv", "at": "2025-06-15T15:00:00Z", "diversity": 0.2},
        headers=keys.bearer("read"),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model_version"] == ModelStore.for_data_dir(app_engine.settings.data_dir).current()
    assert body["label"] == "personalized" and body["personalized"] is True
    assert len(body["items"]) == 4
    first = body["items"][0]
    assert {"item_id", "title", "score", "reason", "reason_text", "seed_item_id"} <= set(first)
    assert body["context"]["device"] == "tv" and body["context"]["diversity"] == 0.2
    record = app_engine.decisions.get(body["decision_id"])
    assert record is not None and record.chosen == [i["item_id"] for i in body["items"]]
    assert record.model_version == body["model_version"] and record.person_id == "a1"
    assert body["context"]["tz"] == "UTC" and body["context"]["hour"] == 15


def test_the_requests_time_zone_sets_the_hour_the_ranker_and_the_log_read(
    ready: TestClient, app_engine: Engine, keys: Any
) -> None:
    response = ready.get(
        "/v1/users/a1/recommendations",
        params={"at": "2025-06-15T15:00:00Z", "tz": "Asia/Tokyo"},
        headers=keys.bearer("read"),
    )
    assert response.status_code == 200, response.text
    context = response.json()["context"]
    assert context["tz"] == "Asia/Tokyo" and context["hour"] == 0 and context["day_of_week"] == 0
    record = app_engine.decisions.get(response.json()["decision_id"])
    assert record is not None and record.context["hour"] == 0


def test_similar_titles_and_their_decision(
    ready: TestClient, app_engine: Engine, keys: Any
) -> None:
    response = ready.get("/v1/items/X/similar", params={"n": 3}, headers=keys.bearer("read"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["item_id"] == "X" and body["items"][0]["item_id"] == "Y"
    assert body["items"][0]["reason_text"] == "Similar to Saga Part I"
    record = app_engine.decisions.get(body["decision_id"])
    assert record is not None and record.kind == "similar"


def test_an_unknown_person_is_a_cold_start_not_an_error(ready: TestClient, keys: Any) -> None:
    response = ready.get("/v1/users/nobody-yet/recommendations", headers=keys.bearer("read"))
    assert response.status_code == 200
    assert response.json()["label"] == "cold_start" and len(response.json()["items"]) == 10


def test_answers_work_before_any_model(client: TestClient, app_engine: Engine, keys: Any) -> None:
    world.load(app_engine)
    attach(app_engine, world.service(app_engine))
    body = client.get("/v1/users/a1/recommendations", headers=keys.bearer("read")).json()
    assert body["model_version"] is None and len(body["items"]) == 10


def test_bad_queries_and_unknown_items_are_problems(
    ready: TestClient, keys: Any, problem: Callable[..., dict[str, Any]]
) -> None:
    read = keys.bearer("read")
    problem(ready.get("/v1/users/a1/recommendations?n=0", headers=read), 422, "n")
    problem(ready.get("/v1/users/a1/recommendations?diversity=2", headers=read), 422, "diversity")
    problem(ready.get("/v1/users/a1/recommendations?at=soon", headers=read), 422, "at")
    problem(ready.get("/v1/users/a1/recommendations?tz=Mars/Base", headers=read), 422, "tz")
    problem(ready.get("/v1/items/nope/similar", headers=read), 404, "item_id")


def test_the_read_scope_is_required(ready: TestClient, keys: Any) -> None:
    assert (
        ready.get("/v1/users/a1/recommendations", headers=keys.bearer("ingest")).status_code == 403
    )
    assert ready.get("/v1/items/X/similar").status_code == 401
    assert ready.get("/v1/items/X/similar", headers=keys.bearer("admin")).status_code == 200


def test_a_published_version_is_served_by_the_next_request(
    ready: TestClient, app_engine: Engine, keys: Any
) -> None:
    store = ModelStore.for_data_dir(app_engine.settings.data_dir)
    newer = train(app_engine.database, world.FAST, now=NOW + 10_000_000)
    store.write(newer)
    store.publish(newer.version)
    first = ready.get("/v1/users/r1/recommendations", headers=keys.bearer("read"))
    assert first.status_code == 200  # answered by the old model or the new, never refused
    attached(app_engine).live.wait()  # the swap happens on a background thread
    after = ready.get("/v1/users/r1/recommendations", headers=keys.bearer("read"))
    assert after.json()["model_version"] == newer.version


def test_an_attached_service_replaces_the_engines_own(app_engine: Engine) -> None:
    """``attach`` is how a custom service (other knobs) takes over the Engine's requests."""
    world.load(app_engine)
    before = app_engine.recommender
    mine = attach(app_engine, world.service(app_engine))
    assert mine is not before
    assert app_engine.recommender is mine and attached(app_engine) is mine
    assert app_engine.recommend("a1", 3).items  # answered by the attached service


def test_the_app_is_ready_with_the_model_loaded_before_the_first_request(
    model_folder: Path, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(model_folder.parent.parent, data_dir)
    assert ModelStore.for_data_dir(data_dir).current() is not None
    seen: list[bool] = []
    with Engine(Settings(data_dir=data_dir)) as engine:
        service = attached(engine)

        def on_ready() -> None:
            model = service.live._model  # what is in use, without triggering a load
            seen.append(model is not None and model.ranker.compiled_ is not None)

        with TestClient(create_app(engine.settings, engine, on_ready=on_ready)):
            assert seen == [True]
    assert seen == [True]
