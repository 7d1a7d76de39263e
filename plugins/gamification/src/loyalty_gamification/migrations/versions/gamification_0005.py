"""gamification: a leaderboard may rank only the members of a segment, and a challenge may
reward with any enabled module's rule effect (as badges may).

Revision ID: gamification_0005
Revises: gamification_0004
Create Date: 2026-12-04 14:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "gamification_0005"
down_revision: str | None = "gamification_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "gamification_leaderboards", sa.Column("segment", sa.String(length=100), nullable=True)
    )
    op.add_column(
        "gamification_challenges",
        sa.Column("reward_effect", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("gamification_challenges", "reward_effect")
    op.drop_column("gamification_leaderboards", "segment")
