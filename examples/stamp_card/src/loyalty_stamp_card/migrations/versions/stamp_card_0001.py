"""stamp_card: a card per member, its stamps and how many cards it completed.

Revision ID: stamp_card_0001
Revises:
The module's first revision: a base of its own (branch label ``stamp_card``) that depends on the
core's head when the module was generated.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from loyalty_core.sdk import secure_tenant_table

revision: str = "stamp_card_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("stamp_card",)
depends_on: str | Sequence[str] | None = "0008_campaign_health"


def upgrade() -> None:
    op.create_table(
        "stamp_card_cards",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("member_id", sa.UUID(), nullable=False),
        sa.Column("stamps", sa.Integer(), nullable=False),
        sa.Column("completed", sa.Integer(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("tenant_id", "member_id", name=op.f("pk_stamp_card_cards")),
    )
    secure_tenant_table(op, "stamp_card_cards")


def downgrade() -> None:
    op.drop_table("stamp_card_cards")
