"""The contract of limelight.candidates.base.Recommender, checked on every source and the ranker."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from limelight.candidates import (
    ALS,
    BPR,
    EASE,
    ContentSimilarity,
    Interactions,
    ItemKNN,
    Popular,
    Recommender,
    SequentialNextItem,
    Trending,
)
from limelight.errors import InvalidInput, NotFitted, UnknownItem
from limelight.ranking import Ranker
from tests.candidates.known_data import two_groups


def _ranker() -> Ranker:
    sources = {"popular": Popular(), "itemknn": ItemKNN(neighbours=20), "ease": EASE(l2=5.0)}
    return Ranker(sources=sources, n_estimators=10, min_child_samples=5, random_state=0)


FACTORIES: dict[str, Callable[[], Recommender]] = {
    "popular": Popular,
    "trending": lambda: Trending(half_life_days=3.0),
    "itemknn-cosine": lambda: ItemKNN(neighbours=20),
    "itemknn-cooccurrence": lambda: ItemKNN(similarity="cooccurrence", neighbours=20),
    "als": lambda: ALS(factors=8, iterations=5, random_state=0),
    "bpr": lambda: BPR(factors=8, iterations=20, random_state=0),
    "ease": lambda: EASE(l2=5.0),
    "dlae": lambda: EASE(l2=5.0, dropout=0.5),
    "sequential": SequentialNextItem,
    "content": ContentSimilarity,
    "ranker": _ranker,
}


@pytest.fixture(scope="module")
def log() -> Interactions:
    return two_groups()


@pytest.fixture(scope="module", params=sorted(FACTORIES))
def fitted(request: pytest.FixtureRequest, log: Interactions) -> Recommender:
    return FACTORIES[request.param]().fit(log)


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_unfitted_model_raises_not_fitted(name: str) -> None:
    model = FACTORIES[name]()
    with pytest.raises(NotFitted):
        model.recommend(["a0"], n=3)
    with pytest.raises(NotFitted):
        model.recommend_for_history(["A1"], n=3)
    with pytest.raises(NotFitted):
        model.similar_items("A1", n=3)


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_constructor_only_stores_parameters(name: str) -> None:
    model = FACTORIES[name]()
    assert not [key for key in vars(model) if key.endswith("_")]
    copy = model.clone()
    assert type(copy) is type(model)
    assert repr(copy) == repr(model)


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_fit_rejects_what_it_cannot_use(name: str, log: Interactions) -> None:
    empty = log.subset(np.zeros(len(log), dtype=bool))
    with pytest.raises(InvalidInput):
        FACTORIES[name]().fit(empty)


def test_shapes_and_order(fitted: Recommender, log: Interactions) -> None:
    result = fitted.recommend(["a0", "b3", "a5"], n=4)
    assert result.indices.shape == (3, 4)
    assert result.scores.shape == (3, 4)
    assert all(len(row) <= 4 for row in result.ids)
    for row in result.scores:
        finite = row[np.isfinite(row)]
        assert np.all(np.diff(finite) <= 1e-6)
    by_index = fitted.recommend(np.array([log.user_index["a0"]]), n=4)
    np.testing.assert_array_equal(by_index.indices[0], result.indices[0])
    with pytest.raises(InvalidInput):
        fitted.recommend(["a0"], n=0)


def test_exclude_seen(fitted: Recommender, log: Interactions) -> None:
    users = list(log.user_ids)
    result = fitted.recommend(users, n=5, exclude_seen=True)
    for user, ids in zip(users, result.ids, strict=True):
        assert not set(ids) & set(log.history(user)), user
    history = log.history("a0")
    assert not set(fitted.recommend_for_history(history, n=5).ids[0]) & set(history)


def test_deterministic_for_a_fixed_random_state(fitted: Recommender, log: Interactions) -> None:
    again = fitted.clone().fit(log)
    first = fitted.recommend(list(log.user_ids), n=5)
    second = again.recommend(list(log.user_ids), n=5)
    np.testing.assert_array_equal(first.indices, second.indices)
    np.testing.assert_allclose(first.scores, second.scores, rtol=1e-5)


def test_cold_user_gets_popular_titles(fitted: Recommender, log: Interactions) -> None:
    unknown = fitted.recommend(["somebody-new"], n=3).ids[0]
    empty = fitted.recommend_for_history([], n=3).ids[0]
    assert len(unknown) == 3
    assert unknown == empty
    if not isinstance(fitted, Trending):  # trending's cold answer is trending, by design
        most_watched = set(np.asarray(log.item_ids)[log.item_counts == log.item_counts.max()])
        assert unknown[0] in most_watched


def test_unknown_items(fitted: Recommender) -> None:
    with pytest.raises(UnknownItem):
        fitted.similar_items("no-such-title")
    with_unknown = fitted.recommend_for_history(["no-such-title", "A1"], n=3).ids[0]
    assert with_unknown == fitted.recommend_for_history(["A1"], n=3).ids[0]


def test_similar_items_excludes_the_item(fitted: Recommender) -> None:
    ids = fitted.similar_items("A1", n=3).ids[0]
    assert ids and "A1" not in ids
