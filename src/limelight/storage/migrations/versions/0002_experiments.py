"""experiments: definitions, exposures and settings

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("experiment_key", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("layer", sa.String(length=128), nullable=False),
        sa.Column("definition", _json(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("experiment_key"),
    )
    with op.batch_alter_table("experiments", schema=None) as batch_op:
        batch_op.create_index("ix_experiments_status_layer", ["status", "layer"], unique=False)

    op.create_table(
        "experiment_exposures",
        sa.Column("experiment_key", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.String(length=261), nullable=False),
        sa.Column("variant", sa.String(length=64), nullable=False),
        sa.Column("first_exposed_at", sa.Float(), nullable=False),
        sa.Column("device", sa.String(length=64), nullable=True),
        sa.Column("context", _json(), nullable=True),
        sa.PrimaryKeyConstraint("experiment_key", "unit_id"),
    )
    with op.batch_alter_table("experiment_exposures", schema=None) as batch_op:
        batch_op.create_index("ix_experiment_exposures_unit", ["unit_id"], unique=False)

    op.create_table(
        "experiment_settings",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", _json(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("experiment_settings")
    with op.batch_alter_table("experiment_exposures", schema=None) as batch_op:
        batch_op.drop_index("ix_experiment_exposures_unit")
    op.drop_table("experiment_exposures")
    with op.batch_alter_table("experiments", schema=None) as batch_op:
        batch_op.drop_index("ix_experiments_status_layer")
    op.drop_table("experiments")
