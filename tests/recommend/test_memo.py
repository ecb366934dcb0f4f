"""The serving memo: answers kept by key, least recently used dropped first."""

from __future__ import annotations

import pytest

from limelight.recommend.memo import Memo


def test_an_answer_is_made_once_and_the_least_recently_used_goes_first() -> None:
    made: list[str] = []

    def make(key: str) -> str:
        made.append(key)
        return key.upper()

    memo: Memo[str, str] = Memo(2)
    assert memo.get("a", lambda: make("a")) == "A"
    assert memo.get("b", lambda: make("b")) == "B"
    assert memo.get("a", lambda: make("a")) == "A"  # a is now the most recent
    assert memo.get("c", lambda: make("c")) == "C"  # b goes
    assert memo.get("a", lambda: make("a")) == "A"
    assert memo.get("b", lambda: make("b")) == "B"
    assert made == ["a", "b", "c", "b"]
    assert (memo.hits, memo.misses, len(memo)) == (2, 4, 2)


def test_size_zero_keeps_nothing_and_a_failure_is_not_kept() -> None:
    memo: Memo[str, int] = Memo(0)
    assert memo.get("a", lambda: 1) == 1
    assert memo.get("a", lambda: 2) == 2
    assert len(memo) == 0

    kept: Memo[str, int] = Memo(4)

    def fail() -> int:
        raise ValueError("no answer")

    with pytest.raises(ValueError, match="no answer"):
        kept.get("a", fail)
    assert kept.get("a", lambda: 3) == 3
    with pytest.raises(ValueError, match="size"):
        Memo(-1)
