"""Live profiles: updated as each event lands, equal to a rebuild from the raw log."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from limelight import Engine, Settings
from limelight.profiles.state import ProfileState
from limelight.profiles.store import FORMAT
from limelight.storage.schema import generations, profiles
from tests.helpers import event

T0 = 1_700_000_000.0  # 2023-11-14T22:13:20Z, a Tuesday
DAY = 86_400.0


@pytest.fixture
def catalogue(engine: Engine) -> Engine:
    engine.upsert_items(
        [
            {"item_id": "heat", "title": "Heat", "genres": ["Crime", "Drama"], "tags": ["heist"]},
            {
                "item_id": "up",
                "title": "Up",
                "genres": ["Animation", "Family"],
                "tags": ["balloons"],
            },
            {"item_id": "alien", "title": "Alien", "genres": ["Horror", "Sci-Fi"]},
        ]
    )
    return engine


def test_profile_is_updated_by_each_event(catalogue: Engine) -> None:
    engine = catalogue
    engine.ingest(
        [
            event(
                "play_start",
                item="heat",
                at=T0,
                context={"device": "tv", "timezone": "Europe/Paris"},
            )
        ]
    )
    first = engine.profile("u1", at=T0)
    assert first["counts"] == {"play_start": 1}
    assert first["first_seen"] == first["last_seen"] == "2023-11-14T22:13:20Z"
    assert first["habits"]["hours"][23] == 1  # 22:13 UTC is 23:13 in Paris
    assert first["habits"]["weekdays"]["tue"] == 1
    assert first["habits"]["devices"] == {"tv": 1}
    assert [g["name"] for g in first["affinities"]["genres"]] == ["Crime", "Drama"]

    engine.ingest([event("play_progress", item="heat", at=T0 + 600, progress=0.4)])
    item = engine.profile("u1")["items"][0]
    assert (item["item_id"], item["plays"], item["progress"], item["finished"]) == (
        "heat",
        1,
        0.4,
        False,
    )

    engine.ingest([event("play_complete", item="heat", at=T0 + 3600)])
    item = engine.profile("u1")["items"][0]
    assert (item["completions"], item["progress"], item["finished"]) == (1, 1.0, True)


def test_affinity_weights_and_half_life(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, affinity_half_life_days=1.0)
    with Engine(settings) as engine:
        engine.upsert_items(
            [
                {"item_id": "heat", "title": "Heat", "genres": ["Crime"]},
                {"item_id": "up", "title": "Up", "genres": ["Family"]},
            ]
        )
        engine.ingest(
            [
                event("play_complete", item="heat", at=T0),  # weight 2 at T0
                event(
                    "rating", item="up", at=T0 + DAY, rating=5
                ),  # weight (5 - 3) * 1 at T0 + 1 day
                event("skip", item="heat", at=T0 + DAY),  # weight -1 at T0 + 1 day
            ]
        )
        genres = {
            g["name"]: g for g in engine.profile("u1", at=T0 + 2 * DAY)["affinities"]["genres"]
        }
    # Crime: 2 * 0.25 - 1 * 0.5 = 0.0 ; Family: 2 * 0.5 = 1.0
    assert genres["Crime"]["score"] == pytest.approx(0.0, abs=1e-12)
    assert genres["Family"]["score"] == pytest.approx(1.0)
    assert genres["Family"]["share"] == pytest.approx(1.0)


def test_identify_sets_traits_and_consent_latest_wins(catalogue: Engine) -> None:
    engine = catalogue
    engine.ingest(
        [
            event("identify", at=T0 + 10, traits={"plan": "premium"}, consent={"profiling": False}),
            event(
                "identify",
                at=T0,
                traits={"plan": "basic", "age": 31},
                consent={"profiling": True, "ads": True},
            ),
        ]
    )
    profile = engine.profile("u1")
    assert profile["traits"] == {"plan": "premium", "age": 31}
    assert profile["consent"] == {"profiling": False, "ads": True}


def test_live_folding_equals_rebuild_in_any_order(catalogue: Engine, tmp_path: Path) -> None:
    rng = random.Random(11)
    kinds = [
        "play_start",
        "play_complete",
        "click",
        "skip",
        "add_to_list",
        "impression",
        "search",
        "rating",
    ]
    history = []
    for _ in range(240):
        kind = rng.choice(kinds)
        extra: dict[str, object] = {}
        if kind == "search":
            extra["query"] = rng.choice(["space", "heist", "family"])
        else:
            extra["item"] = rng.choice(["heat", "up", "alien"])
        if kind == "rating":
            extra["rating"] = rng.randint(1, 5)
        device = rng.choice(["tv", "mobile", "web"])
        history.append(
            event(kind, at=T0 + rng.uniform(0, 60 * DAY), context={"device": device}, **extra)
        )

    # Live: in arrival order, small batches. Rebuild: one batch in a different order.
    for start in range(0, len(history), 7):
        catalogue.ingest(history[start : start + 7])
    live = catalogue.profile("u1", at=T0 + 61 * DAY, items=10)

    shuffled = history[:]
    rng.shuffle(shuffled)
    with Engine(Settings(data_dir=tmp_path / "rebuild")) as rebuild:
        rebuild.upsert_items([catalogue.item(i).model_dump() for i in ("heat", "up", "alien")])
        rebuild.ingest(shuffled)
        rebuilt = rebuild.profile("u1", at=T0 + 61 * DAY, items=10)
    for key in ("counts", "first_seen", "last_seen", "habits", "items", "recent_searches"):
        assert live[key] == rebuilt[key], key
    for kind in ("genres", "tags"):
        left = {g["name"]: g["score"] for g in live["affinities"][kind]}
        right = {g["name"]: g["score"] for g in rebuilt["affinities"][kind]}
        assert left.keys() == right.keys()
        for name in left:
            assert left[name] == pytest.approx(right[name], rel=1e-9, abs=1e-12)


def test_unknown_user_is_a_clear_error(engine: Engine) -> None:
    from limelight import UnknownUser

    with pytest.raises(UnknownUser, match="nobody"):
        engine.profile("nobody")


def test_two_processes_on_one_file_never_fold_into_stale_profiles(tmp_path: Path) -> None:
    """Each writer keeps recent profiles in memory. A commit by another writer that changed
    profiles (ingest, erase) makes it reload them; one that did not (an insert of other data)
    keeps its cache, which then still equals the database."""
    settings = Settings(data_dir=tmp_path)
    with Engine(settings) as first, Engine(settings) as second:
        first.ingest([event("click", user="ada", item="m1")])
        second.ingest([event("click", user="ada", item="m2")])
        first.ingest([event("click", user="ada", item="m3")])
        assert first.profile("ada")["counts"] == {"click": 3}
        # An unrelated write by the other process: the cached profile stays, and is right.
        assert first.profiles._hot is not None
        cached = first.profiles._hot["ada"]
        second.upsert_items([{"item_id": "m9", "title": "Nine"}])
        first.ingest([event("click", user="ada", item="m4")])
        assert first.profiles._hot["ada"] is cached  # folded in place, not reloaded
        assert second.profile("ada")["counts"] == {"click": 4}
        # An erase by the other process: nothing of the old profile comes back.
        second.erase_user("ada")
        first.ingest([event("play_start", user="ada", item="m5")])
        assert first.profile("ada")["counts"] == {"play_start": 1}


def test_a_failed_batch_leaves_no_trace_in_the_cached_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Folding changes cached profiles in place; a transaction that fails drops them, so the
    next batch starts from what was committed."""
    with Engine(Settings(data_dir=tmp_path)) as engine:
        engine.ingest([event("click", user="ada", item="m1")])

        def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError("disk on fire")

        with monkeypatch.context() as patch:
            patch.setattr(engine.profiles, "_write_texts", broken)
            with pytest.raises(RuntimeError):
                engine.ingest([event("click", user="ada", item="m2")])
        engine.ingest([event("click", user="ada", item="m3")])
        assert engine.profile("ada")["counts"] == {"click": 2}


def test_profiles_stored_before_forward_decay_are_upgraded_on_open(settings: Settings) -> None:
    settings = settings.model_copy(update={"affinity_half_life_days": 1.0})
    with Engine(settings) as engine:
        engine.upsert_items([{"item_id": "heat", "title": "Heat", "genres": ["Crime"]}])
        engine.ingest([event("play_complete", item="heat", at=T0)])
        expected = engine.profile("u1", at=T0 + 2 * DAY)["affinities"]["genres"]
        # Write the document the way it was stored before: (value, time) per genre, no
        # landmark; and forget that the database was upgraded.
        with engine.database.write() as connection:
            data = connection.execute(select(profiles.c.data)).scalar_one()
            del data["landmark"]
            data["genres"] = {"Crime": [2.0, T0]}
            connection.execute(update(profiles).values(data=data))
            connection.execute(delete(generations).where(generations.c.name == FORMAT))
    with Engine(settings) as reopened:
        assert reopened.profile("u1", at=T0 + 2 * DAY)["affinities"]["genres"] == expected
        with reopened.database.read() as connection:
            stored = connection.execute(select(profiles.c.data)).scalar_one()
        assert not ProfileState.is_old(stored)
        assert stored["landmark"] == T0
        reopened.ingest([event("play_complete", item="heat", at=T0 + DAY)])
        genres = reopened.profile("u1", at=T0 + 2 * DAY)["affinities"]["genres"]
    assert genres[0]["score"] == pytest.approx(2 * 0.25 + 2 * 0.5)
