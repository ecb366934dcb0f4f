"""The catalogue over HTTP: per-item validation on upsert, filters and keyset pages."""

from __future__ import annotations

from fastapi.testclient import TestClient

CATALOGUE = [
    {"item_id": "m1", "title": "Night Train", "genres": ["thriller"], "tags": ["rail"]},
    {"item_id": "m2", "title": "Day Trip", "genres": ["comedy"], "tags": ["rail", "summer"]},
    {"item_id": "m3", "title": "The Night Shift", "kind": "series", "genres": ["drama"]},
    {
        "item_id": "m4",
        "title": "Coming Soon",
        "available_from": "2100-01-01T00:00:00Z",
        "artwork": [{"artwork_id": "a1", "url": "https://img.example/a1.jpg"}],
    },
    {"item_id": "show/s1/e1", "title": "Pilot", "kind": "episode"},
]


def ids(page: dict[str, object]) -> list[str]:
    return [item["item_id"] for item in page["items"]]  # type: ignore[attr-defined, index]


def test_upsert_stores_valid_items_and_names_the_invalid_ones(
    client: TestClient, keys, problem
) -> None:
    batch = [
        CATALOGUE[0],
        {"item_id": "bad1", "title": ""},
        {"item_id": "bad2", "title": "x", "release_year": 1200},
        CATALOGUE[1],
        ["not", "an", "item"],
    ]
    body = problem(
        client.put("/v1/items", json={"items": batch}, headers=keys.bearer("admin")), 422
    )
    assert body["accepted"] == 2
    assert [(r["index"], r["field"], r["item_id"]) for r in body["rejected"]] == [
        (1, "title", "bad1"),
        (2, "release_year", "bad2"),
        (4, "item", None),
    ]
    assert "stored" in body["detail"]
    assert client.get("/v1/items/m2", headers=keys.bearer("read")).json()["title"] == "Day Trip"
    problem(client.get("/v1/items/bad1", headers=keys.bearer("read")), 404, "item_id")


def test_list_filters_and_pages(client: TestClient, keys) -> None:
    response = client.put("/v1/items", json=CATALOGUE, headers=keys.bearer("admin"))
    assert response.json() == {"accepted": len(CATALOGUE), "rejected": []}
    read = keys.bearer("read")

    def page(**params: object) -> dict[str, object]:
        found = client.get("/v1/items", params=params, headers=read)
        assert found.status_code == 200, found.text
        return found.json()  # type: ignore[no-any-return]

    assert ids(page()) == ["m1", "m2", "m3", "m4", "show/s1/e1"]
    assert page()["next"] is None
    assert ids(page(kind="series")) == ["m3"]
    assert ids(page(genre="comedy")) == ["m2"]
    assert ids(page(tag="rail")) == ["m1", "m2"]
    assert ids(page(q="NIGHT")) == ["m1", "m3"]
    assert ids(page(available_at="2030-06-01T00:00:00Z")) == ["m1", "m2", "m3", "show/s1/e1"]
    assert "m4" in ids(page(available_at=str(4_200_000_000)))

    first = page(limit=2)
    assert ids(first) == ["m1", "m2"] and first["next"] == "m2"
    second = page(limit=2, after=first["next"])
    assert ids(second) == ["m3", "m4"] and second["next"] == "m4"
    last = page(limit=2, after=second["next"])
    assert ids(last) == ["show/s1/e1"] and last["next"] is None


def test_get_item_with_artwork_and_a_slash_in_its_id(client: TestClient, keys) -> None:
    client.put("/v1/items", json={"items": CATALOGUE}, headers=keys.bearer("admin"))
    item = client.get("/v1/items/m4", headers=keys.bearer("read")).json()
    assert item["artwork"][0]["artwork_id"] == "a1"
    assert item["available_from"].startswith("2100-01-01")
    episode = client.get("/v1/items/show/s1/e1", headers=keys.bearer("read"))
    assert episode.status_code == 200
    assert episode.json()["kind"] == "episode"
