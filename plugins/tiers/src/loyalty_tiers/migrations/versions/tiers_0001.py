"""tiers: ladders, members' standing, the metric per month, its contributions, history.

Revision ID: tiers_0001
Revises:
Create Date: 2026-12-04 11:00:00

The module's first revision: a base of its own (branch label ``tiers``) depending on the core.
Every table is secured with row-level security.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import Text

from loyalty_core.sdk import secure_tenant_table

revision: str = "tiers_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("tiers",)
depends_on: str | Sequence[str] | None = "0008_campaign_health"

TABLES = (
    "tiers_ladders",
    "tiers_members",
    "tiers_metrics",
    "tiers_contributions",
    "tiers_history",
)


def upgrade() -> None:
    op.create_table('tiers_ladders',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('definition', postgresql.JSONB(astext_type=Text()), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.tenant_id'], name=op.f('fk_tiers_ladders_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_tiers_ladders'))
    )
    op.create_table('tiers_members',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('member_id', sa.UUID(), nullable=False),
    sa.Column('level', sa.String(length=40), nullable=True),
    sa.Column('since', sa.DateTime(timezone=True), nullable=False),
    sa.Column('base_level', sa.String(length=40), nullable=True),
    sa.Column('anchor_month', sa.SmallInteger(), nullable=False),
    sa.Column('window_end', sa.Date(), nullable=False),
    sa.Column('grace_level', sa.String(length=40), nullable=True),
    sa.Column('grace_until', sa.Date(), nullable=True),
    sa.Column('warned_for', sa.Date(), nullable=True),
    sa.Column('override_level', sa.String(length=40), nullable=True),
    sa.Column('override_reason', sa.String(length=500), nullable=True),
    sa.Column('override_actor', sa.String(length=200), nullable=True),
    sa.Column('override_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'member_id'], ['members.tenant_id', 'members.id'], name=op.f('fk_tiers_members_tenant_id_members')),
    sa.PrimaryKeyConstraint('tenant_id', 'member_id', name=op.f('pk_tiers_members'))
    )
    op.create_index('ix_tiers_members_grace', 'tiers_members', ['tenant_id', 'grace_until'], unique=False, postgresql_where=sa.text('grace_until IS NOT NULL'))
    op.create_index('ix_tiers_members_override', 'tiers_members', ['tenant_id', 'override_expires_at'], unique=False, postgresql_where=sa.text('override_level IS NOT NULL'))
    op.create_index('ix_tiers_members_window_end', 'tiers_members', ['tenant_id', 'window_end'], unique=False)
    op.create_table('tiers_metrics',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('member_id', sa.UUID(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'member_id'], ['members.tenant_id', 'members.id'], name=op.f('fk_tiers_metrics_tenant_id_members')),
    sa.PrimaryKeyConstraint('tenant_id', 'member_id', 'month', name=op.f('pk_tiers_metrics'))
    )
    op.create_table('tiers_contributions',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('member_id', sa.UUID(), nullable=False),
    sa.Column('event_id', sa.UUID(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('event_type', sa.String(length=100), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'member_id'], ['members.tenant_id', 'members.id'], name=op.f('fk_tiers_contributions_tenant_id_members')),
    sa.PrimaryKeyConstraint('tenant_id', 'member_id', 'event_id', name=op.f('pk_tiers_contributions'))
    )
    op.create_index('ix_tiers_contributions_month', 'tiers_contributions', ['tenant_id', 'member_id', 'month'], unique=False)
    op.create_table('tiers_history',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('member_id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('from_level', sa.String(length=40), nullable=True),
    sa.Column('to_level', sa.String(length=40), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('event_id', sa.UUID(), nullable=True),
    sa.Column('metric', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'member_id'], ['members.tenant_id', 'members.id'], name=op.f('fk_tiers_history_tenant_id_members')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_tiers_history'))
    )
    op.create_index('ix_tiers_history_member', 'tiers_history', ['tenant_id', 'member_id', 'id'], unique=False)
    for table in TABLES:
        secure_tenant_table(op, table)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
