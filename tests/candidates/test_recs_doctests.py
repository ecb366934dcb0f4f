"""The examples in the docstrings of the model library run and hold."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "limelight.candidates.data",
    "limelight.candidates.popular",
    "limelight.candidates.itemknn",
    "limelight.candidates.ease",
    "limelight.candidates.sequential",
    "limelight.candidates.content",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
