"""Fixtures for the experiments layer: the service on each backend.

The service comes from ``engine.experiments`` when the Engine provides it, else it is built
over the Engine's database and personal-data registry (``attached``), as the routes do.
"""

from __future__ import annotations

import pytest

from limelight import Engine
from limelight.experiments.attach import attached
from limelight.experiments.service import Experiments


@pytest.fixture
def experiments(engine: Engine) -> Experiments:
    """The experiments service of the test's Engine (on each backend)."""
    return attached(engine)
