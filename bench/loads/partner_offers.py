"""Partner offers on the ingest path: 1,000 live offers in the tenant's catalogue (999 a
member must clip, each for an article of its own, and one for everyone, 5 points on any
purchase), and 20 of them clipped by every member. Each purchase reads the catalogue's
revision with the member's 20 activations in one statement, finds its candidates in the
cached index, checks the clipped ones against the basket, and redeems the automatic offer:
its claim, the ledger posting (the third transaction of each purchase) and its row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from loyalty_core.db.engine import Database
from loyalty_core.modules.manager import build_registry
from loyalty_core.modules.service import enable_module
from loyalty_core.tenants.service import get_tenant
from loyalty_partner_offers import catalogue
from loyalty_partner_offers import repository as repo
from loyalty_partner_offers.models import Activation, Requirements, RewardKind, Terms

from bench.loads import LoadSetup, ModuleLoad
from bench.seed import SEED_ACTOR, BenchTenant

OFFERS = 1_000
CLIPPED = 20


async def configure(database: Database, tenant: BenchTenant) -> LoadSetup:
    now = datetime.now(UTC)
    start, end = now - timedelta(days=1), now + timedelta(days=365)
    async with database.tenant_transaction(tenant.tenant_id) as conn:
        found = await get_tenant(conn, tenant.tenant_id)
        await enable_module(conn, found, build_registry(), "partner_offers", {}, actor=SEED_ACTOR)
        clip = []
        for n in range(OFFERS - 1):
            draft = catalogue.Draft(
                title=f"Article {n}: 40 points",
                starts_at=start,
                ends_at=end,
                terms=Terms(RewardKind.FIXED, Decimal(40), Requirements(skus=(f"SKU-{n:04d}",))),
                activation=Activation.CLIP,
            )
            clip.append(
                await catalogue.create(
                    conn,
                    tenant.tenant_id,
                    draft,
                    partner_id=None,
                    external_id=None,
                    actor=SEED_ACTOR,
                )
            )
        everyone = catalogue.Draft(
            title="5 points on every purchase",
            starts_at=start,
            ends_at=end,
            terms=Terms(RewardKind.FIXED, Decimal(5), per_member_limit=1_000),
            activation=Activation.AUTO,
        )
        await catalogue.create(
            conn, tenant.tenant_id, everyone, partner_id=None, external_id=None, actor=SEED_ACTOR
        )
        for index, member_id in enumerate(tenant.member_ids):
            for k in range(CLIPPED):
                offer = clip[(index * CLIPPED + k) % len(clip)]
                await repo.activate(conn, tenant.tenant_id, offer, member_id, start, "activated")
    return LoadSetup(
        f"partner offers enabled: {OFFERS:,} live offers, {CLIPPED} clipped by each member, "
        "one redeemed on every purchase",
        transactions=3,
    )


LOAD = ModuleLoad("partner_offers", configure)
