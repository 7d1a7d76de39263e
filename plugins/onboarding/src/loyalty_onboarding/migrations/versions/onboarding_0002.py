"""onboarding: member cards can be issued later, replaced and blocked.

Revision ID: onboarding_0002
Revises: onboarding_0001

Only new columns that existing rows satisfy: cards issued before this revision are active
and have no recorded issuer.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "onboarding_0002"
down_revision: str | None = "onboarding_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "onboarding_cards",
        sa.Column("status", sa.String(16), nullable=False, server_default="active"),
    )
    op.add_column("onboarding_cards", sa.Column("issued_by", sa.String(200), nullable=True))
    op.add_column(
        "onboarding_cards", sa.Column("blocked_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("onboarding_cards", sa.Column("blocked_by", sa.String(200), nullable=True))
    op.add_column("onboarding_cards", sa.Column("replaced_by", sa.UUID(), nullable=True))


def downgrade() -> None:
    for column in ("replaced_by", "blocked_by", "blocked_at", "issued_by", "status"):
        op.drop_column("onboarding_cards", column)
