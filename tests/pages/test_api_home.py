"""``GET /v1/users/{id}/home`` and ``/queue``: read scope, the page model, problems by field."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from limelight import Settings
from limelight.api import create_app
from tests.pages import world
from tests.web.conftest import KEYS, TestClient, keyed


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(keyed(settings))) as started:
        world.load(started.app.state.engine)
        started.headers["X-API-Key"] = KEYS["read"]
        yield started


def test_home_over_http(client: TestClient) -> None:
    answer = client.get(
        "/v1/users/ada/home",
        params={"device": "tv", "at": "2023-11-24T20:00:00Z", "rows": 6, "per_row": 4},
    )
    assert answer.status_code == 200, answer.text
    page = answer.json()
    assert page["label"] == "personalized" and len(page["rows"]) == 6
    assert page["context"]["device"] == "tv" and page["context"]["daypart"] == "evening"
    assert all(len(row["items"]) <= 4 for row in page["rows"])
    tile = page["rows"][0]["items"][0]
    assert {"item_id", "title", "artwork", "decision_id", "position", "reason"} <= set(tile)
    queue = client.get("/v1/users/ada/queue", params={"mood": "intense", "n": 5})
    assert queue.status_code == 200 and len(queue.json()["items"]) == 5


def test_problems_name_the_field(client: TestClient) -> None:
    for url, field in (
        ("/v1/users/ada/home?device=fridge", "device"),
        ("/v1/users/ada/home?tz=Nowhere/Land", "tz"),
        ("/v1/users/ada/home?mood=sleepy", "mood"),
        ("/v1/users/ada/queue", "mood"),
    ):
        answer = client.get(url)
        assert answer.status_code == 422, url
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json().get("field") == field, answer.json()
    refused = client.get("/v1/users/ada/home", headers={"X-API-Key": KEYS["ingest"]})
    assert refused.status_code == 403
