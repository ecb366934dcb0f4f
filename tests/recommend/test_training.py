"""Training reads the event store (not files): weights per event type, a data window, metadata."""

from __future__ import annotations

import numpy as np
import pytest

from limelight import Engine
from limelight.errors import InvalidInput
from limelight.recommend.interactions import DataWindow, EventWeights, PairLog, read_interactions
from limelight.recommend.training import TrainingConfig, train
from tests.recommend import world
from tests.recommend.world import DAY, NOW, event, watch


def _pairs(engine: Engine, window: DataWindow | None = None) -> dict[tuple[str, str], float]:
    log, _stats = read_interactions(engine.database, window, metadata={})
    return {
        (log.user_ids[u], log.item_ids[i]): w
        for u, i, w in zip(log.users, log.items, log.weights, strict=True)
    }


def test_events_fold_into_one_weighted_interaction_per_pair(engine: Engine) -> None:
    t = NOW - 10 * DAY
    engine.ingest(
        [
            *watch("ann", "m1", t),  # start + finish: 1 + 1
            event("rating", "ann", t + 7200, properties={"item_id": "m1", "rating": 5.0}),
            event("impression", "ann", t, properties={"item_id": "m2"}),  # weighs nothing
            event("skip", "ann", t, properties={"item_id": "m3"}),  # only a skip: no pair
            event("play_start", "bob", t, properties={"item_id": "m3"}),
            event("skip", "bob", t + 60, properties={"item_id": "m3"}),  # 1 - 1: cancelled
            event("add_to_list", "bob", t, properties={"item_id": "m4"}),
            event("rating", "cy", t, properties={"item_id": "m1", "rating": 0.0}),
        ]
    )
    pairs = _pairs(engine)
    # A 5 on a 3-midpoint scale weighs 1 + 2/3; a rating of 0 weighs nothing but not less.
    assert pairs == pytest.approx({("ann", "m1"): 2 + 5 / 3, ("bob", "m4"): 0.5})


def test_the_first_event_dates_the_pair_and_names_its_device(engine: Engine) -> None:
    engine.ingest(
        [
            *watch("ann", "m1", NOW - 5 * DAY, device="phone"),
            *watch("ann", "m1", NOW - 2 * DAY, device="tv"),
            *watch("ann", "m2", NOW - 1 * DAY, device="tv"),
        ]
    )
    log, stats = read_interactions(engine.database, metadata={})
    first = log.item_index["m1"]
    position = int(np.flatnonzero(log.items == first)[0])
    assert log.timestamps[position] == NOW - 5 * DAY
    assert log.devices is not None and log.devices[position] == "phone"
    assert (stats.events, stats.pairs) == (6, 2)
    assert (stats.first_event, stats.last_event) == (NOW - 5 * DAY, NOW - DAY + 3600)


def test_the_data_window_bounds_what_is_read(engine: Engine) -> None:
    engine.ingest([*watch("ann", "old", NOW - 30 * DAY), *watch("ann", "new", NOW - DAY)])
    assert set(_pairs(engine, DataWindow(since=NOW - 7 * DAY))) == {("ann", "new")}
    assert set(_pairs(engine, DataWindow(until=NOW - 7 * DAY))) == {("ann", "old")}
    with pytest.raises(InvalidInput):
        DataWindow(since=NOW, until=NOW - 1)


def test_the_catalogue_joins_the_log_so_unwatched_titles_can_be_recommended(
    loaded: Engine,
) -> None:
    log, _stats = read_interactions(loaded.database)
    assert "A9" in log.item_index and log.item_counts[log.item_index["A9"]] == 0
    assert log.metadata["A8"].genres == ("Action", "Thriller")
    assert log.metadata["X"].text == "Saga Part I"


def test_pair_log_takes_coded_chunks_without_python_per_event() -> None:
    pairs = PairLog()
    pairs.add_codes(
        np.array([0, 0, 1, 1]),
        np.array([2, 2, 0, 1]),
        np.array([1.0, 1.0, 1.0, -1.0]),
        np.array([5.0, 3.0, 1.0, 2.0]),
    )
    log = pairs.build(
        n_items=3,
        person_ids=lambda codes: [f"u{c}" for c in codes],
        item_ids=["i0", "i1", "i2"],
    )
    assert log.user_ids == ("u0", "u1")
    kept = [(log.user_ids[u], log.item_ids[i]) for u, i in zip(log.users, log.items, strict=True)]
    assert kept == [("u0", "i2"), ("u1", "i0")]  # u1's i1 cancelled out (1 - 1)
    assert log.matrix.toarray().tolist() == [[0, 0, 2], [1, 0, 0]]
    assert log.timestamps.tolist() == [3.0, 1.0]


def test_train_from_the_store_knows_the_groups_and_describes_itself(loaded: Engine) -> None:
    model = train(loaded.database, world.FAST)
    ranker = model.ranker
    for person, group in (("a3", "A"), ("r5", "R")):
        found = ranker.recommend_for_history(ranker.interactions_.history(person), None, n=3)
        assert all(item.startswith(group) for item in found.ids[0]), (person, found.ids)
    meta = model.metadata
    assert meta["data_window"]["pairs"] == 268 and meta["data_window"]["users"] == 56
    assert meta["data_window"]["events"] == 536
    assert meta["parameters"]["event_weights"]["weights"]["play_complete"] == 1.0
    assert meta["parameters"]["ranker"]["n_estimators"] == 20
    assert set(meta["parameters"]["sources"]) >= {"ease", "itemknn", "als", "content"}
    assert {"numpy", "lightgbm", "implicit", "python"} <= set(meta["libraries"])


def test_validation_measures_the_pipeline_beside_ease_and_popularity(loaded: Engine) -> None:
    config = TrainingConfig(validate=True, ranker=dict(world.FAST.ranker))
    metrics = train(loaded.database, config).metadata["metrics"]["validation"]
    assert metrics["protocol"] == "leave_last_out" and metrics["users"] == 56
    for name in ("limelight", "ease", "popular"):
        assert 0.0 <= metrics[name]["ndcg@10"] <= 1.0
    assert metrics["limelight"]["hr@10"] > metrics["popular"]["hr@10"]


def test_training_an_empty_store_says_what_to_do(engine: Engine) -> None:
    with pytest.raises(InvalidInput, match="ingest play events"):
        train(engine.database, world.FAST)


def test_event_weights_refuse_a_bad_midpoint() -> None:
    with pytest.raises(InvalidInput):
        EventWeights(rating_midpoint=0.0)


def test_training_uses_every_core_unless_told_and_leaves_given_sources_alone() -> None:
    import os

    from limelight.candidates import ALS, EASE
    from tests.candidates.known_data import two_groups

    log = two_groups()
    cores = len(os.sched_getaffinity(0))
    ranker = TrainingConfig().make_ranker(log)
    assert ranker.fit_threads == cores
    assert ranker.num_threads == 1  # scoring one person's rows stays on one thread
    assert ranker.sources is not None and ranker.sources["als"].get_params()["num_threads"] == cores
    ranker = TrainingConfig(threads=3).make_ranker(log)
    assert ranker.fit_threads == 3 and ranker.sources is not None
    assert ranker.sources["als"].get_params()["num_threads"] == 3
    given = {"als": ALS(factors=8), "ease": EASE()}
    ranker = TrainingConfig(threads=3, sources=given).make_ranker(log)
    assert ranker.sources is not None and ranker.sources["als"].get_params()["num_threads"] == 1
    for bad in (0, -1):
        with pytest.raises(InvalidInput) as error:
            TrainingConfig(threads=bad).make_ranker(log)
        assert error.value.field == "threads"
