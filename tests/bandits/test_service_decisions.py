"""Decisions: exact logged probabilities, idempotent client ids, batches equal to one-by-one,
several slots, and input checks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from limelight import Engine
from limelight.bandits import Action, Policy
from limelight.bandits.batch import joint_design
from limelight.bandits.features import FeatureSpace
from limelight.bandits.service import DecisionConflict, DecisionRequest
from limelight.bandits.simulator import ArtworkSimulator
from limelight.errors import InvalidInput, NotFound
from tests.bandits.test_service_support import POSTERS, Clock, point, service_for

POLICIES: dict[str, dict[str, Any]] = {
    "epsilon-greedy": point(),
    "epsilon-greedy-shared": point(policy={"params": {"shared": True}}),
    "softmax": point(policy={"name": "softmax"}, exploration={"epsilon": None}),
    "linucb": point(policy={"name": "linucb"}, exploration={"epsilon": None}),
    "linucb-shared": point(
        policy={"name": "linucb", "params": {"shared": True}}, exploration={"epsilon": None}
    ),
    "thompson": point(
        policy={"name": "thompson", "params": {"n_draws": 300}}, exploration={"epsilon": None}
    ),
    "thompson-shared": point(
        policy={"name": "thompson", "params": {"shared": True, "n_draws": 300}},
        exploration={"epsilon": None},
    ),
    "uniform": point(policy={"name": "uniform"}, exploration={"epsilon": None}),
}


def test_decide_logs_exactly_what_it_answers(engine: Engine) -> None:
    service = service_for(engine, Clock())
    service.configure(point())
    result = service.decide(
        "artwork", {"device": "tv", "hour": 21}, POSTERS, person_id="ada", page_id="home-1"
    )
    record = engine.decisions.get(result.decision_id)
    assert record is not None
    assert record.kind == "bandit" and record.point == "artwork"
    assert record.chosen == result.chosen == [result.action]
    assert record.probabilities == result.probabilities  # the very same floats
    assert record.policy == result.policy == "epsilon-greedy"
    assert record.model_version == result.model_version == "1.0"
    assert record.explored is result.explored
    assert record.person_id == "ada" and record.page_id == "home-1"
    assert record.context == {"device": "tv", "hour": 21}
    assert [c["id"] for c in record.candidates] == ["dark", "bright", "calm"]
    assert record.extra is not None
    distribution = record.extra["distribution"]
    assert sum(distribution) == pytest.approx(1.0)
    served = ["dark", "bright", "calm"].index(result.action)
    assert distribution[served] == result.probability
    # Untrained epsilon-greedy: every action ties, so each has probability exactly 1/3.
    assert result.probability == pytest.approx(1 / 3)
    assert result.ranking[0] == result.action and sorted(result.ranking) == sorted(
        ["dark", "bright", "calm"]
    )
    engine.decisions.flush()  # and the same once written to the table
    assert engine.decisions.many([result.decision_id])[result.decision_id] == record


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_decide_matches_the_policy_on_the_same_state(sqlite_engine: Engine, name: str) -> None:
    """The service adds logging, not a different algorithm: from the same state (model and
    random generator), its answers are ``Policy.rank``'s, and both learn alike. (Started after
    some learning: on an untrained model every candidate ties, where ``rank`` lets rounding
    pick a winner and the service splits the mass; see ``batch.TIE_TOLERANCE``.)"""
    service = service_for(sqlite_engine, Clock())
    service.configure(POLICIES[name])
    simulator = ArtworkSimulator(n_users=50, n_titles=5, seed=3)
    situations = simulator.rounds(100, seed=4)
    for situation in situations[:60]:
        result = service.decide("artwork", situation.context, situation.actions)
        service.reward(result.decision_id, float(situation.draw < 0.5))
    twin = Policy.from_state(service._runtimes["artwork"].policy.state())
    for situation in situations[60:]:
        result = service.decide("artwork", situation.context, situation.actions)
        decision = twin.rank(situation.context, situation.actions)
        assert result.action == decision.chosen
        assert result.probability == pytest.approx(decision.probability, rel=1e-12)
        assert result.explored is decision.explored
        reward = float(situation.draw < 0.5)
        service.reward(result.decision_id, reward)
        chosen = next(a for a in situation.actions if a.id == decision.chosen)
        twin.learn_one(situation.context, chosen, reward, decision.probability)


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_decide_many_equals_decide_one_by_one(sqlite_engine: Engine, name: str) -> None:
    """Two points with the same definition and seed, one deciding in batches, one by one, both
    learning the same rewards: the same actions and the same probabilities throughout."""
    service = service_for(sqlite_engine, Clock())
    service.configure({**POLICIES[name], "name": "batched"})
    service.configure({**POLICIES[name], "name": "single"})
    simulator = ArtworkSimulator(n_users=80, n_titles=6, seed=5)
    situations = simulator.rounds(150, seed=6)
    for start in range(0, 150, 50):
        block = situations[start : start + 50]
        requests = [DecisionRequest(s.context, s.actions) for s in block]
        batched = service.decide_many("batched", requests)
        single = [service.decide("single", s.context, s.actions) for s in block]
        for many, one, situation in zip(batched, single, block, strict=True):
            assert many.chosen == one.chosen
            assert many.ranking == one.ranking
            assert many.explored is one.explored
            np.testing.assert_allclose(many.probabilities, one.probabilities, rtol=1e-9)
            reward = float(situation.draw < situation.probabilities.mean())
            service.reward(many.decision_id, reward)
            service.reward(one.decision_id, reward)


def test_decide_many_with_several_slots_matches_one_by_one(sqlite_engine: Engine) -> None:
    service = service_for(sqlite_engine, Clock())
    for name in ("batched", "single"):
        service.configure(
            point(
                name,
                policy={"name": "softmax", "params": {"temperature": 0.5}},
                exploration={"epsilon": None},
            )
        )
    requests = [
        DecisionRequest({"device": d}, POSTERS, slots=s)
        for d, s in zip(["tv", "mobile"] * 10, [1, 2, 3, 2] * 5, strict=True)
    ]
    batched = service.decide_many("batched", requests)
    single = [service.decide("single", r.context, r.actions, slots=r.slots) for r in requests]
    for many, one, request in zip(batched, single, requests, strict=True):
        assert many.chosen == one.chosen and len(many.chosen) == request.slots
        np.testing.assert_allclose(many.probabilities, one.probabilities, rtol=1e-12)


def test_several_slots_log_conditional_probabilities(engine: Engine) -> None:
    service = service_for(engine, Clock())
    service.configure(point())
    for _ in range(30):  # teach it that dark is best, so the distribution is uneven
        result = service.decide("artwork", {}, POSTERS)
        service.reward(result.decision_id, 1.0 if result.action == "dark" else 0.0)
    result = service.decide("artwork", {}, POSTERS, slots=3)
    record = engine.decisions.get(result.decision_id)
    assert record is not None and record.extra is not None
    distribution = dict(zip(["dark", "bright", "calm"], record.extra["distribution"], strict=True))
    assert len(set(result.chosen)) == 3 and result.ranking == result.chosen
    first, second, _ = result.chosen
    assert result.probabilities[0] == pytest.approx(distribution[first])
    assert result.probabilities[1] == pytest.approx(
        distribution[second] / (1 - distribution[first])
    )
    assert result.probabilities[2] == pytest.approx(1.0)  # the last one left
    assert record.probabilities == result.probabilities


def test_choice_frequencies_match_the_logged_probabilities(sqlite_engine: Engine) -> None:
    """With a model that does not move (no rewards), the served actions' frequencies agree with
    the probabilities logged for them."""
    service = service_for(sqlite_engine, Clock())
    service.configure(point(exploration={"epsilon": 0.3}))
    for _ in range(3):  # dark becomes the greedy choice: probabilities 0.8, 0.1, 0.1
        result = service.decide("artwork", {}, POSTERS)
        service.reward(result.decision_id, 1.0 if result.action == "dark" else 0.0)
        service.reward(
            service.decide("artwork", {}, POSTERS, slots=3).decision_id, 0.0, action_id="bright"
        )
    counts = {"dark": 0, "bright": 0, "calm": 0}
    logged: dict[str, set[float]] = {key: set() for key in counts}
    n = 3000
    for result in service.decide_many("artwork", [DecisionRequest({}, POSTERS)] * n):
        counts[result.action] += 1
        logged[result.action].add(round(result.probability, 12))
    for action, seen in counts.items():
        (probability,) = logged[action]  # one distribution throughout
        standard_error = (probability * (1 - probability) / n) ** 0.5
        assert abs(seen / n - probability) < 4.5 * standard_error, (action, seen, probability)


def test_a_client_decision_id_is_idempotent(engine: Engine) -> None:
    service = service_for(engine, Clock())
    service.configure(point())
    first = service.decide("artwork", {"device": "tv"}, POSTERS, decision_id="page-7:tile-3")
    again = service.decide("artwork", {"device": "tv"}, POSTERS, decision_id="page-7:tile-3")
    assert first.decision_id == again.decision_id == "page-7:tile-3"
    assert not first.replayed and again.replayed
    fields = ("chosen", "probabilities", "ranking", "policy", "model_version", "explored")
    assert all(getattr(first, f) == getattr(again, f) for f in fields)
    engine.decisions.flush()
    other = service_for(engine, Clock())  # a fresh service (a restart) reads it from the table
    from_table = other.decide("artwork", {"device": "tv"}, POSTERS, decision_id="page-7:tile-3")
    assert from_table.replayed and from_table.chosen == first.chosen
    assert from_table.probabilities == first.probabilities
    batch = service.decide_many(
        "artwork",
        [DecisionRequest({}, POSTERS, decision_id="x")] * 2
        + [DecisionRequest({}, POSTERS, decision_id="page-7:tile-3")],
    )
    assert batch[0].decision_id == batch[1].decision_id == "x"
    assert batch[0].chosen == batch[1].chosen and batch[1].replayed
    assert batch[2].replayed and batch[2].chosen == first.chosen
    service.configure(point("rows"))
    with pytest.raises(DecisionConflict):
        service.decide("rows", {}, POSTERS, decision_id="page-7:tile-3")


def test_inputs_are_checked(engine: Engine) -> None:
    service = service_for(engine, Clock())
    service.configure(point())
    with pytest.raises(NotFound):
        service.decide("nowhere", {}, POSTERS)
    cases: list[tuple[dict[str, Any], list[Any], dict[str, Any], str]] = [
        ({}, [], {}, "requests.0.actions"),
        ({}, [POSTERS[0], POSTERS[0]], {}, "requests.0.actions"),
        ({}, POSTERS, {"slots": 4}, "requests.0.slots"),
        ({}, POSTERS, {"slots": 0}, "requests.0.slots"),
        ({"hour": float("nan")}, POSTERS, {}, "requests.0.context.hour"),
        ({"tags": ["a"]}, POSTERS, {}, "requests.0.context.tags"),
        ({}, [{"id": ""}], {}, "requests.0.actions.0"),
        ({}, [{"id": "a", "features": {"x": None}}], {}, "requests.0.actions.0.features.x"),
    ]
    for context, actions, options, field in cases:
        with pytest.raises(InvalidInput) as caught:
            service.decide("artwork", context, actions, **options)
        assert caught.value.field == field, (context, actions, options)
    assert engine.decisions.flush() == 0  # nothing was logged for refused requests


def test_feature_selection_limits_what_the_policy_sees(sqlite_engine: Engine) -> None:
    service = service_for(sqlite_engine, Clock())
    service.configure(
        point(
            policy={"name": "linucb", "params": {"shared": True}},
            exploration={"epsilon": None},
            features={"context": ["device"], "action": ["style"]},
        )
    )
    service.decide(
        "artwork", {"device": "tv", "session": "s-1"}, [Action("a", {"style": "x", "url": "u"})]
    )
    policy: Policy = service._runtimes["artwork"].policy
    names = policy.scorer.space.vocabulary.names  # type: ignore[attr-defined]
    assert "device=tv" in names and "style=x" in names
    assert not any("session" in name or "url" in name for name in names)


@pytest.mark.parametrize("max_features", [4096, 40])
def test_batched_feature_rows_equal_the_library_rows(max_features: int) -> None:
    """``joint_design`` (array path for known terms, ordered path for new ones) builds the rows
    ``FeatureSpace.joint_matrix`` builds, numbering new columns in the same order, also when
    the vocabulary overflows and when a context term and an action term share a name."""
    rng = np.random.default_rng(8)
    batched, reference = FeatureSpace(max_features), FeatureSpace(max_features)
    for page in range(6):
        contexts: list[dict[str, Any]] = []
        action_lists: list[list[Action]] = []
        for _ in range(30):
            contexts.append(
                {
                    "device": str(rng.choice(["tv", "mobile", "tablet"])),
                    "hour": float(rng.integers(0, 24)),
                    "taste": round(float(rng.random()), 3),
                    "style": str(rng.choice(["dark", "bright"])),  # also an action term
                }
            )
            action_lists.append(
                [
                    Action(
                        f"a{k}",
                        {
                            "style": str(rng.choice(["dark", "bright", f"s{page}"])),
                            "size": float(rng.integers(1, 4)),
                        },
                    )
                    for k in range(int(rng.integers(1, 5)))
                ]
            )
        matrix, offsets = joint_design(batched, contexts, action_lists)
        expected = [
            reference.joint_matrix(c, a) for c, a in zip(contexts, action_lists, strict=True)
        ]
        assert batched.vocabulary.names == reference.vocabulary.names
        for i, rows in enumerate(expected):
            block = matrix[offsets[i] : offsets[i + 1], : rows.shape[1]]
            np.testing.assert_allclose(block, rows, rtol=0, atol=1e-15)
            assert not matrix[offsets[i] : offsets[i + 1], rows.shape[1] :].any()
