"""an index on when decisions were made: retention deletes the oldest first

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_decisions_created", "decisions", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_decisions_created", table_name="decisions")
