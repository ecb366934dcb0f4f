"""Feature vectors, the growing vocabulary, online ridge and state persistence helpers."""

from __future__ import annotations

import json
from typing import Any

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


def _reference_rows(
    vocabulary: Vocabulary, context: dict[str, Any], actions: list[Action]
) -> list[np.ndarray]:
    """The term-by-term definition: bias, context, action and crossed terms, in that order."""
    rows = []
    for action in actions:
        crossed = [
            (f"{c}*{a}", cv * av) for c, cv in terms(context) for a, av in terms(action.features)
        ]
        pairs = [("__bias__", 1.0), *terms(context), *terms(action.features), *crossed]
        rows.append(vocabulary.vector(pairs))
    return rows


@pytest.mark.parametrize("max_features", [4096, 60])
def test_cached_rows_equal_the_term_by_term_rows(max_features: int) -> None:
    """The space's caches (known terms, candidate lists, crossed pairs, the last design reused
    by ``learn_one``) give the rows and the column numbering of the term-by-term definition,
    bit for bit: with new terms appearing late, an overflowing vocabulary, a term shared by
    context and action, empty feature dicts and repeated contexts and candidate lists."""
    rng = np.random.default_rng(3)
    space = FeatureSpace(max_features)
    reference = Vocabulary(max_features, ["__bias__"])
    lists = [
        [
            Action(f"a{k}", {"style": f"s{int(rng.integers(0, 4 + n))}", "size": float(k + 1)})
            for k in range(int(rng.integers(1, 5)))
        ]
        for n in range(12)
    ]
    lists.append([Action("plain"), Action("dark", {"style": "dark"})])
    contexts: list[dict[str, Any]] = [
        {
            "device": str(rng.choice(["tv", "mobile", "tablet"])),
            "hour": float(rng.integers(0, 24)),
            "taste": round(float(rng.random()), 2),
            "style": str(rng.choice(["dark", "bright"])),  # also an action term
            **({"new": f"n{step}"} if step % 7 == 0 else {}),
        }
        for step in range(150)
    ]
    contexts.append({})
    for step, context in enumerate(contexts):
        actions = lists[int(rng.integers(0, len(lists)))]
        expected = _reference_rows(reference, context, actions)
        matrix = space.joint_matrix(context, actions)
        assert space.vocabulary.names == reference.names
        assert matrix.shape == (len(actions), len(reference))
        for row, want in zip(matrix, expected, strict=True):
            assert np.array_equal(row[: want.shape[0]], want) and not row[want.shape[0] :].any()
        if step % 3 == 0:  # something else between the decision and its update
            other = contexts[step // 2]
            _reference_rows(reference, other, lists[0])
            space.joint_matrix(other, lists[0])
        chosen = actions[int(rng.integers(0, len(actions)))]
        want = _reference_rows(reference, context, [chosen])[0]
        row = space.joint_vector(context, chosen)
        assert row.shape == (len(reference),)
        assert np.array_equal(row[: want.shape[0]], want) and not row[want.shape[0] :].any()
        assert np.array_equal(space.context_vector(context)[:1], [1.0])
    assert (OVERFLOW in space.vocabulary.names) == (max_features == 60)


def test_cached_rows_reject_bad_values_like_the_term_by_term_path() -> None:
    space = FeatureSpace()
    good = [Action("a", {"style": "dark"})]
    space.joint_matrix({"hour": 1.0}, good)  # now cached
    with pytest.raises(InvalidInput):
        space.joint_matrix({"hour": float("nan")}, good)
    with pytest.raises(InvalidInput):
        space.joint_matrix({"hour": 1.0}, [Action("b", {"style": ["x"]})])  # type: ignore[dict-item]
    with pytest.raises(InvalidInput):
        space.joint_vector({"hour": [1.0]}, good[0])  # type: ignore[dict-item]


def test_ridge_stays_exact_over_many_sparse_updates() -> None:
    """Sherman-Morrison in place, recursive theta and the periodic symmetrization stay on the
    closed form over more than one symmetrization period."""
    rng = np.random.default_rng(1)
    size = 30
    model = Ridge(size, ridge=1.0)
    rows = np.zeros((700, size))
    for row in rows:
        row[rng.choice(size, 6, replace=False)] = rng.choice([1.0, 0.5, 2.0], 6)
    rewards = rows @ rng.normal(size=size) + rng.normal(0, 0.1, rows.shape[0])
    for row, reward in zip(rows, rewards, strict=True):
        model.update(row, float(reward))
    gram = np.eye(size) + rows.T @ rows
    assert np.allclose(model.inverse, np.linalg.inv(gram), atol=1e-10)
    assert np.allclose(model.theta, np.linalg.solve(gram, rows.T @ rewards), atol=1e-9)
    assert np.allclose(model.target, rows.T @ rewards)
    assert model.inverse.flags.c_contiguous


def test_values_that_do_not_compare_are_rejected_not_crashed() -> None:
    space = FeatureSpace()
    good = Action("a", {"style": "dark"})
    space.joint_matrix({"x": 1.0}, [good, Action("b")])
    space.joint_vector({"x": 1.0}, good)
    for bad in (np.array([1.0, 2.0]), [1.0]):
        with pytest.raises(InvalidInput):
            space.joint_matrix({"x": bad}, [good])  # type: ignore[dict-item]
        with pytest.raises(InvalidInput):
            space.joint_vector({"x": 1.0}, Action("c", {"style": bad}))  # type: ignore[dict-item]
        with pytest.raises(InvalidInput):
            space.context_vector({"x": bad})  # type: ignore[dict-item]
