"""Identity stitching: devices join accounts, histories merge, links are never re-pointed."""

from __future__ import annotations

from sqlalchemy import select

from limelight import Engine
from limelight.storage.schema import events, identities, profiles
from tests.helpers import event

DAY = 86_400.0
T0 = 1_700_000_000.0


def person_of(engine: Engine) -> dict[str, str]:
    with engine.database.read() as connection:
        return dict(connection.execute(select(events.c.event_id, events.c.person_id)).all())


def test_alias_merges_the_device_history_into_the_account(engine: Engine) -> None:
    engine.upsert_items(
        [
            {"item_id": "m1", "title": "Heat", "genres": ["Crime"]},
            {"item_id": "m2", "title": "Up", "genres": ["Animation"]},
        ]
    )
    before = [
        event(
            "play_start", user=None, anon="phone", item="m1", at=T0, context={"device": "mobile"}
        ),
        event("play_complete", user=None, anon="phone", item="m1", at=T0 + 60),
        event("search", user=None, anon="phone", at=T0 + 90, query="heist"),
    ]
    account = [event("play_start", user="ada", item="m2", at=T0 + DAY, context={"device": "tv"})]
    engine.ingest(before + account)
    assert engine.profile("anon:phone")["counts"] == {
        "play_complete": 1,
        "play_start": 1,
        "search": 1,
    }

    engine.ingest([event("alias", user="ada", previous_id="phone", at=T0 + 2 * DAY)])
    merged = engine.profile("ada")
    assert merged["counts"] == {"alias": 1, "play_complete": 1, "play_start": 2, "search": 1}
    assert merged["anonymous_ids"] == ["phone"]
    assert {entry["item_id"] for entry in merged["items"]} == {"m1", "m2"}
    assert merged["habits"]["devices"] == {"mobile": 1, "tv": 1}
    assert [g["name"] for g in merged["affinities"]["genres"]] == ["Crime", "Animation"]
    assert merged["recent_searches"][0]["query"] == "heist"
    assert set(person_of(engine).values()) == {"ada"}
    with engine.database.read() as connection:
        assert connection.execute(select(profiles.c.person_id)).scalars().all() == ["ada"]
    # The anonymous id now resolves to the account, and later device events go there too.
    assert engine.profile("anon:phone")["person_id"] == "ada"
    engine.ingest([event("click", user=None, anon="phone", item="m2", at=T0 + 3 * DAY)])
    assert engine.profile("ada")["counts"]["click"] == 1


def test_raw_ids_stay_as_sent(engine: Engine) -> None:
    sent = event("click", user=None, anon="tablet", item="m1", at=T0)
    engine.ingest([sent, event("alias", user="bo", previous_id="tablet", at=T0 + 1)])
    with engine.database.read() as connection:
        row = (
            connection.execute(select(events).where(events.c.event_id == sent["event_id"]))
            .mappings()
            .one()
        )
    assert (row["user_id"], row["anonymous_id"], row["person_id"]) == (None, "tablet", "bo")


def test_an_event_with_both_ids_links_the_device(engine: Engine) -> None:
    engine.ingest([event("click", user=None, anon="web1", item="m1", at=T0)])
    engine.ingest([event("play_start", user="cy", anon="web1", item="m1", at=T0 + 5)])
    profile = engine.profile("cy")
    assert profile["counts"] == {"click": 1, "play_start": 1}
    assert profile["anonymous_ids"] == ["web1"]


def test_a_device_link_is_never_re_pointed(engine: Engine) -> None:
    engine.ingest([event("alias", user="first", previous_id="dev", at=T0)])
    engine.ingest([event("alias", user="second", previous_id="dev", at=T0 + 1)])
    with engine.database.read() as connection:
        assert connection.execute(select(identities.c.user_id)).scalars().all() == ["first"]
    engine.ingest([event("click", user=None, anon="dev", item="m1", at=T0 + 2)])
    assert engine.profile("first")["counts"].get("click") == 1


def test_links_inside_one_batch_route_later_events(engine: Engine) -> None:
    batch = [
        event("click", user=None, anon="tv1", item="m1", at=T0),
        event("alias", user="dee", previous_id="tv1", at=T0 + 1),
        event("click", user=None, anon="tv1", item="m2", at=T0 + 2),
    ]
    engine.ingest(batch)
    assert engine.profile("dee")["counts"] == {"alias": 1, "click": 2}
    assert set(person_of(engine).values()) == {"dee"}
