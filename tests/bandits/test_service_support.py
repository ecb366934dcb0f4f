"""Helpers shared by the decision-service tests, and tests of the small pure pieces they use.

``service_for`` builds a :class:`DecisionService` from an Engine's parts with a fake clock and
no background sweep, so that tests decide when windows close. When the Engine already provides
``engine.bandits`` (once it is wired), that service's ingest listener is detached for the test
and the test's own service takes its place; erasure still goes through the engine's registry
(the rewards hook does not depend on which service registered it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select

from limelight import Engine
from limelight.bandits import Action
from limelight.bandits.points import DecisionPointSpec, Rollout, bucket
from limelight.bandits.service import DecisionRequest, DecisionService
from limelight.privacy.core import identify
from limelight.privacy.registry import PersonalData
from limelight.storage.schema import bandit_learned, bandit_rewards

T0 = 1_800_000_000.0


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


def service_for(engine: Engine, clock: Clock, **options: Any) -> DecisionService:
    """A decision service over the engine's database, log and data directory."""
    registry = engine.personal_data
    wired = getattr(engine, "bandits", None)
    if wired is not None:
        if wired.on_events in engine.ingestor.listeners:
            engine.ingestor.listeners.remove(wired.on_events)
        registry = PersonalData(engine.database, identify)
    for name in [hook.name for hook in registry.hooks if hook.name == "bandit_rewards"]:
        registry.hooks = [hook for hook in registry.hooks if hook.name != name]
    service = DecisionService(
        engine.database,
        engine.settings,
        engine.decisions,
        registry,
        engine.settings.data_dir,
        clock=clock,
        sweep="off",
        **options,
    )
    engine.ingestor.listeners.append(service.on_events)
    return service


POSTERS = [
    {"id": "dark", "features": {"style": "dark"}},
    {"id": "bright", "features": {"style": "bright", "default": True}},
    {"id": "calm", "features": {"style": "calm"}},
]


def point(name: str = "artwork", **fields: Any) -> dict[str, Any]:
    """A decision point definition with test-friendly defaults (seeded, 60 s window)."""
    base: dict[str, Any] = {
        "name": name,
        "policy": {"name": "epsilon-greedy", "params": {}},
        "exploration": {"floor": 0.01, "epsilon": 0.2},
        "reward": {"window_s": 60.0},
        "seed": 7,
    }
    for key, value in fields.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return base


def count(engine: Engine, table: Any, **where: Any) -> int:
    query = select(func.count()).select_from(table)
    for column, value in where.items():
        query = query.where(table.c[column] == value)
    with engine.database.read() as connection:
        return int(connection.execute(query).scalar_one())


def ledger(engine: Engine, decision_id: str) -> list[dict[str, Any]]:
    with engine.database.read() as connection:
        found = connection.execute(
            select(bandit_learned).where(bandit_learned.c.decision_id == decision_id)
        )
        return [dict(row) for row in found.mappings()]


def rewards_of(engine: Engine, decision_id: str) -> list[dict[str, Any]]:
    with engine.database.read() as connection:
        found = connection.execute(
            select(bandit_rewards)
            .where(bandit_rewards.c.decision_id == decision_id)
            .order_by(bandit_rewards.c.received_at, bandit_rewards.c.reward_id)
        )
        return [dict(row) for row in found.mappings()]


# -- tests of the pure pieces --------------------------------------------------------------


def test_bucket_is_stable_and_uniform() -> None:
    assert bucket("artwork", "ada") == bucket("artwork", "ada")
    assert bucket("artwork", "ada") != bucket("rows", "ada")
    values = np.array([bucket("artwork", f"person-{i}") for i in range(20_000)])
    assert values.min() >= 0 and values.max() < 100
    assert abs(float(np.mean(values < 30)) - 0.30) < 0.015  # 4.6 standard errors


def test_baseline_rules() -> None:
    actions = [Action(p["id"], p["features"]) for p in POSTERS]
    assert Rollout(baseline="default").baseline_index(actions) == 1
    assert Rollout(baseline="first").baseline_index(actions) == 0
    assert Rollout(baseline="default", default_flag="missing").baseline_index(actions) == 0
    flagged = [Action("a", {"default": "false"}), Action("b", {"default": "true"})]
    assert Rollout().baseline_index(flagged) == 1


def test_point_validation_refuses_what_would_silently_do_nothing() -> None:
    with pytest.raises(ValueError, match=r"exploration\.epsilon applies"):
        DecisionPointSpec.model_validate(
            {"name": "x", "policy": {"name": "linucb"}, "exploration": {"epsilon": 0.1}}
        )
    with pytest.raises(ValueError, match="min_probability"):
        DecisionPointSpec.model_validate(
            {"name": "x", "policy": {"name": "linucb", "params": {"min_probability": 0.1}}}
        )
    with pytest.raises(ValueError):
        DecisionPointSpec.model_validate({"name": "Bad Name"})


def test_model_key_changes_only_with_the_model_shaping_fields() -> None:
    first = DecisionPointSpec.model_validate(point())
    longer_window = DecisionPointSpec.model_validate(point(reward={"window_s": 600.0}))
    other_policy = DecisionPointSpec.model_validate(
        point(policy={"name": "linucb", "params": {}}, exploration={"epsilon": None})
    )
    assert first.model_key() == longer_window.model_key()
    assert first.model_key() != other_policy.model_key()


def play(
    engine: Engine,
    service: DecisionService,
    clock: Clock,
    name: str,
    rounds: list[Any],
    *,
    batch: int = 100,
) -> tuple[np.ndarray, list[str]]:
    """Serve ``rounds`` of the artwork simulator at point ``name`` a page at a time: decide, send
    each simulated click as an event through ``Engine.ingest`` (the reward path of a real
    client), then let the windows close (no click: the default). Returns the true click
    probability of each served artwork, and each round's decision id."""
    served = np.zeros(len(rounds))
    decision_ids: list[str] = []
    clicks = 0
    for start in range(0, len(rounds), batch):
        block = rounds[start : start + batch]
        results = service.decide_many(
            name,
            [DecisionRequest(r.context, r.actions, person_id=f"user-{r.user}") for r in block],
        )
        events = []
        decision_ids.extend(result.decision_id for result in results)
        for offset, (situation, result) in enumerate(zip(block, results, strict=True)):
            index = [a.id for a in situation.actions].index(result.action)
            served[start + offset] = situation.probabilities[index]
            if situation.draw < situation.probabilities[index]:
                clicks += 1
                events.append(
                    {
                        "event_id": f"{name}-click-{clicks}",
                        "type": "click",
                        "user_id": f"user-{situation.user}",
                        "properties": {
                            "item_id": f"title-{situation.title}",
                            "decision_id": result.decision_id,
                        },
                    }
                )
        if events:
            assert engine.ingest(events).accepted == len(events)
        clock.advance(service.point(name).reward.window_s + 1)
        service.close_windows()
    return served, decision_ids
