"""The targeting language: what it admits, what it refuses, and that it never runs code."""

from __future__ import annotations

from typing import Any

import pytest

from limelight.experiments.targeting import TargetingError, needs_profile, parse

TV_FAN = {
    "context": {"device": "tv", "platform": "tizen", "locale": "de-DE"},
    "profile": {
        "counts": {"play_start": 7, "click": 2},
        "traits": {"plan": "premium", "tags": ["kids", "sport"]},
        "habits": {"devices": {"tv": 5}},
    },
}


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({}, True),
        ({"device": "tv"}, True),
        ({"device": "mobile"}, False),
        ({"device": {"in": ["tv", "web"]}}, True),
        ({"device": {"nin": ["tv"]}}, False),
        ({"profile.counts.play_start": {"gte": 5}}, True),
        ({"profile.counts.play_start": {"gt": 7}}, False),
        ({"profile.counts.play_start": {"gte": 5, "lt": 7}}, False),
        ({"profile.counts.skip": {"exists": False}}, True),
        ({"profile.counts.skip": {"gte": 0}}, False),  # missing never compares
        ({"profile.counts.skip": {"ne": 3}}, True),  # ... but ne/nin match it (as MongoDB)
        ({"profile.traits.tags": {"contains": "kids"}}, True),
        ({"profile.habits.devices": {"contains": "tv"}}, True),
        ({"profile.traits.plan": {"gt": 5}}, False),  # string vs number: false, not an error
        ({"context.locale": {"gte": "de", "lt": "df"}}, True),
        ({"locale": "de-DE", "platform": "tizen"}, True),
        ({"any": [{"device": "mobile"}, {"profile.traits.plan": "premium"}]}, True),
        ({"all": [{"device": "tv"}, {"profile.traits.plan": "free"}]}, False),
        ({"not": {"device": "mobile"}}, True),
        ({"profile.counts.play_start": 7.0}, True),  # 7 == 7.0
        ({"profile.counts.play_start": True}, False),  # a boolean is not a number here
    ],
)
def test_rules_on_a_tv_fan(rule: dict[str, Any], expected: bool) -> None:
    assert parse(rule)(TV_FAN) is expected


def test_the_example_of_the_brief_and_an_empty_profile() -> None:
    rule = parse({"device": {"in": ["tv"]}, "profile.counts.play_start": {"gte": 5}})
    assert rule(TV_FAN)
    assert not rule({"context": {"device": "tv"}, "profile": {}})
    assert not rule({})


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"user.age": 3}, "must start with"),
        ({"profile": 3}, "must start with"),
        ({"device..x": 1}, "empty part"),
        ({"device": {"regex": ".*"}}, "unknown operator 'regex'"),
        ({"device": {"in": "tv"}}, "list"),
        ({"device": {}}, "empty condition"),
        ({"device": {"eq": {"nested": 1}}}, "string, number, boolean or null"),
        ({"device": {"exists": "yes"}}, "true or false"),
        ({"any": []}, "non-empty list"),
        ({"not": [1]}, "a rule is an object"),
        ({"device": {"gt": None}}, "compare with a number or a string"),
        ({"device": {"eq": "__import__('os').system('true')"}}, None),  # only ever a string
    ],
)
def test_bad_rules_are_refused_with_the_path(rule: dict[str, Any], message: str | None) -> None:
    if message is None:
        assert not parse(rule)(TV_FAN)
        return
    with pytest.raises(TargetingError, match=message):
        parse(rule)


def test_size_and_depth_are_bounded() -> None:
    deep: dict[str, Any] = {"device": "tv"}
    for _ in range(10):
        deep = {"not": deep}
    with pytest.raises(TargetingError, match="nest at most"):
        parse(deep)
    wide = {f"profile.counts.k{n}": n for n in range(101)}
    with pytest.raises(TargetingError, match="at most 100 conditions"):
        parse(wide)


def test_needs_profile_finds_profile_paths_anywhere() -> None:
    assert not needs_profile({"device": "tv"})
    assert needs_profile({"profile.counts.click": {"gt": 0}})
    assert needs_profile({"any": [{"device": "tv"}, {"not": {"profile.traits.plan": "x"}}]})
