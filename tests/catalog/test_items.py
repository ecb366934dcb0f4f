"""Catalogue: bulk upsert, artwork variants, filters and per-item validation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from limelight import Engine, UnknownItem
from limelight.catalog.store import ItemFilter

JAN = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
JUL = datetime(2026, 7, 1, tzinfo=UTC).timestamp()

ITEMS = [
    {
        "item_id": "s1",
        "kind": "series",
        "title": "The Long Night",
        "genres": ["Drama"],
        "tags": ["winter"],
        "release_year": 2019,
        "maturity_rating": "TV-14",
        "description": "Snow.",
        "artwork": [
            {
                "artwork_id": "a",
                "url": "/a.svg",
                "attributes": {"style": "close-up"},
                "is_default": True,
            },
            {"artwork_id": "b", "url": "/b.svg", "attributes": {"style": "ensemble"}},
        ],
    },
    {
        "item_id": "m1",
        "kind": "movie",
        "title": "Night Train",
        "genres": ["Thriller", "Drama"],
        "duration_s": 5400,
        "available_from": "2026-03-01T00:00:00Z",
        "available_until": "2026-09-01T00:00:00Z",
    },
    {
        "item_id": "t1",
        "kind": "track",
        "title": "Morning",
        "genres": ["Ambient"],
        "tags": ["calm", "winter"],
    },
    {"item_id": "p1", "kind": "podcast", "title": "Deep Dive", "genres": ["Science"]},
]


@pytest.fixture
def stocked(engine: Engine) -> Engine:
    stored, rejected = engine.upsert_items(ITEMS)
    assert (stored, rejected) == (4, [])
    return engine


def ids(found: list) -> list[str]:  # type: ignore[type-arg]
    return [item.item_id for item in found]


def test_get_returns_everything_sent(stocked: Engine) -> None:
    item = stocked.item("s1")
    assert (item.kind, item.title, item.genres, item.tags, item.release_year) == (
        "series",
        "The Long Night",
        ["Drama"],
        ["winter"],
        2019,
    )
    assert item.artwork is not None
    assert [(a.artwork_id, a.attributes["style"], a.is_default) for a in item.artwork] == [
        ("a", "close-up", True),
        ("b", "ensemble", False),
    ]
    assert stocked.item("m1").available_from == datetime(2026, 3, 1, tzinfo=UTC)


def test_filters(stocked: Engine) -> None:
    assert ids(stocked.items()) == ["m1", "p1", "s1", "t1"]
    assert ids(stocked.items(ItemFilter(kind="track"))) == ["t1"]
    assert ids(stocked.items(ItemFilter(genre="Drama"))) == ["m1", "s1"]
    assert ids(stocked.items(ItemFilter(tag="winter"))) == ["s1", "t1"]
    assert ids(stocked.items(ItemFilter(genre="Drama", tag="winter"))) == ["s1"]
    assert ids(stocked.items(ItemFilter(query="NIGHT"))) == ["m1", "s1"]
    assert ids(stocked.items(ItemFilter(available_at=JAN))) == ["p1", "s1", "t1"]
    assert ids(stocked.items(ItemFilter(available_at=JUL))) == ["m1", "p1", "s1", "t1"]
    assert ids(stocked.items(ItemFilter(limit=2))) == ["m1", "p1"]
    assert ids(stocked.items(ItemFilter(limit=2, after="p1"))) == ["s1", "t1"]
    assert ids(stocked.items(ItemFilter(query="100%_"))) == []


def test_upsert_replaces_and_keeps_artwork_unless_given(stocked: Engine) -> None:
    stocked.upsert_items([{"item_id": "s1", "kind": "series", "title": "The Longest Night"}])
    item = stocked.item("s1")
    assert item.title == "The Longest Night" and item.genres == []
    assert item.artwork is not None and len(item.artwork) == 2
    stocked.upsert_items(
        [
            {
                "item_id": "s1",
                "kind": "series",
                "title": "T",
                "artwork": [{"artwork_id": "c", "url": "/c.svg"}],
            }
        ]
    )
    assert [a.artwork_id for a in stocked.item("s1").artwork or []] == ["c"]


def test_bad_items_are_named_and_good_ones_kept(engine: Engine) -> None:
    stored, rejected = engine.upsert_items(
        [
            {"item_id": "ok", "title": "Fine"},
            {"item_id": "k", "title": "Bad kind", "kind": "hologram"},
            {"item_id": "y", "title": "Year", "release_year": 1200},
            {
                "item_id": "w",
                "title": "Window",
                "available_from": "2026-02-01T00:00:00Z",
                "available_until": "2026-01-01T00:00:00Z",
            },
            {"title": "No id"},
            {
                "item_id": "a",
                "title": "Art",
                "artwork": [{"artwork_id": "x", "url": "/x"}, {"artwork_id": "x", "url": "/y"}],
            },
        ]
    )
    assert stored == 1
    assert [(r.index, r.field) for r in rejected] == [
        (1, "kind"),
        (2, "release_year"),
        (3, "item"),
        (4, "item_id"),
        (5, "item"),
    ]
    assert "available_until" in rejected[2].reason
    assert ids(engine.items()) == ["ok"]


def test_unknown_item(engine: Engine) -> None:
    with pytest.raises(UnknownItem):
        engine.item("missing")
