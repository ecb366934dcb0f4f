"""Feature vectors, the growing vocabulary, online ridge and state persistence helpers."""

from __future__ import annotations

import json

import numpy as np
import pytest

from limelight.bandits import Action, FeatureSpace, apply_floor
from limelight.bandits.features import OVERFLOW, Vocabulary, terms
from limelight.bandits.linear import Ridge
from limelight.bandits.state import rng_from_state, rng_to_state
from limelight.errors import InvalidInput


def test_terms_of_strings_and_numbers() -> None:
    assert terms({"hour": 21, "device": "tv", "dark": True}) == [
        ("dark", 1.0),
        ("device=tv", 1.0),
        ("hour", 21.0),
    ]
    with pytest.raises(InvalidInput):
        terms({"x": float("inf")})
    with pytest.raises(InvalidInput):
        terms({"x": [1, 2]})  # type: ignore[dict-item]


def test_joint_vector_has_interactions_and_stable_columns() -> None:
    space = FeatureSpace()
    first = space.joint_vector({"device": "tv", "hour": 2.0}, Action("a", {"style": "dark"}))
    names = space.vocabulary.names
    assert "device=tv*style=dark" in names and "hour*style=dark" in names
    assert first[names.index("hour*style=dark")] == 2.0
    again = space.joint_vector({"device": "tv", "hour": 2.0}, Action("b", {"style": "dark"}))
    assert np.array_equal(first, again)  # the action id is not a feature
    matrix = space.joint_matrix({"device": "tv"}, [Action("a", {"style": "x"}), Action("b")])
    assert matrix.shape == (2, len(space.vocabulary))


def test_vocabulary_overflows_into_one_column() -> None:
    vocabulary = Vocabulary(max_features=3)
    columns = [vocabulary.index(name) for name in ("a", "b", "c", "d")]
    assert columns == [0, 1, 2, 2]
    assert vocabulary.names == ["a", "b", OVERFLOW]


def test_ridge_matches_the_closed_form_and_growth_is_exact() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 4))
    y = x @ np.array([1.0, -2.0, 0.5, 0.0]) + rng.normal(0, 0.1, 200)
    grown = Ridge(2, ridge=0.5)
    for row, target in zip(x, y, strict=True):
        grown.update(row, float(target))  # grows from 2 to 4 columns on the first update
    closed = np.linalg.solve(0.5 * np.eye(4) + x.T @ x, x.T @ y)
    assert np.allclose(grown.theta, closed)
    assert np.allclose(grown.inverse, np.linalg.inv(0.5 * np.eye(4) + x.T @ x))


def test_apply_floor_mixes_just_enough() -> None:
    assert apply_floor(np.array([0.5, 0.5]), 0.1).tolist() == [0.5, 0.5]
    floored = apply_floor(np.array([0.97, 0.03, 0.0]), 0.05)
    assert floored.min() == pytest.approx(0.05)
    assert floored.sum() == pytest.approx(1.0)
    assert np.allclose(apply_floor(np.array([1.0, 0.0, 0.0]), 0.9), 1 / 3)


def test_rng_state_survives_json() -> None:
    rng = np.random.default_rng(123)
    rng.random(5)
    state = json.loads(json.dumps(rng_to_state(rng)))
    restored = rng_from_state(state)
    assert np.array_equal(rng.random(10), restored.random(10))
    with pytest.raises(InvalidInput):
        rng_from_state({"bit_generator": "NotOne"})
