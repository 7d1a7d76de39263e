"""rewards: idempotent pool imports; failures of a reward's segment condition, counted; the
payment that collected a redemption's money.

Revision ID: rewards_0002
Revises: rewards_0001
Create Date: 2026-12-04 14:30:00

Only new nullable (or defaulted) columns and a constraint existing rows already satisfy: pools
imported before this revision have no idempotency key, and no reward has failed yet.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "rewards_0002"
down_revision: str | None = "rewards_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("rewards_pools", sa.Column("idempotency_key", sa.String(length=200)))
    op.add_column("rewards_pools", sa.Column("request_hash", sa.String(length=64)))
    op.create_unique_constraint(
        "uq_rewards_pools_idempotency_key", "rewards_pools", ["tenant_id", "idempotency_key"]
    )
    op.add_column(
        "rewards_rewards",
        sa.Column("segment_failures", sa.BigInteger(), server_default="0", nullable=False),
    )
    op.add_column("rewards_rewards", sa.Column("segment_error", sa.Text()))
    op.add_column(
        "rewards_redemptions", sa.Column("payment_reference", sa.String(length=200))
    )
    op.add_column(
        "rewards_rewards", sa.Column("segment_failed_at", sa.DateTime(timezone=True))
    )


def downgrade() -> None:
    op.drop_column("rewards_redemptions", "payment_reference")
    op.drop_column("rewards_rewards", "segment_failed_at")
    op.drop_column("rewards_rewards", "segment_error")
    op.drop_column("rewards_rewards", "segment_failures")
    op.drop_constraint("uq_rewards_pools_idempotency_key", "rewards_pools", type_="unique")
    op.drop_column("rewards_pools", "request_hash")
    op.drop_column("rewards_pools", "idempotency_key")
