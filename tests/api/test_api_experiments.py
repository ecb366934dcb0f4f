"""Experiments over HTTP: admin changes, read views, variants, assignments, reports."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.experiments.builders import definition


def _create(client: TestClient, keys: Any, **fields: Any) -> dict[str, Any]:
    response = client.post(
        "/v1/experiments", json=definition(**fields), headers=keys.bearer("admin")
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_crud_needs_admin_to_change_and_read_to_view(client: TestClient, keys, problem) -> None:
    read, admin = keys.bearer("read"), keys.bearer("admin")
    problem(client.post("/v1/experiments", json=definition(), headers=read), 403)
    created = _create(client, keys, layer="home", traffic_percent=40)
    assert created["status"] == "draft" and created["buckets"] is None
    assert created["created_at"].endswith("Z") or created["created_at"].endswith("+00:00")

    listed = client.get("/v1/experiments", headers=read).json()
    assert [e["key"] for e in listed] == ["home-rows"]
    assert client.get("/v1/experiments?status=running", headers=read).json() == []
    assert client.get("/v1/experiments/home-rows", headers=read).json()["layer"] == "home"

    problem(client.patch("/v1/experiments/home-rows", json={"name": "x"}, headers=read), 403)
    patched = client.patch("/v1/experiments/home-rows", json={"name": "Rows"}, headers=admin)
    assert patched.status_code == 200 and patched.json()["name"] == "Rows"

    problem(client.post("/v1/experiments/home-rows/start", headers=read), 403)
    started = client.post("/v1/experiments/home-rows/start", headers=admin).json()
    assert started["status"] == "running" and started["buckets"] == [0, 4000]
    problem(client.post("/v1/experiments/home-rows/start", headers=admin), 409)
    frozen = client.patch(
        "/v1/experiments/home-rows", json={"variants": [{"key": "a"}, {"key": "b"}]}, headers=admin
    )
    problem(frozen, 409, "variants")
    problem(client.delete("/v1/experiments/home-rows", headers=admin), 409)
    assert (
        client.post("/v1/experiments/home-rows/stop", headers=admin).json()["status"] == "stopped"
    )
    deleted = client.delete("/v1/experiments/home-rows", headers=admin)
    assert deleted.json() == {"key": "home-rows", "exposures_deleted": 0}
    problem(client.get("/v1/experiments/home-rows", headers=read), 404, "key")


def test_bad_bodies_name_the_field(client: TestClient, keys, problem) -> None:
    admin = keys.bearer("admin")
    problem(
        client.post("/v1/experiments", json=definition(traffic_percent=0), headers=admin),
        422,
        "traffic_percent",
    )
    problem(
        client.post(
            "/v1/experiments", json=definition(targeting={"device": {"regex": "x"}}), headers=admin
        ),
        422,
        "targeting",
    )
    _create(client, keys)
    problem(client.post("/v1/experiments", json=definition(), headers=admin), 409, "key")
    problem(
        client.patch("/v1/experiments/home-rows", json={"traffic_percent": 300}, headers=admin),
        422,
        "traffic_percent",
    )
    problem(client.get("/v1/experiments/Not A Key", headers=admin), 422)


def test_variant_logs_one_exposure_and_assignments_log_none(client: TestClient, keys) -> None:
    read = keys.bearer("read")
    _create(client, keys)
    client.post("/v1/experiments/home-rows/start", headers=keys.bearer("admin"))

    before = client.get("/v1/users/ada/assignments?device=tv", headers=read)
    assert before.status_code == 200
    (planned,) = before.json()
    assert planned["exposed_at"] is None
    body = {"unit_id": "ada", "context": {"device": "tv"}}
    first = client.post("/v1/experiments/home-rows/variant", json=body, headers=read).json()
    assert first["assignment"]["variant"] == planned["variant"]
    assert first["assignment"]["device"] == "tv"
    again = client.post("/v1/experiments/home-rows/variant", json=body, headers=read).json()
    assert again == first
    (after,) = client.get("/v1/users/ada/assignments", headers=read).json()
    assert after["exposed_at"] == first["assignment"]["exposed_at"] is not None

    report = client.get("/v1/experiments/home-rows/report", headers=read).json()
    assert sum(report["exposures"].values()) == 1


def test_report_json_and_text_after_events(client: TestClient, keys, make_event) -> None:
    read = keys.bearer("read")
    _create(client, keys)
    client.post("/v1/experiments/home-rows/start", headers=keys.bearer("admin"))
    for n in range(40):
        client.post(
            "/v1/experiments/home-rows/variant",
            json={"unit_id": f"u{n}", "context": {"device": "tv" if n % 2 else "web"}},
            headers=read,
        )
    events = [make_event("click", user=f"u{n}") for n in range(0, 40, 3)]
    assert client.post("/v1/events", json=events, headers=keys.bearer("ingest")).status_code == 200

    report = client.get("/v1/experiments/home-rows/report", headers=read)
    assert report.status_code == 200
    body = report.json()
    assert sum(body["exposures"].values()) == 40
    (metric,) = body["metrics"]
    assert metric["name"] == "click_through"
    means = {v["variant"]: (v["units"], v["mean"]) for v in metric["variants"]}
    clicked = sum(units * mean for units, mean in means.values())
    assert round(clicked) == len(events)
    assert {device["device"] for device in body["devices"]} == {"tv", "web"}
    text = client.get("/v1/experiments/home-rows/report?format=text", headers=read)
    assert text.headers["content-type"].startswith("text/plain")
    assert "primary metric click_through" in text.text
    past = client.get("/v1/experiments/home-rows/report?at=2001-01-01T00:00:00Z", headers=read)
    assert sum(past.json()["exposures"].values()) == 40  # exposures count; no events by then


def test_holdout_and_power(client: TestClient, keys, problem) -> None:
    read, admin = keys.bearer("read"), keys.bearer("admin")
    assert client.get("/v1/experiment-holdout", headers=read).json() == {"percent": 0.0}
    problem(client.put("/v1/experiment-holdout", json={"percent": 5}, headers=read), 403)
    assert client.put("/v1/experiment-holdout", json={"percent": 5}, headers=admin).json() == {
        "percent": 5.0
    }
    problem(client.put("/v1/experiment-holdout", json={"percent": 70}, headers=admin), 422)
    plan = client.post(
        "/v1/experiment-power",
        json={"baseline": 0.1, "mde": 0.1, "daily_units": 1000},
        headers=read,
    ).json()
    assert plan == {"n_per_variant": 16232, "n_total": 32464, "power": plan["power"], "days": 33}
    problem(
        client.post(
            "/v1/experiment-power", json={"kind": "mean", "baseline": 10, "mde": 0.1}, headers=read
        ),
        422,
        "standard_deviation",
    )


def test_export_and_erase_over_http_include_exposures(client: TestClient, keys, make_event) -> None:
    admin = keys.bearer("admin")
    _create(client, keys)
    client.post("/v1/experiments/home-rows/start", headers=admin)
    client.post("/v1/events", json=[make_event(user="ada")], headers=keys.bearer("ingest"))
    client.post("/v1/experiments/home-rows/variant", json={"unit_id": "ada"}, headers=admin)
    exported = client.get("/v1/users/ada/export", headers=admin).json()
    assert [row["unit_id"] for row in exported["experiments"]["exposures"]] == ["ada"]
    erased = client.delete("/v1/users/ada", headers=admin).json()["erased"]
    assert erased["experiments"] == 1
    assert client.get("/v1/users/ada/assignments", headers=admin).json()[0]["exposed_at"] is None
