"""The forfeit path of erasure, at the service level: what is left of every lot, pending
or available, moves to breakage in balanced transactions, once."""

from __future__ import annotations

from datetime import UTC, datetime

from loyalty_core.db.engine import Database
from loyalty_core.ledger import repository as repo
from loyalty_core.ledger import service as ledger
from loyalty_core.ledger.models import Cause, Purpose
from loyalty_core.members.service import create_member
from loyalty_core.modules.dispatch import DomainEvents
from loyalty_core.modules.manager import build_registry
from loyalty_core.privacy import service as privacy
from loyalty_core.tenants.models import Tenant
from loyalty_core.tenants.service import DEFAULT_ASSET_CODE
from sqlalchemy import text

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _posting(tenant: Tenant, key: str) -> ledger.Posting:
    return ledger.Posting(
        tenant_id=tenant.id,
        idempotency_key=key,
        reason="test",
        cause=Cause(kind="test"),
        actor="test",
        now=NOW,
    )


async def test_erasure_forfeits_pending_and_available_points_once(
    db: Database, tenant: Tenant
) -> None:
    registry = build_registry(load_entry_points=False)
    async with db.tenant_transaction(tenant.id) as conn:
        member = await create_member(
            conn, tenant.id, identifiers=[("email", "gone@example.com")], actor="test"
        )
        asset = await repo.get_asset(conn, tenant.id, DEFAULT_ASSET_CODE)
        assert asset is not None
        await ledger.earn(conn, _posting(tenant, "a"), member_id=member.id, asset=asset, amount=100)
        await ledger.earn(
            conn,
            _posting(tenant, "p"),
            member_id=member.id,
            asset=asset,
            amount=50,
            pending_days=10,
        )
        await ledger.spend(conn, _posting(tenant, "s"), member_id=member.id, asset=asset, amount=30)
    for _ in range(2):
        async with db.tenant_transaction(tenant.id) as conn:
            events = DomainEvents(registry, {}, db)
            context = privacy.member_data_context(
                conn, tenant.id, member.id, now=NOW, actor="admin:test"
            )
            await privacy.erase_member(registry, events, context)
    async with db.tenant_transaction(tenant.id) as conn:
        [balance] = await ledger.balances(conn, tenant.id, member.id)
        breakage = await repo.tenant_account(conn, tenant.id, asset, Purpose.BREAKAGE)
        forfeited = await repo.sum_of_entries(conn, tenant.id, breakage)
        total = await conn.scalar(
            text("SELECT sum(amount) FROM ledger_entries WHERE tenant_id = :t"), {"t": tenant.id}
        )
        forfeits = await conn.scalar(
            text(
                "SELECT count(*) FROM ledger_transactions "
                "WHERE tenant_id = :t AND idempotency_key LIKE 'forfeit:%'"
            ),
            {"t": tenant.id},
        )
    assert (balance.available, balance.pending) == (0, 0)
    assert forfeited == 120
    assert total == 0
    assert forfeits == 2
