"""Ingest: per-event validation, idempotency, durability of what was acknowledged."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from limelight import Engine
from limelight.storage.schema import events
from tests.helpers import event


def stored_ids(engine: Engine) -> list[str]:
    with engine.database.read() as connection:
        return sorted(connection.execute(select(events.c.event_id)).scalars())


def test_mixed_batch_stores_good_events_and_names_bad_ones(engine: Engine) -> None:
    good = [
        event("play_start", item="m1"),
        event("click", item="m2"),
        event("search", query="space"),
    ]
    batch = [
        good[0],
        {"event_id": "b1", "type": "teleport", "user_id": "u1"},
        good[1],
        {"event_id": "b2", "type": "rating", "user_id": "u1", "properties": {"item_id": "m1"}},
        {"event_id": "b3", "type": "click", "properties": {"item_id": "m1"}},
        {
            "event_id": "b4",
            "type": "play_progress",
            "user_id": "u1",
            "properties": {"item_id": "m", "progress": 2},
        },
        "not an object",
        {
            "event_id": "b5",
            "type": "click",
            "user_id": "u1",
            "properties": {"item_id": "m1"},
            "colour": "red",
        },
        {
            "event_id": "b6",
            "type": "click",
            "user_id": "u1",
            "timestamp": "yesterday-ish",
            "properties": {"item_id": "m"},
        },
        {
            "event_id": "b7",
            "type": "click",
            "user_id": "u1",
            "context": {"timezone": "Mars/Olympus"},
            "properties": {"item_id": "m"},
        },
        good[2],
    ]
    result = engine.ingest(batch)
    assert result.accepted == 3
    assert stored_ids(engine) == sorted(e["event_id"] for e in good)
    named = {(r.index, r.field) for r in result.rejected}
    assert named == {
        (1, "type"),
        (3, "properties.rating"),
        (4, "user_id"),
        (5, "properties.progress"),
        (6, "event"),
        (7, "colour"),
        (8, "timestamp"),
        (9, "context.timezone"),
    }
    reasons = {r.index: r.reason for r in result.rejected}
    assert "user_id or anonymous_id" in reasons[4]
    assert "less than or equal to 1" in reasons[5]
    assert "Mars/Olympus" in reasons[9]
    assert {r.event_id for r in result.rejected if r.index == 3} == {"b2"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "search", "user_id": "u", "properties": {"query": " "}}, "properties.query"),
        ({"type": "alias", "user_id": "u"}, "previous_id"),
        ({"type": "identify", "anonymous_id": "d"}, "user_id"),
        (
            {"type": "click", "user_id": "u", "traits": {"a": 1}, "properties": {"item_id": "m"}},
            "traits",
        ),
        ({"type": "ad_click", "user_id": "u", "properties": {}}, "properties.ad_id"),
        ({"type": "play_start", "user_id": "u"}, "properties"),
        ({"user_id": "u", "properties": {"item_id": "m"}}, "type"),
        (
            {"type": "rating", "user_id": "u", "properties": {"item_id": "m", "rating": "five"}},
            "properties.rating",
        ),
        ({"type": "click", "user_id": "anon:x", "properties": {"item_id": "m"}}, "user_id"),
        (
            {"type": "impression", "user_id": "u", "properties": {"item_id": "m", "position": -1}},
            "properties.position",
        ),
        ({"type": "click", "user_id": "u", "properties": {"item_id": 7}}, "properties.item_id"),
        (
            {
                "type": "click",
                "user_id": "u",
                "timestamp": "2999-01-01T00:00:00Z",
                "properties": {"item_id": "m"},
            },
            "timestamp",
        ),
        ({"type": "click", "user_id": "u" * 300, "properties": {"item_id": "m"}}, "user_id"),
    ],
)
def test_each_rule_names_its_field(
    sqlite_engine: Engine, body: dict[str, object], field: str
) -> None:
    result = sqlite_engine.ingest([{"event_id": "x", **body}])
    assert result.accepted == 0
    assert [r.field for r in result.rejected] == [field]


def test_same_event_id_is_stored_once(engine: Engine) -> None:
    first = event("play_start", item="m1")
    assert engine.ingest([first, first]).as_dict() == {
        "accepted": 1,
        "duplicates": 1,
        "rejected": [],
    }
    again = engine.ingest([first, event("play_start", item="m2")])
    assert (again.accepted, again.duplicates) == (1, 1)
    assert engine.profile("u1")["counts"] == {"play_start": 2}


def test_a_partly_stored_batch_folds_only_its_new_events_after_an_erase(engine: Engine) -> None:
    """The newest rows gone (an erase), then a batch that repeats an old event: only the new
    one is stored and folded (on SQLite the new rows are found by row number)."""
    old = event("play_start", user="ada", item="m1")
    engine.ingest([old, event("play_start", user="ada", item="m2")])
    engine.ingest([event("click", user="bob", item="m3"), event("click", user="bob", item="m4")])
    engine.erase_user("bob")  # the highest row numbers are free again
    result = engine.ingest([old, event("play_start", user="ada", item="m5")])
    assert (result.accepted, result.duplicates) == (1, 1)
    assert engine.profile("ada")["counts"] == {"play_start": 3}
    with engine.database.read() as connection:
        assert connection.execute(select(func.count()).select_from(events)).scalar_one() == 3


def test_concurrent_duplicates_are_stored_once(engine: Engine) -> None:
    batch = [event("play_start", user=f"u{i % 7}", item=f"m{i % 13}") for i in range(300)]
    barrier = threading.Barrier(6)
    outcomes: list[int] = []
    errors: list[BaseException] = []

    def send() -> None:
        try:
            barrier.wait()
            outcomes.append(engine.ingest(batch).accepted)
        except BaseException as error:  # pragma: no cover - surfaced below
            errors.append(error)

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sum(outcomes) == 300
    with engine.database.read() as connection:
        assert connection.execute(select(func.count()).select_from(events)).scalar_one() == 300
    total = sum(engine.profile(f"u{i}")["counts"]["play_start"] for i in range(7))
    assert total == 300


def test_received_at_is_server_time_and_timestamp_defaults_to_it(sqlite_engine: Engine) -> None:
    sqlite_engine.ingest(
        [event("click", item="m1"), event("click", item="m2", at="2001-02-03T04:05:06Z")]
    )
    with sqlite_engine.database.read() as connection:
        rows = connection.execute(
            select(events.c.ts, events.c.received_at).order_by(events.c.ts)
        ).all()
    assert rows[0].ts == pytest.approx(981173106.0)
    assert rows[1].ts == pytest.approx(rows[1].received_at)
    assert rows[0].received_at > 1.7e9


def test_naive_and_epoch_timestamps_are_utc(sqlite_engine: Engine) -> None:
    sqlite_engine.ingest(
        [event("click", item="a", at="2001-02-03T04:05:06"), event("click", item="b", at=981173106)]
    )
    with sqlite_engine.database.read() as connection:
        values = connection.execute(select(events.c.ts)).scalars().all()
    assert values == [pytest.approx(981173106.0)] * 2


def test_millisecond_epochs_and_bad_timestamps(sqlite_engine: Engine) -> None:
    result = sqlite_engine.ingest(
        [
            event("click", item="a", at=981173106000),
            event("click", item="b", at=981173106.5),
            {**event("click", item="c"), "timestamp": True},
            {**event("click", item="d"), "timestamp": float("nan")},
        ]
    )
    assert result.accepted == 2
    assert {r.field.split(".")[0] for r in result.rejected} == {"timestamp"}
    with sqlite_engine.database.read() as connection:
        values = sorted(connection.execute(select(events.c.ts)).scalars())
    assert values == [pytest.approx(981173106.0), pytest.approx(981173106.5)]
