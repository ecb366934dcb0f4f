"""Profiles (read), export (admin) and erase (admin) over HTTP."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_profile_at_accepts_iso_and_epoch_and_items_limits_entries(
    client: TestClient, keys, make_event
) -> None:
    batch = [
        make_event("play_start", user="ada", properties={"item_id": f"m{n}"}) for n in range(3)
    ]
    assert client.post("/v1/events", json=batch, headers=keys.bearer("ingest")).status_code == 200
    read = keys.bearer("read")
    iso = client.get("/v1/users/ada/profile?at=2030-01-01T00:00:00Z", headers=read).json()
    epoch = client.get("/v1/users/ada/profile?at=1893456000", headers=read).json()
    assert iso["as_of"] == epoch["as_of"] == "2030-01-01T00:00:00Z"
    assert iso == epoch
    assert iso["counts"] == {"play_start": 3}
    assert len(iso["items"]) == 3
    assert client.get("/v1/users/ada/profile?items=1", headers=read).json()["items"][0]
    assert client.get("/v1/users/ada/profile?items=0", headers=read).json()["items"] == []


def test_export_then_erase(client: TestClient, keys, make_event, problem) -> None:
    batch = [make_event(user="ada"), make_event(user="bo")]
    client.post("/v1/events", json=batch, headers=keys.bearer("ingest"))
    admin = keys.bearer("admin")

    exported = client.get("/v1/users/ada/export", headers=admin).json()
    assert exported["user_id"] == "ada"
    assert [row["event_id"] for row in exported["core"]["events"]] == [batch[0]["event_id"]]

    erased = client.delete("/v1/users/ada", headers=admin)
    assert erased.status_code == 200
    assert erased.json()["user_id"] == "ada"
    assert erased.json()["erased"]["core"] >= 2
    problem(client.get("/v1/users/ada/profile", headers=keys.bearer("read")), 404, "user_id")
    problem(client.get("/v1/users/ada/export", headers=admin), 404, "user_id")
    again = client.delete("/v1/users/ada", headers=admin).json()["erased"]
    assert again["core"] == 0 and not any(again.values())
    assert client.get("/v1/users/bo/profile", headers=keys.bearer("read")).status_code == 200
