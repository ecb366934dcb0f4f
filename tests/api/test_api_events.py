"""POST /v1/events: good events of a mixed batch are stored, bad ones are named."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from limelight import Engine
from limelight.storage.schema import events


def stored_ids(engine: Engine) -> set[str]:
    with engine.database.read() as connection:
        return set(connection.execute(select(events.c.event_id)).scalars())


def test_mixed_batch_stores_the_good_events_and_names_the_bad_ones(
    client: TestClient, app_engine: Engine, keys, problem, make_event
) -> None:
    good = [
        make_event("play_start", user="ada"),
        make_event("rating", user="ada", properties={"item_id": "m2", "rating": 4}),
        make_event("click", user="ada"),
    ]
    batch = [
        good[0],
        "not an object",
        make_event("play_start", user="ada", type="teleport"),
        good[1],
        make_event("rating", user="ada", properties={"item_id": "m2", "rating": 99}),
        make_event("click", user="ada", colour="blue"),
        good[2],
    ]
    response = client.post("/v1/events", json={"batch": batch}, headers=keys.bearer("ingest"))
    body = problem(response, 422)
    assert body["accepted"] == 3
    assert body["duplicates"] == 0
    assert "stored" in body["detail"]
    named = [(entry["index"], entry["field"]) for entry in body["rejected"]]
    assert named == [(1, "event"), (2, "type"), (4, "properties.rating"), (5, "colour")]
    assert all(entry["reason"] for entry in body["rejected"])
    assert body["rejected"][1]["event_id"] == batch[2]["event_id"]
    assert body["rejected"][0]["event_id"] is None

    # Really stored: in the events table and folded into the profile.
    assert stored_ids(app_engine) == {event["event_id"] for event in good}
    profile = client.get("/v1/users/ada/profile", headers=keys.bearer("read")).json()
    assert profile["counts"] == {"click": 1, "play_start": 1, "rating": 1}
    assert app_engine.profile("ada")["counts"] == profile["counts"]

    # Resending the whole batch is safe: nothing is stored twice.
    again = problem(client.post("/v1/events", json=batch, headers=keys.bearer("ingest")), 422)
    assert (again["accepted"], again["duplicates"], len(again["rejected"])) == (0, 3, 4)
    assert app_engine.event_count() == 3


def test_a_clean_batch_is_200_in_either_body_shape(
    client: TestClient, app_engine: Engine, keys, make_event
) -> None:
    first = [make_event(user="bo"), make_event(user="bo")]
    response = client.post("/v1/events", json={"batch": first}, headers=keys.bearer("ingest"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"accepted": 2, "duplicates": 0, "rejected": []}

    repeat = make_event(user="bo")
    bare = [first[0], repeat, repeat]
    response = client.post("/v1/events", json=bare, headers={"X-API-Key": keys.ingest})
    assert response.status_code == 200
    assert response.json() == {"accepted": 1, "duplicates": 2, "rejected": []}
    assert app_engine.event_count() == 3


def test_an_empty_batch_is_accepted(client: TestClient, keys) -> None:
    response = client.post("/v1/events", json={"batch": []}, headers=keys.bearer("ingest"))
    assert response.json() == {"accepted": 0, "duplicates": 0, "rejected": []}
