"""Tenant change notifications, so gateways can cache who a credential is.

The gateway caches, per process, what authenticating a request reads: an API key's principal,
the tenant row and the modules the tenant enabled with their settings. Triggers on
``api_keys``, ``tenants`` and ``tenant_modules`` announce every change on the channel
``loyalty_tenant_changed`` with the tenant id as payload. PostgreSQL delivers it when the
writing transaction commits (and drops it when it rolls back), to every listening replica,
which forgets what it cached for that tenant. Writers need not remember to notify: any
statement that changes those rows does, whichever code path runs it.

Revision ID: 0006_tenant_change_notify
Revises: 0005_asset_expiry_policy
Create Date: 2026-11-25 00:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006_tenant_change_notify"
down_revision: str | None = "0005_asset_expiry_policy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("api_keys", "tenants", "tenant_modules")

NOTIFY_FUNCTION = """
CREATE FUNCTION loyalty_notify_tenant_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('loyalty_tenant_changed', OLD.tenant_id::text);
    ELSE
        PERFORM pg_notify('loyalty_tenant_changed', NEW.tenant_id::text);
    END IF;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.execute(NOTIFY_FUNCTION)
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_tenant_changed_notify "
            f"AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION loyalty_notify_tenant_changed()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_tenant_changed_notify ON {table}")
    op.execute("DROP FUNCTION loyalty_notify_tenant_changed()")
