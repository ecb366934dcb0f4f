"""Mood and activity queues: fit, taste, and skips that change the rest of the queue at once."""

from __future__ import annotations

import time

import pytest

from limelight import Engine
from limelight.errors import InvalidInput
from limelight.pages.home import HomeService
from tests.pages import world

GENRE_OF = {item["item_id"]: item["genres"][0] for item in world.catalogue()}


def test_a_queue_fits_the_mood_and_leaves_out_what_was_seen(home: HomeService) -> None:
    queue = home.queue("ada", mood="intense", n=10)
    genres = [GENRE_OF[item["item_id"]] for item in queue["items"]]
    assert set(genres) <= {"Horror", "Action"} and len(genres) == 10
    light = home.queue("ada", mood="light", n=30)
    ids = [item["item_id"] for item in light["items"]]
    assert {GENRE_OF[i] for i in ids} == {"Comedy"}
    assert not {"p01", "p05", "p09"} & set(ids)  # watched (or watching) already
    assert all("fits the light" in item["reason"] for item in light["items"])
    workout = home.queue("ada", activity="workout", n=5)
    assert {GENRE_OF[item["item_id"]] for item in workout["items"]} == {"Action"}


def test_a_skip_changes_the_rest_of_the_queue_at_once(loaded: Engine, home: HomeService) -> None:
    before = home.queue("tv04", mood="intense", n=12)
    head = before["items"][0]["item_id"]
    skipped_genre = GENRE_OF[head]
    skip = world.event("skip", "tv04", head, time.time() - 5)
    assert loaded.ingest([skip]).accepted == 1
    after = home.queue("tv04", mood="intense", n=12)
    ids = [item["item_id"] for item in after["items"]]
    assert head not in ids and after["skipped"] == [head]
    assert after["avoided_genres"][skipped_genre] > 0
    # The skipped title's genre loses weight: the other genre now leads the queue.
    assert GENRE_OF[ids[0]] != skipped_genre
    before_share = [GENRE_OF[i["item_id"]] for i in before["items"][:6]].count(skipped_genre)
    after_share = [GENRE_OF[i] for i in ids[:6]].count(skipped_genre)
    assert after_share < before_share
    record = loaded.decisions.get(after["decision_id"])
    assert record is not None and record.kind == "queue" and record.chosen == ids


def test_queue_arguments_are_checked(home: HomeService) -> None:
    for options, field in (
        ({}, "mood"),
        ({"mood": "sleepy"}, "mood"),
        ({"activity": "skydiving"}, "activity"),
        ({"mood": "light", "n": 0}, "n"),
    ):
        with pytest.raises(InvalidInput) as raised:
            home.queue("ada", **options)  # type: ignore[arg-type]
        assert raised.value.field == field
