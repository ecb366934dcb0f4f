"""Options for large catalogues and fast serving: EASE in float32 or on the top titles only,
row sums of sparse matrices without slicing, and feature ranks computed at the candidates."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from limelight.candidates import EASE
from limelight.candidates.base import csr_row_sum
from limelight.errors import InvalidInput
from limelight.ranking.features import ranks_at, top_scores
from tests.candidates.known_data import two_groups


def test_float32_ease_ranks_like_float64() -> None:
    log = two_groups()
    wide = EASE(l2=5.0).fit(log)
    narrow = EASE(l2=5.0, dtype="float32").fit(log)
    assert narrow.weights_.dtype == np.float32
    np.testing.assert_allclose(narrow.weights_, wide.weights_, atol=1e-4)
    assert wide.recommend(np.arange(10), 3).ids == narrow.recommend(np.arange(10), 3).ids


def test_ease_on_the_top_titles_recommends_only_those() -> None:
    log = two_groups()
    model = EASE(l2=5.0, max_items=6).fit(log)
    kept = set(np.argsort(-log.item_counts, kind="stable")[:6].tolist())
    assert set(model.columns_.tolist()) == kept and model.weights_.shape == (6, 6)
    found = model.recommend(np.arange(log.n_users), 4)
    assert {int(i) for i in found.indices.ravel() if i >= 0} <= kept
    history = [log.item_ids[i] for i in sorted(kept)[:2]] + ["A-new"]
    scores = model.recommend_for_history(history, None, n=4).indices
    assert {int(i) for i in scores.ravel() if i >= 0} <= kept
    outside = next(i for i in range(log.n_items) if i not in kept)
    assert model.similar_items(log.item_ids[outside], 3).ids == [[]]


def test_dlae_is_the_closed_form_of_steck_2020() -> None:
    """With dropout p the weights are ``(G + L)^-1 G`` with ``L = l2 + p / (1 - p) diag(G)``
    (no zero-diagonal constraint), in both precisions and on the top titles only."""
    log = two_groups()
    binary = log.matrix.toarray().astype(np.float64)
    binary[binary > 0] = 1.0
    for dtype, columns in (("float64", None), ("float32", None), ("float64", 6)):
        model = EASE(l2=5.0, dropout=0.4, dtype=dtype, max_items=columns).fit(log)  # type: ignore[arg-type]
        kept = binary[:, model.columns_]
        gram = kept.T @ kept
        penalty = np.diag(5.0 + 0.4 / 0.6 * np.diag(gram))
        expected = np.linalg.solve(gram + penalty, gram)
        np.testing.assert_allclose(
            model.weights_, expected, atol=1e-4 if dtype == "float32" else 1e-9
        )
    with pytest.raises(InvalidInput) as bad:
        EASE(dropout=1.0).fit(log)
    assert bad.value.field == "dropout"


def test_csr_row_sum_matches_scipy() -> None:
    rng = np.random.default_rng(0)
    matrix = sp.random(40, 30, density=0.2, random_state=1, format="csr", dtype=np.float32)
    rows = rng.choice(40, size=12, replace=False)
    weights = rng.random(12)
    expected = (sp.diags(weights) @ matrix[rows]).sum(axis=0)
    np.testing.assert_allclose(csr_row_sum(matrix, rows, weights), np.ravel(expected), rtol=1e-5)
    np.testing.assert_allclose(
        csr_row_sum(matrix, rows), np.ravel(matrix[rows].sum(axis=0)), rtol=1e-5
    )
    assert not csr_row_sum(sp.csr_matrix((3, 5)), np.array([0, 2])).any()


def test_ranks_follow_the_scores_then_the_item_index_and_stop_at_the_depth() -> None:
    scores = np.array(
        [[5.0, 3.0, 3.0, -np.inf, 1.0, 0.5], [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]], dtype=np.float32
    )
    top, values = top_scores(scores, 4)
    rows = np.repeat(np.arange(2), 6)
    items = np.tile(np.arange(6), 2)
    ranks = ranks_at(top, values, rows, items, 3, 6)
    # ties go to the lower index; past the depth, or -inf: the depth
    assert ranks.tolist() == [0, 1, 2, 3, 3, 3, 3, 3, 3, 2, 1, 0]
    assert sorted(top[0].tolist()) == [0, 1, 2, 4]
