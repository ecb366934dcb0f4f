"""An Engine on each backend with the synthetic pages world loaded, and its home service."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from limelight import Engine
from limelight.pages.home import HomeService, attached
from tests.pages import world


@pytest.fixture
def loaded(engine: Engine) -> Iterator[Engine]:
    world.load(engine)
    yield engine


@pytest.fixture
def home(loaded: Engine) -> HomeService:
    return attached(loaded)
