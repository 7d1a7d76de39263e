"""``loyalty demo``: a running programme with members and history in one command.

The demo starts the embedded PostgreSQL (data under ``--data-dir``), migrates, and seeds a
coffee-and-books retailer once: members enrolled, purchases ingested, a refund, an
operator's adjustment, a transfer between members and a redemption, and every installed
module that says how it shows itself (``loyalty_demo``: its settings, and a seed of its own
data written after the history) enabled with its data. Everything goes through the same
services the API calls, so the seeded ledger obeys every invariant a real one does and the
history reads like one. The touchpoint key and the ids are kept in
``<data-dir>/demo-credentials.json`` (an API key is stored hashed and cannot be shown again),
so running the demo again reuses the data and prints the same key, with freshly minted
tokens. With ``--no-serve`` it also prints the ``loyalty serve`` command (data folder, port,
host) that serves what it printed.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TextIO

from loyalty_core.apikeys.service import create_api_key
from loyalty_core.auth import Role, Scope
from loyalty_core.db.engine import Database
from loyalty_core.events.models import EventInput, IngestResult
from loyalty_core.events.service import Ingestion, ingest
from loyalty_core.ledger import repository as ledger_repo
from loyalty_core.ledger import service as ledger
from loyalty_core.ledger.models import Asset, Cause
from loyalty_core.members.service import create_member, find_member
from loyalty_core.modules.contributions import DemoContext, ModuleContributions
from loyalty_core.modules.contributions import DemoMember as SeedMember
from loyalty_core.modules.dispatch import DomainEvents
from loyalty_core.modules.manager import CORE_MODULE, ModuleRegistry, build_registry
from loyalty_core.modules.redemptions import publishing
from loyalty_core.modules.service import enable_module
from loyalty_core.settings import Settings
from loyalty_core.tenants.models import Tenant
from loyalty_core.tenants.service import DEFAULT_ASSET_CODE, create_tenant
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_gateway.app import GRAPHQL_PATH
from loyalty_gateway.bootstrap import (
    migrate_database,
    open_database,
    resolve_database,
    serve_app,
    tenant_by_slug,
)
from loyalty_gateway.tokens import ensure_dev_tokens_allowed, mint_token

DEMO_SLUG = "demo"
DEMO_NAME = "Demo Coffee & Books"
CREDENTIALS_FILE = "demo-credentials.json"
SEED_ACTOR = "admin:demo-seed"
POS_SCOPES = (Scope.EVENTS_WRITE, Scope.MEMBERS_READ, Scope.POINTS_REDEEM)
SIGN_IN_MODULE = "onboarding"
"""The module whose demo signs members in by one-time code: when it is in the demo, the
welcome says how to try it."""


@dataclass(frozen=True)
class DemoMember:
    first_name: str
    last_name: str
    email: str
    card: str
    channel: str

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True)
class Item:
    sku: str
    name: str
    unit_price: int


@dataclass(frozen=True)
class Purchase:
    """A purchase to ingest: who (index into MEMBERS), how long ago, what was paid
    (in cents), and optionally the basket as (item, quantity) pairs."""

    member: int
    days_ago: int
    amount: int
    store: str
    external_id: str
    items: tuple[tuple[Item, int], ...] = ()


MEMBERS = (
    DemoMember("Mia", "Schneider", "mia.schneider@example.com", "CB-1001", "app"),
    DemoMember("Lukas", "Weber", "lukas.weber@example.com", "CB-1002", "pos"),
    DemoMember("Emma", "Fischer", "emma.fischer@example.com", "CB-1003", "web"),
    DemoMember("Noah", "Becker", "noah.becker@example.com", "CB-1004", "pos"),
    DemoMember("Hannah", "Wagner", "hannah.wagner@example.com", "CB-1005", "app"),
    DemoMember("Elias", "Hoffmann", "elias.hoffmann@example.com", "CB-1006", "pos"),
    DemoMember("Lina", "Schaefer", "lina.schaefer@example.com", "CB-1007", "web"),
    DemoMember("Felix", "Koch", "felix.koch@example.com", "CB-1008", "pos"),
)

FLAT_WHITE = Item("coffee-flat-white", "Flat white", 390)
CROISSANT = Item("bakery-croissant", "Butter croissant", 470)
BEANS = Item("coffee-beans-1kg", "House blend beans 1 kg", 2490)
NOVEL = Item("book-novel", "Paperback novel", 1490)
ATLAS = Item("book-atlas", "World atlas", 3590)

PURCHASES = (
    Purchase(0, 41, 1250, "coffee-bar", "demo-0001", ((FLAT_WHITE, 2), (CROISSANT, 1))),
    Purchase(0, 20, 4890, "bookshop", "demo-0002"),
    Purchase(0, 3, 2880, "coffee-bar", "demo-0003", ((BEANS, 1), (FLAT_WHITE, 1))),
    Purchase(1, 30, 3590, "bookshop", "demo-0004", ((ATLAS, 1),)),
    Purchase(1, 12, 780, "coffee-bar", "demo-0005"),
    Purchase(2, 25, 1490, "bookshop", "demo-0006", ((NOVEL, 1),)),
    Purchase(3, 18, 6240, "bookshop", "demo-0007"),
    Purchase(3, 2, 860, "coffee-bar", "demo-0008"),
    Purchase(4, 9, 2490, "webshop", "demo-0009", ((BEANS, 1),)),
    Purchase(5, 33, 1170, "coffee-bar", "demo-0010"),
    Purchase(5, 6, 2980, "bookshop", "demo-0011", ((NOVEL, 2),)),
    Purchase(6, 14, 5320, "webshop", "demo-0012"),
    Purchase(7, 4, 940, "coffee-bar", "demo-0013"),
)
"""What the seed ingests. At 1 point per EUR (rounded down), the first member earns
12 + 48 + 28 points and later redeems 20 of them."""


@dataclass(frozen=True)
class DemoCredentials:
    """What a second run needs to print the same access again (tokens are minted fresh)."""

    tenant_id: uuid.UUID
    pos_api_key: str
    enrolment_api_key: str
    """A public enrolment key (scope ``enrolment``), as a retailer embeds it in its portal's
    link for sign-up and sign-in by code."""
    member_id: uuid.UUID
    member_name: str
    member_email: str
    member_card: str

    def to_json(self) -> dict[str, str]:
        return {
            "tenantId": str(self.tenant_id),
            "tenantSlug": DEMO_SLUG,
            "posApiKey": self.pos_api_key,
            "enrolmentApiKey": self.enrolment_api_key,
            "memberId": str(self.member_id),
            "memberName": self.member_name,
            "memberEmail": self.member_email,
            "memberCard": self.member_card,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DemoCredentials:
        return cls(
            tenant_id=uuid.UUID(data["tenantId"]),
            pos_api_key=str(data["posApiKey"]),
            enrolment_api_key=str(data["enrolmentApiKey"]),
            member_id=uuid.UUID(data["memberId"]),
            member_name=str(data["memberName"]),
            member_email=str(data["memberEmail"]),
            member_card=str(data["memberCard"]),
        )


@dataclass(frozen=True)
class DemoAccess:
    """Everything the welcome text shows."""

    graphql_url: str
    data_dir: Path
    serve_command: str
    credentials: DemoCredentials
    admin_token: str
    member_token: str
    platform_token: str
    sign_in_by_code: bool = False
    """Whether the demo tenant signs members in by one-time code (the onboarding module)."""

    @property
    def base_url(self) -> str:
        return self.graphql_url.removesuffix(GRAPHQL_PATH)

    def web_url(self, app: str, token: str) -> str:
        """The address of the portal or the console that signs in with ``token`` (it rides
        in the fragment, which the browser never sends, and the app removes at once)."""
        return f"{self.base_url}/{app}/#token={token}"


def run_demo(settings: Settings, *, serve: bool = True, out: TextIO | None = None) -> int:
    """Prepare the demo, print how to use it, and serve until interrupted (unless not
    ``serve``). Tokens are development tokens, so production settings are refused."""
    ensure_dev_tokens_allowed(settings)
    registry = build_registry()
    resolved = resolve_database(settings)
    credentials = asyncio.run(prepare_demo(resolved.settings, registry))
    access = demo_access(resolved.settings, credentials)
    if any(module.info.name == SIGN_IN_MODULE for module in demo_modules(registry)):
        access = replace(access, sign_in_by_code=True)
    print_welcome(access, out or sys.stdout, served=serve)
    if serve:
        serve_app(resolved.settings, registry)
    return 0


async def prepare_demo(settings: Settings, registry: ModuleRegistry) -> DemoCredentials:
    """Migrate, then seed the demo tenant unless it exists; the credentials to print."""
    await migrate_database(settings, registry)
    path = settings.data_dir / CREDENTIALS_FILE
    async with open_database(settings) as database:
        tenant = await tenant_by_slug(database, DEMO_SLUG)
        stored = read_credentials(path)
        if tenant is None:
            credentials = await seed(database, registry)
        elif stored is not None and stored.tenant_id == tenant.id:
            return stored
        else:
            credentials = await recover_credentials(database, tenant)
    write_credentials(path, credentials)
    return credentials


def demo_access(settings: Settings, credentials: DemoCredentials) -> DemoAccess:
    """Fresh tokens for the demo tenant's admin, its first member and a platform admin."""
    tenant_id = credentials.tenant_id
    return DemoAccess(
        graphql_url=f"http://{_display_host(settings.host)}:{settings.port}{GRAPHQL_PATH}",
        data_dir=settings.data_dir,
        serve_command=serve_command(settings),
        credentials=credentials,
        admin_token=mint_token(
            settings, role=Role.ADMIN, subject="demo-admin", tenant_id=tenant_id
        ),
        member_token=mint_token(
            settings, role=Role.MEMBER, subject=str(credentials.member_id), tenant_id=tenant_id
        ),
        platform_token=mint_token(settings, role=Role.PLATFORM, subject="demo-platform"),
    )


def serve_command(settings: Settings) -> str:
    """The command that serves the demo's data where its URLs point, for ``--no-serve``:
    a plain ``loyalty serve`` would use the default folder and port, whatever the demo used."""
    words = ["loyalty", "serve", "--data-dir", str(settings.data_dir), "--port", str(settings.port)]
    if settings.host != Settings.model_fields["host"].default:
        words += ["--host", settings.host]
    return shlex.join(words)


def print_welcome(access: DemoAccess, out: TextIO, *, served: bool = True) -> None:
    """The demo's one screen of output. Lines start with a fixed label (``Admin token:``),
    so scripts and tests can pick values out of it. Unless ``served``, it ends with the
    command that serves what it printed."""
    creds = access.credentials
    quoted_dir = shlex.quote(str(access.data_dir))
    query = (
        f'{{ memberByIdentifier(kind: CARD_NUMBER, value: \\"{creds.member_card}\\") '
        "{ firstName balances { asset { code name } available pending } } }"
    )
    lines = [
        "",
        f"Loyalty demo: {DEMO_NAME}",
        f"Tenant id:       {creds.tenant_id}  (slug {DEMO_SLUG})",
        f"Data folder:     {access.data_dir}",
        "                 (run the demo again to reuse it; delete it to start afresh;",
        f"                 other commands use it with --data-dir {quoted_dir})",
        "",
        f"GraphQL URL:     {access.graphql_url}",
        f"GraphiQL URL:    {access.graphql_url}  (open it in a browser)",
        "",
        "Open these in a browser, signed in already (as " + creds.member_name + ", and as admin):",
        f"Portal URL:      {access.web_url('portal', access.member_token)}",
        f"Console URL:     {access.web_url('console', access.admin_token)}",
        "",
        "Tokens (30 days) go in the header `Authorization: Bearer <token>`:",
        f"Admin token:     {access.admin_token}",
        f"Member token:    {access.member_token}",
        f"Member:          {creds.member_name} <{creds.member_email}>, "
        f"card {creds.member_card}, id {creds.member_id}",
        f"Platform token:  {access.platform_token}",
        "",
        "The till's API key (events:write members:read points:redeem) goes in `X-Api-Key`:",
        f"POS API key:     {creds.pos_api_key}",
        "",
        "Try it:",
        f"  curl -s {access.graphql_url} \\",
        "    -H 'Content-Type: application/json' \\",
        f"    -H 'X-Api-Key: {creds.pos_api_key}' \\",
        f'    -d \'{{"query": "{query}"}}\'',
        "",
    ]
    if access.sign_in_by_code:
        portal = f"{access.base_url}/portal/?tenant={DEMO_SLUG}&key={creds.enrolment_api_key}"
        lines += [
            "Sign in to the portal by one-time code as a member would, with the public",
            "enrolment key in the link (signInStart, then signInVerify). The demo sends no mail:",
            "the codes show in the console's Enrolment screen (`sentMessages`).",
            f"Portal sign-in:  {portal}",
            f"Enrolment key:   {creds.enrolment_api_key}",
            "",
        ]
    if not served:
        lines += [
            "Nothing serves these URLs yet (--no-serve). Serve the demo's data on them with:",
            f"Serve with:      {access.serve_command}",
            "",
        ]
    out.write("\n".join(lines) + "\n")
    out.flush()


async def seed(database: Database, registry: ModuleRegistry) -> DemoCredentials:
    """Create and fill the demo tenant in one transaction: a failed seed leaves nothing,
    so the next run seeds again instead of finding half a programme."""
    now = datetime.now(UTC)
    async with database.platform_transaction() as conn:
        tenant = await create_tenant(
            conn,
            slug=DEMO_SLUG,
            name=DEMO_NAME,
            timezone="Europe/Berlin",
            default_currency="EUR",
            earn_rates={"EUR": "1"},
            points_expiry_days=365,
        )
        shown = demo_modules(registry)
        enabled = await _enable_modules(conn, tenant, registry, shown)
        member_ids = [await _enrol(conn, tenant, member) for member in MEMBERS]
        domain_events = DomainEvents(registry, enabled, database, tenant)
        ingestion = Ingestion(tenant=tenant, actor=SEED_ACTOR, now=now, domain_events=domain_events)
        with publishing(domain_events):  # a module's seeded redemption is announced
            await _history(conn, ingestion, tenant, member_ids, now)
            context = _demo_context(conn, ingestion, member_ids, registry, enabled)
            await _seed_modules(shown, context)
        keys = await _api_keys(conn, tenant)
    await domain_events.run_after_commit()
    return _credentials(tenant, keys, member_ids[0])


async def recover_credentials(database: Database, tenant: Tenant) -> DemoCredentials:
    """The demo tenant exists but its credentials file is gone (or belongs to another
    database): issue a new POS key, since the old one cannot be read back."""
    first = MEMBERS[0]
    async with database.tenant_transaction(tenant.id) as conn:
        member = await find_member(conn, tenant.id, "email", first.email)
        if member is None:
            raise RuntimeError(f"the demo tenant has no member {first.email}; delete its data")
        keys = await _api_keys(conn, tenant)
    return _credentials(tenant, keys, member.id)


async def _api_keys(conn: AsyncConnection, tenant: Tenant) -> tuple[str, str]:
    """A till's key and a public enrolment key, as a retailer would make them."""
    pos = await create_api_key(
        conn, tenant.id, name="Demo POS", scopes=list(POS_SCOPES), actor=SEED_ACTOR
    )
    web = await create_api_key(
        conn, tenant.id, name="Demo portal", scopes=[Scope.ENROLMENT], actor=SEED_ACTOR
    )
    return pos.secret, web.secret


def read_credentials(path: Path) -> DemoCredentials | None:
    """The stored credentials, or None when absent or unreadable (they are then renewed)."""
    try:
        return DemoCredentials.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_credentials(path: Path, credentials: DemoCredentials) -> None:
    """Write the credentials readable by the owner only: the file holds a live API key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump(credentials.to_json(), file, indent=2)
        file.write("\n")


async def _enrol(conn: AsyncConnection, tenant: Tenant, member: DemoMember) -> uuid.UUID:
    created = await create_member(
        conn,
        tenant.id,
        identifiers=[("email", member.email), ("card_number", member.card)],
        profile={"firstName": member.first_name, "lastName": member.last_name, "locale": "de-DE"},
        channel=member.channel,
        actor=SEED_ACTOR,
    )
    return created.id


def demo_modules(registry: ModuleRegistry) -> list[ModuleContributions]:
    """The installed modules that show themselves in the demo (``loyalty_demo``), each after
    the modules it requires (which are enabled with it even without a demo of their own)."""
    ordered: list[ModuleContributions] = []

    def add(module: ModuleContributions) -> None:
        if module in ordered:
            return
        for required in module.info.requires:
            found = registry.get(required)
            if found is not None and required != CORE_MODULE:
                add(found)
        ordered.append(module)

    for module in registry.optional:
        if module.demo is not None:
            add(module)
    return ordered


async def _enable_modules(
    conn: AsyncConnection,
    tenant: Tenant,
    registry: ModuleRegistry,
    modules: list[ModuleContributions],
) -> dict[str, BaseModel]:
    """Enable ``modules`` with their demo settings; their parsed settings, by name."""
    enabled: dict[str, BaseModel] = {}
    for module in modules:
        settings = dict(module.demo.settings) if module.demo else {}
        name = module.info.name
        found = await enable_module(conn, tenant, registry, name, settings, actor=SEED_ACTOR)
        enabled[name] = found.settings
    return enabled


def _demo_context(
    conn: AsyncConnection,
    ingestion: Ingestion,
    member_ids: list[uuid.UUID],
    registry: ModuleRegistry,
    enabled: Mapping[str, BaseModel],
) -> DemoContext:
    members = [
        SeedMember(member_id, member.name, member.email)
        for member_id, member in zip(member_ids, MEMBERS, strict=True)
    ]
    return DemoContext(
        conn=conn,
        tenant=ingestion.tenant,
        members=members,
        actor=SEED_ACTOR,
        now=ingestion.now,
        ingest=partial(ingest, conn, ingestion),
        ingest_as=partial(_ingest_as, conn, ingestion),
        registry=registry,
        enabled_modules=enabled,
    )


async def _ingest_as(
    conn: AsyncConnection, ingestion: Ingestion, event: EventInput, actor: str
) -> IngestResult:
    """``event`` ingested as ``actor`` sends it (a partner's till in a module's demo)."""
    return await ingest(conn, replace(ingestion, actor=actor), event)


async def _seed_modules(modules: list[ModuleContributions], context: DemoContext) -> None:
    """Each module's own demo data, in the order the modules were enabled."""
    for module in modules:
        if module.demo is not None and module.demo.seed is not None:
            await module.demo.seed(context)


async def _history(
    conn: AsyncConnection,
    ingestion: Ingestion,
    tenant: Tenant,
    member_ids: list[uuid.UUID],
    now: datetime,
) -> None:
    """Purchases, then one of every other movement, so each kind shows up in a ledger."""
    for purchase in PURCHASES:
        await ingest(conn, ingestion, _purchase_event(purchase, member_ids, now))
    await ingest(conn, ingestion, _refund_event(member_ids[1], now))
    points = await ledger_repo.get_asset(conn, tenant.id, DEFAULT_ASSET_CODE)
    assert points is not None
    await _movements(conn, tenant, points, member_ids, now)


async def _movements(
    conn: AsyncConnection,
    tenant: Tenant,
    points: Asset,
    member_ids: list[uuid.UUID],
    now: datetime,
) -> None:
    await ledger.adjust(
        conn,
        _posting(tenant, "demo:adjust:1", "welcome bonus for joining in the app", "operator", now),
        member_id=member_ids[2],
        asset=points,
        delta=50,
    )
    await ledger.transfer(
        conn,
        _posting(tenant, "demo:transfer:1", "sharing with family", "transfer", now),
        sender_id=member_ids[3],
        recipient_id=member_ids[4],
        asset=points,
        amount=15,
    )
    await ledger.spend(
        conn,
        _posting(tenant, "demo:redeem:1", "free flat white", "redemption", now),
        member_id=member_ids[0],
        asset=points,
        amount=20,
    )


def _purchase_event(purchase: Purchase, member_ids: list[uuid.UUID], now: datetime) -> EventInput:
    payload: dict[str, Any] = {
        "amount": purchase.amount,
        "currency": "EUR",
        "store": purchase.store,
        "orderReference": purchase.external_id.upper(),
    }
    if purchase.items:
        payload["items"] = [
            {"sku": item.sku, "name": item.name, "quantity": quantity, "unitPrice": item.unit_price}
            for item, quantity in purchase.items
        ]
    return EventInput(
        type="purchase",
        source=f"pos-{purchase.store}",
        external_id=purchase.external_id,
        payload=payload,
        member_id=member_ids[purchase.member],
        occurred_at=now - timedelta(days=purchase.days_ago, hours=purchase.member),
    )


def _refund_event(member_id: uuid.UUID, now: datetime) -> EventInput:
    """Half of the atlas comes back (a damaged copy): half its points are reversed."""
    return EventInput(
        type="refund",
        source="pos-bookshop",
        external_id="demo-0004-r1",
        payload={"amount": 1795, "currency": "EUR", "purchaseExternalId": "demo-0004"},
        member_id=member_id,
        occurred_at=now - timedelta(days=28),
    )


def _posting(tenant: Tenant, key: str, reason: str, cause: str, now: datetime) -> ledger.Posting:
    return ledger.Posting(
        tenant_id=tenant.id,
        idempotency_key=key,
        reason=reason,
        cause=Cause(kind=cause, id=SEED_ACTOR),
        actor=SEED_ACTOR,
        now=now,
    )


def _credentials(tenant: Tenant, keys: tuple[str, str], member_id: uuid.UUID) -> DemoCredentials:
    first = MEMBERS[0]
    return DemoCredentials(
        tenant_id=tenant.id,
        pos_api_key=keys[0],
        enrolment_api_key=keys[1],
        member_id=member_id,
        member_name=first.name,
        member_email=first.email,
        member_card=first.card,
    )


def _display_host(host: str) -> str:
    """Where a browser on this machine reaches a server bound to ``host``."""
    return "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host  # noqa: S104


__all__ = [
    "CREDENTIALS_FILE",
    "DEMO_NAME",
    "DEMO_SLUG",
    "DemoAccess",
    "DemoCredentials",
    "demo_access",
    "prepare_demo",
    "print_welcome",
    "read_credentials",
    "run_demo",
    "seed",
    "serve_command",
]
