"""indexes for a person's first home page: their pages by kind, their engaged events

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_decisions_person", table_name="decisions")
    op.create_index(
        "ix_decisions_person", "decisions", ["person_id", "kind", "created_at"], unique=False
    )
    engaged = sa.text("decision_id IS NOT NULL")
    op.create_index(
        "ix_events_person_engaged",
        "events",
        ["person_id", "received_at"],
        unique=False,
        sqlite_where=engaged,
        postgresql_where=engaged,
    )


def downgrade() -> None:
    op.drop_index("ix_events_person_engaged", table_name="events")
    op.drop_index("ix_decisions_person", table_name="decisions")
    op.create_index("ix_decisions_person", "decisions", ["person_id", "created_at"], unique=False)
