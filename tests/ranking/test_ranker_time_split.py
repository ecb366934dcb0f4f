"""The ranker learns from a time split and never sees the future."""

from __future__ import annotations

import numpy as np
import pytest

from limelight.candidates import EASE, Interactions, ItemKNN, ItemMeta, Popular, SequentialNextItem
from limelight.errors import InvalidInput
from limelight.ranking import Ranker, label_windows
from tests.candidates.known_data import DAY, two_groups


def _sources() -> dict[str, object]:
    return {
        "popular": Popular(),
        "itemknn": ItemKNN(neighbours=20),
        "ease": EASE(l2=5.0),
        "sequential": SequentialNextItem(),
    }


def _ranker(split: str, label_size: float) -> Ranker:
    return Ranker(
        sources=_sources(),  # type: ignore[arg-type]
        split=split,  # type: ignore[arg-type]
        label_size=label_size,
        n_estimators=10,
        min_child_samples=5,
        random_state=0,
    )


def _log_with_future(scramble: bool) -> Interactions:
    """``two_groups`` with extra titles ``F*``; with ``scramble``, every interaction in the latest
    30% of the log is moved to an ``F*`` title (same person, same time)."""
    base = two_groups()
    items = [base.item_ids[i] for i in base.items]
    cutoff = float(np.quantile(base.timestamps, 0.7))
    if scramble:
        items = [
            f"F{k % 5}" if t >= cutoff else item
            for k, (item, t) in enumerate(zip(items, base.timestamps, strict=True))
        ]
    catalogue = [*base.item_ids, *(f"F{k}" for k in range(5))]
    meta = {**base.metadata, **{f"F{k}": ItemMeta(genres=("Horror",)) for k in range(5)}}
    users = [base.user_ids[u] for u in base.users]
    return Interactions.from_arrays(
        users, items, timestamps=base.timestamps, item_ids=catalogue, metadata=meta
    )


def test_global_split_features_come_only_from_before_the_cutoff() -> None:
    log = _log_with_future(scramble=False)
    data = _ranker("global", 0.3).training_set(log)
    assert data.feature_window.timestamps.max() < data.label_window.timestamps.min()
    assert len(data.feature_window) + len(data.label_window) <= len(log)


def test_no_future_interaction_reaches_the_training_features() -> None:
    """Rewriting everything after the cutoff changes the labels but not one feature value."""
    ranker = _ranker("global", 0.3)
    honest = ranker.training_set(_log_with_future(scramble=False))
    rewritten = ranker.training_set(_log_with_future(scramble=True))
    np.testing.assert_array_equal(honest.people, rewritten.people)
    np.testing.assert_array_equal(honest.candidates.items, rewritten.candidates.items)
    np.testing.assert_array_equal(honest.candidates.features, rewritten.candidates.features)
    assert not np.array_equal(honest.labels, rewritten.labels) or honest.labels.sum() == 0


def test_per_user_split_keeps_each_persons_labels_after_their_features() -> None:
    log = two_groups()
    window, labels = label_windows(log, "per_user", 2)
    for user in range(log.n_users):
        mine = window.timestamps[window.users == user]
        later = labels.timestamps[labels.users == user]
        assert later.size == 2 and mine.max() <= later.min()
    data = _ranker("per_user", 2).training_set(log)
    assert data.feature_window.matrix.multiply(data.label_window.matrix).nnz == 0


def test_fit_learns_and_refits_sources_on_everything() -> None:
    log = two_groups()
    model = _ranker("per_user", 2).fit(log)
    assert all(source.interactions_ is log for source in model.sources_.values())
    assert model.training_summary_["people"] > 0
    assert set(model.feature_importance()) == set(model.feature_names_)
    for user, ids in zip(log.user_ids, model.recommend(list(log.user_ids), n=3).ids, strict=True):
        assert all(item[0] == user[0].upper() for item in ids), (user, ids)


def test_context_is_accepted_and_a_bad_window_is_refused() -> None:
    log = two_groups()
    model = _ranker("per_user", 1).fit(log)
    at = float(log.timestamps.max() + DAY)
    ids = model.recommend(["a0"], n=3, at=at, device="tv").ids[0]
    assert len(ids) == 3
    assert len(model.recommend_for_history(["A1"], [at], n=3, device="phone").ids[0]) == 3
    with pytest.raises(InvalidInput):
        _ranker("global", 2.0).fit(log)
    with pytest.raises(InvalidInput):
        Ranker(sources=_sources(), exclude_features=("nope",)).fit(log)  # type: ignore[arg-type]


def test_candidate_recall_is_of_the_sampled_peoples_labels() -> None:
    """With ``max_people`` the recall divides by the sampled people's labels, not everyone's
    (which would shrink it by the share sampled)."""
    log = two_groups()
    everyone = _ranker("per_user", 2).training_set(log)
    assert everyone.label_count == 2 * everyone.people.size  # two latest titles each
    ranker = _ranker("per_user", 2)
    ranker.max_people = everyone.people.size // 2
    sampled = ranker.training_set(log)
    assert sampled.people.size == everyone.people.size // 2
    assert sampled.label_count == 2 * sampled.people.size
    recall = ranker.fit(log).training_summary_["candidate_recall"]
    assert 0 < recall <= 1
    assert recall == pytest.approx(float(sampled.labels.sum()) / sampled.label_count)
