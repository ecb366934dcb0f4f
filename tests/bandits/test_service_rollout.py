"""Safe rollout: apprentice mode serves the baseline, learns and reports its agreement; a
percentage rollout gives the policy a stable share of people."""

from __future__ import annotations

import pytest

from limelight import Engine
from limelight.bandits import Action
from limelight.bandits.service import DecisionRequest
from tests.bandits.test_service_support import POSTERS, Clock, point, service_for

APPRENTICE = point(
    policy={"name": "linucb", "params": {"alpha": 0.1}},
    exploration={"epsilon": None},
    rollout={"mode": "apprentice", "baseline": "default"},
)


def test_apprentice_serves_the_baseline_learns_and_reports_agreement(engine: Engine) -> None:
    clock = Clock()
    service = service_for(engine, clock)
    service.configure(APPRENTICE)
    results = []
    for i in range(120):
        device = "tv" if i % 2 else "mobile"
        slots = 2 if i % 10 == 0 else 1
        result = service.decide(
            "artwork", {"device": device}, POSTERS, person_id=f"p{i}", slots=slots
        )
        assert result.chosen[0] == "bright"  # the artwork flagged default, every time
        assert result.probabilities == [1.0] * slots
        assert (result.mode, result.policy, result.explored) == (
            "apprentice",
            "baseline:default",
            False,
        )
        service.reward(result.decision_id, 1.0 if device == "tv" else 0.0, action_id="bright")
        results.append(result)
    records = engine.decisions.many([r.decision_id for r in results])
    agreed = [records[r.decision_id].extra["agree"] for r in results]  # type: ignore[index]
    for result in results:
        extra = records[result.decision_id].extra
        assert extra is not None and extra["policy"] == "linucb"
        assert len(extra["policy_choice"]) == result_slots(result)
        assert extra["agree"] == (extra["policy_choice"][0] == "bright")
    # It learned from the baseline's rewards: bright works on TV, not on phones.
    policy = service.policy("artwork")
    bright = Action("bright", {"style": "bright", "default": True})
    assert policy.predict_one({"device": "tv"}, bright) > 0.9
    assert policy.predict_one({"device": "mobile"}, bright) < 0.1
    report = service.report("artwork")
    assert report.decisions == {"apprentice": 120}
    assert report.apprentice_decisions == 120
    assert report.agreement_rate == pytest.approx(sum(agreed) / 120)
    assert report.learned == 120 and report.mean_learned_reward == pytest.approx(0.5)
    # The agreement grows as it learns that the baseline wins on TV (the policy's own choice
    # is a draw, so a floor-sized share still disagrees).
    on_tv = [(i, a) for i, a in enumerate(agreed) if i % 2]
    early = sum(a for i, a in on_tv if i < 20) / 10
    late = sum(a for i, a in on_tv if i >= 60) / 30
    assert late >= 0.9 and late > early


def result_slots(result) -> int:  # type: ignore[no-untyped-def]
    return len(result.chosen)


def test_apprentice_never_serves_anything_but_the_baseline(engine: Engine) -> None:
    service = service_for(engine, Clock())
    service.configure(point(rollout={"mode": "apprentice", "baseline": "first"}))
    requests = [
        DecisionRequest({"hour": h % 24}, POSTERS[::-1], person_id=f"p{h}") for h in range(300)
    ]
    for result in service.decide_many("artwork", requests):
        assert result.action == "calm" and result.mode == "apprentice"
        service.reward(result.decision_id, 1.0)


def test_a_percentage_rollout_is_a_stable_share_of_people(engine: Engine) -> None:
    service = service_for(engine, Clock())
    service.configure(point(rollout={"percent": 30.0}))
    people = [f"person-{i}" for i in range(1000)]
    first = service.decide_many(
        "artwork", [DecisionRequest({}, POSTERS, person_id=p) for p in people]
    )
    share = sum(r.mode == "live" for r in first) / len(people)
    assert abs(share - 0.30) < 4.5 * (0.3 * 0.7 / len(people)) ** 0.5
    again = service.decide_many(
        "artwork", [DecisionRequest({}, POSTERS, person_id=p) for p in people]
    )
    assert [r.mode for r in first] == [r.mode for r in again]  # stable per person
    for result in first:
        if result.mode == "holdout":
            assert (result.action, result.probability, result.policy) == (
                "bright",
                1.0,
                "baseline:default",
            )
        else:
            assert result.mode == "live" and result.policy == "epsilon-greedy"
    report = service.report("artwork")
    assert report.decisions["live"] + report.decisions["holdout"] == 2000


def test_zero_and_full_rollout(engine: Engine) -> None:
    service = service_for(engine, Clock())
    service.configure(point("none", rollout={"percent": 0.0}))
    service.configure(point("all", rollout={"percent": 100.0}))
    requests = [DecisionRequest({}, POSTERS, person_id=f"p{i}") for i in range(50)]
    assert {r.mode for r in service.decide_many("none", requests)} == {"holdout"}
    assert {r.mode for r in service.decide_many("all", requests)} == {"live"}
