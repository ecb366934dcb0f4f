"""Storage: one schema on SQLite or PostgreSQL, migrations, and the write discipline."""

from limelight.storage.database import Database
from limelight.storage.migrate import migrate

__all__ = ["Database", "migrate"]
