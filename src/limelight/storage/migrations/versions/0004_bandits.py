"""bandit decision points, rewards and the learning ledger

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "bandit_points",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("definition", _json(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("closed_through", sa.Float(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "bandit_rewards",
        sa.Column("reward_id", sa.String(length=512), nullable=False),
        sa.Column("decision_id", sa.String(length=128), nullable=False),
        sa.Column("point", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.String(length=261), nullable=True),
        sa.Column("action_id", sa.String(length=256), nullable=True),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=True),
        sa.Column("received_at", sa.Float(), nullable=False),
        sa.Column("in_window", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("reward_id"),
    )
    with op.batch_alter_table("bandit_rewards", schema=None) as batch_op:
        batch_op.create_index("ix_bandit_rewards_decision", ["decision_id"], unique=False)
        batch_op.create_index("ix_bandit_rewards_person", ["person_id"], unique=False)
        batch_op.create_index("ix_bandit_rewards_point", ["point", "received_at"], unique=False)
    op.create_table(
        "bandit_learned",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("decision_id", sa.String(length=128), nullable=False),
        sa.Column("action_id", sa.String(length=256), nullable=False),
        sa.Column("point", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.String(length=261), nullable=True),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("rule", sa.String(length=16), nullable=False),
        sa.Column("learned_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("bandit_learned", schema=None) as batch_op:
        batch_op.create_index(
            "uq_bandit_learned_decision_action", ["decision_id", "action_id"], unique=True
        )
        batch_op.create_index("ix_bandit_learned_point", ["point", "seq"], unique=False)
        batch_op.create_index("ix_bandit_learned_person", ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("bandit_learned", schema=None) as batch_op:
        batch_op.drop_index("ix_bandit_learned_person")
        batch_op.drop_index("ix_bandit_learned_point")
        batch_op.drop_index("uq_bandit_learned_decision_action")
    op.drop_table("bandit_learned")
    with op.batch_alter_table("bandit_rewards", schema=None) as batch_op:
        batch_op.drop_index("ix_bandit_rewards_point")
        batch_op.drop_index("ix_bandit_rewards_person")
        batch_op.drop_index("ix_bandit_rewards_decision")
    op.drop_table("bandit_rewards")
    op.drop_table("bandit_points")
