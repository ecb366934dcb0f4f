"""Reference figures on MovieLens-100K, leave-last-out (the data set is cached once per machine
in ``LIMELIGHT_TEST_CACHE``, default ``~/.cache/limelight-test-data``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from limelight.candidates import EASE, Interactions, ItemMeta, Popular, SequentialNextItem
from limelight.datasets import movielens
from limelight.evaluation import evaluate, make_split
from limelight.evaluation.splits import Split
from limelight.ranking import Ranker


@pytest.fixture(scope="module")
def split() -> Split:
    cache = Path(os.environ.get("LIMELIGHT_TEST_CACHE", "~/.cache/limelight-test-data"))
    data = movielens.read(movielens.fetch(cache.expanduser()))
    meta = {
        m.item_id: ItemMeta(genres=tuple(m.genres), release_year=m.release_year)
        for m in data.movies
    }
    log = Interactions.from_records(data.ratings, metadata=meta)
    assert (log.n_users, log.n_items, len(log)) == (943, 1682, 100_000)
    return make_split(log, "leave_last_out")


def _hr(model: object, split: Split) -> float:
    return evaluate(model.fit(split.train), split).metrics["hr@10"]  # type: ignore[attr-defined]


@pytest.mark.slow
def test_reference_figures_and_the_pipeline(split: Split) -> None:
    assert _hr(Popular(), split) == pytest.approx(0.086, abs=0.002)
    ease = _hr(EASE(l2=500.0), split)
    assert ease == pytest.approx(0.145, abs=0.003)
    assert _hr(SequentialNextItem(), split) > ease + 0.02
    assert _hr(Ranker(max_people=400, random_state=0), split) > ease + 0.02
