"""giftcards: sealed codes of members' cards, idempotent batches, the pepper a key is bound to.

Revision ID: giftcards_0002
Revises: giftcards_0001
Create Date: 2026-11-23 23:40:00

Only new nullable columns and constraints that existing rows already satisfy: cards issued
before this revision keep no sealed code (their owners cannot reveal them), batches have no
idempotency key, and existing tenant keys are unpeppered.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "giftcards_0002"
down_revision: str | None = "giftcards_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "giftcards_keys", sa.Column("pepper_fingerprint", sa.String(length=32), nullable=True)
    )
    op.add_column("giftcards_cards", sa.Column("code_sealed", sa.LargeBinary(), nullable=True))
    op.create_check_constraint(
        op.f("ck_giftcards_cards_sealed_for_member"),
        "giftcards_cards",
        "code_sealed IS NULL OR member_id IS NOT NULL",
    )
    op.add_column(
        "giftcards_batches", sa.Column("idempotency_key", sa.String(length=200), nullable=True)
    )
    op.add_column(
        "giftcards_batches", sa.Column("request_hash", sa.String(length=64), nullable=True)
    )
    op.create_unique_constraint(
        "uq_giftcards_batches_idempotency_key", "giftcards_batches", ["tenant_id", "idempotency_key"]
    )


def downgrade() -> None:
    op.drop_constraint("uq_giftcards_batches_idempotency_key", "giftcards_batches", type_="unique")
    op.drop_column("giftcards_batches", "request_hash")
    op.drop_column("giftcards_batches", "idempotency_key")
    op.drop_constraint(
        op.f("ck_giftcards_cards_sealed_for_member"), "giftcards_cards", type_="check"
    )
    op.drop_column("giftcards_cards", "code_sealed")
    op.drop_column("giftcards_keys", "pepper_fingerprint")
