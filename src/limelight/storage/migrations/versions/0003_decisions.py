"""decision log

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "decisions",
        sa.Column("decision_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("point", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.String(length=261), nullable=True),
        sa.Column("page_id", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("context", _json(), nullable=False),
        sa.Column("candidates", _json(), nullable=False),
        sa.Column("chosen", _json(), nullable=False),
        sa.Column("probabilities", _json(), nullable=True),
        sa.Column("policy", sa.String(length=64), nullable=True),
        sa.Column("model_version", sa.String(length=64), nullable=True),
        sa.Column("explored", sa.Boolean(), nullable=True),
        sa.Column("extra", _json(), nullable=True),
        sa.PrimaryKeyConstraint("decision_id"),
    )
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.create_index("ix_decisions_page", ["page_id"], unique=False)
        batch_op.create_index("ix_decisions_person", ["person_id", "created_at"], unique=False)
        batch_op.create_index("ix_decisions_point", ["point", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_index("ix_decisions_point")
        batch_op.drop_index("ix_decisions_person")
        batch_op.drop_index("ix_decisions_page")
    op.drop_table("decisions")
