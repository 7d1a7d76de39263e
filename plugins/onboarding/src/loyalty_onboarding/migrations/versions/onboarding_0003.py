"""onboarding: sign-in by one-time code, and messages sent to a member signing in.

Revision ID: onboarding_0003
Revises: onboarding_0002

A new table, secured by tenant like the others, and a nullable column that existing
messages (all about enrolments) leave empty.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from loyalty_core.sdk import secure_tenant_table

revision: str = "onboarding_0003"
down_revision: str | None = "onboarding_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "onboarding_sign_ins",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("member_id", sa.UUID(), nullable=True),
        sa.Column("address_key", sa.String(64), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("consumed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_onboarding_sign_ins")),
    )
    op.create_index(
        "ix_onboarding_sign_ins_address",
        "onboarding_sign_ins",
        ["tenant_id", "address_key", "created_at"],
    )
    op.create_index(
        "ix_onboarding_sign_ins_member", "onboarding_sign_ins", ["tenant_id", "member_id"]
    )
    secure_tenant_table(op, "onboarding_sign_ins")
    op.add_column("onboarding_messages", sa.Column("member_id", sa.UUID(), nullable=True))
    op.create_index(
        "ix_onboarding_messages_member", "onboarding_messages", ["tenant_id", "member_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_onboarding_messages_member", table_name="onboarding_messages")
    op.drop_column("onboarding_messages", "member_id")
    op.drop_table("onboarding_sign_ins")
