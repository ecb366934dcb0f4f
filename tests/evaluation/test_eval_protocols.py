"""Splits keep test and train apart; protocols and reports run end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from limelight.candidates import EASE, Interactions
from limelight.errors import InvalidInput
from limelight.evaluation import (
    evaluate,
    global_time_split,
    leave_last_out,
    make_split,
    per_user_time_split,
    random_split,
)
from limelight.evaluation.report import Report
from limelight.evaluation.splits import Split
from tests.candidates.known_data import two_groups


def _disjoint_and_complete(log: Interactions, split: Split) -> None:
    key = lambda part: {  # noqa: E731
        (int(u), int(i), float(t))
        for u, i, t in zip(part.users, part.items, part.timestamps, strict=True)
    }
    train, test = key(split.train), key(split.test)
    assert not train & test
    assert len(split.train) + len(split.test) <= len(log)


def test_leave_last_out_takes_the_latest() -> None:
    log = Interactions.from_arrays(
        ["a", "a", "a", "b", "b", "c"],
        ["x", "y", "z", "x", "w", "x"],
        timestamps=[5, 9, 1, 2, 2, 3],
    )
    split = leave_last_out(log)
    tested = {
        log.user_ids[u]: log.item_ids[i]
        for u, i in zip(split.test.users, split.test.items, strict=True)
    }
    assert tested == {"a": "y", "b": "w"}  # b's tie goes to the later of the log; c stays in train
    _disjoint_and_complete(log, split)
    assert len(split.train) + len(split.test) == len(log)


@pytest.mark.parametrize("protocol", ["leave_last_out", "time_split", "random_75_25"])
def test_no_test_interaction_in_train(protocol: str) -> None:
    log = two_groups()
    split = make_split(log, protocol, random_state=3)  # type: ignore[arg-type]
    _disjoint_and_complete(log, split)
    assert len(split.test) > 0


def test_random_split_is_per_person_and_seeded() -> None:
    log = two_groups()
    split = random_split(log, 0.25, random_state=1)
    per_user = np.bincount(split.test.users, minlength=log.n_users)
    assert np.all(per_user == round(0.25 * 6))
    again = random_split(log, 0.25, random_state=1)
    np.testing.assert_array_equal(split.test.items, again.test.items)


def test_time_splits() -> None:
    log = two_groups()
    split = global_time_split(log, 0.2)
    assert split.train.timestamps.max() < split.test.timestamps.min()
    known = set(split.train.users.tolist())
    assert set(split.test.users.tolist()) <= known
    late = per_user_time_split(log, 0.5)
    assert np.all(np.bincount(late.test.users, minlength=log.n_users) == 3)
    with pytest.raises(InvalidInput):
        random_split(log, 1.5)


def test_evaluate_an_oracle_and_a_model(tmp_path: Path) -> None:
    log = two_groups()
    split = make_split(log, "leave_last_out")
    truth = {int(u): int(i) for u, i in zip(split.test.users, split.test.items, strict=True)}

    def oracle(rows: np.ndarray, n: int) -> np.ndarray:
        return np.array([[truth[int(r)]] + [-1] * (n - 1) for r in rows])

    assert evaluate(oracle, split).metrics["hr@10"] == 1.0
    result = evaluate(EASE(l2=5.0).fit(split.train), split, (5, 10))
    assert result.n_users == log.n_users
    assert 0 < result.metrics["ndcg@5"] <= result.metrics["ndcg@10"] + 1e-9
    assert {"coverage", "novelty", "diversity", "mrr"} <= set(result.metrics)

    report = Report("test")
    report.add("leave_last_out", "ease", result.metrics)
    report.add("leave_last_out", "ease", result.metrics)
    mean, spread = report.summary("leave_last_out", "ease", "hr@10")
    assert mean == result.metrics["hr@10"] and spread == 0.0
    assert "± 0.0000" in report.table("leave_last_out")
    paths = report.write(tmp_path)
    assert [p.suffix for p in paths] == [".md", ".json", ".png"]
    assert json.loads(paths[1].read_text())["summary"]["leave_last_out"]["ease"]["hr@10"]["sd"] == 0
    assert paths[2].stat().st_size > 1000
