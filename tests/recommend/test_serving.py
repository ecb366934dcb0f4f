"""Serving: real-time reaction, reasons, cold starts, opt-out, and the decision log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from limelight import Engine
from limelight.candidates import Popular
from limelight.errors import InvalidInput, UnknownItem
from limelight.recommend import reasons
from limelight.recommend.results import COLD_START, NON_PERSONALIZED, PERSONALIZED
from limelight.recommend.service import RecommendationService
from limelight.recommend.training import TrainingConfig
from limelight.storage.schema import events
from tests.recommend import world
from tests.recommend.world import ACTION, DAY, NOW, ROMANCE, event, watch


def test_a_finished_title_disappears_and_its_sequel_rises_at_once(
    served: RecommendationService, loaded: Engine
) -> None:
    before = served.recommend("a1", 8, at=NOW)
    assert before.item_ids[0] != "Y"
    loaded.ingest(watch("a1", "X", NOW - 600))  # no retraining
    after = served.recommend("a1", 8, at=NOW)
    assert "X" not in after.item_ids
    assert after.item_ids[0] == "Y"  # X's neighbour gained
    assert after.items[0].reason == reasons.BECAUSE and after.items[0].seed_item_id == "X"
    assert after.items[0].reason_text == "Because you watched Saga Part I"


def test_reasons_name_a_title_the_person_really_watched(
    served: RecommendationService, loaded: Engine
) -> None:
    answer = served.recommend("r4", 10, at=NOW)
    watched = {stat["item_id"] for stat in loaded.export_user("r4")["core"]["item_stats"]}
    titles = {item["item_id"]: item["title"] for item in world.catalogue()}
    because = [item for item in answer.items if item.reason == reasons.BECAUSE]
    assert because, answer.items
    for item in because:
        assert item.seed_item_id in watched
        assert item.reason_text == f"Because you watched {titles[item.seed_item_id]}"
    kinds = {item.reason for item in answer.items}
    assert kinds <= {reasons.BECAUSE, reasons.NEW, reasons.TRENDING, reasons.POPULAR, "for_you"}


def test_unfinished_titles_go_to_continue_watching_not_to_the_list(
    served: RecommendationService, loaded: Engine
) -> None:
    loaded.ingest(
        [
            event("play_start", "a2", NOW - 900, properties={"item_id": "R1"}),
            event("play_progress", "a2", NOW - 600, properties={"item_id": "R1", "progress": 0.4}),
            event("play_start", "a2", NOW - 300, properties={"item_id": "A9", "progress": 0.1}),
        ]
    )
    answer = served.recommend("a2", 20, at=NOW)
    assert [c.item_id for c in answer.continue_watching] == ["A9", "R1"]  # latest first
    assert answer.continue_watching[1].progress == 0.4
    assert answer.continue_watching[1].title == "Romance Movie 1"
    assert not {"A9", "R1"} & set(answer.item_ids)
    finished = {i["item_id"] for i in loaded.export_user("a2")["core"]["item_stats"]} - {"A9", "R1"}
    assert not finished & set(answer.item_ids)


def test_no_model_yet_still_answers_with_the_live_chart(loaded: Engine) -> None:
    service = world.service(loaded)
    answer = service.recommend("a3", 5, at=NOW)
    assert answer.model_version is None and answer.label == COLD_START
    assert len(answer.items) == 5 and all(i.reason == reasons.POPULAR for i in answer.items)
    similar = service.similar("A1", 3)
    assert len(similar.items) == 3 and all(i.item_id.startswith("A") for i in similar.items)


def test_an_empty_service_answers_with_its_newest_titles(engine: Engine) -> None:
    engine.upsert_items(world.catalogue())
    answer = world.service(engine).recommend("nobody", 3, at=NOW)
    assert len(answer.items) == 3 and answer.items[0].reason == reasons.NEW


def test_a_new_person_gets_the_charts_labelled_cold_start(served: RecommendationService) -> None:
    answer = served.recommend("never-seen", 6, at=NOW)
    assert answer.label == COLD_START and not answer.personalized
    assert len(answer.items) == 6
    assert {i.reason for i in answer.items} <= {reasons.TRENDING, reasons.POPULAR}
    assert answer.model_version == served.model_version()


def test_a_title_added_after_training_is_recommended_and_has_neighbours(
    served: RecommendationService, loaded: Engine
) -> None:
    loaded.upsert_items(
        [{"item_id": "A-new", "title": "Brand New Action", "genres": ["Action", "Thriller"]}]
    )
    answer = served.recommend("a5", 10, at=NOW)
    fresh = [i for i in answer.items if i.item_id == "A-new"]
    assert fresh and fresh[0].reason == reasons.NEW and fresh[0].reason_text == "New for you"
    assert "A-new" not in served.recommend("r5", 10, at=NOW).item_ids  # not a Romance fan's
    similar = served.similar("A-new", 4)
    assert len(similar.items) == 4 and all(i.item_id.startswith("A") for i in similar.items)
    assert similar.items[0].reason_text == "Similar to Brand New Action"


def test_an_unknown_title_is_the_only_similar_error(served: RecommendationService) -> None:
    try:
        served.similar("no-such-title", 3)
    except UnknownItem as error:
        assert error.field == "item_id"
    else:
        raise AssertionError("expected UnknownItem")


def test_an_opted_out_person_gets_the_charts_labelled_non_personalized(
    served: RecommendationService, loaded: Engine
) -> None:
    loaded.ingest([event("identify", "a6", NOW - 60, consent={"profiling": False})])
    answer = served.recommend("a6", 6, at=NOW)
    assert answer.label == NON_PERSONALIZED and not answer.personalized
    assert answer.item_ids == served.recommend("stranger", 6, at=NOW).item_ids
    assert answer.continue_watching == []
    assert all(i.reason != reasons.BECAUSE for i in answer.items)
    loaded.ingest([event("identify", "a6", NOW - 30, consent={"profiling": True})])
    assert served.recommend("a6", 6, at=NOW).label == PERSONALIZED


def test_every_answer_is_logged_and_joins_to_what_happened_next(
    served: RecommendationService, loaded: Engine
) -> None:
    answer = served.recommend("s1", 4, device="phone", at=NOW)
    record = loaded.decisions.get(answer.decision_id)
    assert record is not None
    assert (record.kind, record.point, record.person_id) == (
        "recommendations",
        "recommendations",
        "s1",
    )
    assert record.chosen == answer.item_ids
    assert set(answer.item_ids) <= set(record.candidates) and len(record.candidates) > 4
    assert record.model_version == answer.model_version
    assert record.context["device"] == "phone" and record.context["at"] == NOW
    assert {"hour", "day_of_week", "diversity", "label"} <= set(record.context)
    assert record.policy == "ranker"
    clicked = answer.item_ids[0]
    loaded.ingest(
        [
            event(
                "click",
                "s1",
                NOW - 5,
                properties={"item_id": clicked, "decision_id": answer.decision_id, "position": 0},
            )
        ]
    )
    loaded.decisions.flush()
    with loaded.database.read() as connection:
        joined = connection.execute(
            select(events.c.item_id).where(events.c.decision_id == answer.decision_id)
        ).scalars()
        assert list(joined) == [clicked]
    similar = served.similar("A1", 3)
    logged = loaded.decisions.get(similar.decision_id)
    assert logged is not None and logged.kind == "similar" and logged.point == "recommendations"
    assert logged.chosen == similar.item_ids and logged.context["item_id"] == "A1"


def test_groups_get_their_own_titles(served_sqlite: RecommendationService) -> None:
    for person, titles in (("a7", ACTION), ("r7", ROMANCE)):
        answer = served_sqlite.recommend(person, 3, at=NOW)
        assert answer.label == PERSONALIZED
        assert set(answer.item_ids) <= set(titles), (person, answer.item_ids)


def test_a_kept_pool_ranks_as_a_fresh_one_at_every_moment_and_device(
    served: RecommendationService, loaded: Engine
) -> None:
    """The candidate pool kept for a history completes with each request's moment: the same
    lists, scores and reasons as a service that keeps nothing, for one history asked about at
    several hours and on several devices (and a history that changes is a new pool)."""
    fresh = world.service(loaded, kept_pools=0)
    try:
        moments = [
            (NOW + hours * 3600.0, device)
            for hours in (0, 5, 13, 30)
            for device in ("tv", "mobile", None)
        ]
        for user in ("a1", "r4"):
            for at, device in moments:
                kept = served.recommend(user, 10, at=at, device=device)
                plain = fresh.recommend(user, 10, at=at, device=device)
                assert [(i.item_id, i.score, i.reason_text) for i in kept.items] == [
                    (i.item_id, i.score, i.reason_text) for i in plain.items
                ]
        assert served._pools.hits >= 2 * (len(moments) - 1)
        assert len(fresh._pools) == 0
        misses = served._pools.misses
        loaded.ingest(watch("a1", "X", NOW - 600))
        assert "X" not in served.recommend("a1", 8, at=NOW).item_ids
        assert served._pools.misses == misses + 1
    finally:
        fresh.close()


def test_similar_titles_follow_availability_at_each_moment_asked(
    served: RecommendationService, loaded: Engine
) -> None:
    """Similar lists are kept per stretch between availability changes, so asking at one
    moment never answers for a moment on the other side of a window's edge."""
    base = served.similar("X", 4, at=NOW).item_ids
    arriving = base[0]
    catalogue = {item["item_id"]: item for item in world.catalogue()}
    opens = datetime.fromtimestamp(NOW + DAY, UTC).isoformat()
    loaded.upsert_items([{**catalogue[arriving], "available_from": opens}])
    assert arriving not in served.similar("X", 4, at=NOW).item_ids
    assert arriving in served.similar("X", 4, at=NOW + 2 * DAY).item_ids
    assert arriving in served.similar("X", 4, at=NOW + DAY).item_ids  # the window's edge
    assert arriving not in served.similar("X", 4, at=NOW + DAY - 1).item_ids
    assert arriving not in served.similar("X", 4, at=NOW).item_ids


def test_erasing_a_person_drops_the_kept_candidate_pools(
    served: RecommendationService, loaded: Engine
) -> None:
    """Kept pools are derived from histories: an erasure drops them, and the erased person's
    next list is the charts of a newcomer."""
    served.recommend("a1", 8, at=NOW)
    assert len(served._pools) >= 1
    loaded.erase_user("a1")
    assert len(served._pools) == 0
    assert served.recommend("a1", 8, at=NOW).label == COLD_START


HOUR = 3600.0
MONDAY = 1_750_032_000.0  # 2025-06-16 00:00 UTC


def _evenings_in_two_cities() -> list[dict[str, Any]]:
    """Twelve people in Tokyo and twelve in New York: each watches ``morn`` at 08:00 on their
    own clock, then ``x<k>`` at noon and ``eve`` at 20:00 in an order that alternates by person
    (so each is someone's latest); a newcomer in Tokyo has watched only ``morn``. Only local
    time ties ``eve`` to the evening."""
    found: list[dict[str, Any]] = []
    for city, zone, offset in (("tokyo", "Asia/Tokyo", 9), ("newyork", "America/New_York", -4)):
        for p in range(12):
            later = [(f"x{p % 3}", 12), ("eve", 20)]
            for day, (item, hour) in enumerate([("morn", 8), *(later if p % 2 else later[::-1])]):
                at = MONDAY + day * DAY + (hour - offset) * HOUR + p
                context = {"timezone": zone, "device": "tv"}
                found.append(
                    event(
                        "play_start",
                        f"{city}{p}",
                        at,
                        context=context,
                        properties={"item_id": item},
                    )
                )
    found.append(
        event(
            "play_start",
            "newcomer",
            MONDAY + 2 * DAY + 23 * HOUR,
            context={"timezone": "Asia/Tokyo"},
            properties={"item_id": "morn"},
        )
    )
    return found


def test_the_requests_time_zone_is_the_hour_the_ranker_reads(sqlite_engine: Engine) -> None:
    """Asked at one moment from Tokyo, the list is ranked on Tokyo's hour: the same scores as
    from a fixed UTC+9 zone, other scores than from UTC, and the logged context says which hour
    and zone it was. The model leans on the hour by construction: its only feature is each
    title's lift at the local hour (titles watched in the evening rise at 20:00)."""
    titles = ("morn", "eve", "x0", "x1", "x2")
    sqlite_engine.upsert_items([{"item_id": i, "title": i, "genres": ["Drama"]} for i in titles])
    sqlite_engine.ingest(_evenings_in_two_cities())
    service = world.service(sqlite_engine)
    try:

        def config(excluded: tuple[str, ...]) -> TrainingConfig:
            ranker = {"n_estimators": 20, "min_child_samples": 1, "exclude_features": excluded}
            return TrainingConfig(validate=False, sources={"popular": Popular()}, ranker=ranker)

        names = service.train(config(())).ranker.builder_.names()
        model = service.train(config(tuple(n for n in names if n != "item_hour_lift")))
        assert model.ranker.feature_importance()["item_hour_lift"] > 0
        at = MONDAY + 3 * DAY + 11 * HOUR  # 11:00 UTC, 20:00 in Tokyo

        def scores(tz: str | None) -> list[tuple[str, float]]:
            answer = service.recommend("newcomer", 3, at=at, diversity=0.0, tz=tz)
            return [(i.item_id, i.score) for i in answer.items]

        tokyo = scores("Asia/Tokyo")
        assert tokyo == scores("Etc/GMT-9")
        assert tokyo != scores("UTC")
        assert tokyo[0][0] == "eve" and tokyo[0][1] > dict(scores("UTC"))["eve"]  # its evening
        assert scores(None) == scores("UTC")  # a request without a zone is UTC
        answer = service.recommend("newcomer", 3, at=at, tz="Asia/Tokyo")
        assert answer.context["tz"] == "Asia/Tokyo" and answer.context["hour"] == 20
        with pytest.raises(InvalidInput) as refused:
            service.recommend("newcomer", 3, tz="Mars/Base")
        assert refused.value.field == "tz"
    finally:
        service.close()
