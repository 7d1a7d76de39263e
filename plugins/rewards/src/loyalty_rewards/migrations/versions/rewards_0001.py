"""rewards: the catalogue, redemptions, vouchers and their pools, uses, entitlements, surprise
budgets, the tenant's code key and voucher look-up lock-outs.

Revision ID: rewards_0001
Revises:
Create Date: 2026-12-04 11:00:00

The module's first revision: a base of its own (branch label ``rewards``) that depends on the
core revision introducing ledger accounts owned by modules. Every table is secured with
row-level security.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from loyalty_core.sdk import secure_tenant_table

revision: str = "rewards_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("rewards",)
depends_on: str | Sequence[str] | None = "0003_owned_accounts"

TABLES = (
    "rewards_keys",
    "rewards_rewards",
    "rewards_redemptions",
    "rewards_pools",
    "rewards_vouchers",
    "rewards_voucher_uses",
    "rewards_entitlements",
    "rewards_budgets",
    "rewards_lockouts",
)


def upgrade() -> None:
    op.create_table('rewards_keys',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('secret', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.tenant_id'], name=op.f('fk_rewards_keys_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_rewards_keys'))
    )
    op.create_table('rewards_rewards',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('redeemable', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('asset_code', sa.String(length=64), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('money_amount', sa.BigInteger(), nullable=True),
    sa.Column('money_currency', sa.String(length=3), nullable=True),
    sa.Column('stock', sa.Integer(), nullable=True),
    sa.Column('member_limit', sa.Integer(), nullable=True),
    sa.Column('member_limit_days', sa.Integer(), nullable=True),
    sa.Column('segment', sa.Text(), nullable=True),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=True),
    sa.Column('valid_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancel_window_minutes', sa.Integer(), server_default='0', nullable=False),
    sa.Column('texts', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('params', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('points >= 0', name=op.f('ck_rewards_rewards_points')),
    sa.CheckConstraint('stock IS NULL OR stock >= 0', name=op.f('ck_rewards_rewards_stock')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.tenant_id'], name=op.f('fk_rewards_rewards_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_rewards_rewards'))
    )
    op.create_table('rewards_redemptions',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('reward_id', sa.UUID(), nullable=False),
    sa.Column('member_id', sa.UUID(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('fulfilment', sa.String(length=16), nullable=True),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('asset_code', sa.String(length=64), nullable=False),
    sa.Column('money_amount', sa.BigInteger(), nullable=True),
    sa.Column('money_currency', sa.String(length=3), nullable=True),
    sa.Column('spend_transaction_id', sa.UUID(), nullable=True),
    sa.Column('give_back_transaction_id', sa.UUID(), nullable=True),
    sa.Column('issued_reference', sa.String(length=200), nullable=True),
    sa.Column('delivery_address', sa.Text(), nullable=True),
    sa.Column('tracking', sa.String(length=200), nullable=True),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('cause', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("fulfilment IS NULL OR fulfilment IN ('pending', 'shipped', 'delivered', 'cancelled')", name=op.f('ck_rewards_redemptions_fulfilment')),
    sa.CheckConstraint("status IN ('issued', 'cancelled')", name=op.f('ck_rewards_redemptions_status')),
    sa.ForeignKeyConstraint(['tenant_id', 'member_id'], ['members.tenant_id', 'members.id'], name=op.f('fk_rewards_redemptions_tenant_id_members')),
    sa.ForeignKeyConstraint(['tenant_id', 'reward_id'], ['rewards_rewards.tenant_id', 'rewards_rewards.id'], name=op.f('fk_rewards_redemptions_tenant_id_rewards_rewards')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.tenant_id'], name=op.f('fk_rewards_redemptions_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_rewards_redemptions')),
    sa.UniqueConstraint('tenant_id', 'idempotency_key', name='uq_rewards_redemptions_key')
    )
    op.create_index('ix_rewards_redemptions_member', 'rewards_redemptions', ['tenant_id', 'member_id', 'reward_id', 'id'], unique=False)
    op.create_table('rewards_pools',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.tenant_id'], name=op.f('fk_rewards_pools_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_rewards_pools'))
    )
    op.create_table('rewards_vouchers',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('last_four', sa.String(length=4), nullable=False),
    sa.Column('code_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('member_id', sa.UUID(), nullable=True),
    sa.Column('reward_id', sa.UUID(), nullable=True),
    sa.Column('redemption_id', sa.UUID(), nullable=True),
    sa.Column('pool_id', sa.UUID(), nullable=True),
    sa.Column('discount_kind', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=True),
    sa.Column('percent', sa.Integer(), nullable=True),
    sa.Column('item_sku', sa.String(length=100), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('min_basket', sa.BigInteger(), nullable=True),
    sa.Column('max_uses', sa.Integer(), nullable=True),
    sa.Column('uses', sa.Integer(), server_default='0', nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reserved_by', sa.String(length=200), nullable=True),
    sa.Column('reserved_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("discount_kind IN ('amount', 'percent', 'item')", name=op.f('ck_rewards_vouchers_discount_kind')),
    sa.CheckConstraint("status IN ('available', 'active', 'redeemed', 'cancelled', 'expired')", name=op.f('ck_rewards_vouchers_status')),
    sa.CheckConstraint('max_uses IS NULL OR uses <= max_uses', name=op.f('ck_rewards_vouchers_uses')),
    sa.ForeignKeyConstraint(['tenant_id', 'member_id'], ['members.tenant_id', 'members.id'], name=op.f('fk_rewards_vouchers_tenant_id_members')),
    sa.ForeignKeyConstraint(['tenant_id', 'pool_id'], ['rewards_pools.tenant_id', 'rewards_pools.id'], name=op.f('fk_rewards_vouchers_tenant_id_rewards_pools')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.tenant_id'], name=op.f('fk_rewards_vouchers_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_rewards_vouchers')),
    sa.UniqueConstraint('tenant_id', 'code_hash', name='uq_rewards_vouchers_code_hash')
    )
    op.create_index('ix_rewards_vouchers_expiring', 'rewards_vouchers', ['tenant_id', 'expires_at'], unique=False, postgresql_where=sa.text("status = 'active' AND expires_at IS NOT NULL"))
    op.create_index('ix_rewards_vouchers_member', 'rewards_vouchers', ['tenant_id', 'member_id', 'id'], unique=False)
    op.create_index('ix_rewards_vouchers_pool_available', 'rewards_vouchers', ['tenant_id', 'pool_id', 'id'], unique=False, postgresql_where=sa.text("status = 'available'"))
    op.create_index('ix_rewards_vouchers_reserved', 'rewards_vouchers', ['tenant_id', 'reserved_until'], unique=False, postgresql_where=sa.text('reserved_until IS NOT NULL'))
    op.create_table('rewards_voucher_uses',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('voucher_id', sa.UUID(), nullable=False),
    sa.Column('discount', sa.BigInteger(), nullable=False),
    sa.Column('basket_amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('checkout', sa.String(length=200), nullable=True),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'voucher_id'], ['rewards_vouchers.tenant_id', 'rewards_vouchers.id'], name=op.f('fk_rewards_voucher_uses_tenant_id_rewards_vouchers')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_rewards_voucher_uses')),
    sa.UniqueConstraint('tenant_id', 'idempotency_key', name='uq_rewards_voucher_uses_key')
    )
    op.create_index('ix_rewards_voucher_uses_voucher', 'rewards_voucher_uses', ['tenant_id', 'voucher_id'], unique=False)
    op.create_table('rewards_entitlements',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('member_id', sa.UUID(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('redemption_id', sa.UUID(), nullable=True),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'member_id'], ['members.tenant_id', 'members.id'], name=op.f('fk_rewards_entitlements_tenant_id_members')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_rewards_entitlements'))
    )
    op.create_index('ix_rewards_entitlements_member', 'rewards_entitlements', ['tenant_id', 'member_id', 'name'], unique=False)
    op.create_table('rewards_budgets',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('name', sa.String(length=250), nullable=False),
    sa.Column('budget', sa.Integer(), nullable=False),
    sa.Column('awarded', sa.Integer(), server_default='0', nullable=False),
    sa.CheckConstraint('awarded <= budget', name=op.f('ck_rewards_budgets_awarded')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.tenant_id'], name=op.f('fk_rewards_budgets_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'name', name=op.f('pk_rewards_budgets'))
    )
    op.create_table('rewards_lockouts',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('subject', sa.String(length=250), nullable=False),
    sa.Column('failures', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.tenant_id'], name=op.f('fk_rewards_lockouts_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'subject', name=op.f('pk_rewards_lockouts'))
    )

    for table in TABLES:
        secure_tenant_table(op, table)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
