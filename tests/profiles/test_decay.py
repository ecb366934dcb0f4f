"""Forward-decayed affinities: known answers, order, rebasing, merges, old documents."""

from __future__ import annotations

import random

import pytest

from limelight.events.model import Event
from limelight.profiles import decay
from limelight.profiles.state import FoldConfig, ItemMeta, ProfileState

WEEK = 7 * 86_400.0


def config(half_life_s: float = WEEK) -> FoldConfig:
    return FoldConfig(half_life_s=half_life_s, weights={"play_start": 1.0}, rating_midpoint=3.0)


def play(at: float, genres: tuple[str, ...] = ("a",)) -> tuple[Event, ItemMeta]:
    event = Event(
        event_id=f"e{at}",
        type="play_start",
        user_id="u",
        anonymous_id=None,
        ts=at,
        received_at=at,
        item_id="i",
        decision_id=None,
        session_id=None,
        context={},
        properties={"item_id": "i"},
        person_id="u",
    )
    return event, ItemMeta(genres=genres)


def folded(times: list[float], half_life_s: float = WEEK) -> ProfileState:
    state = ProfileState()
    for at in times:
        state.fold(*play(at), config(half_life_s))
    return state


def score(state: ProfileState, key: str, at: float, half_life_s: float = WEEK) -> float:
    assert state.landmark is not None
    return decay.value_at(state.genres[key], state.landmark, at, half_life_s)


def test_half_life_known_answer() -> None:
    state = folded([0.0])
    assert score(state, "a", WEEK) == pytest.approx(0.5)
    assert score(state, "a", 2 * WEEK) == pytest.approx(0.25)
    state.fold(*play(WEEK), config())  # 0.5 + 1
    assert score(state, "a", WEEK) == pytest.approx(1.5)
    assert score(state, "a", 3 * WEEK) == pytest.approx(1.5 * 0.25)


def test_reading_before_the_landmark_does_not_grow() -> None:
    assert decay.value_at(2.0, 10.0, 0.0, WEEK) == 2.0


def test_order_of_events_does_not_matter() -> None:
    rng = random.Random(3)
    times = [rng.uniform(0, 10 * WEEK) for _ in range(200)]
    expected = sum(2 ** (-(20 * WEEK - t) / WEEK) for t in times)
    for _ in range(5):
        rng.shuffle(times)
        assert score(folded(times), "a", 20 * WEEK) == pytest.approx(expected, rel=1e-9)


def test_events_far_apart_rebase_instead_of_overflowing() -> None:
    # A one-second half-life over a day is 86,400 half-lives: 2**86400 overflows a float, so
    # without rebasing the fold would fail; with it, the known answer comes out.
    second = 1.0
    times = [0.0, 40_000.0, 86_400.0, 86_399.0, 3.0]
    state = folded(times, half_life_s=second)
    assert state.landmark is not None and state.landmark > 0.0
    expected = 1.0 + 2.0**-1  # the events at 86,400 and 86,399 seconds; the rest are gone
    assert score(state, "a", 86_400.0, second) == pytest.approx(expected)


def test_merge_equals_one_history() -> None:
    times = [0.0, 3 * 86_400.0, 9 * 86_400.0, 12 * 86_400.0, 400 * WEEK]
    for left_times in ([times[1], times[3]], [times[4]], []):
        left = folded(left_times)
        right = folded([t for t in times if t not in left_times])
        left.merge(right, config())
        at = 401 * WEEK
        assert score(left, "a", at) == pytest.approx(score(folded(times), "a", at), rel=1e-9)


def test_shares_are_time_free() -> None:
    state = ProfileState()
    state.fold(*play(0.0, ("a", "a2")), config())
    state.fold(*play(0.0, ("a",)), config())
    state.fold(*play(WEEK, ("b",)), config())
    # At time WEEK: a is worth 2 * 0.5 = 1.0, a2 0.5 and b 1.0.
    assert decay.shares(state.genres) == {
        "a": pytest.approx(0.4),
        "a2": pytest.approx(0.2),
        "b": pytest.approx(0.4),
    }
    assert decay.shares({"a": 3.0, "c": -5.0})["c"] == 0.0


def test_documents_of_the_old_format_read_with_the_half_life() -> None:
    # Before forward decay each genre kept (value decayed to its own time, that time).
    old = {"genres": {"a": [1.0, 0.0], "b": [2.0, WEEK]}, "tags": {"t": [4.0, 2 * WEEK]}}
    with pytest.raises(ValueError, match="half-life"):
        ProfileState.from_json(dict(old))
    state = ProfileState.from_json(dict(old), WEEK)
    assert state.landmark == 2 * WEEK
    assert score(state, "a", 3 * WEEK) == pytest.approx(0.125)
    assert score(state, "b", 3 * WEEK) == pytest.approx(0.5)
    assert decay.value_at(state.tags["t"], 2 * WEEK, 3 * WEEK, WEEK) == pytest.approx(2.0)
    assert ProfileState.is_old(old) and not ProfileState.is_old(state.plain())


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
