"""Batch rows: each distinct feature mapping logged once, and rows of the older layout (features
inline with each candidate) and of the columnar one still read as the same members."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from limelight.bandits.served import served_members
from limelight.decisions import DecisionRecord, batch_record, columnar_record, member
from limelight.decisions.batch import candidate_features, member_extras

DARK = {"style": "dark", "default": 1}
BRIGHT = {"style": "bright", "default": 0}


def _record(member_extra: dict[str, Any] | None = None) -> DecisionRecord:
    return batch_record(
        batch_id="b1",
        member_kind="bandit",
        point="artwork",
        person_id="ada",
        page_id="p1",
        created_at=10.0,
        policy="linucb",
        model_version="1.0",
        context={"device": "tv"},
        actions=[("a0", 0), ("a1", 1), ("a0", 1)],  # a0 of another title, other features
        features=[DARK, BRIGHT],
        lists=[[0, 1], [2]],
        chosen=[["a1"], ["a0"]],
        probabilities=[[0.7], [1.0]],
        explored=[False, False],
        member_context=[{"row": "top"}, None],
        member_extra=member_extra or {"same": {"mode": "live"}, "each": {}},
    )


def _old_layout(record: DecisionRecord) -> DecisionRecord:
    packed: Any = record.candidates
    inline = [[i, packed["features"][n]] for i, n in packed["actions"]]
    values = {name: getattr(record, name) for name in record.__slots__}
    values["candidates"] = {"kind": packed["kind"], "actions": inline, "lists": packed["lists"]}
    return DecisionRecord(**values)


def test_each_distinct_feature_mapping_is_logged_once() -> None:
    packed = _record().candidates
    assert packed["features"] == [DARK, BRIGHT]
    assert [candidate_features(packed, k) for k in range(3)] == [DARK, BRIGHT, BRIGHT]


def test_rows_of_the_older_layout_read_as_the_same_members() -> None:
    new, old = _record(), _old_layout(_record())
    assert "features" not in old.candidates
    for k in range(2):
        mine, theirs = member(new, k), member(old, k)
        assert mine is not None and mine == theirs
    first = member(new, 0)
    assert first is not None
    assert first.candidates == [{"id": "a0", "features": DARK}, {"id": "a1", "features": BRIGHT}]
    assert first.context == {"device": "tv", "row": "top"}
    for record in (new, old):
        views = served_members(record, [0, 1, 2])
        assert sorted(views) == [0, 1]  # member 2 does not exist
        assert views[0].action("a1") == (BRIGHT, 0.7)
        assert views[0].action("a0") == (DARK, 1.0)  # a candidate, not served
        assert views[1].action("a0") == (BRIGHT, 1.0)
        assert views[1].action("a1") is None


#: ``_record``'s decisions, with their distributions and rankings, in the columnar layout (what a
#: page's live artwork decisions are written as).
COLUMNAR: dict[str, Any] = {
    "batch_id": "b1",
    "member_kind": "bandit",
    "point": "artwork",
    "person_id": "ada",
    "page_id": "p1",
    "created_at": 10.0,
    "policy": "linucb",
    "model_version": "1.0",
    "context": {"device": "tv"},
    "action_ids": ["a0", "a1", "a0"],
    "action_features": np.array([0, 1, 1]),
    "features": [DARK, BRIGHT],
    "lists": np.array([[0, 1], [2, -1]]),
    "chosen": [["a1"], ["a0"]],
    "probabilities": np.array([0.7, 1.0]),
    "explored": np.array([False, False]),
    "member_context": [{"row": "top"}, None],
    "member_same": {"mode": "live"},
    "padded": {"distribution": np.array([[0.3, 0.7], [1.0, 0.0]])},
    "ranked": {"ranking": np.array([[1, 0], [0, -1]])},
}


def test_columnar_rows_read_as_the_same_members_once_logged() -> None:
    listed = _record(
        {
            "same": {"mode": "live"},
            "each": {"distribution": [[0.3, 0.7], [1.0]], "ranking": [["a1", "a0"], ["a0"]]},
        }
    )
    # As the log's buffer and the table give it back: serialized from numpy, then decoded.
    logged = columnar_record(**COLUMNAR).packed().unpacked()
    assert logged.candidates["layout"] == "columnar"
    for k in range(2):
        mine, theirs = member(logged, k), member(listed, k)
        assert mine is not None and mine == theirs
    second = member(logged, 1)
    assert second is not None
    assert second.extra == {"mode": "live", "distribution": [1.0], "ranking": ["a0"]}
    assert member_extras(logged.extra, logged.candidates) == member_extras(
        listed.extra, listed.candidates
    )
    assert member_extras(logged.extra) == [{"mode": "live"}, {"mode": "live"}]
    views = served_members(logged, [0, 1, 2])
    assert sorted(views) == [0, 1]
    assert views[0].action("a1") == (BRIGHT, 0.7)
    assert views[0].action("a0") == (DARK, 1.0)
    assert views[1].action("a0") == (BRIGHT, 1.0)
    assert views[1].action("a1") is None
    with pytest.raises(ValueError, match="explored"):
        columnar_record(**{**COLUMNAR, "explored": np.array([False])})
