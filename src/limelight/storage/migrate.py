"""Run Alembic migrations automatically, safely when several processes start at once."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from limelight.storage.database import Database

MIGRATIONS = Path(__file__).with_name("migrations")
_PG_LOCK_KEY = 0x4C494D45  # "LIME": serializes migrations across processes on PostgreSQL


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def migrate(database: Database, revision: str = "head") -> None:
    """Bring the schema to ``revision``. Idempotent; cheap when already current."""
    config = alembic_config()
    with database.engine.connect() as connection:
        if not database.is_sqlite:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PG_LOCK_KEY})
            connection.commit()
        try:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            connection.commit()
        finally:
            if not database.is_sqlite:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_LOCK_KEY})
                connection.commit()
