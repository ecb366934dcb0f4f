"""A running service switches to a newly published version without dropping a request."""

from __future__ import annotations

import threading
import time

import numpy as np

from limelight.recommend.registry import LiveModel, ModelStore
from limelight.recommend.service import RecommendationService
from limelight.recommend.training import train
from tests.recommend import world

THREADS = 4


def test_requests_from_threads_never_fail_while_a_new_version_is_published(
    served: RecommendationService,
) -> None:
    old = served.model_version()
    assert old is not None
    newer = train(served.database, world.FAST, now=time.time() + 1)
    publisher = ModelStore.for_data_dir(served.settings.data_dir)  # as `limelight train` would
    publisher.write(newer)
    seen: list[list[str | None]] = [[] for _ in range(THREADS)]
    errors: list[BaseException] = []
    stop = threading.Event()

    def hammer(slot: int) -> None:
        people = ["a1", "r2", "s3", "newcomer", "k4"]
        turn = 0
        while not stop.is_set():
            try:
                answer = served.recommend(people[turn % len(people)], 5, at=world.NOW)
                assert len(answer.items) == 5
                seen[slot].append(answer.model_version)
            except BaseException as error:  # every failure is a dropped request
                errors.append(error)
                return
            turn += 1

    workers = [threading.Thread(target=hammer, args=(slot,)) for slot in range(THREADS)]
    for worker in workers:
        worker.start()
    time.sleep(0.3)
    publisher.publish(newer.version)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not all(s and s[-1] == newer.version for s in seen):
        time.sleep(0.05)
    time.sleep(0.1)
    stop.set()
    for worker in workers:
        worker.join(30)
    assert not errors, errors[:3]
    for versions in seen:
        assert versions[0] == old and versions[-1] == newer.version
        switched = versions.index(newer.version)
        assert set(versions[:switched]) == {old} and set(versions[switched:]) == {newer.version}
    assert sum(len(s) for s in seen) > 4 * THREADS


def test_a_broken_version_keeps_the_old_one_answering(served: RecommendationService) -> None:
    old = served.model_version()
    store = ModelStore.for_data_dir(served.settings.data_dir)
    broken = store.root / "29990101T000000000000Z"
    broken.mkdir()
    (broken / "metadata.json").write_text("{not json", encoding="utf-8")
    store.publish(broken.name)
    for _ in range(5):
        assert served.recommend("a1", 3, at=world.NOW).model_version == old
        served.live.wait()
    assert served.live.last_error is not None


def test_the_first_load_happens_in_the_request(served: RecommendationService) -> None:
    fresh = LiveModel(served.store, poll_interval_s=60.0)
    model = fresh.get()
    assert model is not None and model.version == served.store.current()
    assert fresh.get() is model  # checked again only after the poll interval


def test_the_model_in_use_scores_with_compiled_trees_and_ranks_as_loaded(
    served: RecommendationService,
) -> None:
    version = served.store.current()
    assert version is not None
    in_use = LiveModel(served.store, poll_interval_s=60.0).get()
    assert in_use is not None and in_use.ranker.compiled_ is not None
    plain = served.store.load(version)  # as read from disk: LightGBM scores
    assert getattr(plain.ranker, "compiled_", None) is None
    for history in (world.ACTION[:2], world.ROMANCE[:1], [world.ACTION[3], *world.KIDS[:2]]):
        ours = in_use.ranker.recommend_for_history(history, n=8, at=world.NOW)
        theirs = plain.ranker.recommend_for_history(history, n=8, at=world.NOW)
        np.testing.assert_array_equal(ours.indices, theirs.indices)
        np.testing.assert_allclose(ours.scores, theirs.scores, rtol=1e-6)
