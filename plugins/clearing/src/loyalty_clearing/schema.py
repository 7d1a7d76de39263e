"""GraphQL of clearing: partners, their keys and rate cards, point blocks, statements.

The operator (tenant admins) manages everything; a partner's own API key reads its own
partner, movements and statements, and anything else is NOT_FOUND to it (``access``).
Money is in minor units of the partner's billing currency, signed from the partner's side:
positive, the operator owes the partner; negative, the partner owes the operator.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import strawberry
from loyalty_core.sdk import (
    Connection,
    Cursors,
    RequestContext,
    Scope,
    UserError,
    connection,
    ledger,
    page_size,
    parse_id,
    require_admin,
    require_id,
    require_principal,
    run_mutation,
)
from loyalty_core.sdk import tenants as sdk_tenants
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.scalars import JSON
from strawberry.types import Info

from loyalty_clearing import exports, models, service, settlement
from loyalty_clearing import repository as repo
from loyalty_clearing.access import Reader, reader
from loyalty_clearing.accounts import accounts_of
from loyalty_clearing.periods import period_containing
from loyalty_clearing.settings import NAME, ClearingSettings

# The read models' enums are the GraphQL enums, under these names.
strawberry.enum(models.PartnerRole, name="PartnerRole")
strawberry.enum(models.PartnerStatus, name="PartnerStatus")
strawberry.enum(models.Billing, name="PartnerBilling")
strawberry.enum(models.MovementKind, name="PartnerMovementKind")
strawberry.enum(models.Direction, name="SettlementDirection")


@strawberry.type(name="PartnerContact", description="Someone at the partner to talk to.")
class Contact:
    name: str
    email: str | None
    phone: str | None
    role: str | None


@strawberry.type(
    name="PartnerRateCard",
    description="One version of a partner's prices for an asset in a currency, from "
    "`effectiveFrom` until the next version's. Prices are per point, in the currency's "
    "major unit.",
)
class RateCard:
    id: strawberry.ID
    asset_code: str
    currency: str
    effective_from: datetime
    version: int
    issue_price: Decimal = strawberry.field(description="What the issuer pays per point issued.")
    redeem_reimbursement: Decimal = strawberry.field(
        description="What the acceptor is paid per point redeemed."
    )
    fee_percent: Decimal = strawberry.field(description="Percentage fee on each movement's money.")
    fee_fixed: int = strawberry.field(description="Fixed fee per settlement period, minor units.")
    created_at: datetime

    @classmethod
    def of(cls, card: models.RateCard) -> RateCard:
        return cls(
            id=strawberry.ID(str(card.id)),
            asset_code=card.asset_code,
            currency=card.currency,
            effective_from=card.effective_from,
            version=card.version,
            issue_price=card.issue_price,
            redeem_reimbursement=card.redeem_reimbursement,
            fee_percent=card.fee_percent,
            fee_fixed=card.fee_fixed,
            created_at=card.created_at,
        )


@strawberry.type(name="PartnerPointBlock", description="Points a prepaid partner bought.")
class PointBlock:
    id: strawberry.ID
    asset_code: str
    points: int
    remaining: int
    price: int = strawberry.field(description="What the block cost, minor units.")
    expires_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, block: models.PointBlock) -> PointBlock:
        return cls(
            id=strawberry.ID(str(block.id)),
            asset_code=block.asset_code,
            points=block.points,
            remaining=block.remaining,
            price=block.price,
            expires_at=block.expires_at,
            created_at=block.created_at,
        )


@strawberry.type(
    description="A line of a partner's account: one movement, its money as posted to the "
    "ledger, and what caused it."
)
class PartnerMovement:
    id: strawberry.ID
    kind: models.MovementKind
    asset_code: str | None
    points: int
    currency: str
    rate: Decimal | None
    exact_amount: Decimal = strawberry.field(
        description="points x rate in minor units, before rounding half to even."
    )
    amount: int = strawberry.field(description="Posted, minor units, from the partner's side.")
    occurred_at: datetime
    transaction_id: strawberry.ID | None = strawberry.field(
        description="The core ledger transaction (none for a line of no money)."
    )
    event_id: strawberry.ID | None
    rate_card_id: strawberry.ID | None
    block_id: strawberry.ID | None
    cause: str
    reason: str
    actor: str
    statement_id: strawberry.ID | None = strawberry.field(
        description="The statement it landed in (none until its period closes)."
    )
    carried_forward_from: date | None = strawberry.field(
        description="On a statement: the original date of a line that arrived after its "
        "period had closed."
    )

    @classmethod
    def of(cls, m: models.Movement, period: models.Period | None = None) -> PartnerMovement:
        carried = period is not None and m.occurred_at < period.starts_at
        return cls(
            id=strawberry.ID(str(m.id)),
            kind=m.kind,
            asset_code=m.asset_code,
            points=m.points,
            currency=m.currency,
            rate=m.rate,
            exact_amount=m.exact_amount,
            amount=m.amount,
            occurred_at=m.occurred_at,
            transaction_id=_id(m.transaction_id),
            event_id=_id(m.event_id),
            rate_card_id=_id(m.rate_card_id),
            block_id=_id(m.block_id),
            cause=m.cause,
            reason=m.reason,
            actor=m.actor,
            statement_id=_id(m.statement_id),
            carried_forward_from=m.occurred_at.date() if carried else None,
        )


@strawberry.type(description="A coalition partner of the programme.")
class Partner:
    partner: strawberry.Private[models.Partner]
    id: strawberry.ID
    name: str
    roles: list[models.PartnerRole]
    currency: str = strawberry.field(description="Billing currency (ISO 4217).")
    status: models.PartnerStatus
    billing: models.Billing
    credit_limit: int | None = strawberry.field(
        description="How far the partner may owe, minor units (none: no limit)."
    )
    reorder_threshold: int | None = strawberry.field(
        description="Prepaid: points left in blocks below which `reorderAlert` is raised."
    )
    contacts: list[Contact]
    created_at: datetime
    reorder_alerted_at: datetime | None = strawberry.field(
        description="Prepaid: when the points left in blocks last fell below the threshold "
        "(each crossing announces `clearing.reorder_alert` once)."
    )

    @strawberry.field(description="The partner's position in the ledger now, minor units.")
    async def position(self, info: Info[RequestContext, None]) -> int:
        async with info.context.read() as conn:
            tenant_id = info.context.tenant_id
            accounts = await accounts_of(conn, tenant_id, self.partner.id, self.partner.currency)
            return await ledger.account_balance(conn, tenant_id, accounts.partner)

    @strawberry.field(description="Every version of the partner's rate cards, oldest first.")
    async def rate_cards(self, info: Info[RequestContext, None]) -> list[RateCard]:
        async with info.context.read() as conn:
            cards = await repo.rate_cards_of(conn, info.context.tenant_id, self.partner.id)
        return [RateCard.of(card) for card in cards]

    @strawberry.field(description="Prepaid point blocks, first-expiring first.")
    async def point_blocks(self, info: Info[RequestContext, None]) -> list[PointBlock]:
        return [PointBlock.of(b) for b in await _blocks(info, self.partner.id)]

    @strawberry.field(description="Prepaid: the points left in blocks are below the threshold.")
    async def reorder_alert(self, info: Info[RequestContext, None]) -> bool:
        if self.partner.reorder_threshold is None:
            return False
        left = sum(b.remaining for b in await _blocks(info, self.partner.id))
        return left < self.partner.reorder_threshold

    @strawberry.field(description="The partner's account, line by line, oldest first.")
    async def movements(
        self, info: Info[RequestContext, None], first: int | None = None, after: str | None = None
    ) -> Connection[PartnerMovement]:
        size = page_size(first)
        ctx = info.context
        cursors = Cursors(ctx.tenant_id, f"{NAME}.movements:{self.partner.id}")
        async with ctx.read() as conn:
            rows = await repo.movements_of(
                conn, ctx.tenant_id, self.partner.id, after=cursors.decode(after), limit=size + 1
            )
        return connection(cursors, rows, size, lambda m: m.id, PartnerMovement.of)

    @classmethod
    def of(cls, p: models.Partner) -> Partner:
        return cls(
            partner=p,
            id=strawberry.ID(str(p.id)),
            name=p.name,
            roles=list(p.roles),
            currency=p.currency,
            status=p.status,
            billing=p.billing,
            credit_limit=p.credit_limit,
            reorder_threshold=p.reorder_threshold,
            contacts=[
                Contact(name=c.name, email=c.email, phone=c.phone, role=c.role) for c in p.contacts
            ],
            created_at=p.created_at,
            reorder_alerted_at=p.reorder_alerted_at,
        )


@strawberry.type(
    description="A partner's immutable statement of one closed settlement period: closing = "
    "opening + every line, equal to the ledger to the unit."
)
class SettlementStatement:
    statement: strawberry.Private[models.Statement]
    period: strawberry.Private[models.Period]
    id: strawberry.ID
    partner_id: strawberry.ID
    period_starts_on: date
    period_ends_on: date = strawberry.field(description="The first day after the period.")
    currency: str
    opening: int
    points_issued: int
    issued_amount: int
    points_redeemed: int
    redeemed_amount: int
    points_reversed: int
    reversals_amount: int
    fees_amount: int
    adjustments_amount: int
    blocks_amount: int
    rounding_amount: int = strawberry.field(
        description="Whole units of rounding residue settled with the rounding account."
    )
    closing: int
    residue: Decimal = strawberry.field(
        description="Sub-unit rounding carried to the next statement (minor units)."
    )
    line_count: int
    direction: models.Direction
    net_due: int = strawberry.field(description="What is due, minor units, either way.")
    created_at: datetime

    @strawberry.field
    async def partner(self, info: Info[RequestContext, None]) -> Partner:
        return Partner.of(await _partner(info, self.statement.partner_id))

    @strawberry.field(description="Every line, in the order they happened.")
    async def lines(self, info: Info[RequestContext, None]) -> list[PartnerMovement]:
        return [PartnerMovement.of(m, self.period) for m in await _lines(info, self.statement)]

    @strawberry.field(description="The statement as CSV (one row per line).")
    async def csv(self, info: Info[RequestContext, None]) -> str:
        return exports.statement_csv(
            self.statement, self.period, await _lines(info, self.statement)
        )

    @strawberry.field(name="json", description="The statement as a JSON document.")
    async def as_json(self, info: Info[RequestContext, None]) -> JSON:
        partner = await _partner(info, self.statement.partner_id)
        lines = await _lines(info, self.statement)
        return JSON(exports.statement_json(self.statement, partner, self.period, lines))

    @strawberry.field(description="A printable HTML document for the partner.")
    async def html(self, info: Info[RequestContext, None]) -> str:
        partner = await _partner(info, self.statement.partner_id)
        lines = await _lines(info, self.statement)
        return exports.statement_html(self.statement, partner, self.period, lines)

    @classmethod
    def of(cls, s: models.Statement, period: models.Period) -> SettlementStatement:
        return cls(
            statement=s,
            period=period,
            id=strawberry.ID(str(s.id)),
            partner_id=strawberry.ID(str(s.partner_id)),
            period_starts_on=s.period_starts_on,
            period_ends_on=period.ends_on,
            currency=s.currency,
            opening=s.opening,
            points_issued=s.points_issued,
            issued_amount=s.issued_amount,
            points_redeemed=s.points_redeemed,
            redeemed_amount=s.redeemed_amount,
            points_reversed=s.points_reversed,
            reversals_amount=s.reversals_amount,
            fees_amount=s.fees_amount,
            adjustments_amount=s.adjustments_amount,
            blocks_amount=s.blocks_amount,
            rounding_amount=s.rounding_amount,
            closing=s.closing,
            residue=s.residue,
            line_count=s.lines,
            direction=s.direction,
            net_due=abs(s.closing),
            created_at=s.created_at,
        )


@strawberry.type(description="A closed period across partners, for the operator's accounting.")
class SettlementSummary:
    period_starts_on: date
    period_ends_on: date
    statements: list[SettlementStatement]
    csv: str = strawberry.field(description="One row per partner's statement.")


# -- inputs and payloads -------------------------------------------------------------------


@strawberry.input
class PartnerContactInput:
    name: str
    email: str | None = None
    phone: str | None = None
    role: str | None = None


@strawberry.input
class PartnerCreateInput:
    name: str
    roles: list[models.PartnerRole]
    currency: str = strawberry.field(description="Billing currency (ISO 4217), fixed.")
    billing: models.Billing = models.Billing.POSTPAID
    credit_limit: int | None = None
    reorder_threshold: int | None = None
    contacts: list[PartnerContactInput] = strawberry.field(default_factory=list)


@strawberry.input(description="Fields left out stay as they are.")
class PartnerUpdateInput:
    id: strawberry.ID
    name: str | None = None
    roles: list[models.PartnerRole] | None = None
    status: models.PartnerStatus | None = None
    billing: models.Billing | None = None
    credit_limit: int | None = None
    reorder_threshold: int | None = None
    contacts: list[PartnerContactInput] | None = None


@strawberry.input
class PartnerApiKeyCreateInput:
    partner_id: strawberry.ID
    name: str
    scopes: list[Scope] = strawberry.field(
        description="What the partner's touchpoints may do with it (chosen by the operator)."
    )


@strawberry.input
class PartnerRateCardSetInput:
    partner_id: strawberry.ID
    issue_price: Decimal = strawberry.field(description="Per point issued, major unit.")
    redeem_reimbursement: Decimal = strawberry.field(description="Per point redeemed.")
    effective_from: datetime | None = strawberry.field(
        default=None, description="When it takes effect (now when left out)."
    )
    asset_code: str = ledger.DEFAULT_ASSET_CODE
    currency: str | None = strawberry.field(
        default=None, description="The partner's billing currency when left out."
    )
    fee_percent: Decimal = Decimal(0)
    fee_fixed: int = 0


@strawberry.input
class PartnerPointBlockPurchaseInput:
    partner_id: strawberry.ID
    points: int
    price: int = strawberry.field(description="What the partner pays for it, minor units.")
    idempotency_key: str
    expires_at: datetime | None = None
    asset_code: str = ledger.DEFAULT_ASSET_CODE


@strawberry.input
class SettlementCloseInput:
    period: date = strawberry.field(description="Any day of the period to close (local date).")


@strawberry.input
class SettlementAdjustInput:
    partner_id: strawberry.ID
    amount: int = strawberry.field(
        description="Minor units: positive credits the partner, negative charges it."
    )
    reason: str
    idempotency_key: str
    period: date | None = strawberry.field(
        default=None, description="A day of the open period to adjust (the current one if none)."
    )


@strawberry.type
class PartnerPayload:
    partner: Partner | None
    errors: list[UserError]


@strawberry.type
class PartnerApiKeyPayload:
    partner: Partner | None
    api_key_id: strawberry.ID | None
    secret: str | None = strawberry.field(description="Send as `X-Api-Key`. Shown only once.")
    errors: list[UserError]


@strawberry.type
class PartnerRateCardPayload:
    rate_card: RateCard | None
    errors: list[UserError]


@strawberry.type
class PartnerPointBlockPayload:
    point_block: PointBlock | None
    replayed: bool
    errors: list[UserError]


@strawberry.type
class SettlementClosePayload:
    period_starts_on: date | None
    period_ends_on: date | None
    statements: list[SettlementStatement]
    replayed: bool
    errors: list[UserError]


@strawberry.type
class SettlementAdjustPayload:
    movement: PartnerMovement | None
    errors: list[UserError]


# -- root fields ---------------------------------------------------------------------------


@strawberry.type
class ClearingQuery:
    @strawberry.field(description="The programme's partners (a partner's key: itself).")
    async def partners(
        self, info: Info[RequestContext, None], first: int | None = None, after: str | None = None
    ) -> Connection[Partner]:
        ctx = info.context
        size = page_size(first)
        cursors = Cursors(ctx.tenant_id, f"{NAME}.partners")
        async with ctx.read() as conn:
            who = await reader(ctx, conn)
            rows = await repo.list_partners(
                conn,
                who.tenant_id,
                only=who.partner_id,
                after=cursors.decode(after),
                limit=size + 1,
            )
        return connection(cursors, rows, size, lambda p: p.id, Partner.of)

    @strawberry.field(description="A partner, or null (another tenant's, or not yours).")
    async def partner(self, info: Info[RequestContext, None], id: strawberry.ID) -> Partner | None:
        partner_id = parse_id(id)
        async with info.context.read() as conn:
            who = await reader(info.context, conn)
            if partner_id is None or not who.may_read(partner_id):
                return None
            found = await repo.get_partner(conn, who.tenant_id, partner_id)
        return None if found is None else Partner.of(found)

    @strawberry.field(description="Closed statements, optionally of one period or partner.")
    async def settlement_statements(
        self,
        info: Info[RequestContext, None],
        period: date | None = None,
        partner_id: strawberry.ID | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[SettlementStatement]:
        ctx = info.context
        size = page_size(first)
        cursors = Cursors(ctx.tenant_id, f"{NAME}.statements")
        async with ctx.read() as conn:
            who = await reader(ctx, conn)
            visible, only = _narrowed(who, partner_id)
            if not visible:
                return connection(cursors, [], size, lambda s: s.id)
            starts_on = None
            if period is not None:
                starts_on = (await _period(info, conn, period)).starts_on
            rows = await repo.list_statements(
                conn,
                who.tenant_id,
                partner_id=only,
                period_starts_on=starts_on,
                after=cursors.decode(after),
                limit=size + 1,
            )
            zone = await _zone(info, conn)
        settings = _settings(info)
        return connection(
            cursors,
            rows,
            size,
            lambda s: s.id,
            lambda s: SettlementStatement.of(s, settlement.period_of_statement(s, zone, settings)),
        )

    @strawberry.field(description="A statement, or null (another tenant's, or not yours).")
    async def settlement_statement(
        self, info: Info[RequestContext, None], id: strawberry.ID
    ) -> SettlementStatement | None:
        statement_id = parse_id(id)
        async with info.context.read() as conn:
            who = await reader(info.context, conn)
            found = None
            if statement_id is not None:
                found = await repo.get_statement(conn, who.tenant_id, statement_id)
            if found is None or not who.may_read(found.partner_id):
                return None
            zone = await _zone(info, conn)
        return SettlementStatement.of(
            found, settlement.period_of_statement(found, zone, _settings(info))
        )

    @strawberry.field(description="A closed period's statements across partners (operator).")
    async def settlement_summary(
        self, info: Info[RequestContext, None], period: date
    ) -> SettlementSummary | None:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)
        async with ctx.read() as conn:
            found = await _period(info, conn, period)
            if await repo.closed_period(conn, tenant_id, found.starts_on) is None:
                return None
            rows = await repo.list_statements(
                conn,
                tenant_id,
                partner_id=None,
                period_starts_on=found.starts_on,
                after=None,
                limit=10_000,
            )
            partners = {p.id: p for p in await repo.all_partners(conn, tenant_id)}
        return SettlementSummary(
            period_starts_on=found.starts_on,
            period_ends_on=found.ends_on,
            statements=[SettlementStatement.of(s, found) for s in rows],
            csv=exports.summary_csv([(s, partners[s.partner_id]) for s in rows]),
        )


@strawberry.type
class ClearingMutation:
    @strawberry.mutation(description="Add a partner to the programme (tenant admins).")
    async def partner_create(
        self, info: Info[RequestContext, None], input: PartnerCreateInput
    ) -> PartnerPayload:
        tenant_id = require_admin(info.context.principal)
        actor = require_principal(info.context.principal).actor
        draft = service.PartnerDraft(
            name=input.name,
            roles=input.roles,
            currency=input.currency,
            billing=input.billing,
            credit_limit=input.credit_limit,
            reorder_threshold=input.reorder_threshold,
            contacts=_contacts(input.contacts),
        )

        async def work(conn: AsyncConnection, _: object) -> models.Partner:
            return await service.create_partner(conn, tenant_id, draft, actor=actor)

        found, errors = await run_mutation(info, work)
        return PartnerPayload(partner=None if found is None else Partner.of(found), errors=errors)

    @strawberry.mutation(description="Change a partner: name, roles, status, billing, contacts.")
    async def partner_update(
        self, info: Info[RequestContext, None], input: PartnerUpdateInput
    ) -> PartnerPayload:
        tenant_id = require_admin(info.context.principal)
        draft = service.PartnerDraft(
            name=input.name,
            roles=input.roles,
            status=input.status,
            billing=input.billing,
            credit_limit=input.credit_limit,
            reorder_threshold=input.reorder_threshold,
            contacts=None if input.contacts is None else _contacts(input.contacts),
        )

        async def work(conn: AsyncConnection, _: object) -> models.Partner:
            partner_id = require_id(input.id)
            return await service.update_partner(conn, tenant_id, partner_id, draft)

        found, errors = await run_mutation(info, work)
        return PartnerPayload(partner=None if found is None else Partner.of(found), errors=errors)

    @strawberry.mutation(
        description="Issue an API key bound to a partner: what its touchpoints send with it "
        "is attributed to the partner (tenant admins)."
    )
    async def partner_api_key_create(
        self, info: Info[RequestContext, None], input: PartnerApiKeyCreateInput
    ) -> PartnerApiKeyPayload:
        tenant_id = require_admin(info.context.principal)
        actor = require_principal(info.context.principal).actor

        async def work(conn: AsyncConnection, _: object) -> tuple[Any, models.Partner | None]:
            partner_id = require_id(input.partner_id, field="partnerId")
            issued = await service.create_partner_key(
                conn,
                tenant_id,
                partner_id,
                name=input.name,
                scopes=[scope.value for scope in input.scopes],
                actor=actor,
            )
            return issued, await repo.get_partner(conn, tenant_id, partner_id)

        done, errors = await run_mutation(info, work)
        if done is None:
            return PartnerApiKeyPayload(partner=None, api_key_id=None, secret=None, errors=errors)
        issued, partner = done
        return PartnerApiKeyPayload(
            partner=None if partner is None else Partner.of(partner),
            api_key_id=strawberry.ID(str(issued.api_key.id)),
            secret=issued.secret,
            errors=[],
        )

    @strawberry.mutation(description="Set a new version of a partner's rate card (admins).")
    async def partner_rate_card_set(
        self, info: Info[RequestContext, None], input: PartnerRateCardSetInput
    ) -> PartnerRateCardPayload:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)
        actor = require_principal(ctx.principal).actor
        draft = service.RateCardDraft(
            asset_code=input.asset_code,
            currency=input.currency,
            effective_from=input.effective_from or ctx.now(),
            issue_price=input.issue_price,
            redeem_reimbursement=input.redeem_reimbursement,
            fee_percent=input.fee_percent,
            fee_fixed=input.fee_fixed,
        )

        async def work(conn: AsyncConnection, _: object) -> models.RateCard:
            partner_id = require_id(input.partner_id, field="partnerId")
            last = await repo.last_closed_period(conn, tenant_id)
            return await service.set_rate_card(
                conn,
                tenant_id,
                partner_id,
                draft,
                actor=actor,
                closed_until=None if last is None else last.ends_at,
            )

        card, errors = await run_mutation(info, work)
        return PartnerRateCardPayload(
            rate_card=None if card is None else RateCard.of(card), errors=errors
        )

    @strawberry.mutation(description="A prepaid partner buys a block of points (admins).")
    async def partner_point_block_purchase(
        self, info: Info[RequestContext, None], input: PartnerPointBlockPurchaseInput
    ) -> PartnerPointBlockPayload:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)
        actor = require_principal(ctx.principal).actor

        async def work(conn: AsyncConnection, _: object) -> tuple[models.PointBlock, bool]:
            return await service.purchase_block(
                conn,
                tenant_id,
                require_id(input.partner_id, field="partnerId"),
                asset_code=input.asset_code,
                points=input.points,
                price=input.price,
                expires_at=input.expires_at,
                idempotency_key=input.idempotency_key,
                actor=actor,
                now=ctx.now(),
            )

        done, errors = await run_mutation(info, work)
        if done is None:
            return PartnerPointBlockPayload(point_block=None, replayed=False, errors=errors)
        return PartnerPointBlockPayload(
            point_block=PointBlock.of(done[0]), replayed=done[1], errors=[]
        )

    @strawberry.mutation(
        description="Close a settlement period: one immutable statement per partner. "
        "Closing a closed period replays its statements (tenant admins)."
    )
    async def settlement_close(
        self, info: Info[RequestContext, None], input: SettlementCloseInput
    ) -> SettlementClosePayload:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)
        actor = require_principal(ctx.principal).actor
        settings = _settings(info)

        async def work(conn: AsyncConnection, _: object) -> settlement.Closed:
            zone = await _zone(info, conn)
            return await settlement.close(
                conn, tenant_id, settings, zone, input.period, actor=actor, now=ctx.now()
            )

        closed, errors = await run_mutation(info, work)
        if closed is None:
            return SettlementClosePayload(
                period_starts_on=None,
                period_ends_on=None,
                statements=[],
                replayed=False,
                errors=errors,
            )
        return SettlementClosePayload(
            period_starts_on=closed.period.starts_on,
            period_ends_on=closed.period.ends_on,
            statements=[SettlementStatement.of(s, closed.period) for s in closed.statements],
            replayed=closed.replayed,
            errors=[],
        )

    @strawberry.mutation(
        description="A correction line in an open period, with a reason (tenant admins)."
    )
    async def settlement_adjust(
        self, info: Info[RequestContext, None], input: SettlementAdjustInput
    ) -> SettlementAdjustPayload:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)
        actor = require_principal(ctx.principal).actor
        settings = _settings(info)

        async def work(conn: AsyncConnection, _: object) -> models.Movement:
            return await settlement.adjust(
                conn,
                tenant_id,
                settings,
                await _zone(info, conn),
                require_id(input.partner_id, field="partnerId"),
                amount=input.amount,
                reason=input.reason,
                idempotency_key=input.idempotency_key,
                day=input.period,
                actor=actor,
                now=ctx.now(),
            )

        movement, errors = await run_mutation(info, work)
        return SettlementAdjustPayload(
            movement=None if movement is None else PartnerMovement.of(movement), errors=errors
        )


# -- helpers ---------------------------------------------------------------------------------


def _id(value: uuid.UUID | None) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(str(value))


def _contacts(contacts: list[PartnerContactInput]) -> list[models.Contact]:
    return [models.Contact(c.name, c.email, c.phone, c.role) for c in contacts]


def _settings(info: Info[RequestContext, None]) -> ClearingSettings:
    settings = info.context.module_settings(NAME)
    assert isinstance(settings, ClearingSettings), "the module is enabled for the caller"
    return settings


async def _zone(info: Info[RequestContext, None], conn: AsyncConnection) -> Any:
    tenant = info.context.tenant
    if tenant is None:
        tenant = await sdk_tenants.get_tenant(conn, info.context.tenant_id)
    return sdk_tenants.zone_of(tenant)


async def _period(
    info: Info[RequestContext, None], conn: AsyncConnection, day: date
) -> models.Period:
    return period_containing(day, await _zone(info, conn), _settings(info).period)


def _narrowed(who: Reader, partner_id: strawberry.ID | None) -> tuple[bool, uuid.UUID | None]:
    """Whether the caller may see any of the statements asked for, and the partner they are
    narrowed to (None: every partner)."""
    if partner_id is None:
        return True, who.partner_id
    wanted = parse_id(partner_id)
    return wanted is not None and who.may_read(wanted), wanted


async def _partner(info: Info[RequestContext, None], partner_id: uuid.UUID) -> models.Partner:
    async with info.context.read() as conn:
        found = await repo.get_partner(conn, info.context.tenant_id, partner_id)
    assert found is not None, "a statement's partner exists"
    return found


async def _lines(
    info: Info[RequestContext, None], statement: models.Statement
) -> list[models.Movement]:
    async with info.context.read() as conn:
        return await repo.statement_lines(conn, info.context.tenant_id, statement.id)


async def _blocks(
    info: Info[RequestContext, None], partner_id: uuid.UUID
) -> list[models.PointBlock]:
    async with info.context.read() as conn:
        return await repo.blocks_of(conn, info.context.tenant_id, partner_id)


__all__ = ["ClearingMutation", "ClearingQuery", "Partner", "SettlementStatement"]
