"""Decayed sums: known answers, order independence, merges."""

from __future__ import annotations

import random

import pytest

from limelight.profiles import decay

WEEK = 7 * 86_400.0


def test_half_life_known_answer() -> None:
    entry = decay.add(None, 1.0, 0.0, WEEK)
    assert decay.value_at(entry, WEEK, WEEK) == pytest.approx(0.5)
    assert decay.value_at(entry, 2 * WEEK, WEEK) == pytest.approx(0.25)
    entry = decay.add(entry, 1.0, WEEK, WEEK)  # 0.5 + 1
    assert entry == (pytest.approx(1.5), WEEK)
    assert decay.value_at(entry, 3 * WEEK, WEEK) == pytest.approx(1.5 * 0.25)


def test_reading_before_the_reference_does_not_grow() -> None:
    entry = decay.add(None, 2.0, 10.0, WEEK)
    assert decay.value_at(entry, 0.0, WEEK) == 2.0


def test_order_of_events_does_not_matter() -> None:
    rng = random.Random(3)
    observations = [(rng.uniform(-2, 3), rng.uniform(0, 10 * WEEK)) for _ in range(200)]
    expected = sum(w * 2 ** (-(20 * WEEK - t) / WEEK) for w, t in observations)
    for _ in range(5):
        rng.shuffle(observations)
        entry = None
        for weight, at in observations:
            entry = decay.add(entry, weight, at, WEEK)
        assert entry is not None
        assert decay.value_at(entry, 20 * WEEK, WEEK) == pytest.approx(expected, rel=1e-9)


def test_merge_equals_one_history() -> None:
    left = right = both = None
    for index, at in enumerate([0.0, 3 * 86_400.0, 9 * 86_400.0, 12 * 86_400.0]):
        if index % 2:
            left = decay.add(left, 1.0, at, WEEK)
        else:
            right = decay.add(right, 1.0, at, WEEK)
        both = decay.add(both, 1.0, at, WEEK)
    merged = decay.merge(left, right, WEEK)
    assert merged is not None and both is not None
    assert decay.value_at(merged, 30 * 86_400.0, WEEK) == pytest.approx(
        decay.value_at(both, 30 * 86_400.0, WEEK)
    )


def test_shares_are_time_free() -> None:
    entries = {"a": decay.add(None, 3.0, 0.0, WEEK), "b": decay.add(None, 1.0, WEEK, WEEK)}
    # At time WEEK: a is worth 1.5 and b is worth 1.0.
    assert decay.shares(entries, WEEK) == {"a": pytest.approx(0.6), "b": pytest.approx(0.4)}
    entries["c"] = decay.add(None, -5.0, WEEK, WEEK)
    assert decay.shares(entries, WEEK)["c"] == 0.0


def test_local_hour_and_weekday_match_zoneinfo() -> None:
    import random as _random

    from limelight.profiles.state import hour_and_weekday, local_time

    rng = _random.Random(5)
    zones = ["Europe/Paris", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", None]
    for _ in range(3000):
        ts = rng.uniform(0, 2e9)
        zone = rng.choice(zones)
        moment = local_time(ts, zone)
        assert hour_and_weekday(ts, zone) == (moment.hour, moment.weekday()), (ts, zone)
