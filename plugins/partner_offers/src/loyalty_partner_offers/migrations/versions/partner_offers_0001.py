"""partner_offers: the catalogue and its revision, offers, daily caps, members' activations,
redemptions and their reversals, first purchases with a partner.

Revision ID: partner_offers_0001
Revises:
Create Date: 2026-12-04 14:20:00

The module's first revision: a base of its own (branch label ``partner_offers``) depending
on the core. Every table is secured with row-level security.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import Text

from loyalty_core.sdk import secure_tenant_table

revision: str = "partner_offers_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("partner_offers",)
depends_on: str | Sequence[str] | None = "0008_campaign_health"

TABLES = (
    "partner_offers_catalogues",
    "partner_offers_offers",
    "partner_offers_daily",
    "partner_offers_activations",
    "partner_offers_redemptions",
    "partner_offers_reversals",
    "partner_offers_customers",
)


def upgrade() -> None:
    op.create_table('partner_offers_catalogues',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('revision', sa.BigInteger(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.tenant_id'], name=op.f('fk_partner_offers_catalogues_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_partner_offers_catalogues'))
    )
    op.create_table('partner_offers_offers',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('partner_id', sa.UUID(), nullable=True),
    sa.Column('external_id', sa.String(length=200), nullable=True),
    sa.Column('version', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('image_url', sa.String(length=2000), nullable=True),
    sa.Column('terms_text', sa.Text(), server_default='', nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('activation', sa.String(length=8), nullable=False),
    sa.Column('terms', postgresql.JSONB(astext_type=Text()), nullable=False),
    sa.Column('segment', sa.Text(), server_default='', nullable=False),
    sa.Column('condition_failures', sa.Integer(), server_default='0', nullable=False),
    sa.Column('budget', sa.Integer(), nullable=True),
    sa.Column('daily_cap', sa.Integer(), nullable=True),
    sa.Column('used', sa.Integer(), server_default='0', nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("activation IN ('clip', 'auto')", name=op.f('ck_partner_offers_offers_activation')),
    sa.CheckConstraint("status IN ('live', 'retired')", name=op.f('ck_partner_offers_offers_status')),
    sa.CheckConstraint('budget IS NULL OR used <= budget', name=op.f('ck_partner_offers_offers_within_budget')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.tenant_id'], name=op.f('fk_partner_offers_offers_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_partner_offers_offers'))
    )
    op.create_index('ix_partner_offers_offers_external', 'partner_offers_offers', ['tenant_id', 'partner_id', 'external_id'], unique=True, postgresql_nulls_not_distinct=True, postgresql_where=sa.text('external_id IS NOT NULL'))
    op.create_index('ix_partner_offers_offers_live', 'partner_offers_offers', ['tenant_id'], unique=False, postgresql_where=sa.text("status = 'live'"))
    op.create_table('partner_offers_daily',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('offer_id', sa.UUID(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('used', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'offer_id'], ['partner_offers_offers.tenant_id', 'partner_offers_offers.id'], name=op.f('fk_partner_offers_daily_tenant_id_partner_offers_offers')),
    sa.PrimaryKeyConstraint('tenant_id', 'offer_id', 'day', name=op.f('pk_partner_offers_daily'))
    )
    op.create_table('partner_offers_activations',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('offer_id', sa.UUID(), nullable=False),
    sa.Column('member_id', sa.UUID(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('terms', postgresql.JSONB(astext_type=Text()), nullable=False),
    sa.Column('partner_id', sa.UUID(), nullable=True),
    sa.Column('activated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('redeemed', sa.Integer(), server_default='0', nullable=False),
    sa.CheckConstraint("state IN ('activated', 'auto', 'hidden')", name=op.f('ck_partner_offers_activations_state')),
    sa.ForeignKeyConstraint(['tenant_id', 'member_id'], ['members.tenant_id', 'members.id'], name=op.f('fk_partner_offers_activations_tenant_id_members')),
    sa.ForeignKeyConstraint(['tenant_id', 'offer_id'], ['partner_offers_offers.tenant_id', 'partner_offers_offers.id'], name=op.f('fk_partner_offers_activations_tenant_id_partner_offers_offers')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_partner_offers_activations')),
    sa.UniqueConstraint('tenant_id', 'member_id', 'offer_id', name='uq_partner_offers_activations_member_offer')
    )
    op.create_table('partner_offers_redemptions',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('offer_id', sa.UUID(), nullable=False),
    sa.Column('member_id', sa.UUID(), nullable=False),
    sa.Column('event_id', sa.UUID(), nullable=False),
    sa.Column('partner_id', sa.UUID(), nullable=True),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('reversed', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('transaction_id', sa.UUID(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'offer_id'], ['partner_offers_offers.tenant_id', 'partner_offers_offers.id'], name=op.f('fk_partner_offers_redemptions_tenant_id_partner_offers_offers')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_partner_offers_redemptions')),
    sa.UniqueConstraint('tenant_id', 'event_id', 'offer_id', name='uq_partner_offers_redemptions_event_offer')
    )
    op.create_index('ix_partner_offers_redemptions_member', 'partner_offers_redemptions', ['tenant_id', 'member_id'], unique=False)
    op.create_index('ix_partner_offers_redemptions_offer', 'partner_offers_redemptions', ['tenant_id', 'offer_id', 'day'], unique=False)
    op.create_table('partner_offers_reversals',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('redemption_id', sa.UUID(), nullable=False),
    sa.Column('refund_event_id', sa.UUID(), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('transaction_id', sa.UUID(), nullable=True),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'redemption_id'], ['partner_offers_redemptions.tenant_id', 'partner_offers_redemptions.id'], name=op.f('fk_partner_offers_reversals_tenant_id_partner_offers_redemptions')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_partner_offers_reversals')),
    sa.UniqueConstraint('tenant_id', 'refund_event_id', 'redemption_id', name='uq_partner_offers_reversals_refund')
    )
    op.create_table('partner_offers_customers',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('partner_id', sa.UUID(), nullable=False),
    sa.Column('member_id', sa.UUID(), nullable=False),
    sa.Column('first_event_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'member_id'], ['members.tenant_id', 'members.id'], name=op.f('fk_partner_offers_customers_tenant_id_members')),
    sa.PrimaryKeyConstraint('tenant_id', 'partner_id', 'member_id', name=op.f('pk_partner_offers_customers'))
    )

    for table in TABLES:
        secure_tenant_table(op, table)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
