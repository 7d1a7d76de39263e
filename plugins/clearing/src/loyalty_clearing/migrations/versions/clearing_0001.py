"""clearing: partners and their keys, rate cards, point blocks, movements, periods and
statements.

Revision ID: clearing_0001
Revises:
Create Date: 2026-12-04 11:00:00

The module's first revision: a base of its own (branch label ``clearing``) that depends on
the core's latest revision. Every table is secured with row-level security; closed periods
and statements are insert-only for the app role (a closed statement never changes).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import String, Text
from sqlalchemy.dialects import postgresql

from loyalty_core.sdk import secure_tenant_table

revision: str = "clearing_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("clearing",)
depends_on: str | Sequence[str] | None = "0008_campaign_health"

TABLES = (
    "clearing_partners",
    "clearing_partner_keys",
    "clearing_rate_cards",
    "clearing_point_blocks",
    "clearing_movements",
    "clearing_periods",
    "clearing_statements",
)
IMMUTABLE = {"clearing_periods", "clearing_statements", "clearing_partner_keys"}


def upgrade() -> None:
    op.create_table('clearing_partners',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('roles', postgresql.ARRAY(String(length=16)), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='active', nullable=False),
    sa.Column('billing', sa.String(length=16), server_default='postpaid', nullable=False),
    sa.Column('credit_limit', sa.BigInteger(), nullable=True),
    sa.Column('reorder_threshold', sa.BigInteger(), nullable=True),
    sa.Column('contacts', postgresql.JSONB(astext_type=Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("billing IN ('postpaid', 'prepaid')", name=op.f('ck_clearing_partners_billing')),
    sa.CheckConstraint("status IN ('active', 'suspended', 'ended')", name=op.f('ck_clearing_partners_status')),
    sa.CheckConstraint('cardinality(roles) BETWEEN 1 AND 2', name=op.f('ck_clearing_partners_roles')),
    sa.CheckConstraint('credit_limit IS NULL OR credit_limit >= 0', name=op.f('ck_clearing_partners_credit_limit')),
    sa.CheckConstraint('reorder_threshold IS NULL OR reorder_threshold >= 0', name=op.f('ck_clearing_partners_reorder')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.tenant_id'], name=op.f('fk_clearing_partners_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_clearing_partners')),
    sa.UniqueConstraint('tenant_id', 'name', name='uq_clearing_partners_name')
    )
    op.create_table('clearing_partner_keys',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('api_key_id', sa.UUID(), nullable=False),
    sa.Column('partner_id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'api_key_id'], ['api_keys.tenant_id', 'api_keys.id'], name=op.f('fk_clearing_partner_keys_tenant_id_api_keys')),
    sa.ForeignKeyConstraint(['tenant_id', 'partner_id'], ['clearing_partners.tenant_id', 'clearing_partners.id'], name=op.f('fk_clearing_partner_keys_tenant_id_clearing_partners')),
    sa.PrimaryKeyConstraint('tenant_id', 'api_key_id', name=op.f('pk_clearing_partner_keys'))
    )
    op.create_table('clearing_rate_cards',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('partner_id', sa.UUID(), nullable=False),
    sa.Column('asset_code', sa.String(length=32), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('effective_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('issue_price', sa.Numeric(precision=18, scale=8), nullable=False),
    sa.Column('redeem_reimbursement', sa.Numeric(precision=18, scale=8), nullable=False),
    sa.Column('fee_percent', sa.Numeric(precision=7, scale=4), server_default='0', nullable=False),
    sa.Column('fee_fixed', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('fee_percent >= 0 AND fee_percent <= 100 AND fee_fixed >= 0', name=op.f('ck_clearing_rate_cards_fees')),
    sa.CheckConstraint('issue_price >= 0 AND redeem_reimbursement >= 0', name=op.f('ck_clearing_rate_cards_rates')),
    sa.ForeignKeyConstraint(['tenant_id', 'partner_id'], ['clearing_partners.tenant_id', 'clearing_partners.id'], name=op.f('fk_clearing_rate_cards_tenant_id_clearing_partners')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_clearing_rate_cards')),
    sa.UniqueConstraint('tenant_id', 'partner_id', 'asset_code', 'currency', 'version', name='uq_clearing_rate_cards_version')
    )
    op.create_table('clearing_point_blocks',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('partner_id', sa.UUID(), nullable=False),
    sa.Column('asset_code', sa.String(length=32), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('remaining', sa.BigInteger(), nullable=False),
    sa.Column('price', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('points > 0 AND remaining >= 0 AND remaining <= points', name=op.f('ck_clearing_point_blocks_remaining')),
    sa.CheckConstraint('price >= 0', name=op.f('ck_clearing_point_blocks_price')),
    sa.ForeignKeyConstraint(['tenant_id', 'partner_id'], ['clearing_partners.tenant_id', 'clearing_partners.id'], name=op.f('fk_clearing_point_blocks_tenant_id_clearing_partners')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_clearing_point_blocks')),
    sa.UniqueConstraint('tenant_id', 'idempotency_key', name='uq_clearing_point_blocks_key')
    )
    op.create_table('clearing_movements',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('partner_id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('asset_code', sa.String(length=32), nullable=True),
    sa.Column('points', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('rate', sa.Numeric(precision=18, scale=8), nullable=True),
    sa.Column('exact_amount', sa.Numeric(precision=30, scale=10), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('transaction_id', sa.UUID(), nullable=True),
    sa.Column('event_id', sa.UUID(), nullable=True),
    sa.Column('rate_card_id', sa.UUID(), nullable=True),
    sa.Column('block_id', sa.UUID(), nullable=True),
    sa.Column('cause', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('statement_id', sa.UUID(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('issued', 'redeemed', 'reversal', 'fee', 'adjustment', 'block', 'rounding', 'funded')", name=op.f('ck_clearing_movements_kind')),
    sa.ForeignKeyConstraint(['tenant_id', 'partner_id'], ['clearing_partners.tenant_id', 'clearing_partners.id'], name=op.f('fk_clearing_movements_tenant_id_clearing_partners')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_clearing_movements'))
    )
    op.create_table('clearing_periods',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.tenant_id'], name=op.f('fk_clearing_periods_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'starts_on', name=op.f('pk_clearing_periods'))
    )
    op.create_table('clearing_statements',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('partner_id', sa.UUID(), nullable=False),
    sa.Column('period_starts_on', sa.Date(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('opening', sa.BigInteger(), nullable=False),
    sa.Column('points_issued', sa.BigInteger(), nullable=False),
    sa.Column('issued_amount', sa.BigInteger(), nullable=False),
    sa.Column('points_redeemed', sa.BigInteger(), nullable=False),
    sa.Column('redeemed_amount', sa.BigInteger(), nullable=False),
    sa.Column('points_reversed', sa.BigInteger(), nullable=False),
    sa.Column('reversals_amount', sa.BigInteger(), nullable=False),
    sa.Column('fees_amount', sa.BigInteger(), nullable=False),
    sa.Column('adjustments_amount', sa.BigInteger(), nullable=False),
    sa.Column('blocks_amount', sa.BigInteger(), nullable=False),
    sa.Column('rounding_amount', sa.BigInteger(), nullable=False),
    sa.Column('closing', sa.BigInteger(), nullable=False),
    sa.Column('residue', sa.Numeric(precision=30, scale=10), nullable=False),
    sa.Column('lines', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'partner_id'], ['clearing_partners.tenant_id', 'clearing_partners.id'], name=op.f('fk_clearing_statements_tenant_id_clearing_partners')),
    sa.ForeignKeyConstraint(['tenant_id', 'period_starts_on'], ['clearing_periods.tenant_id', 'clearing_periods.starts_on'], name=op.f('fk_clearing_statements_tenant_id_clearing_periods')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_clearing_statements')),
    sa.UniqueConstraint('tenant_id', 'partner_id', 'period_starts_on', name='uq_clearing_statements_period')
    )
    op.create_index('ix_clearing_rate_cards_in_effect', 'clearing_rate_cards', ['tenant_id', 'partner_id', 'asset_code', 'currency', 'effective_from'], unique=False)
    op.create_index('ix_clearing_point_blocks_draw', 'clearing_point_blocks', ['tenant_id', 'partner_id', 'asset_code', sa.literal_column('expires_at ASC NULLS LAST'), 'id'], unique=False, postgresql_where=sa.text('remaining > 0'))
    op.create_index('ix_clearing_movements_event', 'clearing_movements', ['tenant_id', 'event_id'], unique=False)
    op.create_index('ix_clearing_movements_open', 'clearing_movements', ['tenant_id', 'partner_id', 'occurred_at'], unique=False, postgresql_where=sa.text('statement_id IS NULL'))
    op.create_index('ix_clearing_movements_partner', 'clearing_movements', ['tenant_id', 'partner_id', 'id'], unique=False)
    op.create_index('ix_clearing_movements_statement', 'clearing_movements', ['tenant_id', 'statement_id'], unique=False, postgresql_where=sa.text('statement_id IS NOT NULL'))
    for table in TABLES:
        secure_tenant_table(op, table, immutable=table in IMMUTABLE)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
