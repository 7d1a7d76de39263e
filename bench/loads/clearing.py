"""Clearing on the ingest path: every purchase is sent with a coalition partner's key, so
each is attributed to the partner and priced at its rate card, and a money transfer between
the partner's clearing account and the operator's is posted in the purchase's transaction
(the third ledger transaction of each purchase). A fixed monthly fee, as partners are
charged, which costs nothing per purchase."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from loyalty_clearing import service
from loyalty_clearing.models import PartnerRole
from loyalty_core.db.engine import Database
from loyalty_core.modules.manager import build_registry
from loyalty_core.modules.service import enable_module
from loyalty_core.tenants.service import DEFAULT_ASSET_CODE, get_tenant

from bench.loads import LoadSetup, ModuleLoad
from bench.seed import SEED_ACTOR, BenchTenant

SCOPES = ["events:write", "members:read", "members:write", "points:redeem"]


async def configure(database: Database, tenant: BenchTenant) -> LoadSetup:
    async with database.tenant_transaction(tenant.tenant_id) as conn:
        found = await get_tenant(conn, tenant.tenant_id)
        await enable_module(
            conn, found, build_registry(), "clearing", {"period": "monthly"}, actor=SEED_ACTOR
        )
        partner = await service.create_partner(
            conn,
            tenant.tenant_id,
            service.PartnerDraft(
                name="Tankstelle Nord",
                roles=[PartnerRole.ISSUER, PartnerRole.ACCEPTOR],
                currency="EUR",
            ),
            actor=SEED_ACTOR,
        )
        issued = await service.create_partner_key(
            conn, tenant.tenant_id, partner.id, name="pumps", scopes=SCOPES, actor=SEED_ACTOR
        )
        await service.set_rate_card(
            conn,
            tenant.tenant_id,
            partner.id,
            service.RateCardDraft(
                asset_code=DEFAULT_ASSET_CODE,
                currency=None,
                effective_from=datetime(2000, 1, 1, tzinfo=UTC),
                issue_price=Decimal("0.0125"),
                redeem_reimbursement=Decimal("0.009"),
                fee_percent=Decimal(0),
                fee_fixed=1000,
            ),
            actor=SEED_ACTOR,
            closed_until=None,
        )
    return LoadSetup(
        "clearing enabled: every purchase through a partner's key, priced and posted",
        api_key=issued.secret,
        transactions=3,
    )


LOAD = ModuleLoad("clearing", configure)
