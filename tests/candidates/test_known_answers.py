"""Cases where the right recommendation is obvious."""

from __future__ import annotations

import numpy as np
import pytest

from limelight.candidates import (
    ALS,
    BPR,
    EASE,
    CandidateSource,
    ContentSimilarity,
    Interactions,
    ItemKNN,
    ItemMeta,
    Popular,
    SequentialNextItem,
    Trending,
)
from tests.candidates.known_data import DAY, strict_sequence, two_groups

TASTE_MODELS = {
    "itemknn": lambda: ItemKNN(neighbours=20),
    "als": lambda: ALS(factors=2, iterations=30, alpha=10.0, regularization=0.01, random_state=0),
    "bpr": lambda: BPR(factors=8, iterations=100, learning_rate=0.05, random_state=0),
    "ease": lambda: EASE(l2=5.0),
    "dlae": lambda: EASE(l2=5.0, dropout=0.5),
    "content": ContentSimilarity,
}


@pytest.mark.parametrize("name", sorted(TASTE_MODELS))
def test_disjoint_tastes_stay_apart(name: str) -> None:
    log = two_groups()
    model: CandidateSource = TASTE_MODELS[name]().fit(log)
    result = model.recommend(list(log.user_ids), n=3)
    for user, ids in zip(log.user_ids, result.ids, strict=True):
        assert all(item[0] == user[0].upper() for item in ids), (user, ids)
    fresh = model.recommend_for_history(["A1", "A2"], n=3).ids[0]
    assert all(item.startswith("A") for item in fresh)


def test_sequence_gives_the_next_title() -> None:
    model = SequentialNextItem().fit(strict_sequence())
    assert model.recommend_for_history(["a", "b"], n=1).ids == [["c"]]
    assert model.recommend_for_history(["x", "y", "a"], n=1).ids == [["b"]]
    assert model.similar_items("b", n=1).ids == [["c"]]


def test_recent_items_weigh_more_in_the_sequence() -> None:
    model = SequentialNextItem(decay=0.5).fit(strict_sequence())
    scores = dict(model.recommend_for_history(["a", "b"], n=3, exclude_seen=False).pairs())
    assert scores["c"] > scores["b"]


def test_content_ranks_a_title_sharing_all_genres_first_even_unwatched() -> None:
    meta = {
        "seen1": ItemMeta(genres=("Action", "Sci-Fi")),
        "seen2": ItemMeta(genres=("Action", "Sci-Fi")),
        "twin": ItemMeta(genres=("Action", "Sci-Fi")),
        "half": ItemMeta(genres=("Action",)),
        "other": ItemMeta(genres=("Romance",)),
        "popular": ItemMeta(genres=("Comedy",)),
    }
    log = Interactions.from_arrays(
        ["me", "me", "x", "y", "z", "z"],
        ["seen1", "seen2", "popular", "popular", "popular", "half"],
        metadata=meta,
    )
    model = ContentSimilarity().fit(log)
    assert model.recommend(["me"], n=1).ids == [["twin"]]
    assert log.item_counts[log.item_index["twin"]] == 0


def test_popular_and_trending() -> None:
    users = ["u1", "u2", "u3", "u4", "u5"]
    log = Interactions.from_arrays(
        users,
        ["old", "old", "old", "new", "new"],
        timestamps=[0.0, DAY, 2 * DAY, 60 * DAY, 60 * DAY],
    )
    assert Popular().fit(log).recommend(["stranger"], n=1).ids == [["old"]]
    assert Trending(half_life_days=7).fit(log).recommend(["stranger"], n=1).ids == [["new"]]


def test_an_event_changes_the_next_answer() -> None:
    """Real-time reaction: a newly finished title leaves the list and its neighbours gain."""
    log = two_groups()
    model = ItemKNN(neighbours=20).fit(log)
    before = dict(model.recommend_for_history(["A1"], n=20).pairs())
    after = dict(model.recommend_for_history(["A1", "A2"], n=20).pairs())
    assert "A2" in before and "A2" not in after
    neighbour = model.similar_items("A2", n=1).ids[0][0]
    if neighbour != "A1":
        assert after[neighbour] > before[neighbour]


def test_scores_do_not_need_a_dense_user_matrix() -> None:
    log = two_groups()
    model = EASE(l2=5.0).fit(log)
    block = model.score_users(np.arange(3))
    assert block.shape == (3, log.n_items)
