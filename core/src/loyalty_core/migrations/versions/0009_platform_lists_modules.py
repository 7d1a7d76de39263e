"""The platform scope may read which modules tenants enabled.

A gateway starting up builds the schemas of the module sets tenants use. It read each
tenant's set in a transaction of its own (``tenant_modules`` was visible to tenant scopes
only): thousands of round trips for thousands of tenants. The platform scope, which already
sees every tenant, now reads them all in one statement; it gains read access only, and a
tenant scope still sees nothing but its own rows.

Revision ID: 0009_platform_lists_modules
Revises: 0008_campaign_health
Create Date: 2026-12-04 14:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009_platform_lists_modules"
down_revision: str | None = "0008_campaign_health"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE POLICY platform_reads ON tenant_modules FOR SELECT "
        "USING (current_setting('loyalty.scope', true) = 'platform')"
    )


def downgrade() -> None:
    op.execute("DROP POLICY platform_reads ON tenant_modules")
