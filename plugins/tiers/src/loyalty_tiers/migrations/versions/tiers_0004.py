"""tiers: the history's rows no longer check their member by foreign key.

A window's end writes a history row for most of a tenant's members at once, and the
per-row check against ``members`` cost as much as writing the row. Every history row is
written for a member who has a standing row (``tiers_members``), which keeps its own
foreign key to ``members``, and members are never deleted (erasure blanks them), so the
check guarded nothing the standing does not.

Revision ID: tiers_0004
Revises: tiers_0003
Create Date: 2026-12-04 14:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "tiers_0004"
down_revision: str | None = "tiers_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint(
        op.f("fk_tiers_history_tenant_id_members"), "tiers_history", type_="foreignkey"
    )


def downgrade() -> None:
    op.create_foreign_key(
        op.f("fk_tiers_history_tenant_id_members"),
        "tiers_history",
        "members",
        ["tenant_id", "member_id"],
        ["tenant_id", "id"],
    )
