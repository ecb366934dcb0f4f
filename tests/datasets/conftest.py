"""MovieLens-100K fetched once into a cache shared across test runs, and slices of it.

The cache is ``~/.cache/limelight-test-data`` unless ``LIMELIGHT_TEST_CACHE`` names another
folder; the first run downloads the RecBole wheel with pip, later runs only read the files.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from limelight.datasets import movielens
from limelight.datasets.movielens import MovieLens100K

CACHE = Path(os.environ.get("LIMELIGHT_TEST_CACHE", "~/.cache/limelight-test-data")).expanduser()


@pytest.fixture(scope="session")
def movielens_folder() -> Path:
    """The normalized MovieLens-100K folder, fetched from the RecBole wheel on first use."""
    return movielens.fetch(CACHE)


@pytest.fixture(scope="session")
def movielens_data(movielens_folder: Path) -> MovieLens100K:
    return movielens.read(movielens_folder)


@pytest.fixture(scope="session")
def movielens_slice(movielens_data: MovieLens100K) -> MovieLens100K:
    """The first 25 users (by id) with their ratings and the movies they rated."""
    return movielens_data.for_users([str(number) for number in range(1, 26)])
