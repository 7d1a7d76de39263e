"""GraphQL of tenants: the caller's own tenant, and creating tenants (platform admins)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.scalars import JSON
from strawberry.types import Info

from loyalty_core.auth import require_admin, require_platform, require_principal, require_tenant
from loyalty_core.context import RequestContext
from loyalty_core.errors import LoyaltyError
from loyalty_core.graphql.common import UserError, run_mutation
from loyalty_core.ledger import repository as ledger_repo
from loyalty_core.ledger.graphql_types import Asset
from loyalty_core.modules.dispatch import DomainEvents
from loyalty_core.tenants import models, service


@strawberry.type(description="How the tenant's apps look; each field may be unset.")
class Branding:
    logo_url: str | None = strawberry.field(
        description="An https URL, or a base64 `data:` URL of a PNG, JPEG, GIF, WebP or SVG."
    )
    primary_color: str | None = strawberry.field(description="`#rrggbb` or `#rgb`.")
    accent_color: str | None = strawberry.field(description="`#rrggbb` or `#rgb`.")

    @classmethod
    def of(cls, branding: models.Branding) -> Branding:
        return cls(
            logo_url=branding.logo_url,
            primary_color=branding.primary_color,
            accent_color=branding.accent_color,
        )


@strawberry.input(
    description="The tenant's branding, replaced as a whole: a field not given is cleared."
)
class BrandingInput:
    logo_url: str | None = strawberry.field(
        default=None,
        description="An https URL (at most 2048 characters) or a base64 `data:` URL of a "
        "PNG, JPEG, GIF, WebP or SVG (at most 32768 characters).",
    )
    primary_color: str | None = strawberry.field(default=None, description="`#rrggbb` or `#rgb`.")
    accent_color: str | None = strawberry.field(default=None, description="`#rrggbb` or `#rgb`.")


@strawberry.type(
    description="What anyone may see of a tenant before signing in: its name and branding."
)
class PublicTenant:
    name: str
    branding: Branding


@strawberry.type(description="A retailer (or coalition) whose programme runs here.")
class Tenant:
    id: strawberry.ID
    slug: str
    name: str
    timezone: str
    default_currency: str
    settings: dict[str, Any] = strawberry.field(graphql_type=JSON)
    created_at: datetime | None
    branding: Branding

    @strawberry.field(description="Point currencies and stored-value assets of the tenant.")
    async def assets(self, info: Info[RequestContext, None]) -> list[Asset]:
        ctx = info.context
        async with ctx.read() as conn:
            found = await ledger_repo.list_assets(conn, ctx.tenant_id)
        return [Asset.of(a) for a in found]

    @classmethod
    def of(cls, tenant: models.Tenant) -> Tenant:
        return cls(
            id=strawberry.ID(str(tenant.id)),
            slug=tenant.slug,
            name=tenant.name,
            timezone=tenant.timezone,
            default_currency=tenant.default_currency,
            settings=tenant.settings,
            created_at=tenant.created_at,
            branding=Branding.of(tenant.branding),
        )


@strawberry.input
class TenantCreateInput:
    slug: str
    name: str
    timezone: str = "UTC"
    default_currency: str = "EUR"
    earn_rates: JSON | None = strawberry.field(
        default=None, description='Points per currency unit, e.g. {"EUR": "1"}.'
    )
    points_expiry_days: int | None = None
    points_pending_days: int = 0


@strawberry.input
class TenantUpdateInput:
    name: str | None = None
    timezone: str | None = None
    earn_rates: JSON | None = strawberry.field(
        default=None, description='Base points per currency unit, e.g. {"EUR": "2"}.'
    )
    branding: BrandingInput | None = strawberry.field(
        default=None, description="Replaces the branding as a whole."
    )


@strawberry.type
class TenantCreatePayload:
    tenant: Tenant | None
    errors: list[UserError]


@strawberry.type
class TenantUpdatePayload:
    tenant: Tenant | None
    errors: list[UserError]


@strawberry.type
class TenantQuery:
    @strawberry.field(description="The caller's tenant.")
    async def tenant(self, info: Info[RequestContext, None]) -> Tenant | None:
        ctx = info.context
        require_tenant(ctx.principal)
        return Tenant.of(ctx.tenant) if ctx.tenant else None

    @strawberry.field(
        description="The name and branding of the tenant `slug`, for a sign-in page: open to "
        "anyone, signed in or not, and nothing else of the tenant; null for an unknown slug."
    )
    async def tenant_branding(
        self, info: Info[RequestContext, None], slug: str
    ) -> PublicTenant | None:
        async with info.context.database.platform_read() as conn:
            found = await service.public_branding(conn, slug)
        if found is None:
            return None
        name, branding = found
        return PublicTenant(name=name, branding=Branding.of(branding))


@strawberry.type
class TenantMutation:
    @strawberry.mutation(description="Create a tenant with its `points` asset (platform admins).")
    async def tenant_create(
        self, info: Info[RequestContext, None], input: TenantCreateInput
    ) -> TenantCreatePayload:
        ctx = info.context
        require_platform(ctx.principal)
        try:
            async with ctx.database.platform_transaction() as conn:
                created = await _create(conn, input)
        except LoyaltyError as error:
            return TenantCreatePayload(tenant=None, errors=[UserError.of(error)])
        return TenantCreatePayload(tenant=Tenant.of(created), errors=[])

    @strawberry.mutation(
        description="Change the tenant's name, time zone, base earn rates or branding."
    )
    async def tenant_update(
        self, info: Info[RequestContext, None], input: TenantUpdateInput
    ) -> TenantUpdatePayload:
        ctx = info.context
        require_admin(ctx.principal)
        actor = require_principal(ctx.principal).actor
        tenant = ctx.tenant
        assert tenant is not None

        async def work(conn: AsyncConnection, _: DomainEvents) -> models.Tenant:
            return await service.update_tenant(
                conn,
                tenant,
                name=input.name,
                timezone=input.timezone,
                earn_rates=_rates(input.earn_rates),
                branding=_branding(input.branding),
                actor=actor,
            )

        updated, errors = await run_mutation(info, work)
        return TenantUpdatePayload(tenant=Tenant.of(updated) if updated else None, errors=errors)


async def _create(conn: AsyncConnection, input: TenantCreateInput) -> models.Tenant:
    if input.points_expiry_days is not None and input.points_expiry_days <= 0:
        raise LoyaltyError("pointsExpiryDays must be positive", field="pointsExpiryDays")
    if input.points_pending_days < 0:
        raise LoyaltyError("pointsPendingDays must not be negative", field="pointsPendingDays")
    return await service.create_tenant(
        conn,
        slug=input.slug,
        name=input.name,
        timezone=input.timezone,
        default_currency=input.default_currency,
        earn_rates=_rates(input.earn_rates),
        points_expiry_days=input.points_expiry_days,
        points_pending_days=input.points_pending_days,
    )


def _branding(value: BrandingInput | None) -> models.Branding | None:
    if value is None:
        return None
    return models.Branding(
        logo_url=value.logo_url, primary_color=value.primary_color, accent_color=value.accent_color
    )


def _rates(rates: object) -> dict[str, str] | None:
    """Earn rates from JSON: an object of currency to decimal string (or whole number)."""
    if rates is None:
        return None
    if not isinstance(rates, dict) or not all(
        isinstance(v, str | int) and not isinstance(v, bool) for v in rates.values()
    ):
        raise LoyaltyError('earnRates: an object like {"EUR": "1"}', field="earnRates")
    return {str(currency): str(rate) for currency, rate in rates.items()}


__all__ = ["Branding", "PublicTenant", "Tenant", "TenantMutation", "TenantQuery"]
