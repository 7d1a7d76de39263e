"""gamification: what each event counted toward challenges and streaks, so refunds reverse it.

Revision ID: gamification_0003
Revises: gamification_0002
Create Date: 2026-12-04 14:40:00

``gamification_challenge_contributions`` holds the steps each event counted (and, keyed by the
purchase it refunds, what a refund took back: insert-only, like the badges' contributions);
``gamification_streak_units`` the units a member's run counted, with the purchases that kept
each, so a refund that leaves a unit without activity recomputes the run without it.

The contributions have no foreign key to their challenge: a row is written for every event
that advances one, and a foreign key's check would lock the challenge's row (a write to it)
each time, which every concurrent ingestion of the tenant shares. Challenges are never
deleted (they are archived), so the key would guard nothing the code does.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from loyalty_core.sdk import secure_tenant_table

revision: str = "gamification_0003"
down_revision: str | None = "gamification_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gamification_challenge_contributions",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("challenge_id", sa.UUID(), nullable=False),
        sa.Column("member_id", sa.UUID(), nullable=False),
        sa.Column("steps", postgresql.ARRAY(sa.Integer()), nullable=False),
        sa.Column("refund_of", sa.UUID(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "event_id", "challenge_id",
            name=op.f("pk_gamification_challenge_contributions"),
        ),
        sa.UniqueConstraint(
            "tenant_id", "challenge_id", "refund_of",
            name="uq_gamification_challenge_contributions_refund",
        ),
    )
    op.create_index(
        "ix_gamification_challenge_contributions_member",
        "gamification_challenge_contributions",
        ["tenant_id", "member_id", "challenge_id", "occurred_at"],
    )
    op.create_table(
        "gamification_streak_units",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("member_id", sa.UUID(), nullable=False),
        sa.Column("streak_id", sa.UUID(), nullable=False),
        sa.Column("unit", sa.Integer(), nullable=False),
        sa.Column("purchases", postgresql.ARRAY(sa.UUID()), nullable=False),
        sa.Column("others", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "streak_id"],
            ["gamification_streaks.tenant_id", "gamification_streaks.id"],
            name="fk_gamification_streak_units_streak",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "member_id", "streak_id", "unit",
            name=op.f("pk_gamification_streak_units"),
        ),
    )
    secure_tenant_table(op, "gamification_challenge_contributions", immutable=True)
    secure_tenant_table(op, "gamification_streak_units")


def downgrade() -> None:
    op.drop_table("gamification_streak_units")
    op.drop_table("gamification_challenge_contributions")
