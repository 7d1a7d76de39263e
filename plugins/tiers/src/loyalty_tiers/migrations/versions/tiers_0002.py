"""tiers: paid membership plans, members' memberships, the provider's events, webhook secrets.

Revision ID: tiers_0002
Revises: tiers_0001
Create Date: 2026-12-04 11:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import Text

from loyalty_core.sdk import secure_tenant_table

revision: str = "tiers_0002"
down_revision: str | None = "tiers_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("tiers_plans", "tiers_memberships", "tiers_membership_events", "tiers_webhooks")


def upgrade() -> None:
    op.create_table('tiers_plans',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('price', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('period', sa.String(length=8), nullable=False),
    sa.Column('trial_days', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=40), nullable=True),
    sa.Column('benefits', postgresql.JSONB(astext_type=Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.tenant_id'], name=op.f('fk_tiers_plans_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_tiers_plans')),
    sa.UniqueConstraint('tenant_id', 'code', name='uq_tiers_plans_code')
    )
    op.create_table('tiers_memberships',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('member_id', sa.UUID(), nullable=False),
    sa.Column('plan_id', sa.UUID(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('subscription', sa.String(length=200), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('period_end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('grace_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_event_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'member_id'], ['members.tenant_id', 'members.id'], name=op.f('fk_tiers_memberships_tenant_id_members')),
    sa.ForeignKeyConstraint(['tenant_id', 'plan_id'], ['tiers_plans.tenant_id', 'tiers_plans.id'], name=op.f('fk_tiers_memberships_tenant_id_tiers_plans')),
    sa.PrimaryKeyConstraint('tenant_id', 'member_id', name=op.f('pk_tiers_memberships'))
    )
    op.create_table('tiers_membership_events',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('provider_event_id', sa.String(length=200), nullable=False),
    sa.Column('member_id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('plan_code', sa.String(length=40), nullable=False),
    sa.Column('subscription', sa.String(length=200), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('period_end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'member_id'], ['members.tenant_id', 'members.id'], name=op.f('fk_tiers_membership_events_tenant_id_members')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_tiers_membership_events')),
    sa.UniqueConstraint('tenant_id', 'provider_event_id', name='uq_tiers_membership_events_provider')
    )
    op.create_index('ix_tiers_membership_events_member', 'tiers_membership_events', ['tenant_id', 'member_id', 'occurred_at'], unique=False)
    op.create_table('tiers_webhooks',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('secret', sa.String(length=200), nullable=True),
    sa.Column('grace_days', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.tenant_id'], name=op.f('fk_tiers_webhooks_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_tiers_webhooks'))
    )
    for table in TABLES:
        secure_tenant_table(op, table)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
