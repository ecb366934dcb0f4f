"""Alembic environment: runs on the connection handed over by ``limelight.storage.migrate``."""

from __future__ import annotations

from alembic import context

from limelight.storage.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only through limelight.storage.migrate
    raise RuntimeError("run migrations through limelight.storage.migrate()")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
