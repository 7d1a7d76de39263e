"""Row-level security and privileges, applied by migrations to every tenant table.

Migrations grant to the group role ``loyalty_runtime``; ``loyalty migrate`` creates the login
role the gateway uses as a member of it. So migrations stay static while operators pick the
login role's name and password. Module migrations call :func:`secure_tenant_table` too
(re-exported by the SDK), which is how a module's tables get the same two walls as the core's.
"""

from __future__ import annotations

from typing import Protocol

RUNTIME_ROLE = "loyalty_runtime"

CURRENT_TENANT_FUNCTION = """
CREATE OR REPLACE FUNCTION loyalty_current_tenant() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT nullif(current_setting('loyalty.tenant_id', true), '')::uuid $$
"""


class _Operations(Protocol):
    def execute(self, sqltext: str) -> object: ...


def secure_tenant_table(op: _Operations, table: str, *, immutable: bool = False) -> None:
    """Enable and force RLS on ``table`` by ``tenant_id`` and grant it to the runtime role.

    ``immutable`` tables (ledger transactions and entries, logs) are insert-only for the
    runtime role: history is corrected by new rows, never rewritten.
    """
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {table} "
        "USING (tenant_id = loyalty_current_tenant()) "
        "WITH CHECK (tenant_id = loyalty_current_tenant())"
    )
    privileges = "SELECT, INSERT" if immutable else "SELECT, INSERT, UPDATE, DELETE"
    op.execute(f"GRANT {privileges} ON {table} TO {RUNTIME_ROLE}")


__all__ = ["CURRENT_TENANT_FUNCTION", "RUNTIME_ROLE", "secure_tenant_table"]
