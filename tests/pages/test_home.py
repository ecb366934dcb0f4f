"""The home page: rows, uniqueness, cold start, opt-out, context, logging and row order."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from limelight import Engine
from limelight.errors import InvalidInput
from limelight.pages.home import STEADY_ROWS, HomeService
from limelight.recommend import service as recommend
from limelight.recommend.service import RecommendationService
from limelight.storage.schema import bandit_learned, bandit_rewards
from tests.pages import world

PERSONAL = {"continue_watching", "top_picks", "rediscover"}


def types(page: dict[str, Any]) -> list[str]:
    return [row["type"] for row in page["rows"]]


def test_rows_have_types_titles_reasons_and_tiles(home: HomeService) -> None:
    page = home.home("ada", device="web", at=world.EVENING, rows=20, per_row=5)
    assert page["label"] == "personalized" and page["page_id"].startswith("page_")
    kinds = types(page)
    assert kinds[0] == "continue_watching"  # pinned first
    assert page["rows"][0]["items"][0]["item_id"] == "p09"
    assert "top_picks" in kinds and "trending" in kinds and "new_releases" in kinds
    assert any(kind.startswith("because:") for kind in kinds)
    assert any(kind.startswith("genre:") for kind in kinds) and "rediscover" in kinds
    because = next(row for row in page["rows"] if row["type"].startswith("because:"))
    assert because["title"].startswith("Because you watched Title ")
    for row in page["rows"]:
        assert row["title"] and row["reason"] and 1 <= len(row["items"]) <= 5
        for position, tile in enumerate(row["items"]):
            assert tile["position"] == position and tile["reason"] and tile["title"]
            assert tile["artwork"]["url"].endswith(".svg") and tile["decision_id"]
    seen = {"p01", "p05"}
    assert not seen & {t["item_id"] for row in page["rows"] for t in row["items"]}


@pytest.mark.parametrize("user", ["ada", "tv03", "web07", "newcomer", "carol"])
@pytest.mark.parametrize("per_row", [3, 8, 20])
def test_no_title_repeats_in_the_first_three_rows(
    home: HomeService, user: str, per_row: int
) -> None:
    page = home.home(user, at=world.EVENING, per_row=per_row)
    first = [tile["item_id"] for row in page["rows"][:3] for tile in row["items"]]
    assert len(page["rows"]) >= 3 and len(first) == len(set(first))


def test_cold_start_gets_popular_trending_and_onboarding(home: HomeService) -> None:
    page = home.home("newcomer", at=world.EVENING)
    kinds = types(page)
    assert page["label"] == "cold_start" and not page["personalized"]
    assert {"popular", "trending", "onboarding"} <= set(kinds)
    assert not PERSONAL & set(kinds)
    onboarding = next(row for row in page["rows"] if row["type"] == "onboarding")
    assert {t["reason"] for t in onboarding["items"]} == {
        f"Pick {genre} if you like it" for genre in world.GENRES
    }


def test_opted_out_gets_a_labelled_non_personalized_page(loaded: Engine, home: HomeService) -> None:
    page = home.home("carol", at=world.EVENING)
    kinds = types(page)
    assert page["label"] == "non_personalized"
    assert not PERSONAL & set(kinds) and "onboarding" not in kinds
    record = loaded.decisions.get(page["page_id"])
    assert record is not None and record.person_id is None  # nothing tied to the person
    assert record.context["label"] == "non_personalized"


def test_context_changes_the_page(home: HomeService) -> None:
    evening_tv = home.home("newcomer", device="tv", at=world.EVENING)
    morning_web = home.home("newcomer", device="web", at=world.MORNING)
    assert "context:device:tv" in types(evening_tv)
    assert "context:daypart:evening" in types(evening_tv)
    assert "context:device:web" in types(morning_web)
    assert "context:daypart:morning" in types(morning_web)
    tv_row = next(r for r in evening_tv["rows"] if r["type"] == "context:device:tv")
    assert {t["item_id"] for t in tv_row["items"]} <= {f"p{i:02d}" for i in range(1, 11)}
    assert evening_tv["context"]["daypart"] == "evening"
    assert morning_web["context"]["day_of_week"] == "fri"
    # A time zone moves the local hour: 20:00 UTC is the morning in Tokyo (05:00 next day).
    tokyo = home.home("newcomer", at=world.EVENING, tz="Asia/Tokyo")
    assert tokyo["context"]["hour"] == 5 and "context:daypart:morning" in types(tokyo)


def test_the_session_so_far_changes_the_page(loaded: Engine, home: HomeService) -> None:
    at = world.EVENING + DAY_LATER
    before = home.home("ada", at=at, per_row=5)
    loaded.ingest(
        [
            world.event("play_start", "ada", "p02", at - 1200),  # Horror, in this session
            world.event("skip", "ada", "p14", at - 600),  # Horror as well
        ]
    )
    after = home.home("ada", at=at, per_row=5)
    assert after["context"]["session_played"] == ["p02"]
    assert after["context"]["session_skipped"] == ["p14"]
    assert types(before) != types(after)
    served = {t["item_id"] for row in after["rows"] for t in row["items"]}
    assert "p14" not in served  # skipped a moment ago: not offered again on this page


DAY_LATER = 86_400.0


def test_every_served_tile_joins_to_its_decisions(loaded: Engine, home: HomeService) -> None:
    page = home.home("ada", device="tv", at=world.EVENING)
    record = loaded.decisions.get(page["page_id"])
    assert record is not None and record.kind == "page" and record.point == "home"
    assert record.chosen == types(page) and set(record.chosen) <= set(record.candidates)
    extra = record.extra or {}
    assert extra["tile_fields"] == ["row", "item_id", "decision_id", "position", "artwork_id"]
    tiles = [(row["type"], t) for row in page["rows"] for t in row["items"]]
    assert len(extra["tiles"]) == len(tiles)
    decisions = loaded.decisions.many([t["decision_id"] for _, t in tiles])
    for logged, (kind, tile) in zip(extra["tiles"], tiles, strict=True):
        artwork_id = tile["artwork"]["artwork_id"]
        assert logged == [kind, tile["item_id"], tile["decision_id"], tile["position"], artwork_id]
        decision = decisions[tile["decision_id"]]
        assert decision.point == "artwork" and decision.page_id == page["page_id"]
        assert decision.chosen == [artwork_id] and decision.context == {
            "device": "tv",
            "daypart": "evening",
            "row": kind,
        }
        assert artwork_id in [candidate["id"] for candidate in decision.candidates]
    assert len({t["decision_id"] for _, t in tiles}) == len(tiles)


def test_a_click_rewards_the_artwork_point(loaded: Engine, home: HomeService) -> None:
    page = home.home("ada")
    tile = page["rows"][1]["items"][0]
    click = world.event(
        "click",
        "ada",
        tile["item_id"],
        0.0,
        decision_id=tile["decision_id"],
        page_id=page["page_id"],
    )
    del click["timestamp"]  # now
    assert loaded.ingest([click]).accepted == 1
    with loaded.database.read() as connection:
        rewards = connection.execute(
            select(
                bandit_rewards.c.point, bandit_rewards.c.action_id, bandit_rewards.c.value
            ).where(bandit_rewards.c.decision_id == tile["decision_id"])
        ).all()
        learned = connection.execute(
            select(bandit_learned.c.point, bandit_learned.c.value).where(
                bandit_learned.c.decision_id == tile["decision_id"]
            )
        ).all()
    artwork_id = tile["artwork"]["artwork_id"]
    assert [tuple(r) for r in rewards] == [("artwork", artwork_id, 1.0)]
    assert [tuple(r) for r in learned] == [("artwork", 1.0)]


def test_row_order_learns_from_clicks(loaded: Engine, home: HomeService) -> None:
    """Clicking the new-releases row on every page moves it up for that person."""
    first = types(home.home("tv02", at=world.EVENING))
    assert "new_releases" in first
    for _ in range(8):
        page = home.home("tv02", at=world.EVENING)
        row = next(r for r in page["rows"] if r["type"] == "new_releases")
        tile = row["items"][0]
        click = world.event(
            "click", "tv02", tile["item_id"], world.EVENING, decision_id=tile["decision_id"]
        )
        loaded.ingest([click])
    loaded.decisions.flush()
    home.order.invalidate()
    later = types(home.home("tv02", at=world.EVENING))
    assert later.index("new_releases") < first.index("new_releases")
    assert later[later.index("new_releases") - 1] == "continue_watching"  # first after pinned


def test_bad_arguments_are_refused_with_the_field(home: HomeService) -> None:
    for options, field in (
        ({"device": "fridge"}, "device"),
        ({"tz": "Mars/Olympus"}, "tz"),
        ({"rows": 0}, "rows"),
        ({"per_row": 51}, "per_row"),
        ({"mood": "sleepy"}, "mood"),
    ):
        with pytest.raises(InvalidInput) as raised:
            home.home("ada", **options)
        assert raised.value.field == field


def content(page: dict[str, Any]) -> list[tuple[str, str, str, list[tuple[str, str, str]]]]:
    """A page's rows and tiles without the ids that are new on every page."""
    return [
        (
            row["type"],
            row["title"],
            row["reason"],
            [(t["item_id"], t["reason"], t["title"]) for t in row["items"]],
        )
        for row in page["rows"]
    ]


def test_kept_rows_compose_the_page_a_service_that_keeps_nothing_composes(
    loaded: Engine,
) -> None:
    """The rows a person's next page reuses (all but mood, continue watching and top picks)
    are kept under everything they depend on: pages again and again, in other contexts, at
    either side of an availability window's edge, with a session under way (whose lift must
    not build up in what is kept) and after each kind of new event, equal a service's that
    keeps nothing."""
    recommend.attach(loaded, RecommendationService.from_engine(loaded, catalog_refresh_s=0.0))
    home, fresh = HomeService(loaded), HomeService(loaded, kept_pages=0)

    def both(user: str, device: str, at: float, per_row: int = 6) -> list[Any]:
        kept = home.home(user, device=device, at=at, rows=20, per_row=per_row)
        plain = fresh.home(user, device=device, at=at, rows=20, per_row=per_row)
        assert content(kept) == content(plain), (user, device, at)
        return content(kept)

    try:
        at = world.EVENING + DAY_LATER
        asks = [
            ("ada", "tv", at),
            ("ada", "web", world.MORNING + DAY_LATER),
            ("carol", "tv", at),
            ("newcomer", "tv", at),
            ("newcomer", "mobile", at),
            ("newcomer", "tv", world.MORNING + DAY_LATER),
        ]
        for _ in range(2):
            for user, device, moment in asks:
                both(user, device, moment)
            both("ada", "tv", at, per_row=25)  # a longer row draws from a deeper pool
        catalogue = {item["item_id"]: item for item in world.catalogue()}
        opens = datetime.fromtimestamp(at + world.DAY, UTC).isoformat()
        loaded.upsert_items([{**catalogue["p04"], "available_from": opens}])
        for moment, shown in ((at, False), (at + 2 * world.DAY, True), (at, False)):
            page = both("newcomer", "tv", moment)
            assert ("p04" in {item for *_, tiles in page for item, _, _ in tiles}) is shown
        loaded.ingest([world.event("play_start", "ada", "p02", at - 1200)])
        for _ in range(3):  # the session lifts Horror rows on every one of these pages
            assert home.home("ada", at=at)["context"]["session_played"] == ["p02"]
            fresh.home("ada", at=at)
            both("ada", "tv", at)
        early = world.BASE + 4 * world.DAY  # before ada's latest titles: they stay the seeds
        changes = [
            # A title started long ago: seen now, though neither seeds nor taste change.
            world.event("play_progress", "ada", "p13", early, progress=0.3),
            # A horror title: taste and seen change.
            world.event("play_start", "ada", "p06", early + 60),
            # Rated: taste changes, seen and seeds do not.
            world.event("rating", "ada", "p06", early + 120, rating=5.0),
            # Back to an old title (no weight): the seeds change, taste and seen do not.
            world.event("play_progress", "ada", "p01", at - 120, progress=0.2),
            # Finished now: a new seed, seen and taste.
            world.event("play_complete", "ada", "p03", at - 60),
        ]
        watched: set[str] = set()
        for change in changes:
            watched.add(change["properties"]["item_id"])
            before = both("ada", "tv", at)
            loaded.ingest([change])
            after = both("ada", "tv", at)
            assert after != before, change
            offered = {
                item
                for kind, _, _, tiles in after
                if kind != "continue_watching"  # started titles belong there
                for item, _, _ in tiles
            }
            assert not watched & offered
    finally:
        fresh.close()
        home.close()


def test_erasing_a_person_drops_the_steady_rows_kept(loaded: Engine, home: HomeService) -> None:
    """Steady rows are derived from people's data (seen titles, seeds, taste): an erasure
    drops them (the kept candidate pools: ``tests/recommend/test_serving.py``)."""
    home.home("ada", device="tv", at=world.EVENING)
    assert len(home.charts.get().derived[STEADY_ROWS]) >= 1
    loaded.erase_user("ada")
    assert STEADY_ROWS not in home.charts.get().derived
    assert home.home("ada", device="tv", at=world.EVENING)["label"] == "cold_start"


def test_top_picks_are_ranked_on_the_hour_of_the_pages_time_zone(loaded: Engine) -> None:
    """The page's zone reaches the ranker: at 20:00 UTC, a page from UTC-2 (18:00, the same
    evening daypart, so every other row is alike) ranks its top picks on 18:00, as a page
    from another UTC-2 zone does, and not on UTC's 20:00 (the world's evening TV and morning
    web habits are learned by the hour)."""
    from limelight.pages.home import attached
    from limelight.recommend.training import TrainingConfig

    loaded.train(
        TrainingConfig(
            validate=False, ranker={"n_estimators": 150, "min_child_samples": 5, "num_leaves": 7}
        )
    )
    service = attached(loaded)

    def picks(user: str, tz: str) -> list[str]:
        page = service.home(user, device="tv", at=world.EVENING, tz=tz, per_row=10)
        assert page["context"]["daypart"] == "evening"
        row = next(r for r in page["rows"] if r["type"] == "top_picks")
        return [t["item_id"] for t in row["items"]]

    users = ("web03", "web11", "tv07")
    west = [picks(user, "Etc/GMT+2") for user in users]
    assert west == [picks(user, "America/Noronha") for user in users]
    assert west != [picks(user, "UTC") for user in users]


def test_pages_follow_a_recommendation_service_attached_after_the_first_page(
    loaded: Engine,
) -> None:
    """Replacing the engine's recommendation service (``recommend.attach``, which closes the
    old one) after the home service exists: the next pages read the new one."""
    from limelight.pages.home import attached

    home = attached(loaded)
    home.home("ada", device="tv", rows=5, per_row=5)
    replacement = RecommendationService.from_engine(loaded, catalog_refresh_s=0.0)
    assert replacement.catalog_view._snapshot is None
    recommend.attach(loaded, replacement)
    assert home.recommender is replacement
    page = home.home("ada", device="tv", rows=5, per_row=5)
    assert page["personalized"] and page["rows"]
    assert replacement.catalog_view._snapshot is not None  # the page read its catalogue
