"""End to end on the artwork simulator (simulated, not measured): decisions through the service,
clicks as events through ``Engine.ingest``, rewards from those events, learning, defaults at the
windows' close. A learning policy beats uniform choice clearly within a few thousand decisions."""

from __future__ import annotations

import pytest

from limelight import Engine
from limelight.bandits.simulator import ArtworkSimulator
from limelight.storage.schema import bandit_learned, bandit_rewards
from tests.bandits.test_service_support import Clock, count, play, service_for

N = 3000


@pytest.mark.parametrize("policy", ["linucb", "thompson"])
def test_learning_through_the_service_beats_uniform(engine: Engine, policy: str) -> None:
    clock = Clock()
    service = service_for(engine, clock)
    service.configure(
        {
            "name": "artwork",
            "policy": {"name": policy, "params": {"shared": True}},
            "reward": {"window_s": 300.0},
            "seed": 3,
        }
    )
    simulator = ArtworkSimulator(seed=21)
    rounds = simulator.rounds(N, seed=22)
    served, _ = play(engine, service, clock, "artwork", rounds)
    tail = slice(-N // 4, None)
    uniform = sum(r.probabilities.mean() for r in rounds[tail]) / (N // 4)
    best = sum(r.probabilities.max() for r in rounds[tail]) / (N // 4)
    learned = served[tail].mean()
    assert learned > 1.3 * uniform, (learned, uniform, best)
    assert served[: N // 4].mean() < learned  # it got better as it learned
    # Every decision was learned exactly once: clicks from events, the rest by default.
    assert count(engine, bandit_learned, point="artwork") == N
    clicks = count(engine, bandit_rewards, source="event")
    assert clicks > 0 and count(engine, bandit_learned, rule="default") == N - clicks
    assert service.listener_errors == 0
