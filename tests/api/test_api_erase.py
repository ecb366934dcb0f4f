"""DELETE /v1/users/{id} leaves no row anywhere that holds the user's ids.

The check scans every table the database has (not a list of known tables), so a table added
later by any capability is covered: if it keeps the user's id and its erase hook forgets it,
this test fails.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import MetaData, Table, inspect, select

from limelight import Engine

ALICE, ALICE_DEVICE = "user-alice-7f3", "device-alice-91c"
BOB, BOB_DEVICE = "user-bob-22d", "device-bob-4e8"
ITEMS = [
    {"item_id": "film-1", "title": "One", "genres": ["drama"], "tags": ["quiet"]},
    {"item_id": "film-2", "title": "Two", "genres": ["comedy"], "tags": ["loud"]},
]


def history(user: str, device: str, prefix: str) -> list[dict[str, Any]]:
    """Anonymous browsing on a device, an alias to the account, then signed-in activity."""
    n = iter(range(100))

    def event(kind: str, **fields: Any) -> dict[str, Any]:
        return {"event_id": f"{prefix}-{next(n)}", "type": kind, **fields}

    return [
        event("play_start", anonymous_id=device, properties={"item_id": "film-1"}),
        event("search", anonymous_id=device, properties={"query": f"films like {prefix}"}),
        event("alias", user_id=user, previous_id=device),
        event("identify", user_id=user, traits={"plan": "family"}, consent={"profiling": True}),
        event("play_complete", user_id=user, properties={"item_id": "film-1"}),
        event(
            "rating",
            user_id=user,
            anonymous_id=device,
            properties={"item_id": "film-2", "rating": 5},
        ),
        event("click", anonymous_id=device, properties={"item_id": "film-2"}),
    ]


def every_value(engine: Engine) -> dict[str, list[str]]:
    """Every value of every row of every table, as text (JSON values serialized)."""
    found: dict[str, list[str]] = {}
    with engine.database.read() as connection:
        for name in inspect(connection).get_table_names():
            table = Table(name, MetaData(), autoload_with=connection)
            values = found.setdefault(name, [])
            for row in connection.execute(select(table)).mappings():
                for column, value in row.items():
                    text = value if isinstance(value, str) else orjson.dumps(value, default=str)
                    values.append(f"{column}={text if isinstance(text, str) else text.decode()}")
    return found


def mentions(values: dict[str, list[str]], *needles: str) -> list[str]:
    return [
        f"{table}: {value}"
        for table, cells in values.items()
        for value in cells
        if any(needle in value for needle in needles)
    ]


def test_erase_leaves_no_row_holding_the_users_ids(
    client: TestClient, app_engine: Engine, keys
) -> None:
    admin, read = keys.bearer("admin"), keys.bearer("read")
    assert client.put("/v1/items", json=ITEMS, headers=admin).status_code == 200
    for batch in (history(ALICE, ALICE_DEVICE, "alice"), history(BOB, BOB_DEVICE, "bob")):
        response = client.post("/v1/events", json=batch, headers=keys.bearer("ingest"))
        assert response.json() == {"accepted": 7, "duplicates": 0, "rejected": []}

    at = {"at": "2030-01-01T00:00:00Z"}
    alice = client.get(f"/v1/users/{ALICE}/profile", params=at, headers=read).json()
    assert alice["anonymous_ids"] == [ALICE_DEVICE]
    assert alice["counts"]["play_start"] == 1 and alice["counts"]["click"] == 1
    bob_before = client.get(f"/v1/users/{BOB}/profile", params=at, headers=read).json()
    bob_export_before = client.get(f"/v1/users/{BOB}/export", headers=admin).json()
    before = every_value(app_engine)
    assert mentions(before, ALICE, ALICE_DEVICE, "alice-")  # the scan does see Alice's rows

    erased = client.delete(f"/v1/users/{ALICE}", headers=admin)
    assert erased.status_code == 200
    assert erased.json()["erased"]["core"] > 0

    after = every_value(app_engine)
    assert mentions(after, ALICE, ALICE_DEVICE, "alice-") == []
    for user in (ALICE, f"anon:{ALICE_DEVICE}"):
        assert client.get(f"/v1/users/{user}/profile", headers=read).status_code == 404

    # Bob is untouched: same profile, same export, same rows.
    assert client.get(f"/v1/users/{BOB}/profile", params=at, headers=read).json() == bob_before
    assert client.get(f"/v1/users/{BOB}/export", headers=admin).json() == bob_export_before
    assert sorted(mentions(after, BOB, BOB_DEVICE, "bob-")) == sorted(
        mentions(before, BOB, BOB_DEVICE, "bob-")
    )
    assert app_engine.item("film-1").title == "One"
