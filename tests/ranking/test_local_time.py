"""Hour of day and day of week are the person's own, in training and in serving.

A streaming audience spans time zones: 20:00 in Tokyo is 11:00 UTC, 20:00 in New York is
01:00 UTC. Interactions carry each event's UTC offset (from ``context.timezone``), the ranker's
hour features read local time in its training window and its labels, and a request says which
zone it comes from.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from limelight import Engine
from limelight.candidates import EASE, Interactions, Popular
from limelight.errors import InvalidInput
from limelight.ranking import Ranker
from limelight.ranking.features import FeatureBuilder
from limelight.ranking.ranker import _zone_offsets
from limelight.recommend import artifacts
from limelight.recommend.interactions import EventWeights, PairLog, read_interactions

HOUR = 3600.0
DAY = 86_400.0
MONDAY = 1_750_032_000.0  # 2025-06-16 00:00 UTC, a Monday
ZONES = {"tokyo": ("Asia/Tokyo", 9 * HOUR), "newyork": ("America/New_York", -4 * HOUR)}


def _zoned_log() -> Interactions:
    """Six people in Tokyo and six in New York. Each watches ``morn`` at 08:00 on their own
    clock, then one of ``x0``..``x2`` at noon and ``eve`` at 20:00, in an order that alternates
    by person (so each title is someone's latest). In UTC the two cities' evenings are 13 hours
    apart, so only local time ties ``eve`` to the evening."""
    users: list[str] = []
    items: list[str] = []
    stamps: list[float] = []
    offsets: list[float] = []
    for city, (_zone, offset) in ZONES.items():
        for p in range(6):
            later = [(f"x{p % 3}", 12), ("eve", 20)]
            watches = [("morn", 8), *(later if p % 2 else later[::-1])]
            for day, (item, local_hour) in enumerate(watches):
                users.append(f"{city}{p}")
                items.append(item)
                stamps.append(MONDAY + day * DAY + local_hour * HOUR - offset + p)
                offsets.append(offset)
    return Interactions.from_arrays(users, items, timestamps=stamps, offsets=offsets)


def test_offsets_follow_the_log_through_subsets_and_reweighting() -> None:
    log = _zoned_log()
    assert log.offsets is not None
    np.testing.assert_array_equal(log.local_timestamps, log.timestamps + log.offsets)
    tokyo = log.subset(np.array([log.user_ids[u].startswith("tokyo") for u in log.users]))
    assert tokyo.offsets is not None and set(tokyo.offsets.tolist()) == {9 * HOUR}
    assert log.binary().offsets is log.offsets
    plain = Interactions.from_arrays(["a"], ["x"], timestamps=[5.0])
    assert plain.offsets is None and plain.local_timestamps is plain.timestamps
    with pytest.raises(InvalidInput) as refused:
        Interactions.from_arrays(["a", "b"], ["x", "y"], offsets=[0.0])
    assert refused.value.field == "offsets"
    with pytest.raises(InvalidInput):
        Interactions.from_arrays(["a"], ["x"], offsets=[float("nan")])


def test_each_pair_takes_the_zone_of_its_first_event_with_daylight_saving() -> None:
    january, july = 1_736_000_000.0, 1_752_000_000.0  # New York: UTC-5 then UTC-4
    pairs = PairLog()
    pairs.add_rows(
        [
            ("ada", "m1", "play_start", january, None, "tv", "America/New_York"),
            ("ada", "m1", "play_complete", july, None, "tv", "Asia/Tokyo"),  # not the first
            ("ada", "m2", "play_start", july, None, "tv", "America/New_York"),
            ("bob", "m1", "play_start", july, None, None, None),
        ],
        EventWeights(),
    )
    pairs.add_rows([("cy", "m2", "play_start", july, None, None)], EventWeights())  # a chunk
    log = pairs.build()  # with no zone at all: its pairs are UTC
    assert log.offsets is not None
    offsets = {
        (log.user_ids[u], log.item_ids[i]): o
        for u, i, o in zip(log.users, log.items, log.offsets, strict=True)
    }
    assert offsets == {
        ("ada", "m1"): -5 * HOUR,
        ("ada", "m2"): -4 * HOUR,
        ("bob", "m1"): 0.0,
        ("cy", "m2"): 0.0,
    }
    unzoned = PairLog()
    unzoned.add_rows([("bob", "m1", "play_start", july, None, None)], EventWeights())
    assert unzoned.build().offsets is None


def test_the_event_store_gives_each_interaction_its_zone(engine: Engine) -> None:
    engine.upsert_items([{"item_id": "m1", "title": "Heat"}, {"item_id": "m2", "title": "Ran"}])
    result = engine.ingest(
        [
            {
                "event_id": f"e{k}",
                "type": "play_start",
                "user_id": user,
                "timestamp": MONDAY + k,
                "properties": {"item_id": item},
                "context": {"device": "tv", **({"timezone": zone} if zone else {})},
            }
            for k, (user, item, zone) in enumerate(
                [("ada", "m1", "Asia/Tokyo"), ("ada", "m2", None), ("bob", "m1", "Europe/Paris")]
            )
        ]
    )
    assert result.accepted == 3, result.rejected
    log, _ = read_interactions(engine.database)
    assert log.offsets is not None
    found = {
        (log.user_ids[u], log.item_ids[i]): o
        for u, i, o in zip(log.users, log.items, log.offsets, strict=True)
    }
    assert found == {("ada", "m1"): 9 * HOUR, ("ada", "m2"): 0.0, ("bob", "m1"): 2 * HOUR}


def test_hour_features_read_the_persons_own_clock() -> None:
    log = _zoned_log()
    builder = FeatureBuilder({"popular": Popular().fit(log)}, log)
    names = builder.names()
    eve, morn = log.item_index["eve"], log.item_index["morn"]
    evening_bin, morning_bin = 20 * 6 // 24, 8 * 6 // 24
    # Learned on local time: every watch of eve falls in the evening bin, in both cities.
    assert builder.hour_lift[eve, evening_bin] > 3 * builder.hour_lift[eve, morning_bin]
    assert builder.hour_lift[morn, morning_bin] > 3 * builder.hour_lift[morn, evening_bin]
    utc = FeatureBuilder(
        {"popular": Popular().fit(log)},
        Interactions.from_arrays(
            [log.user_ids[u] for u in log.users],
            [log.item_ids[i] for i in log.items],
            timestamps=log.timestamps,
        ),
    )
    assert utc.hour_lift[eve, evening_bin] < builder.hour_lift[eve, evening_bin]
    # Asked at 11:00 UTC from Tokyo: 20:00 there, a Monday evening.
    person = log.user_index["tokyo0"]
    pool = builder.pool(builder.people_from_rows(np.array([person])), exclude_seen=False)
    at = np.array([MONDAY + 11 * HOUR])
    local = builder.at_moment(pool, at, ["tv"], np.array([9 * HOUR]))
    plain = builder.at_moment(pool, at, ["tv"])
    hour, lift = names.index("hour"), names.index("item_hour_lift")
    assert set(local.features[:, hour].tolist()) == {20.0}
    assert set(plain.features[:, hour].tolist()) == {11.0}
    row = int(np.flatnonzero(local.items == eve)[0])
    assert local.features[row, lift] == pytest.approx(builder.hour_lift[eve, evening_bin])
    # Ages and "days since" read absolute time, whatever the zone.
    for name in ("item_days_in_catalogue", "user_days_since_last"):
        column = names.index(name)
        np.testing.assert_array_equal(local.features[:, column], plain.features[:, column])


def test_the_ranker_learns_and_serves_in_local_time(tmp_path: Path) -> None:
    log = _zoned_log()
    ranker = Ranker(
        sources={"popular": Popular(), "ease": EASE(l2=10.0)},
        split="per_user",
        label_size=1.0,
        n_estimators=5,
        min_child_samples=1,
        random_state=0,
    )
    data = ranker.training_set(log)
    hour_column = (
        FeatureBuilder({"popular": Popular().fit(log), "ease": EASE(l2=10.0).fit(log)}, log)
        .names()
        .index("hour")
    )
    # Each person's rows carry the local hour of their label (their latest watch: 12 or 20),
    # not its UTC hour (Tokyo's noon is 03:00 UTC).
    sizes, starts = data.candidates.group_sizes(), data.candidates.offsets[:-1]
    seen_hours = set()
    for group, person in enumerate(data.people.tolist()):
        label = data.label_window.local_timestamps[data.label_window.users == person]
        expected = float((label.min() % DAY) // HOUR)
        rows = data.candidates.features[starts[group] : starts[group] + sizes[group]]
        assert set(rows[:, hour_column].tolist()) == {expected}, log.user_ids[person]
        seen_hours.add(expected)
    assert seen_hours == {12.0, 20.0}
    ranker.fit(log)
    tokyo = log.user_index["tokyo1"]
    at = MONDAY + 11 * HOUR
    served = ranker.builder_.people_from_rows(np.array([tokyo]))
    block = ranker.builder_.candidates(served, np.array([at]), ["tv"], offsets=np.array([9 * HOUR]))
    assert set(block.features[:, hour_column].tolist()) == {20.0}
    # A request without a zone is read in the person's zone when last seen.
    latest = _zone_offsets(log, first=False)
    assert latest[tokyo] == 9 * HOUR and latest[log.user_index["newyork2"]] == -4 * HOUR
    travelled = Interactions.from_arrays(
        ["t", "t", "t"], ["a", "b", "c"], timestamps=[3.0, 1.0, 2.0], offsets=[9 * HOUR, 0.0, 0.0]
    )
    # the latest by time, not by row
    assert _zone_offsets(travelled, first=False).tolist() == [9 * HOUR]
    by_default = ranker.recommend([log.user_ids[tokyo]], 3, at=at, exclude_seen=False)
    in_tokyo = ranker.recommend(
        [log.user_ids[tokyo]], 3, at=at, exclude_seen=False, timezone="Asia/Tokyo"
    )
    assert by_default.ids == in_tokyo.ids
    np.testing.assert_array_equal(by_default.scores, in_tokyo.scores)
    with pytest.raises(InvalidInput) as refused:
        ranker.recommend_for_history(["eve"], None, 3, timezone="Mars/Base")
    assert refused.value.field == "timezone"
    # The offsets survive the artifact's interaction file (and a log without them stays so).
    artifacts._save_interactions(tmp_path, log)
    loaded = artifacts._load_interactions(tmp_path)
    assert loaded.offsets is not None
    np.testing.assert_array_equal(loaded.offsets, log.offsets)
    artifacts._save_interactions(tmp_path, Interactions.from_arrays(["a"], ["x"]))
    assert artifacts._load_interactions(tmp_path).offsets is None
