"""Creating and reading tenants. Creation runs in the platform scope, then switches the
transaction to the new tenant so its provisioning passes row-level security."""

from __future__ import annotations

import base64
import binascii
import functools
import re
import uuid
import zoneinfo
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Row, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_core.audit.service import record
from loyalty_core.db.engine import set_tenant
from loyalty_core.errors import ErrorCode, LoyaltyError, NotFound, ValidationFailed
from loyalty_core.ids import new_id
from loyalty_core.ledger import repository as ledger_repo
from loyalty_core.ledger.models import Asset, AssetKind
from loyalty_core.money import validate_currency
from loyalty_core.tenants.models import Branding, Tenant
from loyalty_core.tenants.tables import tenants

SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")
"""A colour as CSS writes it in hex: ``#rgb`` or ``#rrggbb``."""
MAX_LOGO_URL = 2048
"""The longest https logo URL (what browsers and CDNs reliably take)."""
MAX_LOGO_DATA = 32_768
"""The longest ``data:`` logo: a small SVG or PNG. Branding travels with the tenant's
settings (every ``tenant { settings }`` and the sign-in page's read), so it stays small;
a larger logo belongs on a web server."""
LOGO_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml")
_DATA_URL = re.compile(r"data:(image/[a-z0-9.+-]+);base64,([A-Za-z0-9+/]*={0,2})")
DEFAULT_ASSET_CODE = "points"
"""The code of the point asset every tenant gets when it is created (what purchases earn)."""


async def create_tenant(
    conn: AsyncConnection,
    *,
    slug: str,
    name: str,
    timezone: str = "UTC",
    default_currency: str = "EUR",
    earn_rates: dict[str, str] | None = None,
    points_expiry_days: int | None = None,
    points_pending_days: int = 0,
) -> Tenant:
    """Create a tenant with its default point asset ``points``. Needs the platform scope."""
    _validate(slug=slug, name=name, timezone=timezone, currency=default_currency)
    rates = _validate_rates(earn_rates or {default_currency: "1"})
    tenant_id = new_id()
    try:
        async with conn.begin_nested():
            await conn.execute(
                insert(tenants).values(
                    tenant_id=tenant_id,
                    slug=slug,
                    name=name.strip(),
                    timezone=timezone,
                    default_currency=default_currency,
                    settings={"earnRates": rates},
                )
            )
    except IntegrityError as exc:
        raise LoyaltyError(
            f"a tenant with slug {slug!r} exists", code=ErrorCode.ALREADY_EXISTS, field="slug"
        ) from exc
    await set_tenant(conn, tenant_id)
    await ledger_repo.insert_asset(
        conn,
        tenant_id,
        Asset(
            id=new_id(),
            code=DEFAULT_ASSET_CODE,
            name="Points",
            kind=AssetKind.POINTS,
            scale=0,
            allow_negative=False,
            expiry_days=points_expiry_days,
            pending_days=points_pending_days,
        ),
    )
    return await get_tenant(conn, tenant_id)


async def get_tenant(conn: AsyncConnection, tenant_id: uuid.UUID) -> Tenant:
    row = (await conn.execute(select(tenants).where(tenants.c.tenant_id == tenant_id))).first()
    if row is None:
        raise NotFound("tenant not found")
    return tenant_from_row(row)


async def list_tenants(conn: AsyncConnection) -> list[Tenant]:
    """Every tenant (platform scope), oldest first: what jobs iterate over."""
    rows = await conn.execute(select(tenants).order_by(tenants.c.tenant_id))
    return [tenant_from_row(row) for row in rows]


def tenant_from_row(row: Row[Any]) -> Tenant:
    return Tenant(
        id=row.tenant_id,
        slug=row.slug,
        name=row.name,
        timezone=row.timezone,
        default_currency=row.default_currency,
        settings=dict(row.settings),
        created_at=row.created_at,
    )


@functools.cache
def time_zones() -> frozenset[str]:
    """The IANA time zones this process knows (read once: listing them walks the tz data).
    Membership, not ``ZoneInfo(name)``, decides: that would also take paths and files."""
    return frozenset(zoneinfo.available_timezones())


def _validate(*, slug: str, name: str, timezone: str, currency: str) -> None:
    if not SLUG.fullmatch(slug):
        raise ValidationFailed(
            "slug: 1-63 lowercase letters, digits and inner hyphens", field="slug"
        )
    if not name.strip() or len(name) > 200:
        raise ValidationFailed("name: 1-200 characters", field="name")
    if timezone not in time_zones():
        raise ValidationFailed(f"unknown time zone {timezone[:64]!r}", field="timezone")
    validate_currency(currency, field="defaultCurrency")


def _validate_rates(rates: dict[str, str]) -> dict[str, str]:
    checked: dict[str, str] = {}
    for currency, rate in rates.items():
        validate_currency(currency, field="earnRates")
        try:
            value = Decimal(rate)
        except InvalidOperation as exc:
            raise ValidationFailed(f"rate {rate!r} is not a decimal", field="earnRates") from exc
        if not value.is_finite() or value < 0:
            raise ValidationFailed("rates must be zero or positive", field="earnRates")
        checked[currency] = str(value)
    return checked


def validate_branding(branding: Branding) -> Branding:
    """The branding with its colours in lowercase, or ValidationFailed on the field at
    fault: a logo must be an https URL (no credentials in it) or a base64 ``data:`` URL of
    an image type browsers show (PNG, JPEG, GIF, WebP, SVG); a colour ``#rgb`` or
    ``#rrggbb``. Nothing else can reach a sign-in page's ``<img src>`` or its styles."""
    if branding.logo_url is not None:
        _validate_logo(branding.logo_url)
    colours: dict[str, str | None] = {}
    for field, value in (
        ("primaryColor", branding.primary_color),
        ("accentColor", branding.accent_color),
    ):
        if value is not None and not COLOR.fullmatch(value):
            raise ValidationFailed(
                f"{field}: a hex colour, #rgb or #rrggbb", field=f"branding.{field}"
            )
        colours[field] = value.lower() if value is not None else None
    return Branding(
        logo_url=branding.logo_url,
        primary_color=colours["primaryColor"],
        accent_color=colours["accentColor"],
    )


def _validate_logo(url: str) -> None:
    field = "branding.logoUrl"
    if url.startswith("data:"):
        found = _DATA_URL.fullmatch(url)
        if len(url) > MAX_LOGO_DATA or found is None or found[1] not in LOGO_TYPES:
            raise ValidationFailed(
                f"logoUrl: a data: URL is base64 of {', '.join(LOGO_TYPES)}, at most "
                f"{MAX_LOGO_DATA} characters",
                field=field,
            )
        try:
            base64.b64decode(found[2], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValidationFailed("logoUrl: the data is not base64", field=field) from exc
        return
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise ValidationFailed("logoUrl: not a URL", field=field) from exc
    if (
        len(url) > MAX_LOGO_URL
        or parts.scheme != "https"
        or not parts.hostname
        or parts.username is not None
        or any(c.isspace() or not c.isprintable() or c in "\"'<>`" for c in url)
    ):
        raise ValidationFailed(
            f"logoUrl: an https URL (at most {MAX_LOGO_URL} characters) or a data: image",
            field=field,
        )


async def update_tenant(
    conn: AsyncConnection,
    tenant: Tenant,
    *,
    name: str | None = None,
    timezone: str | None = None,
    earn_rates: dict[str, str] | None = None,
    branding: Branding | None = None,
    actor: str,
) -> Tenant:
    """Change a tenant's name, time zone, base earn rates (take effect on the next event)
    or branding (replaced as a whole: a field not given is cleared)."""
    _validate(
        slug=tenant.slug,
        name=name if name is not None else tenant.name,
        timezone=tenant.timezone if timezone is None else timezone,
        currency=tenant.default_currency,
    )
    changes: dict[str, object] = {}
    if name is not None:
        changes["name"] = name.strip()
    if timezone is not None:
        changes["timezone"] = timezone
    settings = dict(tenant.settings)
    if earn_rates is not None:
        settings["earnRates"] = _validate_rates(earn_rates)
    if branding is not None:
        settings["branding"] = validate_branding(branding).as_settings()
    if settings != tenant.settings:
        changes["settings"] = settings
    if changes:
        await conn.execute(
            update(tenants).where(tenants.c.tenant_id == tenant.id).values(**changes)
        )
    await record(
        conn,
        tenant.id,
        actor=actor,
        action="tenant.update",
        target=f"tenant:{tenant.id}",
        data={"fields": sorted(changes)},
    )
    return await get_tenant(conn, tenant.id)


async def public_branding(conn: AsyncConnection, slug: str) -> tuple[str, Branding] | None:
    """The name and branding of the tenant ``slug`` (None: no such tenant), for a sign-in
    page before anyone signs in. Needs the platform scope (the caller has no tenant yet);
    reads those two columns only, so nothing else of a tenant can reach an anonymous
    caller. The slug is the tenants' unique key, so it is one index look-up."""
    if not SLUG.fullmatch(slug):
        return None
    row = (
        await conn.execute(
            select(tenants.c.name, tenants.c.settings["branding"]).where(tenants.c.slug == slug)
        )
    ).first()
    if row is None:
        return None
    name, branding = row
    return name, Branding.of_settings({"branding": branding})


__all__ = [
    "DEFAULT_ASSET_CODE",
    "create_tenant",
    "get_tenant",
    "list_tenants",
    "public_branding",
    "tenant_from_row",
    "update_tenant",
    "validate_branding",
]
