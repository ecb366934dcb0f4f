"""The interaction log: id maps, sparse matrix, time order, subsets."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from limelight.candidates import Interactions, ItemMeta
from limelight.errors import InvalidInput, UnknownItem


def test_maps_matrix_and_repeats() -> None:
    log = Interactions.from_arrays(
        ["a", "a", "b", "a"], ["x", "y", "x", "x"], timestamps=[3, 1, 2, 5], weights=[1, 2, 1, 1]
    )
    assert log.user_ids == ("a", "b") and log.item_ids == ("x", "y")
    assert sp.issparse(log.matrix)
    assert log.matrix[0, 0] == 2.0 and log.matrix[0, 1] == 2.0
    assert log.item_counts.tolist() == [2.0, 1.0]
    assert log.history("a") == ["y", "x", "x"]
    assert log.history("nobody") == []
    assert log.user_last_seen.tolist() == [5.0, 2.0]


def test_ties_in_time_keep_log_order() -> None:
    log = Interactions.from_arrays(["a", "a", "a"], ["z", "x", "y"], timestamps=[1, 1, 1])
    assert log.history("a") == ["z", "x", "y"]


def test_catalogue_may_hold_unwatched_items() -> None:
    log = Interactions.from_arrays(
        ["a"], ["x"], item_ids=["x", "y"], metadata={"y": ItemMeta(genres=("Drama",))}
    )
    assert log.n_items == 2 and log.item_counts.tolist() == [1.0, 0.0]


def test_subset_keeps_the_id_maps() -> None:
    log = Interactions.from_arrays(["a", "b"], ["x", "y"], timestamps=[1, 2])
    early = log.before(2)
    assert early.user_ids == log.user_ids and early.item_ids == log.item_ids
    assert len(early) == 1 and early.matrix.shape == log.matrix.shape
    assert len(log.since(2)) == 1


def test_bad_input_is_named() -> None:
    with pytest.raises(InvalidInput) as error:
        Interactions.from_arrays(["a"], ["x", "y"])
    assert error.value.field == "items"
    with pytest.raises(InvalidInput):
        Interactions.from_arrays(["a"], ["x"], timestamps=[float("nan")])
    with pytest.raises(UnknownItem):
        Interactions.from_arrays(["a"], ["x"], item_ids=["y"])
    log = Interactions.from_arrays(["a"], ["x"])
    with pytest.raises(UnknownItem):
        log.item_positions(["nope"])


def test_from_records() -> None:
    class Rating:
        def __init__(self, user_id: str, item_id: str, rating: float, ts: float) -> None:
            self.user_id, self.item_id, self.rating, self.ts = user_id, item_id, rating, ts

    log = Interactions.from_records([Rating("u", "i", 4.0, 10.0)], weight="rating")
    assert log.weights.tolist() == [4.0] and log.timestamps.tolist() == [10.0]
    assert np.all(log.binary().weights == 1.0)
