"""The examples in the bandit modules' docstrings run and say what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "limelight.bandits.base",
    "limelight.bandits.features",
    "limelight.bandits.linear",
    "limelight.bandits.policies.greedy",
    "limelight.bandits.policies.linucb",
    "limelight.bandits.policies.thompson",
    "limelight.bandits.policies.uniform",
    "limelight.bandits.ope.evaluate",
    "limelight.bandits.simulator",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
