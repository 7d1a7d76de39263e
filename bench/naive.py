"""P6's naive build of the dashboard: what a first version without our fast path looks like.

A strawberry schema whose types wrap SQLAlchemy ORM models, related rows fetched by lazy
loading (``awaitable_attrs``, one query per relationship per row: the N+1 a naive ledger
page does), served by strawberry's own ASGI view with default settings (no parser or
validation cache, its extension machinery per request) and a session per operation. It
answers the dashboard query of :mod:`bench.dashboard` with the same JSON as the gateway, so
the comparison is about how, not what. Not used anywhere but the benchmark.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import strawberry
from sqlalchemy import (
    ARRAY,
    BigInteger,
    DateTime,
    ForeignKeyConstraint,
    String,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncAttrs, AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from strawberry.extensions import SchemaExtension
from strawberry.types import Info

from bench.dashboard import LEDGER_PAGE


class Base(AsyncAttrs, DeclarativeBase):
    """Models of the tables the dashboard reads (their own metadata, never created)."""


class ApiKeyRow(Base):
    __tablename__ = "api_keys"
    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MemberRow(Base):
    __tablename__ = "members"
    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    status: Mapped[str] = mapped_column(String)
    profile: Mapped[dict[str, Any]] = mapped_column(JSONB)
    identifiers: Mapped[list[IdentifierRow]] = relationship(
        order_by="(IdentifierRow.kind, IdentifierRow.value)"
    )
    accounts: Mapped[list[AccountRow]] = relationship()


class IdentifierRow(Base):
    __tablename__ = "member_identifiers"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
    )
    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(UUID)
    kind: Mapped[str] = mapped_column(String)
    value: Mapped[str] = mapped_column(String)


class AssetRow(Base):
    __tablename__ = "assets"
    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    code: Mapped[str] = mapped_column(String)


class AccountRow(Base):
    __tablename__ = "ledger_accounts"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"]),
        ForeignKeyConstraint(["tenant_id", "asset_id"], ["assets.tenant_id", "assets.id"]),
    )
    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    member_id: Mapped[uuid.UUID | None] = mapped_column(UUID)
    asset_id: Mapped[uuid.UUID] = mapped_column(UUID)
    purpose: Mapped[str] = mapped_column(String)
    balance: Mapped[int] = mapped_column(BigInteger)
    asset: Mapped[AssetRow] = relationship()


class TransactionRow(Base):
    __tablename__ = "ledger_transactions"
    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    kind: Mapped[str] = mapped_column(String)
    reason: Mapped[str] = mapped_column(String)
    cause_kind: Mapped[str] = mapped_column(String)
    cause_id: Mapped[str | None] = mapped_column(String)
    event_id: Mapped[uuid.UUID | None] = mapped_column(UUID)


class LotRow(Base):
    __tablename__ = "ledger_lots"
    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class EntryRow(Base):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "transaction_id"],
            ["ledger_transactions.tenant_id", "ledger_transactions.id"],
        ),
        ForeignKeyConstraint(
            ["tenant_id", "account_id"], ["ledger_accounts.tenant_id", "ledger_accounts.id"]
        ),
        ForeignKeyConstraint(["tenant_id", "asset_id"], ["assets.tenant_id", "assets.id"]),
        ForeignKeyConstraint(["tenant_id", "lot_id"], ["ledger_lots.tenant_id", "ledger_lots.id"]),
    )
    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    transaction_id: Mapped[uuid.UUID] = mapped_column(UUID)
    account_id: Mapped[uuid.UUID] = mapped_column(UUID)
    asset_id: Mapped[uuid.UUID] = mapped_column(UUID)
    lot_id: Mapped[uuid.UUID | None] = mapped_column(UUID)
    amount: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    transaction: Mapped[TransactionRow] = relationship()
    account: Mapped[AccountRow] = relationship(overlaps="asset")
    asset: Mapped[AssetRow] = relationship(overlaps="account")
    lot: Mapped[LotRow | None] = relationship(overlaps="account,asset,transaction")


class CampaignRow(Base):
    __tablename__ = "rule_campaigns"
    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    name: Mapped[str] = mapped_column(String)
    status: Mapped[str] = mapped_column(String)
    current_version: Mapped[int] = mapped_column(BigInteger)


class CampaignVersionRow(Base):
    __tablename__ = "rule_campaign_versions"
    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    campaign_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSONB)


@strawberry.type
class ActiveCampaign:
    id: strawberry.ID
    name: str
    trigger: str
    ends_at: datetime | None


@strawberry.type
class Identifier:
    kind: str
    value: str


@strawberry.type
class Asset:
    code: str


@strawberry.type
class Balance:
    asset: Asset
    available: int
    pending: int


@strawberry.type
class Cause:
    kind: str
    reference: str | None
    event_id: strawberry.ID | None


@strawberry.type
class LedgerEntry:
    id: strawberry.ID
    amount: int
    asset_code: str
    account: str
    kind: str
    reason: str
    cause: Cause
    transaction_id: strawberry.ID
    expires_at: datetime | None
    created_at: datetime


@strawberry.type
class LedgerEdge:
    cursor: str
    node: LedgerEntry


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class LedgerConnection:
    edges: list[LedgerEdge]
    page_info: PageInfo


@strawberry.type
class Member:
    row: strawberry.Private[MemberRow]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.id))

    @strawberry.field
    def first_name(self) -> str | None:
        return self.row.profile.get("firstName")

    @strawberry.field
    def last_name(self) -> str | None:
        return self.row.profile.get("lastName")

    @strawberry.field
    def status(self) -> str:
        return self.row.status.upper()

    @strawberry.field
    async def identifiers(self) -> list[Identifier]:
        rows = await self.row.awaitable_attrs.identifiers
        return [Identifier(kind=r.kind.upper(), value=r.value) for r in rows]

    @strawberry.field
    async def balances(self, info: Info) -> list[Balance]:
        session: AsyncSession = info.context["session"]
        assets = await session.scalars(
            select(AssetRow).where(AssetRow.tenant_id == self.row.tenant_id).order_by(AssetRow.code)
        )
        accounts = await self.row.awaitable_attrs.accounts
        found: list[Balance] = []
        for asset in assets:
            amounts = {a.purpose: a.balance for a in accounts if a.asset_id == asset.id}
            found.append(
                Balance(
                    asset=Asset(code=asset.code),
                    available=int(amounts.get("available", 0)),
                    pending=int(amounts.get("pending", 0)),
                )
            )
        return found

    @strawberry.field
    async def ledger(self, info: Info, first: int | None = None) -> LedgerConnection:
        session: AsyncSession = info.context["session"]
        limit = first or LEDGER_PAGE
        entries = list(
            await session.scalars(
                select(EntryRow)
                .join(EntryRow.account)
                .where(EntryRow.tenant_id == self.row.tenant_id)
                .where(AccountRow.member_id == self.row.id)
                .order_by(EntryRow.id.desc())
                .limit(limit + 1)
            )
        )
        edges = [
            LedgerEdge(cursor=_cursor(entry.id), node=await _entry(entry))
            for entry in entries[:limit]
        ]
        return LedgerConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(entries) > limit,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )

    @strawberry.field
    async def active_campaigns(self, info: Info) -> list[ActiveCampaign]:
        """Active campaigns, then each one's current version (N+1), kept inside their dates."""
        session: AsyncSession = info.context["session"]
        campaigns = await session.scalars(
            select(CampaignRow)
            .where(CampaignRow.tenant_id == self.row.tenant_id, CampaignRow.status == "active")
            .order_by(CampaignRow.name, CampaignRow.id)
        )
        now = datetime.now(UTC)
        found: list[ActiveCampaign] = []
        for campaign in campaigns:
            key = (campaign.tenant_id, campaign.id, campaign.current_version)
            version = await session.get(CampaignVersionRow, key)
            assert version is not None
            window = version.definition.get("window") or {}
            starts, ends = (
                None if window.get(name) is None else datetime.fromisoformat(window[name])
                for name in ("startsAt", "endsAt")
            )
            if (starts is None or starts <= now) and (ends is None or now < ends):
                trigger = version.definition["trigger"]
                found.append(
                    ActiveCampaign(
                        id=strawberry.ID(str(campaign.id)),
                        name=campaign.name,
                        trigger=trigger,
                        ends_at=ends,
                    )
                )
        return found


async def _entry(entry: EntryRow) -> LedgerEntry:
    """One entry, its transaction, lot, account and asset each loaded lazily: N+1 by design."""
    transaction = await entry.awaitable_attrs.transaction
    lot = await entry.awaitable_attrs.lot
    account = await entry.awaitable_attrs.account
    asset = await entry.awaitable_attrs.asset
    return LedgerEntry(
        id=strawberry.ID(str(entry.id)),
        amount=int(entry.amount),
        asset_code=asset.code,
        account=account.purpose.upper(),
        kind=transaction.kind.upper(),
        reason=transaction.reason,
        cause=Cause(
            kind=transaction.cause_kind,
            reference=transaction.cause_id,
            event_id=strawberry.ID(str(transaction.event_id)) if transaction.event_id else None,
        ),
        transaction_id=strawberry.ID(str(transaction.id)),
        expires_at=lot.expires_at if lot else None,
        created_at=entry.created_at,
    )


def _cursor(entry_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(entry_id.bytes).decode().rstrip("=")


@strawberry.type
class Query:
    @strawberry.field
    async def member(self, info: Info, id: strawberry.ID) -> Member | None:
        session: AsyncSession = info.context["session"]
        tenant_id = await _authenticate(session, info.context["request"].headers)
        row = await session.get(MemberRow, (tenant_id, uuid.UUID(str(id))))
        return None if row is None else Member(row=row)


async def _authenticate(session: AsyncSession, headers: Any) -> uuid.UUID:
    """The API key's tenant, with the session scoped to it (row-level security applies)."""
    parts = str(headers.get("x-api-key", "")).split("_", 3)
    if len(parts) != 4 or parts[0] != "lk":
        raise PermissionError("invalid API key")
    tenant_id, key_id = uuid.UUID(hex=parts[1]), uuid.UUID(hex=parts[2])
    await session.execute(
        text("SELECT set_config('loyalty.tenant_id', :t, true)"), {"t": str(tenant_id)}
    )
    key = await session.get(ApiKeyRow, (tenant_id, key_id))
    digest = hashlib.sha256(parts[3].encode()).hexdigest()
    if (
        key is None
        or key.revoked_at is not None
        or not hmac.compare_digest(key.secret_hash, digest)
    ):
        raise PermissionError("invalid API key")
    if "members:read" not in key.scopes:
        raise PermissionError("the key lacks members:read")
    return tenant_id


def session_extension(sessions: async_sessionmaker[AsyncSession]) -> type[SchemaExtension]:
    """A session (and transaction) per operation, put into the context."""

    class SessionPerOperation(SchemaExtension):
        async def on_operation(self) -> AsyncIterator[None]:
            async with sessions() as session, session.begin():
                self.execution_context.context["session"] = session
                yield

    return SessionPerOperation


def naive_schema(sessions: async_sessionmaker[AsyncSession]) -> strawberry.Schema:
    return strawberry.Schema(query=Query, extensions=[session_extension(sessions)])


__all__ = ["Base", "naive_schema"]
