"""gamification: a leaderboard may rank members by the points they earned.

Revision ID: gamification_0006
Revises: gamification_0005
Create Date: 2026-12-04 15:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "gamification_0006"
down_revision: str | None = "gamification_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_METRIC = "ck_gamification_leaderboards_metric"


def upgrade() -> None:
    op.drop_constraint(op.f(_METRIC), "gamification_leaderboards", type_="check")
    op.create_check_constraint(
        op.f(_METRIC),
        "gamification_leaderboards",
        "metric IN ('spend', 'visits', 'badges', 'event_field', 'points')",
    )


def downgrade() -> None:
    op.drop_constraint(op.f(_METRIC), "gamification_leaderboards", type_="check")
    op.create_check_constraint(
        op.f(_METRIC),
        "gamification_leaderboards",
        "metric IN ('spend', 'visits', 'badges', 'event_field')",
    )
