"""Shared fixtures: an Engine on a SQLite file and on a fresh PostgreSQL database.

The PostgreSQL server is expected at 127.0.0.1:5432 (trust auth), or wherever
``LIMELIGHT_TEST_POSTGRES`` points (a server URL without a database). Each test session makes
its own database and drops it at the end. Tests marked ``postgres`` are skipped only when
``LIMELIGHT_SKIP_POSTGRES=1`` is set; otherwise an unreachable server is an error, so CI
cannot pass silently without it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from limelight import Engine, Settings

POSTGRES_SERVER = os.environ.get("LIMELIGHT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
SKIP_POSTGRES = os.environ.get("LIMELIGHT_SKIP_POSTGRES") == "1"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session; yields its SQLAlchemy URL."""
    if SKIP_POSTGRES:
        pytest.skip("LIMELIGHT_SKIP_POSTGRES=1")
    name = f"limelight_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield f"{POSTGRES_SERVER.replace('postgresql://', 'postgresql+psycopg://')}/{name}"
    with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _reset_postgres(url: str) -> None:
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute("DROP SCHEMA public CASCADE")
        connection.execute("CREATE SCHEMA public")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for an empty database on each backend."""
    if request.param == "sqlite":
        return Settings(data_dir=tmp_path)
    url = request.getfixturevalue("postgres_server")
    _reset_postgres(url)
    return Settings(data_dir=tmp_path, database_url=url)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    """An Engine on an empty database, on each backend."""
    with Engine(settings) as built:
        yield built


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """An Engine on an empty SQLite file (for tests about one backend's behaviour)."""
    with Engine(Settings(data_dir=tmp_path)) as built:
        yield built
