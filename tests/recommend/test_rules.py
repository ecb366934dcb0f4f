"""Business rules: maturity, availability windows, the diversity knob, request checks."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from limelight import Engine
from limelight.errors import InvalidInput
from limelight.recommend.rules import (
    KIDS_LIMIT,
    UNRATED,
    allowed_maturity,
    maturity_level,
    mmr,
    profile_limit,
)
from limelight.recommend.service import RecommendationService
from tests.recommend import world
from tests.recommend.world import DAY, KIDS, NOW, event


@pytest.mark.parametrize(
    ("rating", "level"),
    [
        ("G", 0),
        ("TV-Y7", 7),
        ("pg", 10),
        ("PG-13", 13),
        ("TV-14", 13),
        ("R", 17),
        ("TV-MA", 17),
        ("NC-17", 18),
        ("FSK 16", 16),
        ("12+", 12),
        (15, 15),
        ("", UNRATED),
        (None, UNRATED),
        ("unrated", UNRATED),
    ],
)
def test_maturity_ratings_map_to_the_youngest_age_they_suit(
    rating: str | int | None, level: int
) -> None:
    assert maturity_level(rating) == level


def test_profile_limits_come_from_traits() -> None:
    assert profile_limit({}) is None and profile_limit(None) is None
    assert profile_limit({"kids": True}) == KIDS_LIMIT
    assert profile_limit({"maturity": "PG-13"}) == 13
    assert profile_limit({"max_maturity": 12, "kids": True}) == 12
    levels = np.array([0, 13, 17, UNRATED])
    assert allowed_maturity(levels, None).tolist() == [True, True, True, True]
    assert allowed_maturity(levels, 13).tolist() == [True, True, False, False]  # fails closed


def test_mmr_without_diversity_keeps_the_ranker_order_and_with_it_spreads() -> None:
    relevance = np.array([1.0, 0.99, 0.98, 0.5])
    genres = np.array([[1, 0], [1, 0], [1, 0], [0, 1]], dtype=np.float32)
    assert mmr(relevance, genres, 3, 0.0).tolist() == [0, 1, 2]
    assert mmr(relevance, genres, 3, 0.7).tolist() == [0, 3, 1]
    assert mmr(relevance, genres, 10, 0.5).size == 4


def test_a_kids_profile_sees_only_titles_rated_for_kids(
    served: RecommendationService, loaded: Engine
) -> None:
    loaded.ingest([event("identify", "k2", NOW - 60, traits={"kids": True})])
    loaded.ingest(world.watch("k2", "A3", NOW - 30))  # even after watching something else
    answer = served.recommend("k2", 10, at=NOW)
    rated = {item["item_id"]: item.get("maturity_rating") for item in world.catalogue()}
    assert answer.items, "a kids' profile still gets an answer"
    for item in answer.items:
        assert rated[item.item_id] == "G", item  # unrated D0 and PG titles are out
    assert served.recommend("k3", 10, at=NOW).items  # an unlimited profile is unaffected
    loaded.ingest([event("identify", "a8", NOW - 60, traits={"maturity": "PG-13"})])
    older = served.recommend("a8", 20, at=NOW)
    assert "A9" not in older.item_ids and "D0" not in older.item_ids  # R, unrated


def test_availability_windows_are_checked_at_the_request_time(
    served: RecommendationService, loaded: Engine
) -> None:
    base = served.recommend("a0", 4, at=NOW).item_ids
    leaving, arriving = base[0], base[1]

    def moment(ts: float) -> str:
        return datetime.fromtimestamp(ts, UTC).isoformat()

    catalogue = {item["item_id"]: item for item in world.catalogue()}
    loaded.upsert_items(
        [
            {**catalogue[leaving], "available_until": moment(NOW - DAY)},
            {**catalogue[arriving], "available_from": moment(NOW + DAY)},
        ]
    )
    now = served.recommend("a0", 4, at=NOW).item_ids
    assert leaving not in now and arriving not in now
    later = served.recommend("a0", 4, at=NOW + 2 * DAY).item_ids
    assert arriving in later and leaving not in later
    earlier = served.recommend("a0", 4, at=NOW - 2 * DAY).item_ids
    assert leaving in earlier and arriving not in earlier


def test_the_diversity_knob_widens_the_genre_spread(served_sqlite: RecommendationService) -> None:
    genres = {item["item_id"]: item["genres"][0] for item in world.catalogue()}

    def spread(diversity: float) -> int:
        answer = served_sqlite.recommend("a2", 8, at=NOW, diversity=diversity)
        return len({genres[i] for i in answer.item_ids})

    narrow, wide = spread(0.0), spread(0.9)
    assert wide > narrow
    assert spread(0.5) >= narrow


def test_requests_out_of_range_are_refused_with_the_field(
    served_sqlite: RecommendationService,
) -> None:
    with pytest.raises(InvalidInput) as error:
        served_sqlite.recommend("a1", 0)
    assert error.value.field == "n"
    with pytest.raises(InvalidInput) as error:
        served_sqlite.recommend("a1", 5, diversity=1.5)
    assert error.value.field == "diversity"


def test_a_new_kids_profile_gets_charts_rated_for_kids(
    served: RecommendationService, loaded: Engine
) -> None:
    loaded.ingest([event("identify", "tiny", NOW - 60, traits={"kids": True})])
    answer = served.recommend("tiny", 5, at=NOW)
    assert answer.label == "cold_start"
    assert answer.items and set(answer.item_ids) <= set(KIDS)
