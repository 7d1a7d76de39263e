"""gamification: the badges' contributions lose their foreign key to the badge.

Revision ID: gamification_0004
Revises: gamification_0003
Create Date: 2026-12-04 14:40:00

Every ingested event writes a contribution per badge it counts toward; the foreign key's
check locked each of those badges' rows (``FOR KEY SHARE``: a write to the tuple, and a
multixact once concurrent ingestions share it), the largest share of the module's cost on
the ingest path after the statement itself. Badges are never deleted (they are archived),
so the key guarded nothing the code does.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "gamification_0004"
down_revision: str | None = "gamification_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint(
        "fk_gamification_badge_contributions_badge",
        "gamification_badge_contributions",
        type_="foreignkey",
    )


def downgrade() -> None:
    op.create_foreign_key(
        "fk_gamification_badge_contributions_badge",
        "gamification_badge_contributions",
        "gamification_badges",
        ["tenant_id", "badge_id"],
        ["tenant_id", "id"],
    )
