"""Rewards: through the API and through events, windows, late rewards, defaults exactly once,
aggregation ``first`` against ``sum``, duplicates, several slots."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from limelight import Engine
from limelight.bandits import Action
from limelight.errors import InvalidInput, NotFound
from limelight.storage.schema import bandit_learned, bandit_rewards
from tests.bandits.test_service_support import (
    Clock,
    count,
    ledger,
    point,
    rewards_of,
    service_for,
)
from tests.helpers import event

TWO = [{"id": "dark", "features": {}}, {"id": "bright", "features": {}}]
ARTWORK = {a["id"]: Action(a["id"]) for a in TWO}


def test_a_reward_through_the_api_moves_the_policy(engine: Engine) -> None:
    """Known answer: epsilon-greedy over a bias-only context learns the mean of what it saw.
    One reward of 1 gives the served action the estimate 1 / (1 + ridge) = 0.5 and the greedy
    share: 0.8 + 0.2 / 2 = 0.9."""
    service = service_for(engine, Clock())
    service.configure(point())
    result = service.decide("artwork", {}, TWO)
    served, other = result.action, next(a for a in ARTWORK if a != result.action)
    assert result.probability == pytest.approx(0.5)
    outcome = service.reward(result.decision_id, 1.0)
    assert outcome.status == "learned" and outcome.in_window and outcome.learned
    policy = service.policy("artwork")
    assert policy.predict_one({}, ARTWORK[served]) == pytest.approx(0.5)
    assert policy.predict_one({}, ARTWORK[other]) == 0.0
    assert service.model_version("artwork") == "1.1"
    follow_up = service.decide("artwork", {}, TWO, slots=2)
    assert follow_up.chosen[0] == served or follow_up.probabilities[0] == pytest.approx(0.1)
    record = engine.decisions.get(follow_up.decision_id)
    assert record is not None and record.model_version == "1.1"
    distribution = dict(zip(["dark", "bright"], record.extra["distribution"], strict=True))  # type: ignore[index]
    assert distribution[served] == pytest.approx(0.9)
    (row,) = ledger(engine, result.decision_id)
    assert (row["action_id"], row["value"], row["rule"]) == (served, 1.0, "first")
    (stored,) = rewards_of(engine, result.decision_id)
    assert stored["source"] == "api" and stored["in_window"] is True


def test_an_event_with_the_decision_id_is_a_reward(engine: Engine) -> None:
    clock = Clock()
    service = service_for(engine, clock)
    service.configure(point())
    result = service.decide("artwork", {"device": "tv"}, TWO, person_id="u1")
    ignored = event("impression", item="m1", decision_id=result.decision_id)  # not a reward here
    clicked = event("click", item="m1", decision_id=result.decision_id)
    assert engine.ingest([ignored, clicked]).accepted == 2
    assert service.listener_errors == 0
    (row,) = ledger(engine, result.decision_id)
    assert row["rule"] == "first" and row["value"] == 1.0 and row["action_id"] == result.action
    (stored,) = rewards_of(engine, result.decision_id)
    assert (stored["source"], stored["event_id"], stored["reward_id"]) == (
        "event",
        clicked["event_id"],
        f"e:{clicked['event_id']}",
    )
    assert service.policy("artwork").predict_one({"device": "tv"}, ARTWORK[result.action]) > 0.3
    # The same event again is a duplicate for ingest, so no second reward either.
    assert engine.ingest([clicked]).duplicates == 1
    assert len(rewards_of(engine, result.decision_id)) == 1


def test_events_for_unknown_or_other_decisions_are_ignored(engine: Engine) -> None:
    service = service_for(engine, Clock())
    service.configure(point())
    engine.decisions.record(
        __import__("limelight.decisions", fromlist=["DecisionRecord"]).DecisionRecord(
            "list-1", "recommendations", "home", "u1", ["m1"], 0.0
        )
    )
    engine.ingest(
        [
            event("click", item="m1", decision_id="list-1"),
            event("click", item="m1", decision_id="no-such-decision"),
        ]
    )
    assert service.listener_errors == 0
    assert count(engine, bandit_rewards) == 0


def test_late_rewards_are_kept_but_not_learned(engine: Engine) -> None:
    clock = Clock()
    service = service_for(engine, clock)
    service.configure(point())  # 60 s window
    result = service.decide("artwork", {}, TWO, person_id="u1")
    before = service.policy("artwork").state()["model"]
    clock.advance(60.5)
    outcome = service.reward(result.decision_id, 1.0)
    assert (outcome.status, outcome.in_window) == ("late", False)
    engine.ingest([event("click", item="m1", decision_id=result.decision_id)])
    stored = rewards_of(engine, result.decision_id)
    assert [(r["source"], r["in_window"]) for r in stored] == [("api", False), ("event", False)]
    after = service.policy("artwork").state()["model"]
    for old, new in zip(before["models"], after["models"], strict=True):
        np.testing.assert_array_equal(old["target"], new["target"])
    assert ledger(engine, result.decision_id) == []
    assert service.close_windows() == 1  # no in-window reward: the default is learned
    (row,) = ledger(engine, result.decision_id)
    assert (row["rule"], row["value"]) == ("default", 0.0)


def test_the_default_is_learned_once_when_the_window_closes(engine: Engine) -> None:
    clock = Clock()
    service = service_for(engine, clock)
    service.configure(point(reward={"default": -0.25}))
    results = [service.decide("artwork", {}, TWO, person_id=f"p{i}") for i in range(4)]
    service.reward(results[0].decision_id, 1.0)
    clock.advance(30)
    assert service.close_windows() == 0  # no window has ended yet
    clock.advance(31)
    learned_before = service._runtimes["artwork"].learned
    # Another process closing the same windows at the same time: still once each.
    other = service_for(engine, clock)
    other_before = other._runtimes["artwork"].learned  # it replayed the first reward on load
    closers = [threading.Thread(target=s.close_windows) for s in (service, other)]
    for closer in closers:
        closer.start()
    for closer in closers:
        closer.join()
    assert service.close_windows() == 0 and other.close_windows() == 0
    for result in results[1:]:
        (row,) = ledger(engine, result.decision_id)
        assert (row["rule"], row["value"]) == ("default", -0.25)
        assert rewards_of(engine, result.decision_id) == []  # a default is not a received reward
    assert [r["rule"] for r in ledger(engine, results[0].decision_id)] == ["first"]
    assert count(engine, bandit_learned, point="artwork") == 4
    learned_by_both = (
        service._runtimes["artwork"].learned
        - learned_before
        + other._runtimes["artwork"].learned
        - other_before
    )
    assert learned_by_both == 3


def test_first_learns_at_once_and_sum_at_the_close(engine: Engine) -> None:
    clock = Clock()
    service = service_for(engine, clock)
    mapping = {
        "click": {"value": 1.0},
        "play_start": {"value": 1.0},
        "play_progress": {"property": "watch_s", "divide_by": 60},
    }
    service.configure(point("first", reward={"aggregation": "first", "events": mapping}))
    service.configure(point("sum", reward={"aggregation": "sum", "events": mapping}))
    first = service.decide("first", {}, TWO, person_id="u1")
    summed = service.decide("sum", {}, TWO, person_id="u1")
    for result in (first, summed):
        engine.ingest(
            [
                event("click", item="m1", decision_id=result.decision_id),
                event("play_start", item="m1", decision_id=result.decision_id),
                event(
                    "play_progress",
                    item="m1",
                    decision_id=result.decision_id,
                    progress=0.2,
                    watch_s=120.0,
                ),
            ]
        )
    assert [(r["rule"], r["value"]) for r in ledger(engine, first.decision_id)] == [("first", 1.0)]
    assert ledger(engine, summed.decision_id) == []  # waits for the window
    assert service.policy("sum").predict_one({}, ARTWORK[summed.action]) == 0.0
    assert sorted(r["value"] for r in rewards_of(engine, summed.decision_id)) == [1.0, 1.0, 2.0]
    outcome = service.reward(summed.decision_id, 0.5)
    assert outcome.status == "pending"
    assert service.reward(first.decision_id, 0.5).status == "extra"
    clock.advance(61)
    assert service.close_windows() == 1  # the sum; "first" learned already
    (row,) = ledger(engine, summed.decision_id)
    assert (row["rule"], row["value"]) == ("sum", 4.5)
    # One observation of 4.5 on the bias: 4.5 / (1 + ridge).
    assert service.policy("sum").predict_one({}, ARTWORK[summed.action]) == pytest.approx(2.25)
    assert service.policy("first").predict_one({}, ARTWORK[first.action]) == pytest.approx(0.5)
    assert service.reward(summed.decision_id, 1.0).status == "late"


def test_a_reward_id_makes_retries_harmless(engine: Engine) -> None:
    service = service_for(engine, Clock())
    service.configure(point(reward={"aggregation": "sum"}))
    result = service.decide("artwork", {}, TWO)
    assert service.reward(result.decision_id, 2.0, reward_id="r-1").status == "pending"
    assert service.reward(result.decision_id, 2.0, reward_id="r-1").status == "duplicate"
    assert len(rewards_of(engine, result.decision_id)) == 1


def test_rewards_for_several_slots_name_their_action(engine: Engine) -> None:
    clock = Clock()
    service = service_for(engine, clock)
    service.configure(point())
    result = service.decide("artwork", {}, TWO, slots=2, person_id="u1")
    with pytest.raises(InvalidInput) as caught:
        service.reward(result.decision_id, 1.0)
    assert caught.value.field == "action_id"
    with pytest.raises(InvalidInput):
        service.reward(result.decision_id, 1.0, action_id="not-served")
    assert service.reward(result.decision_id, 1.0, action_id=result.chosen[0]).learned
    # An event names its slot by position (or the action by action_id / item_id).
    engine.ingest([event("click", item="m9", decision_id=result.decision_id, position=1)])
    assert {r["action_id"] for r in ledger(engine, result.decision_id)} == set(result.chosen)
    clock.advance(61)
    assert service.close_windows() == 0  # both slots were rewarded in time


def test_rewards_are_checked(engine: Engine) -> None:
    service = service_for(engine, Clock())
    service.configure(point())
    result = service.decide("artwork", {}, TWO)
    with pytest.raises(NotFound):
        service.reward("no-such-decision", 1.0)
    for bad in (float("nan"), float("inf")):
        with pytest.raises(InvalidInput):
            service.reward(result.decision_id, bad)
    assert rewards_of(engine, result.decision_id) == []


@pytest.mark.parametrize("sweep", ["thread", "inline"])
def test_windows_close_by_themselves(engine: Engine, sweep: str) -> None:
    """The background sweep (or, inline, the next call) learns the default once the window has
    passed; ``close`` stops the thread and saves."""
    clock = Clock()
    service = service_for(engine, clock)
    service.sweep, service.sweep_interval_s, service.close_grace_s = sweep, 0.02, 0.0
    service.configure(point())
    result = service.decide("artwork", {}, TWO)
    clock.advance(61)
    deadline = time.monotonic() + 10
    while not ledger(engine, result.decision_id) and time.monotonic() < deadline:
        time.sleep(0.05)
        if sweep == "inline":
            service.decide("artwork", {}, TWO)  # any call sweeps when the interval has passed
    assert [r["rule"] for r in ledger(engine, result.decision_id)] == ["default"]
    service.close()
    assert service._thread is None
    assert service.model_version("artwork").endswith(".0")  # saved on close


def test_a_paced_sweep_learns_what_an_unpaced_one_does(engine: Engine) -> None:
    """Pacing only rests between transactions; what is learned is the same."""
    with pytest.raises(InvalidInput) as refused:
        service_for(engine, Clock(), sweep_share=0.0)
    assert refused.value.field == "sweep_share"
    clock = Clock()
    service = service_for(engine, clock, sweep_share=0.25)
    service.configure(point(reward={"default": -0.25}))
    results = [service.decide("artwork", {}, TWO, person_id=f"p{i}") for i in range(5)]
    service.reward(results[1].decision_id, 1.0)
    clock.advance(61)
    assert service.close_windows(paced=True) == 4
    assert service.close_windows(paced=True) == 0
    for k, result in enumerate(results):
        (row,) = ledger(engine, result.decision_id)
        assert (row["rule"], row["value"]) == (("first", 1.0) if k == 1 else ("default", -0.25))


def test_reports_count_defaults_once_in_data_from_before_the_ledger_held_them(
    engine: Engine,
) -> None:
    """Older data dirs also stored a ``default`` reward row for each default the ledger
    learned; the report counts the ledger's."""
    clock = Clock()
    service = service_for(engine, clock)
    service.configure(point())
    result = service.decide("artwork", {}, TWO, person_id="ada")
    clock.advance(61)
    assert service.close_windows() == 1
    (row,) = ledger(engine, result.decision_id)
    with engine.database.write() as connection:  # what the older sweep also wrote
        connection.execute(
            bandit_rewards.insert().values(
                reward_id=f"default:{result.decision_id}:{row['action_id']}",
                decision_id=result.decision_id,
                point="artwork",
                person_id="ada",
                action_id=row["action_id"],
                value=0.0,
                source="default",
                event_id=None,
                received_at=row["learned_at"],
                in_window=True,
            )
        )
    assert service.report("artwork").rewards == {"default_in_window": 1}
