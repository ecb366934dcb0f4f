"""Vowpal Wabbit's ``cb_explore_adf`` behind the policy contract and in the service.

Skipped where the optional ``vowpalwabbit`` package is not installed (the ``vw`` extra)."""

from __future__ import annotations

import numpy as np
import pytest

from limelight import Engine
from limelight.bandits import Action, Policy
from limelight.bandits.service import DecisionRequest
from limelight.errors import InvalidInput
from tests.bandits.test_service_support import Clock, point, service_for

pytest.importorskip("vowpalwabbit")

from limelight.bandits.vw import VowpalWabbit

VW = point(policy={"name": "vw", "params": {}}, exploration={"epsilon": 0.1, "floor": 0.01})
TWO = [Action("dark", {"style": "dark"}), Action("bright", {"style": "bright"})]


def _teach(service, rounds: int, seed: int = 0) -> None:  # type: ignore[no-untyped-def]
    """Dark works on TV, bright on phones."""
    rng = np.random.default_rng(seed)
    for _ in range(rounds):
        device = "tv" if rng.random() < 0.5 else "mobile"
        result = service.decide("artwork", {"device": device}, TWO)
        good = "dark" if device == "tv" else "bright"
        service.reward(
            result.decision_id, float(rng.random() < (0.8 if result.action == good else 0.1))
        )


def test_the_policy_contract() -> None:
    policy = VowpalWabbit(0.1, random_state=3)
    decision = policy.rank({"device": "tv"}, TWO)
    assert sum(decision.probabilities.values()) == pytest.approx(1.0)
    assert decision.probability == decision.probabilities[decision.chosen]
    for _ in range(100):
        policy.learn_one({"device": "tv"}, TWO[0], 1.0, 0.5)
        policy.learn_one({"device": "tv"}, TWO[1], 0.0, 0.5)
    assert policy.probabilities({"device": "tv"}, TWO)[0] == pytest.approx(0.95, abs=1e-6)
    restored = Policy.from_state(policy.state())
    np.testing.assert_array_equal(
        restored.probabilities({"device": "tv"}, TWO), policy.probabilities({"device": "tv"}, TWO)
    )
    assert restored.rank({"device": "tv"}, TWO) == policy.rank({"device": "tv"}, TWO)
    assert policy.state()["model"]["vw_model"].dtype == np.uint8
    with pytest.raises(InvalidInput):
        policy.predict_one({}, TWO[0])
    with pytest.raises(InvalidInput):
        VowpalWabbit(interactions="cx")


def test_vw_learns_through_the_service_and_survives_a_restart(engine: Engine) -> None:
    clock = Clock()
    service = service_for(engine, clock)
    service.configure(VW)
    _teach(service, 300)
    tv = service.decide("artwork", {"device": "tv"}, TWO, slots=2)
    record = engine.decisions.get(tv.decision_id)
    assert record is not None and record.extra is not None
    assert record.extra["distribution"][0] == pytest.approx(0.95, abs=1e-6)
    assert service.save()
    expected = service.decide("artwork", {"device": "mobile"}, TWO)
    restarted = service_for(engine, clock)
    again = restarted.decide("artwork", {"device": "mobile"}, TWO)
    assert (again.chosen, again.probabilities) == (expected.chosen, expected.probabilities)


def test_vw_decide_many_equals_decide(sqlite_engine: Engine) -> None:
    service = service_for(sqlite_engine, Clock())
    service.configure({**VW, "name": "batched"})
    service.configure({**VW, "name": "single"})
    requests = [DecisionRequest({"device": d}, TWO) for d in ["tv", "mobile", "tablet"] * 10]
    batched = service.decide_many("batched", requests)
    single = [service.decide("single", r.context, r.actions) for r in requests]
    assert [r.chosen for r in batched] == [r.chosen for r in single]
    assert [r.probabilities for r in batched] == [r.probabilities for r in single]
