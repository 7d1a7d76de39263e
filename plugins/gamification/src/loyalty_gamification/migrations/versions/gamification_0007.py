"""gamification: a purchase may lose its challenge steps over several refunds.

A partial refund takes back a step whose condition the money kept no longer meets, and a
later refund in full the steps left, so a purchase may have several refund rows per
challenge: the unique key on ``refund_of`` goes (the member's progress row, locked before
the refunds already written are read, keeps a step from being taken back twice).

Revision ID: gamification_0007
Revises: gamification_0006
Create Date: 2026-12-04 16:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "gamification_0007"
down_revision: str | None = "gamification_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REFUND = "uq_gamification_challenge_contributions_refund"


def upgrade() -> None:
    op.drop_constraint(_REFUND, "gamification_challenge_contributions", type_="unique")


def downgrade() -> None:
    op.create_unique_constraint(
        _REFUND, "gamification_challenge_contributions", ["tenant_id", "challenge_id", "refund_of"]
    )
