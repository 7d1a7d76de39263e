"""gamification: definitions pause themselves after repeated consecutive failures.

Revision ID: gamification_0002
Revises: gamification_0001
Create Date: 2026-12-04 14:20:00

Badges, streaks and challenges count their consecutive failures (reset by an event they are
evaluated for without failing) and take the status ``paused``, with the reason, once the
count reaches the threshold, as the core's campaigns do. Leaderboards evaluate no condition
of a retailer's, so they keep their two statuses.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gamification_0002"
down_revision: str | None = "gamification_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("gamification_badges", "gamification_streaks", "gamification_challenges")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(
            table,
            sa.Column("consecutive_failures", sa.Integer(), server_default="0", nullable=False),
        )
        op.add_column(table, sa.Column("status_reason", sa.String(length=500), nullable=True))
        op.drop_constraint(op.f(f"ck_{table}_status"), table, type_="check")
        op.create_check_constraint(
            op.f(f"ck_{table}_status"), table, "status IN ('active', 'archived', 'paused')"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"UPDATE {table} SET status = 'archived' WHERE status = 'paused'")  # noqa: S608
        op.drop_constraint(op.f(f"ck_{table}_status"), table, type_="check")
        op.create_check_constraint(
            op.f(f"ck_{table}_status"), table, "status IN ('active', 'archived')"
        )
        op.drop_column(table, "status_reason")
        op.drop_column(table, "consecutive_failures")
