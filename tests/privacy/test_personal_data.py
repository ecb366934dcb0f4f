"""Export and erase: everything about a person, and nothing else."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, MetaData, String, Table, delete, select

from limelight import Engine, UnknownUser
from limelight.privacy import PersonalDataHook
from tests.helpers import all_rows, event, mentions

T0 = 1_700_000_000.0


def populate(engine: Engine) -> None:
    engine.upsert_items([{"item_id": "m1", "title": "Heat", "genres": ["Crime"]}])
    engine.ingest(
        [
            event("play_start", user=None, anon="zed-phone", item="m1", at=T0),
            event("identify", user="zed-account", at=T0 + 1, traits={"email": "zed@example.org"}),
            event("alias", user="zed-account", previous_id="zed-phone", at=T0 + 2),
            event("rating", user="zed-account", item="m1", at=T0 + 3, rating=4),
            event("click", user="other", anon="other-phone", item="m1", at=T0 + 4),
        ]
    )


def test_export_has_every_event_and_the_profile(engine: Engine) -> None:
    populate(engine)
    exported = engine.export_user("zed-account")
    assert exported["devices"] == ["zed-phone"]
    core = exported["core"]
    assert [e["type"] for e in core["events"]] == ["play_start", "identify", "alias", "rating"]
    assert core["events"][0]["timestamp"] == "2023-11-14T22:13:20Z"
    assert [p["person_id"] for p in core["profiles"]] == ["zed-account"]
    assert core["identities"][0]["anonymous_id"] == "zed-phone"
    assert {s["item_id"] for s in core["item_stats"]} == {"m1"}
    with pytest.raises(UnknownUser):
        engine.export_user("nobody")


def test_erase_leaves_no_row_anywhere_with_the_person(engine: Engine) -> None:
    populate(engine)
    before = all_rows(engine)
    assert mentions(before, "zed-")
    erased = engine.erase_user("zed-account")
    assert erased["core"] == 4 + 1 + 1 + 1  # events, item stats, profile, identity link
    after = all_rows(engine)
    assert mentions(after, "zed-") == []
    assert mentions(after, "zed@example.org") == []
    assert engine.profile("other")["counts"] == {"click": 1}
    assert len(after["events"]) == 1 and len(after["items"]) == 1


def test_erase_of_an_anonymous_person(engine: Engine) -> None:
    engine.ingest([event("click", user=None, anon="kiosk", item="m1", at=T0)])
    engine.erase_user("anon:kiosk")
    assert mentions(all_rows(engine), "kiosk") == []


def test_hooks_extend_export_and_erase_in_one_transaction(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    extra = Table("test_segments", MetaData(), Column("user_id", String), Column("segment", String))
    extra.create(engine.database.engine)
    with engine.database.write() as connection:
        connection.execute(
            extra.insert(),
            [
                {"user_id": "zed-account", "segment": "fans"},
                {"user_id": "other", "segment": "fans"},
            ],
        )
    engine.personal_data.register(
        PersonalDataHook(
            name="segments",
            export=lambda c, who: [
                dict(r)
                for r in c.execute(select(extra).where(extra.c.user_id == who.user_id)).mappings()
            ],
            erase=lambda c, who: int(
                c.execute(delete(extra).where(extra.c.user_id == who.user_id)).rowcount
            ),
        )
    )
    populate(engine)
    assert engine.export_user("zed-account")["segments"] == [
        {"user_id": "zed-account", "segment": "fans"}
    ]
    assert engine.erase_user("zed-account")["segments"] == 1
    assert mentions(all_rows(engine), "zed-") == []
    with pytest.raises(ValueError, match="already registered"):
        engine.personal_data.register(
            PersonalDataHook("segments", lambda c, w: None, lambda c, w: 0)
        )
