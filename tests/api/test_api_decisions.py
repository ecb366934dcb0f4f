"""Decision points, decisions and rewards over HTTP: scopes, answers, the log, learning from
``POST /v1/rewards`` and from events, reports and erasure."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from limelight import Engine
from limelight.storage.schema import bandit_learned, bandit_rewards, decisions

POSTERS = [
    {"id": "dark", "features": {"style": "dark"}},
    {"id": "bright", "features": {"style": "bright", "default": True}},
]
POINT = {
    "policy": {"name": "epsilon-greedy", "params": {}},
    "exploration": {"epsilon": 0.2, "floor": 0.01},
    "reward": {"window_s": 3600, "aggregation": "first"},
    "seed": 3,
}


@pytest.fixture
def configured(client: TestClient, keys) -> TestClient:  # type: ignore[no-untyped-def]
    response = client.put("/v1/decision-points/artwork", json=POINT, headers=keys.bearer("admin"))
    assert response.status_code == 200, response.text
    return client


def _rows(engine: Engine, table: Any, **where: Any) -> list[dict[str, Any]]:
    query = select(table)
    for column, value in where.items():
        query = query.where(table.c[column] == value)
    with engine.database.read() as connection:
        return [dict(row) for row in connection.execute(query).mappings()]


def test_points_are_configured_by_admins_and_read_with_read_keys(
    client: TestClient, keys, problem
) -> None:  # type: ignore[no-untyped-def]
    created = client.put("/v1/decision-points/artwork", json=POINT, headers=keys.bearer("admin"))
    assert created.status_code == 200, created.text
    body = created.json()
    assert body["name"] == "artwork" and body["revision"] == 1
    assert body["reward"]["events"]["click"]["value"] == 1.0  # the default mapping
    assert (
        client.put(
            "/v1/decision-points/artwork", json=POINT, headers=keys.bearer("read")
        ).status_code
        == 403
    )
    listed = client.get("/v1/decision-points", headers=keys.bearer("read"))
    assert [p["name"] for p in listed.json()] == ["artwork"]
    one = client.get("/v1/decision-points/artwork", headers=keys.bearer("read"))
    assert one.json() == body
    problem(client.get("/v1/decision-points/nowhere", headers=keys.bearer("read")), 404, "point")
    problem(
        client.put(
            "/v1/decision-points/artwork",
            json={**POINT, "name": "other"},
            headers=keys.bearer("admin"),
        ),
        422,
        "name",
    )
    problem(
        client.put(
            "/v1/decision-points/artwork",
            json={**POINT, "policy": {"name": "linucb"}},
            headers=keys.bearer("admin"),
        ),
        422,
    )
    problem(
        client.put("/v1/decision-points/Bad Name", json=POINT, headers=keys.bearer("admin")), 422
    )
    changed = client.put(
        "/v1/decision-points/artwork",
        json={**POINT, "exploration": {"epsilon": 0.5}},
        headers=keys.bearer("admin"),
    )
    assert changed.json()["revision"] == 2


def test_a_decision_is_answered_and_logged(configured: TestClient, keys, app_engine) -> None:  # type: ignore[no-untyped-def]
    client = configured
    response = client.post(
        "/v1/decisions",
        json={
            "point": "artwork",
            "context": {"device": "tv", "hour": 21, "kids": False},
            "actions": POSTERS,
            "person_id": "ada",
        },
        headers=keys.bearer("read"),
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["action"] == answer["chosen"][0] and answer["probability"] == pytest.approx(0.5)
    assert answer["mode"] == "live" and answer["policy"] == "epsilon-greedy"
    assert answer["model_version"] == "1.0" and answer["replayed"] is False
    assert sorted(answer["ranking"]) == ["bright", "dark"]
    record = app_engine.decisions.get(answer["decision_id"])
    assert record.probabilities == answer["probabilities"] and record.person_id == "ada"
    assert (
        client.post(
            "/v1/decisions",
            json={"point": "artwork", "actions": POSTERS},
            headers=keys.bearer("ingest"),
        ).status_code
        == 403
    )


def test_a_client_decision_id_gets_the_same_answer(configured: TestClient, keys) -> None:  # type: ignore[no-untyped-def]
    body = {"point": "artwork", "actions": POSTERS, "decision_id": "page-1:tile-1"}
    first = configured.post("/v1/decisions", json=body, headers=keys.bearer("read")).json()
    again = configured.post("/v1/decisions", json=body, headers=keys.bearer("read")).json()
    assert again["replayed"] is True
    assert {k: v for k, v in first.items() if k != "replayed"} == {
        k: v for k, v in again.items() if k != "replayed"
    }


def test_decisions_in_a_batch(configured: TestClient, keys) -> None:  # type: ignore[no-untyped-def]
    requests = [
        {"context": {"device": "tv"}, "actions": POSTERS, "person_id": f"p{i}"} for i in range(20)
    ]
    requests[3]["slots"] = 2
    response = configured.post(
        "/v1/decisions/batch",
        json={"point": "artwork", "requests": requests},
        headers=keys.bearer("read"),
    )
    assert response.status_code == 200, response.text
    answers = response.json()["decisions"]
    assert len(answers) == 20 and len({a["decision_id"] for a in answers}) == 20
    assert len(answers[3]["chosen"]) == 2


def test_bad_decision_requests_are_problems(configured: TestClient, keys, problem) -> None:  # type: ignore[no-untyped-def]
    read = keys.bearer("read")
    problem(
        configured.post(
            "/v1/decisions", json={"point": "nowhere", "actions": POSTERS}, headers=read
        ),
        404,
        "point",
    )
    problem(
        configured.post("/v1/decisions", json={"point": "artwork", "actions": []}, headers=read),
        422,
        "actions",
    )
    problem(
        configured.post(
            "/v1/decisions",
            json={"point": "artwork", "actions": [POSTERS[0], POSTERS[0]]},
            headers=read,
        ),
        422,
        "requests.0.actions",
    )
    problem(
        configured.post(
            "/v1/decisions",
            json={"point": "artwork", "actions": POSTERS, "slots": 3},
            headers=read,
        ),
        422,
        "requests.0.slots",
    )
    problem(
        configured.post(
            "/v1/decisions",
            json={"point": "artwork", "actions": POSTERS, "context": {"tags": ["a"]}},
            headers=read,
        ),
        422,
    )


def test_rewards_from_the_api_and_from_events_reach_the_policy(
    configured: TestClient, keys, app_engine, make_event
) -> None:  # type: ignore[no-untyped-def]
    client = configured
    decide = {"point": "artwork", "actions": POSTERS, "person_id": "u1"}
    first = client.post("/v1/decisions", json=decide, headers=keys.bearer("read")).json()
    rewarded = client.post(
        "/v1/rewards",
        json={"decision_id": first["decision_id"], "value": 1.0, "reward_id": "r-1"},
        headers=keys.bearer("ingest"),  # the key an app already ships
    )
    assert rewarded.status_code == 200, rewarded.text
    assert rewarded.json()["status"] == "learned" and rewarded.json()["in_window"] is True
    again = client.post(
        "/v1/rewards",
        json={"decision_id": first["decision_id"], "value": 1.0, "reward_id": "r-1"},
        headers=keys.bearer("ingest"),
    )
    assert again.json()["status"] == "duplicate"
    second = client.post("/v1/decisions", json=decide, headers=keys.bearer("read")).json()
    assert second["model_version"] == "1.1"
    click = make_event("click", properties={"item_id": "m1", "decision_id": second["decision_id"]})
    assert (
        client.post("/v1/events", json={"batch": [click]}, headers=keys.bearer("ingest")).json()[
            "accepted"
        ]
        == 1
    )
    learned = _rows(app_engine, bandit_learned, decision_id=second["decision_id"])
    assert [(r["rule"], r["value"]) for r in learned] == [("first", 1.0)]
    third = client.post("/v1/decisions", json=decide, headers=keys.bearer("read")).json()
    assert third["model_version"] == "1.2"
    report = client.get("/v1/decision-points/artwork/report", headers=keys.bearer("read")).json()
    assert report["decisions"] == {"live": 3} and report["learned"] == 2
    assert report["rewards"] == {"api_in_window": 1, "event_in_window": 1}


def test_reward_problems(configured: TestClient, keys, problem) -> None:  # type: ignore[no-untyped-def]
    ingest = keys.bearer("ingest")
    problem(
        configured.post("/v1/rewards", json={"decision_id": "nope", "value": 1}, headers=ingest),
        404,
        "decision_id",
    )
    decided = configured.post(
        "/v1/decisions",
        json={"point": "artwork", "actions": POSTERS, "slots": 2},
        headers=keys.bearer("read"),
    ).json()
    problem(
        configured.post(
            "/v1/rewards", json={"decision_id": decided["decision_id"], "value": 1}, headers=ingest
        ),
        422,
        "action_id",
    )
    not_a_number = b'{"decision_id": "x", "value": NaN}'
    headers = {**ingest, "content-type": "application/json"}
    problem(configured.post("/v1/rewards", content=not_a_number, headers=headers), 422, "value")


def test_erasing_a_user_removes_their_decisions_and_rewards(
    configured: TestClient, keys, app_engine
) -> None:  # type: ignore[no-untyped-def]
    client = configured
    for person in ("alice", "bob"):
        decided = client.post(
            "/v1/decisions",
            json={"point": "artwork", "actions": POSTERS, "person_id": person},
            headers=keys.bearer("read"),
        ).json()
        client.post(
            "/v1/events",
            json=[
                {
                    "event_id": f"{person}-click",
                    "type": "click",
                    "user_id": person,
                    "properties": {"item_id": "m1", "decision_id": decided["decision_id"]},
                }
            ],
            headers=keys.bearer("ingest"),
        )
    exported = client.get("/v1/users/alice/export", headers=keys.bearer("admin")).json()
    assert len(exported["bandit_rewards"]["rewards"]) == 1
    assert client.delete("/v1/users/alice", headers=keys.bearer("admin")).status_code == 200
    app_engine.decisions.flush()
    for table in (decisions, bandit_rewards, bandit_learned):
        assert _rows(app_engine, table, person_id="alice") == []
        assert len(_rows(app_engine, table, person_id="bob")) == 1
