"""Fixtures: the small world loaded into an Engine, and one trained model shared by many tests.

Training takes about a second, so the model is trained once per session on SQLite and its
artifact folder is copied into each test's data directory (the events are the same on every
backend, so the same model fits every copy of the world). Tests about training itself train.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from limelight import Engine, Settings
from limelight.recommend.registry import ModelStore
from limelight.recommend.service import RecommendationService
from tests.recommend import world


@pytest.fixture(scope="session")
def trained_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory whose store holds one published model of the world."""
    folder = tmp_path_factory.mktemp("trained-world")
    with Engine(Settings(data_dir=folder)) as engine:
        world.load(engine)
        world.service(engine).train(world.FAST)
    return folder


def install_model(trained: Path, engine: Engine) -> str:
    """Copy the session's model into ``engine``'s store and put it in use; its version."""
    source = ModelStore.for_data_dir(trained)
    version = source.current()
    assert version is not None
    target = ModelStore.for_data_dir(engine.settings.data_dir)
    target.root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source.root / version, target.root / version)
    target.publish(version)
    return version


@pytest.fixture
def loaded(engine: Engine) -> Engine:
    """The world on each backend, no model."""
    world.load(engine)
    return engine


@pytest.fixture
def served(loaded: Engine, trained_folder: Path) -> Iterator[RecommendationService]:
    """The world on each backend with the shared model in use."""
    install_model(trained_folder, loaded)
    service = world.service(loaded)
    yield service
    service.close()


@pytest.fixture
def served_sqlite(sqlite_engine: Engine, trained_folder: Path) -> Iterator[RecommendationService]:
    """The same on SQLite only (for tests that are about the model, not the storage)."""
    world.load(sqlite_engine)
    install_model(trained_folder, sqlite_engine)
    service = world.service(sqlite_engine)
    yield service
    service.close()
