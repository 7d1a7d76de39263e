"""onboarding: enrolments, verifications, consents, messages, referrals and cards."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from loyalty_core.sdk import secure_tenant_table

revision = "onboarding_0001"
down_revision = None
branch_labels = ("onboarding",)
depends_on = "0003_owned_accounts"

TABLES = (
    "onboarding_enrolments",
    "onboarding_verifications",
    "onboarding_consents",
    "onboarding_messages",
    "onboarding_referral_codes",
    "onboarding_referrals",
    "onboarding_cards",
)


def _created_at() -> sa.Column[object]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "onboarding_enrolments",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("review", sa.String(16), nullable=True),
        sa.Column("review_reason", sa.String(200), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("phone", sa.String(20), nullable=True),
        sa.Column("email_key", sa.String(320), nullable=True),
        sa.Column("phone_key", sa.String(20), nullable=True),
        sa.Column("card_number", sa.String(32), nullable=True),
        sa.Column(
            "profile",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("referral_code", sa.String(16), nullable=True),
        sa.Column("referrer_id", sa.UUID(), nullable=True),
        sa.Column("member_id", sa.UUID(), nullable=True),
        _created_at(),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_purchase_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_onboarding_enrolments")),
    )
    op.create_index(
        "ix_onboarding_enrolments_email_key", "onboarding_enrolments", ["tenant_id", "email_key"]
    )
    op.create_index(
        "ix_onboarding_enrolments_phone_key", "onboarding_enrolments", ["tenant_id", "phone_key"]
    )
    op.create_index(
        "ix_onboarding_enrolments_member", "onboarding_enrolments", ["tenant_id", "member_id"]
    )
    op.create_table(
        "onboarding_verifications",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("enrolment_id", sa.UUID(), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("consumed_at", sa.DateTime(timezone=True), nullable=True),
        _created_at(),
        sa.ForeignKeyConstraint(
            ["tenant_id", "enrolment_id"],
            ["onboarding_enrolments.tenant_id", "onboarding_enrolments.id"],
            name=op.f("fk_onboarding_verifications_tenant_id_onboarding_enrolments"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_onboarding_verifications")),
    )
    op.create_index(
        "ix_onboarding_verifications_enrolment",
        "onboarding_verifications",
        ["tenant_id", "enrolment_id"],
    )
    op.create_table(
        "onboarding_consents",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("member_id", sa.UUID(), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("text_version", sa.String(64), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        _created_at(),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_onboarding_consents")),
    )
    op.create_index(
        "ix_onboarding_consents_member",
        "onboarding_consents",
        ["tenant_id", "member_id", "purpose"],
    )
    op.create_table(
        "onboarding_messages",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("enrolment_id", sa.UUID(), nullable=True),
        sa.Column("medium", sa.String(8), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        _created_at(),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_onboarding_messages")),
    )
    op.create_index(
        "ix_onboarding_messages_enrolment", "onboarding_messages", ["tenant_id", "enrolment_id"]
    )
    op.create_table(
        "onboarding_referral_codes",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("member_id", sa.UUID(), nullable=False),
        sa.Column("code", sa.String(16), nullable=False),
        _created_at(),
        sa.PrimaryKeyConstraint("tenant_id", "member_id", name=op.f("pk_onboarding_referral_codes")),
        sa.UniqueConstraint("tenant_id", "code", name="uq_onboarding_referral_codes_code"),
    )
    op.create_table(
        "onboarding_referrals",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("referrer_id", sa.UUID(), nullable=False),
        sa.Column("referee_id", sa.UUID(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _created_at(),
        sa.Column("rewarded_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_onboarding_referrals")),
        sa.UniqueConstraint("tenant_id", "referee_id", name="uq_onboarding_referrals_referee"),
    )
    op.create_index(
        "ix_onboarding_referrals_referrer", "onboarding_referrals", ["tenant_id", "referrer_id"]
    )
    op.create_table(
        "onboarding_cards",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("member_id", sa.UUID(), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        _created_at(),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_onboarding_cards")),
        sa.UniqueConstraint("tenant_id", "number", name="uq_onboarding_cards_number"),
    )
    op.create_index("ix_onboarding_cards_member", "onboarding_cards", ["tenant_id", "member_id"])
    for table in TABLES:
        secure_tenant_table(op, table)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
