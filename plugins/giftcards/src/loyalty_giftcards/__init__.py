"""Gift cards: stored value that cannot be double-spent or guessed.

The hook implementations (this package is the entry point). Each hook returns declarations;
the work lives in the modules named by what they hold: ``codes`` (making and checking
codes), ``keys`` (the tenant's HMAC key), ``lockout`` and ``lookup`` (enumeration
protection), ``service`` (every movement of value), ``repository`` and ``tables`` (SQL),
``schema`` (GraphQL), ``effects`` (the rule effect), ``jobs`` (expiry), ``routes`` (the
batch export), ``privacy`` (export and erasure of a member's data), ``tender`` (paying with
a card through the payment module), ``reward`` (a card as a reward of the rewards module).
Only ``loyalty_core.sdk`` is imported from the core, and nothing from the payment or rewards
modules.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

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
    ledger,
    minor_units,
)
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.routing import Route

from loyalty_giftcards import demo
from loyalty_giftcards.effects import ISSUE_GIFT_CARD
from loyalty_giftcards.jobs import EXPIRY_JOB
from loyalty_giftcards.keys import ensure_key
from loyalty_giftcards.privacy import MEMBER_DATA
from loyalty_giftcards.reward import GiftCardReward
from loyalty_giftcards.routes import ROUTES
from loyalty_giftcards.schema import (
    NAME,
    GiftCardBatch,
    GiftCardMutation,
    GiftCardQuery,
    member_gift_cards,
)
from loyalty_giftcards.settings import GiftCardSettings, asset_code
from loyalty_giftcards.tender import GiftCardTender

__version__ = "0.1.0"


@hookimpl
def loyalty_module() -> ModuleInfo:
    return ModuleInfo(
        name=NAME,
        version=__version__,
        description="Gift cards: issue, activate, redeem, reload, refund, transfer, expire.",
        settings_model=GiftCardSettings,
        sdk_version=SDK_VERSION,
    )


@hookimpl
def loyalty_migrations() -> Path:
    return Path(str(resources.files("loyalty_giftcards") / "migrations" / "versions"))


@hookimpl
def loyalty_schema() -> SchemaContribution:
    return SchemaContribution(query=GiftCardQuery, mutation=GiftCardMutation, types=[GiftCardBatch])


@hookimpl
def loyalty_type_extensions() -> list[TypeExtension]:
    return [TypeExtension("Member", member_gift_cards)]


@hookimpl
def loyalty_rule_effects() -> list[RuleEffect]:
    return [ISSUE_GIFT_CARD]


@hookimpl
def loyalty_jobs() -> list[Job]:
    return [EXPIRY_JOB]


@hookimpl
def loyalty_routes() -> list[Route]:
    return list(ROUTES)


@hookimpl
def loyalty_member_data() -> MemberData:
    return MEMBER_DATA


@hookimpl(optionalhook=True)
def loyalty_payment_tenders() -> list[object]:
    """The payment module's hook (``loyalty_payment.hookspecs``): cards pay as ``GIFT_CARD``.
    Optional: without the payment module the hook has no spec, and gift cards still load."""
    return [GiftCardTender()]


@hookimpl(optionalhook=True)
def loyalty_rewards_kinds() -> list[object]:
    """The rewards module's hook (``loyalty_rewards.hookspecs``): a reward of kind
    ``GIFT_CARD`` issues a card. Optional: without the rewards module the hook has no spec."""
    return [GiftCardReward()]


@hookimpl
def loyalty_tenant_enabled() -> TenantProvisioning:
    return TenantProvisioning(run=provision)


@hookimpl
def loyalty_demo() -> DemoSeed:
    """The demo sells cards in euros (:mod:`loyalty_giftcards.demo`)."""
    return DemoSeed(settings={"currencies": [demo.CURRENCY]}, seed=demo.seed)


async def provision(conn: AsyncConnection, tenant: Tenant, settings: BaseModel) -> None:
    """The tenant's HMAC key and one money asset per currency (``giftcard_eur``, scale = the
    currency's minor units). Enabling again with more currencies adds their assets; assets
    of currencies dropped stay, so cards already issued in them keep working."""
    assert isinstance(settings, GiftCardSettings)
    await ensure_key(conn, tenant.id)
    for currency in settings.currencies:
        if await ledger.get_asset(conn, tenant.id, asset_code(currency)) is None:
            await ledger.create_asset(
                conn,
                tenant.id,
                code=asset_code(currency),
                name=f"Gift cards ({currency})",
                kind=ledger.AssetKind.MONEY,
                scale=minor_units(currency),
                actor=f"module:{NAME}",
            )


__all__ = [
    "loyalty_demo",
    "loyalty_jobs",
    "loyalty_member_data",
    "loyalty_migrations",
    "loyalty_module",
    "loyalty_payment_tenders",
    "loyalty_rewards_kinds",
    "loyalty_routes",
    "loyalty_rule_effects",
    "loyalty_schema",
    "loyalty_tenant_enabled",
    "loyalty_type_extensions",
    "provision",
]
