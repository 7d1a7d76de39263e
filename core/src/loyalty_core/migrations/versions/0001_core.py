"""Core: tenants, members, ledger, events, API keys, module settings, audit log, outbox.

Besides the tables: row-level security on every table, the runtime role's privileges
(ledger history insert-only), and a deferred trigger that refuses to commit a ledger
transaction whose entries do not sum to zero per asset.

Revision ID: 0001_core
Revises:
Create Date: 2026-11-23 21:48:48.161526
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from loyalty_core.db.security import CURRENT_TENANT_FUNCTION, secure_tenant_table

revision: str = '0001_core'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ('core',)
depends_on: str | Sequence[str] | None = None

MUTABLE_TABLES = (
    "tenants",
    "assets",
    "members",
    "member_identifiers",
    "ledger_accounts",
    "ledger_lots",
    "event_types",
    "events",
    "api_keys",
    "tenant_modules",
    "outbox",
)
IMMUTABLE_TABLES = ("ledger_transactions", "ledger_entries", "audit_log")

BALANCED_TRANSACTION_FUNCTION = """
CREATE FUNCTION loyalty_check_transaction_balanced() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM ledger_entries
        WHERE tenant_id = NEW.tenant_id AND transaction_id = NEW.transaction_id
        GROUP BY asset_id HAVING sum(amount) <> 0
    ) THEN
        RAISE EXCEPTION 'ledger transaction % does not balance', NEW.transaction_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.execute(CURRENT_TENANT_FUNCTION)
    op.create_table('tenants',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('slug', sa.String(length=63), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('timezone', sa.String(length=64), server_default='UTC', nullable=False),
    sa.Column('default_currency', sa.String(length=3), server_default='EUR', nullable=False),
    sa.Column('settings', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_tenants')),
    sa.UniqueConstraint('slug', name=op.f('uq_tenants_slug'))
    )
    op.create_table('api_keys',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('scopes', postgresql.ARRAY(sa.String(length=32)), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.tenant_id'], name=op.f('fk_api_keys_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_api_keys'))
    )
    op.create_table('assets',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('scale', sa.SmallInteger(), server_default='0', nullable=False),
    sa.Column('allow_negative', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('expiry_days', sa.Integer(), nullable=True),
    sa.Column('pending_days', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('points', 'money')", name=op.f('ck_assets_kind')),
    sa.CheckConstraint('expiry_days IS NULL OR expiry_days > 0', name=op.f('ck_assets_expiry_days')),
    sa.CheckConstraint('pending_days >= 0', name=op.f('ck_assets_pending_days')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.tenant_id'], name=op.f('fk_assets_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_assets')),
    sa.UniqueConstraint('tenant_id', 'code', name='uq_assets_code')
    )
    op.create_table('audit_log',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=False),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.tenant_id'], name=op.f('fk_audit_log_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_audit_log'))
    )
    op.create_index('ix_audit_log_target', 'audit_log', ['tenant_id', 'target'], unique=False)
    op.create_table('event_types',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('description', sa.String(length=500), server_default='', nullable=False),
    sa.Column('json_schema', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.tenant_id'], name=op.f('fk_event_types_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'name', name=op.f('pk_event_types'))
    )
    op.create_table('ledger_transactions',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('cause_kind', sa.String(length=32), nullable=False),
    sa.Column('cause_id', sa.String(length=200), nullable=True),
    sa.Column('event_id', sa.UUID(), nullable=True),
    sa.Column('rule_id', sa.UUID(), nullable=True),
    sa.Column('rule_version', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('reverses_id', sa.UUID(), nullable=True),
    sa.Column('details', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'reverses_id'], ['ledger_transactions.tenant_id', 'ledger_transactions.id'], name=op.f('fk_ledger_transactions_tenant_id_ledger_transactions')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.tenant_id'], name=op.f('fk_ledger_transactions_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_ledger_transactions')),
    sa.UniqueConstraint('tenant_id', 'idempotency_key', name='uq_ledger_transactions_idempotency')
    )
    op.create_index('ix_ledger_transactions_event', 'ledger_transactions', ['tenant_id', 'event_id'], unique=False)
    op.create_table('members',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='active', nullable=False),
    sa.Column('profile', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('attributes', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('enrolment_channel', sa.String(length=32), server_default='api', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('active', 'blocked', 'erased')", name=op.f('ck_members_status')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.tenant_id'], name=op.f('fk_members_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_members'))
    )
    op.create_table('outbox',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('topic', sa.String(length=100), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.tenant_id'], name=op.f('fk_outbox_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_outbox'))
    )
    op.create_index('ix_outbox_unpublished', 'outbox', ['tenant_id', 'id'], unique=False, postgresql_where=sa.text('published_at IS NULL'))
    op.create_table('tenant_modules',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('module', sa.String(length=64), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('settings', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.tenant_id'], name=op.f('fk_tenant_modules_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'module', name=op.f('pk_tenant_modules'))
    )
    op.create_table('events',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=False),
    sa.Column('member_id', sa.UUID(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('payload_hash', sa.String(length=64), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('refunded_amount', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('purchase_id', sa.UUID(), nullable=True),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('amount IS NULL OR (refunded_amount >= 0 AND refunded_amount <= amount)', name=op.f('ck_events_refund_within_amount')),
    sa.ForeignKeyConstraint(['tenant_id', 'member_id'], ['members.tenant_id', 'members.id'], name=op.f('fk_events_tenant_id_members')),
    sa.ForeignKeyConstraint(['tenant_id', 'purchase_id'], ['events.tenant_id', 'events.id'], name=op.f('fk_events_tenant_id_events')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.tenant_id'], name=op.f('fk_events_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_events')),
    sa.UniqueConstraint('tenant_id', 'source', 'external_id', name='uq_events_source_external_id')
    )
    op.create_index('ix_events_member', 'events', ['tenant_id', 'member_id', 'occurred_at'], unique=False)
    op.create_table('ledger_accounts',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('asset_id', sa.UUID(), nullable=False),
    sa.Column('member_id', sa.UUID(), nullable=True),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('balance', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('tracks_balance', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('allow_negative', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('allow_negative OR balance >= 0', name=op.f('ck_ledger_accounts_no_overdraft')),
    sa.CheckConstraint('tracks_balance OR balance = 0', name=op.f('ck_ledger_accounts_derived_balance')),
    sa.ForeignKeyConstraint(['tenant_id', 'asset_id'], ['assets.tenant_id', 'assets.id'], name=op.f('fk_ledger_accounts_tenant_id_assets')),
    sa.ForeignKeyConstraint(['tenant_id', 'member_id'], ['members.tenant_id', 'members.id'], name=op.f('fk_ledger_accounts_tenant_id_members')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_ledger_accounts'))
    )
    op.create_index('uq_ledger_accounts_member_purpose', 'ledger_accounts', ['tenant_id', 'member_id', 'asset_id', 'purpose'], unique=True, postgresql_where=sa.text('member_id IS NOT NULL'))
    op.create_index('uq_ledger_accounts_tenant_purpose', 'ledger_accounts', ['tenant_id', 'asset_id', 'purpose'], unique=True, postgresql_where=sa.text('member_id IS NULL'))
    op.create_table('member_identifiers',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('member_id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('value', sa.String(length=320), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'member_id'], ['members.tenant_id', 'members.id'], name=op.f('fk_member_identifiers_tenant_id_members')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_member_identifiers')),
    sa.UniqueConstraint('tenant_id', 'kind', 'value', name='uq_member_identifiers_kind_value')
    )
    op.create_index('ix_member_identifiers_member', 'member_identifiers', ['tenant_id', 'member_id'], unique=False)
    op.create_table('ledger_lots',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('account_id', sa.UUID(), nullable=False),
    sa.Column('member_id', sa.UUID(), nullable=False),
    sa.Column('asset_id', sa.UUID(), nullable=False),
    sa.Column('transaction_id', sa.UUID(), nullable=False),
    sa.Column('earned', sa.BigInteger(), nullable=False),
    sa.Column('remaining', sa.BigInteger(), nullable=False),
    sa.Column('available_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('earned > 0 AND remaining >= 0 AND remaining <= earned', name=op.f('ck_ledger_lots_remaining')),
    sa.ForeignKeyConstraint(['tenant_id', 'account_id'], ['ledger_accounts.tenant_id', 'ledger_accounts.id'], name=op.f('fk_ledger_lots_tenant_id_ledger_accounts')),
    sa.ForeignKeyConstraint(['tenant_id', 'transaction_id'], ['ledger_transactions.tenant_id', 'ledger_transactions.id'], name=op.f('fk_ledger_lots_tenant_id_ledger_transactions')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_ledger_lots'))
    )
    op.create_index('ix_ledger_lots_due', 'ledger_lots', ['tenant_id', 'available_from'], unique=False, postgresql_where=sa.text('remaining > 0'))
    op.create_index('ix_ledger_lots_expiring', 'ledger_lots', ['tenant_id', 'expires_at'], unique=False, postgresql_where=sa.text('remaining > 0 AND expires_at IS NOT NULL'))
    op.create_index('ix_ledger_lots_spend_order', 'ledger_lots', ['tenant_id', 'account_id', sa.literal_column('expires_at ASC NULLS LAST'), 'id'], unique=False, postgresql_where=sa.text('remaining > 0'))
    op.create_table('ledger_entries',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('transaction_id', sa.UUID(), nullable=False),
    sa.Column('account_id', sa.UUID(), nullable=False),
    sa.Column('asset_id', sa.UUID(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('lot_id', sa.UUID(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('amount <> 0', name=op.f('ck_ledger_entries_nonzero')),
    sa.ForeignKeyConstraint(['tenant_id', 'account_id'], ['ledger_accounts.tenant_id', 'ledger_accounts.id'], name=op.f('fk_ledger_entries_tenant_id_ledger_accounts')),
    sa.ForeignKeyConstraint(['tenant_id', 'lot_id'], ['ledger_lots.tenant_id', 'ledger_lots.id'], name=op.f('fk_ledger_entries_tenant_id_ledger_lots')),
    sa.ForeignKeyConstraint(['tenant_id', 'transaction_id'], ['ledger_transactions.tenant_id', 'ledger_transactions.id'], name=op.f('fk_ledger_entries_tenant_id_ledger_transactions')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_ledger_entries'))
    )
    op.create_index('ix_ledger_entries_account', 'ledger_entries', ['tenant_id', 'account_id', 'id'], unique=False)
    op.create_index('ix_ledger_entries_transaction', 'ledger_entries', ['tenant_id', 'transaction_id'], unique=False)
    for table in MUTABLE_TABLES:
        secure_tenant_table(op, table)
    for table in IMMUTABLE_TABLES:
        secure_tenant_table(op, table, immutable=True)
    op.execute(
        "CREATE POLICY platform_scope ON tenants "
        "USING (current_setting('loyalty.scope', true) = 'platform') "
        "WITH CHECK (current_setting('loyalty.scope', true) = 'platform')"
    )
    op.execute(BALANCED_TRANSACTION_FUNCTION)
    op.execute(
        "CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
        "EXECUTE FUNCTION loyalty_check_transaction_balanced()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER ledger_entries_balanced ON ledger_entries")
    op.execute("DROP FUNCTION loyalty_check_transaction_balanced()")
    op.drop_index('ix_ledger_entries_transaction', table_name='ledger_entries')
    op.drop_index('ix_ledger_entries_account', table_name='ledger_entries')
    op.drop_table('ledger_entries')
    op.drop_index('ix_ledger_lots_spend_order', table_name='ledger_lots', postgresql_where=sa.text('remaining > 0'))
    op.drop_index('ix_ledger_lots_expiring', table_name='ledger_lots', postgresql_where=sa.text('remaining > 0 AND expires_at IS NOT NULL'))
    op.drop_index('ix_ledger_lots_due', table_name='ledger_lots', postgresql_where=sa.text('remaining > 0'))
    op.drop_table('ledger_lots')
    op.drop_index('ix_member_identifiers_member', table_name='member_identifiers')
    op.drop_table('member_identifiers')
    op.drop_index('uq_ledger_accounts_tenant_purpose', table_name='ledger_accounts', postgresql_where=sa.text('member_id IS NULL'))
    op.drop_index('uq_ledger_accounts_member_purpose', table_name='ledger_accounts', postgresql_where=sa.text('member_id IS NOT NULL'))
    op.drop_table('ledger_accounts')
    op.drop_index('ix_events_member', table_name='events')
    op.drop_table('events')
    op.drop_table('tenant_modules')
    op.drop_index('ix_outbox_unpublished', table_name='outbox', postgresql_where=sa.text('published_at IS NULL'))
    op.drop_table('outbox')
    op.drop_table('members')
    op.drop_index('ix_ledger_transactions_event', table_name='ledger_transactions')
    op.drop_table('ledger_transactions')
    op.drop_table('event_types')
    op.drop_index('ix_audit_log_target', table_name='audit_log')
    op.drop_table('audit_log')
    op.drop_table('assets')
    op.drop_table('api_keys')
    op.drop_table('tenants')
    op.execute("DROP FUNCTION loyalty_current_tenant()")
