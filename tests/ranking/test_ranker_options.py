"""Ranker options added for protocol (c) and for serving: cross-fitted folds, boosting from a
base source, a progress hook, and scoring a history given as positions."""

from __future__ import annotations

import numpy as np
import pytest

from limelight.candidates import EASE, ItemKNN, Popular
from limelight.errors import InvalidInput
from limelight.ranking import Ranker
from tests.candidates.known_data import two_groups


def _ranker(**options: object) -> Ranker:
    sources = {"popular": Popular(), "itemknn": ItemKNN(neighbours=20), "ease": EASE(l2=5.0)}
    settings: dict[str, object] = {
        "n_estimators": 10,
        "min_child_samples": 5,
        "random_state": 0,
        **options,
    }
    return Ranker(sources=sources, **settings)  # type: ignore[arg-type]


def test_folds_label_every_interaction_once_with_sources_that_never_saw_it() -> None:
    log = two_groups()
    ranker = _ranker(split="random", folds=3)
    data = ranker.training_set(log)
    window, labels = data.feature_window, data.label_window
    assert window.matrix.multiply(labels.matrix).nnz == 0  # a fold never sees its labels
    assert len(window) + len(labels) == len(log)
    assert data.candidates.group_sizes().size == data.people.size  # one group per fold-person
    assert data.people.size > log.n_users  # people appear once per fold they have labels in
    assert data.labels.sum() > 0


def test_folds_need_the_random_split() -> None:
    with pytest.raises(InvalidInput) as error:
        _ranker(split="per_user", folds=3).fit(two_groups())
    assert error.value.field == "folds"


def test_boosting_from_a_base_source_adds_its_scaled_z_score() -> None:
    log = two_groups()
    ranker = _ranker(base_source="ease", base_scale=0.5).fit(log)
    positions, times = ranker._history_positions(["A1", "A2"], None)
    people = ranker.builder_.people_from_history(positions, times)
    block = ranker.builder_.candidates(people, people.last_seen, [None])
    raw = ranker.booster_.predict(block.features[:, ranker.columns_])
    column = ranker.feature_names_.index("ease_z")
    z = np.nan_to_num(block.features[:, ranker.columns_][:, column].astype(np.float64))
    np.testing.assert_allclose(ranker.score(block), raw + 0.5 * z, rtol=1e-5)
    with pytest.raises(InvalidInput):
        _ranker(base_source="nope").fit(log)


def test_fit_reports_each_step_and_positions_rank_like_ids() -> None:
    log = two_groups()
    ranker = _ranker()
    steps: list[str] = []
    ranker.fit(log, progress=steps.append)
    assert len(steps) == ranker.fit_steps(log)
    assert {"lambdarank", "candidates", "ease"} <= set(steps)
    history = ["A1", "A3", "B2"]
    by_ids = ranker.recommend_for_history(history, None, n=5, at=1e6, device="tv")
    positions, times = ranker._history_positions(history, None)
    by_positions = ranker.recommend_positions(positions, times, n=5, at=1e6, device="tv")
    np.testing.assert_array_equal(by_ids.indices, by_positions.indices)


def test_compiled_trees_score_as_lightgbm_does_and_a_refit_drops_them() -> None:
    log = two_groups()
    ranker = _ranker(n_estimators=40, base_source="ease", base_scale=0.5).fit(log)
    positions, times = ranker._history_positions(["A1", "A2", "B1"], None)
    people = ranker.builder_.people_from_history(positions, times)
    block = ranker.builder_.candidates(people, people.last_seen, [None])
    block.features[::3, 0] = np.nan  # missing values take the trees' default branches
    by_lightgbm = ranker.score(block)
    assert getattr(ranker, "compiled_", None) is None  # fitting alone does not compile
    assert ranker.compile_trees()
    assert ranker.compiled_ is not None
    np.testing.assert_allclose(ranker.score(block), by_lightgbm, rtol=1e-6, atol=1e-6)
    assert ranker.compile_trees()  # again: kept, not rebuilt
    ranker.fit(log)
    assert getattr(ranker, "compiled_", None) is None


def test_training_on_threads_builds_the_same_training_set_and_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Batches of people built on threads, in smaller batches (the same memory in flight),
    come back in order: the same candidates, features and labels as one batch at a time. (On
    large logs a feature can differ in its last bits, since BLAS rounds a product by the shape
    of its batch; on 1M synthetic events 0.24% of the cells did, by 1.0 at the most, with the
    same candidates and labels.)"""
    import limelight.candidates.base as base

    log = two_groups(users_per_group=40)
    monkeypatch.setattr(base, "BLOCK_CELLS", 200)  # a few people a batch: many batches
    serial = _ranker(split="random", folds=2).training_set(log)
    threaded = _ranker(split="random", folds=2, fit_threads=3).training_set(log)
    assert len(base.batches(log.n_users, log.n_items * 3 * 3)) > 10
    np.testing.assert_array_equal(serial.people, threaded.people)
    np.testing.assert_array_equal(serial.labels, threaded.labels)
    np.testing.assert_array_equal(serial.candidates.items, threaded.candidates.items)
    np.testing.assert_array_equal(serial.candidates.offsets, threaded.candidates.offsets)
    np.testing.assert_array_equal(serial.candidates.features, threaded.candidates.features)
    assert serial.label_count == threaded.label_count
    monkeypatch.setattr(base, "BLOCK_CELLS", 1 << 23)
    # Trees learned on three threads: the same from one fit to the next (deterministic).
    first, again = (_ranker(fit_threads=3).fit(log) for _ in range(2))
    assert first.booster_.model_to_string() == again.booster_.model_to_string()


@pytest.mark.parametrize("threads", [0, -2, 1.5])
def test_fit_threads_must_be_a_positive_integer(threads: object) -> None:
    with pytest.raises(InvalidInput) as error:
        _ranker(fit_threads=threads).fit(two_groups())
    assert error.value.field == "fit_threads"
