"""Rewards: a catalogue, vouchers, instant rewards and unlocked services.

The hook implementations (this package is the entry point). The work lives in the modules
named by what they hold: ``catalogue`` (rewards a retailer offers), ``redemptions`` (points in,
a reward out, and cancellation), ``vouchers`` (codes issued or imported, checked, held, used),
``lookup`` (finding a code without helping anyone guess), ``entitlements`` (unlocked
services), ``effects`` (instant and surprise rewards for campaigns), ``kinds`` and
``hookspecs`` (what other modules may offer as a reward), ``repository`` and ``tables``
(SQL), ``types`` and ``schema`` (GraphQL), ``jobs``, ``privacy``, ``demo``. Only
``loyalty_core.sdk`` is imported from the core, and nothing from other modules.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from types import ModuleType

from loyalty_core.sdk import (
    SDK_VERSION,
    DemoSeed,
    Job,
    MemberData,
    ModuleInfo,
    RuleEffect,
    SchemaContribution,
    Tenant,
    TenantProvisioning,
    TypeExtension,
    hookimpl,
)
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_rewards import demo, hookspecs
from loyalty_rewards.effects import GIVE_REWARD, SURPRISE_REWARD
from loyalty_rewards.jobs import EXPIRY_JOB, RESERVATIONS_JOB
from loyalty_rewards.keys import ensure_key
from loyalty_rewards.privacy import MEMBER_DATA
from loyalty_rewards.schema import (
    NAME,
    RewardMutation,
    RewardQuery,
    member_entitlements,
    member_redemptions,
    member_vouchers,
)
from loyalty_rewards.settings import RewardSettings

__version__ = "0.1.0"


@hookimpl
def loyalty_module() -> ModuleInfo:
    return ModuleInfo(
        name=NAME,
        version=__version__,
        description="Rewards: a catalogue, vouchers, instant rewards and unlocked services.",
        settings_model=RewardSettings,
        sdk_version=SDK_VERSION,
    )


@hookimpl
def loyalty_migrations() -> Path:
    return Path(str(resources.files("loyalty_rewards") / "migrations" / "versions"))


@hookimpl
def loyalty_schema() -> SchemaContribution:
    return SchemaContribution(query=RewardQuery, mutation=RewardMutation)


@hookimpl
def loyalty_type_extensions() -> list[TypeExtension]:
    return [
        TypeExtension("Member", member_vouchers),
        TypeExtension("Member", member_redemptions),
        TypeExtension("Member", member_entitlements),
    ]


@hookimpl
def loyalty_rule_effects() -> list[RuleEffect]:
    return [GIVE_REWARD, SURPRISE_REWARD]


@hookimpl
def loyalty_jobs() -> list[Job]:
    return [RESERVATIONS_JOB, EXPIRY_JOB]


@hookimpl
def loyalty_member_data() -> MemberData:
    return MEMBER_DATA


@hookimpl
def loyalty_hookspecs() -> ModuleType:
    return hookspecs


@hookimpl
def loyalty_tenant_enabled() -> TenantProvisioning:
    return TenantProvisioning(run=provision)


@hookimpl
def loyalty_demo() -> DemoSeed:
    return DemoSeed(settings={}, seed=demo.seed)


async def provision(conn: AsyncConnection, tenant: Tenant, settings: BaseModel) -> None:
    """The tenant's voucher key (enabling again keeps it)."""
    await ensure_key(conn, tenant.id)


__all__ = [
    "loyalty_demo",
    "loyalty_hookspecs",
    "loyalty_jobs",
    "loyalty_member_data",
    "loyalty_migrations",
    "loyalty_module",
    "loyalty_rule_effects",
    "loyalty_schema",
    "loyalty_tenant_enabled",
    "loyalty_type_extensions",
    "provision",
]
