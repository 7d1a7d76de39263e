"""Balance change notifications, and the migration state readable by the runtime role.

A trigger on ``ledger_accounts`` announces every change of a member's balance on the channel
``loyalty_balance`` with the payload ``<tenant id>:<member id>``. PostgreSQL delivers it when
the writing transaction commits (and drops it when it rolls back), to every listening gateway
replica, which wakes that member's ``balanceChanged`` subscriptions. The payload carries ids
only: subscribers read the balance under their own credential and row-level security.

``/readyz`` checks that the database is at head as the runtime role, which therefore needs to
read ``alembic_version``.

Revision ID: 0002_balance_notify
Revises: 0001_core
Create Date: 2026-11-23 22:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

from loyalty_core.db.security import RUNTIME_ROLE

revision: str = '0002_balance_notify'
down_revision: str | None = '0001_core'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOTIFY_FUNCTION = """
CREATE FUNCTION loyalty_notify_balance() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('loyalty_balance', NEW.tenant_id::text || ':' || NEW.member_id::text);
    RETURN NULL;
END $$
"""

NOTIFY_TRIGGER = """
CREATE TRIGGER ledger_accounts_balance_notify
AFTER UPDATE OF balance ON ledger_accounts
FOR EACH ROW
WHEN (NEW.member_id IS NOT NULL AND NEW.balance IS DISTINCT FROM OLD.balance)
EXECUTE FUNCTION loyalty_notify_balance()
"""


def upgrade() -> None:
    op.execute(NOTIFY_FUNCTION)
    op.execute(NOTIFY_TRIGGER)
    op.execute(f"GRANT SELECT ON alembic_version TO {RUNTIME_ROLE}")


def downgrade() -> None:
    op.execute(f"REVOKE SELECT ON alembic_version FROM {RUNTIME_ROLE}")
    op.execute("DROP TRIGGER ledger_accounts_balance_notify ON ledger_accounts")
    op.execute("DROP FUNCTION loyalty_notify_balance()")
