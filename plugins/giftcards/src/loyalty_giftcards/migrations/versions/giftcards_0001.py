"""giftcards: per-tenant keys, batches, cards, their event log and look-up lock-outs.

Revision ID: giftcards_0001
Revises:
Create Date: 2026-11-23 23:00:00

The module's first revision: a base of its own (branch label ``giftcards``) that depends on
the core revision introducing ledger accounts owned by modules. Every table is secured with
row-level security; the event log is insert-only for the app role (history is never
rewritten).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from loyalty_core.sdk import secure_tenant_table

revision: str = "giftcards_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("giftcards",)
depends_on: str | Sequence[str] | None = "0003_owned_accounts"

TABLES = (
    "giftcards_keys",
    "giftcards_batches",
    "giftcards_cards",
    "giftcards_events",
    "giftcards_lockouts",
)


def upgrade() -> None:
    op.create_table(
        "giftcards_keys",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("secret", sa.LargeBinary(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.tenant_id"], name=op.f("fk_giftcards_keys_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_giftcards_keys")),
    )
    op.create_table(
        "giftcards_batches",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("export", sa.Text(), nullable=True),
        sa.Column("exported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "export IS NULL OR exported_at IS NULL", name=op.f("ck_giftcards_batches_export_once")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.tenant_id"],
            name=op.f("fk_giftcards_batches_tenant_id_tenants"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_giftcards_batches")),
    )
    op.create_table(
        "giftcards_cards",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("last_four", sa.String(length=4), nullable=False),
        sa.Column("pin_hash", sa.String(length=64), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("member_id", sa.UUID(), nullable=True),
        sa.Column("batch_id", sa.UUID(), nullable=True),
        sa.Column("account_id", sa.UUID(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('inactive', 'active', 'cancelled', 'expired')",
            name=op.f("ck_giftcards_cards_status"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "batch_id"],
            ["giftcards_batches.tenant_id", "giftcards_batches.id"],
            name=op.f("fk_giftcards_cards_tenant_id_giftcards_batches"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_giftcards_cards_tenant_id_members"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_giftcards_cards")),
        sa.UniqueConstraint("tenant_id", "code_hash", name="uq_giftcards_cards_code_hash"),
    )
    op.create_index(
        "ix_giftcards_cards_batch", "giftcards_cards", ["tenant_id", "batch_id"], unique=False
    )
    op.create_index(
        "ix_giftcards_cards_expiring",
        "giftcards_cards",
        ["tenant_id", "expires_at"],
        unique=False,
        postgresql_where=sa.text("status = 'active' AND expires_at IS NOT NULL"),
    )
    op.create_index(
        "ix_giftcards_cards_member",
        "giftcards_cards",
        ["tenant_id", "member_id", "id"],
        unique=False,
    )
    op.create_table(
        "giftcards_events",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("card_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("balance_after", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("transaction_id", sa.UUID(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("cause_kind", sa.String(length=32), nullable=False),
        sa.Column("cause_id", sa.String(length=200), nullable=True),
        sa.Column("counterpart_id", sa.UUID(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "card_id"],
            ["giftcards_cards.tenant_id", "giftcards_cards.id"],
            name=op.f("fk_giftcards_events_tenant_id_giftcards_cards"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_giftcards_events")),
        sa.UniqueConstraint(
            "tenant_id", "idempotency_key", name="uq_giftcards_events_idempotency_key"
        ),
    )
    op.create_index(
        "ix_giftcards_events_card", "giftcards_events", ["tenant_id", "card_id", "id"], unique=False
    )
    op.create_table(
        "giftcards_lockouts",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("subject", sa.String(length=250), nullable=False),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.tenant_id"],
            name=op.f("fk_giftcards_lockouts_tenant_id_tenants"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "subject", name=op.f("pk_giftcards_lockouts")),
    )
    for table in TABLES:
        secure_tenant_table(op, table, immutable=table == "giftcards_events")


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
