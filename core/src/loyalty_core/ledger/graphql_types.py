"""GraphQL types of the ledger (no mutations here, so member types can use them freely)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import strawberry
from strawberry.types import Info

from loyalty_core.context import RequestContext
from loyalty_core.errors import ValidationFailed
from loyalty_core.graphql.loaders import expiring_loader
from loyalty_core.ledger import models
from loyalty_core.ledger.queries import LedgerLine

AssetKind = models.AssetKind
strawberry.enum(AssetKind, name="AssetKind")
TransactionKind = models.TransactionKind
strawberry.enum(TransactionKind, name="TransactionKind")
AccountPurpose = models.Purpose
strawberry.enum(AccountPurpose, name="AccountPurpose")
ExpiryPolicy = models.ExpiryPolicy
strawberry.enum(
    ExpiryPolicy,
    name="AssetExpiryPolicy",
    description="When points expire, counted from when they become available: never, days "
    "after, at the end of the month or year (local midnight in the tenant's time zone, plus "
    "`expiryPeriods` whole months or years), or at the end of a fixed date.",
)


@strawberry.type(description="A point currency (or money, for stored value) of the tenant.")
class Asset:
    code: str
    name: str
    kind: AssetKind
    scale: int = strawberry.field(description="Digits of the minor unit (0 for points).")
    expiry_policy: ExpiryPolicy
    expiry_days: int | None = strawberry.field(description="With DAYS_AFTER_EARN.")
    expiry_periods: int = strawberry.field(
        description="With END_OF_MONTH / END_OF_YEAR: months or years added (0: the same one)."
    )
    expiry_date: date | None = strawberry.field(
        description="With FIXED_DATE: the last day points are valid."
    )
    pending_days: int
    spendable: bool = strawberry.field(
        description="False: points that only count (status points): they cannot be redeemed, "
        "held for a payment or transferred."
    )

    @classmethod
    def of(cls, asset: models.Asset) -> Asset:
        return cls(
            code=asset.code,
            name=asset.name,
            kind=asset.kind,
            scale=asset.scale,
            expiry_policy=asset.expiry_policy,
            expiry_days=asset.expiry_days,
            expiry_periods=asset.expiry_periods,
            expiry_date=asset.expiry_date,
            pending_days=asset.pending_days,
            spendable=asset.spendable,
        )


MAX_EXPIRING_DAYS = 3660
"""The longest window ``Balance.expiring`` looks ahead: ten years."""


@strawberry.type(description="Points of one asset that expire on one day (the tenant's calendar).")
class ExpiringPoints:
    amount: int = strawberry.field(description="Points lost that day unless spent before.")
    on: date = strawberry.field(description="The day, in the tenant's time zone.")
    at: datetime = strawberry.field(
        description="The first moment that day when some of these points expire."
    )


@strawberry.type(description="What a member holds of one asset.")
class Balance:
    asset: Asset
    available: int = strawberry.field(description="Spendable now (what payments hold excluded).")
    pending: int = strawberry.field(description="Earned, spendable once released.")
    held: int = strawberry.field(
        description="Set aside for payments authorised but not yet captured."
    )
    member_id: strawberry.Private[uuid.UUID]
    asset_id: strawberry.Private[uuid.UUID]

    @strawberry.field(
        description="Points (pending or available) that expire within `withinDays` days from "
        "now (1 to 3660), by day, soonest first; empty when none do. Read from the ledger's "
        "lots: what redemptions spend first is what expires first."
    )
    async def expiring(
        self, info: Info[RequestContext, None], within_days: int = 30
    ) -> list[ExpiringPoints]:
        if not 1 <= within_days <= MAX_EXPIRING_DAYS:
            raise ValidationFailed(
                f"withinDays must be between 1 and {MAX_EXPIRING_DAYS}", field="withinDays"
            )
        found = await expiring_loader(info.context, within_days).load(self.member_id)
        return [
            ExpiringPoints(amount=item.amount, on=item.day, at=item.at)
            for item in found
            if item.asset_id == self.asset_id
        ]

    @classmethod
    def of(cls, balance: models.Balance, member_id: uuid.UUID) -> Balance:
        return cls(
            asset=Asset.of(balance.asset),
            available=balance.available,
            pending=balance.pending,
            held=balance.held,
            member_id=member_id,
            asset_id=balance.asset.id,
        )


@strawberry.type(description="Why value moved: an event, a rule version, an operator, a job.")
class Cause:
    kind: str
    reference: str | None
    event_id: strawberry.ID | None
    rule_id: strawberry.ID | None
    rule_version: int | None

    @classmethod
    def of(cls, cause: models.Cause) -> Cause:
        return cls(
            kind=cause.kind,
            reference=cause.id,
            event_id=strawberry.ID(str(cause.event_id)) if cause.event_id else None,
            rule_id=strawberry.ID(str(cause.rule_id)) if cause.rule_id else None,
            rule_version=cause.rule_version,
        )


@strawberry.type(description="One balanced movement of value; never changed once posted.")
class LedgerTransaction:
    id: strawberry.ID
    kind: TransactionKind
    reason: str
    cause: Cause
    actor: str
    reverses_id: strawberry.ID | None
    created_at: datetime

    @classmethod
    def of(cls, transaction: models.LedgerTransaction) -> LedgerTransaction:
        return cls(
            id=strawberry.ID(str(transaction.id)),
            kind=transaction.kind,
            reason=transaction.reason,
            cause=Cause.of(transaction.cause),
            actor=transaction.actor,
            reverses_id=(
                strawberry.ID(str(transaction.reverses_id)) if transaction.reverses_id else None
            ),
            created_at=transaction.created_at,
        )


@strawberry.type(description="One entry on a member's account: a credit (positive) or debit.")
class LedgerEntry:
    id: strawberry.ID
    amount: int
    asset_code: str
    account: AccountPurpose
    kind: TransactionKind
    reason: str
    cause: Cause
    actor: str
    transaction_id: strawberry.ID
    reverses_transaction_id: strawberry.ID | None
    expires_at: datetime | None = strawberry.field(
        description="When the points of this entry's lot expire."
    )
    created_at: datetime

    @classmethod
    def of(cls, line: LedgerLine) -> LedgerEntry:
        return cls(
            id=strawberry.ID(str(line.entry_id)),
            amount=line.amount,
            asset_code=line.asset_code,
            account=line.purpose,
            kind=line.kind,
            reason=line.reason,
            cause=Cause.of(line.cause),
            actor=line.actor,
            transaction_id=strawberry.ID(str(line.transaction_id)),
            reverses_transaction_id=(
                strawberry.ID(str(line.reverses_id)) if line.reverses_id else None
            ),
            expires_at=line.expires_at,
            created_at=line.created_at,
        )


__all__ = [
    "AccountPurpose",
    "Asset",
    "AssetKind",
    "Balance",
    "Cause",
    "ExpiringPoints",
    "LedgerEntry",
    "LedgerTransaction",
    "TransactionKind",
]
