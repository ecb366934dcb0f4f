"""Personal data: a person's rewards and learning-ledger rows are exported and erased."""

from __future__ import annotations

from limelight import Engine
from limelight.storage.schema import bandit_learned, bandit_rewards, decisions
from tests.bandits.test_service_support import POSTERS, Clock, count, point, service_for
from tests.helpers import event


def test_erase_removes_the_persons_rewards_and_keeps_others(engine: Engine) -> None:
    clock = Clock()
    service = service_for(engine, clock)
    service.configure(point())
    mine = service.decide("artwork", {}, POSTERS, person_id="ada")
    theirs = service.decide("artwork", {}, POSTERS, person_id="bob")
    unrewarded = service.decide("artwork", {}, POSTERS, person_id="ada")
    engine.ingest(
        [
            event("click", user="ada", item="m1", decision_id=mine.decision_id),
            event("click", user="bob", item="m1", decision_id=theirs.decision_id),
        ]
    )
    service.reward(mine.decision_id, 0.5)
    clock.advance(61)
    service.close_windows()  # the default for ada's second decision
    exported = engine.export_user("ada")["bandit_rewards"]
    assert {r["decision_id"] for r in exported["rewards"]} == {mine.decision_id}
    assert sorted(r["source"] for r in exported["rewards"]) == ["api", "event"]
    # the default learned for the unrewarded decision is in the ledger, not a received reward
    assert {(r["decision_id"], r["rule"]) for r in exported["learned"]} == {
        (mine.decision_id, "first"),
        (unrewarded.decision_id, "default"),
    }
    erased = engine.erase_user("ada")
    assert erased["bandit_rewards"] == 4  # two rewards, two ledger rows
    assert count(engine, bandit_rewards, person_id="ada") == 0
    assert count(engine, bandit_learned, person_id="ada") == 0
    assert count(engine, decisions, person_id="ada") == 0
    assert count(engine, bandit_rewards, person_id="bob") == 1
    assert count(engine, bandit_learned, person_id="bob") == 1
    assert engine.erase_user("ada")["bandit_rewards"] == 0  # twice is harmless
