"""``GET /v1/users/{id}/home`` and ``/queue``: read scope, the page model, problems by field."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from limelight import Settings
from limelight.api import create_app
from limelight.pages.home import attached
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


@pytest.mark.parametrize("threads", [1, 2])
def test_pages_are_composed_in_the_compute_lane(settings: Settings, threads: int) -> None:
    """Concurrent requests queue for ``compute_threads`` threads (``limelight.api.compute``):
    never more pages composed at once, and every request answered."""
    app = create_app(keyed(settings).model_copy(update={"compute_threads": threads}))
    with TestClient(app) as client:
        world.load(client.app.state.engine)
        service = attached(client.app.state.engine)
        compose = service.home
        lock = threading.Lock()
        running = busiest = 0

        def watched(*args: Any, **kwargs: Any) -> dict[str, Any]:
            nonlocal running, busiest
            with lock:
                running += 1
                busiest = max(busiest, running)
            try:
                time.sleep(0.02)  # long enough for the other requests to arrive meanwhile
                return compose(*args, **kwargs)
            finally:
                with lock:
                    running -= 1

        service.home = watched  # type: ignore[method-assign]
        with ThreadPoolExecutor(6) as pool:
            answers = list(
                pool.map(
                    lambda _: client.get("/v1/users/ada/home", headers={"X-API-Key": KEYS["read"]}),
                    range(12),
                )
            )
    assert [answer.status_code for answer in answers] == [200] * 12
    assert busiest == threads
