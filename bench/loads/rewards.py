"""Rewards on the ingest path: a catalogue of 200 rewards and an instant-reward campaign live
(a surprise voucher for one purchase in fifty, within a budget), so every purchase meets the
campaign's effect: the draw on every event, a redemption for the winners."""

from __future__ import annotations

from datetime import UTC, datetime

from loyalty_core.db.engine import Database
from loyalty_core.modules.manager import build_registry
from loyalty_core.modules.service import enable_module
from loyalty_core.rules import service as rules
from loyalty_core.rules.engine import module_effects
from loyalty_core.tenants.service import get_tenant
from loyalty_rewards import catalogue
from loyalty_rewards.models import RewardText

from bench.loads import LoadSetup, ModuleLoad
from bench.seed import SEED_ACTOR, BenchTenant


async def configure(database: Database, tenant: BenchTenant) -> LoadSetup:
    async with database.tenant_transaction(tenant.tenant_id) as conn:
        found = await get_tenant(conn, tenant.tenant_id)
        registry = build_registry()
        await enable_module(conn, found, registry, "rewards", {}, actor=SEED_ACTOR)
        made = []
        for n in range(200):
            draft = catalogue.Draft(
                name=f"Reward {n}",
                kind="VOUCHER",
                points=100 + n,
                texts=(RewardText("en", f"Reward {n}"),),
                params={"discount": "amount", "amount": 100 + n, "currency": "EUR"},
            )
            made.append(
                await catalogue.create(
                    conn, tenant.tenant_id, draft, module_kinds={}, now=datetime.now(UTC)
                )
            )
        definition = {
            "trigger": "purchase",
            "effects": [
                {
                    "kind": "rewards.surprise_reward",
                    "params": {"rewardId": str(made[0].id), "probability": 0.02, "budget": 1_000},
                }
            ],
        }
        campaign = await rules.create(
            conn,
            tenant.tenant_id,
            name="Surprise voucher",
            data=definition,
            effects=module_effects(registry, ["rewards"]),
            module_types={},
            actor=SEED_ACTOR,
        )
        await rules.set_status(conn, tenant.tenant_id, campaign.id, "active", SEED_ACTOR)
    return LoadSetup("rewards: 200 rewards, a surprise voucher campaign on every purchase")


LOAD = ModuleLoad("rewards", configure)
