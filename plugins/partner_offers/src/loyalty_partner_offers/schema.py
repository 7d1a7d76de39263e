"""GraphQL of partner offers: the catalogue (``offerCreate``, ``offerUpdate``,
``offerRetire``, ``offerCatalogSync``, ``offers``, ``offer``), members' offers
(``offerActivate``, ``offerHide``, ``Member.offers``) and reporting (``offerPerformance``).

Who may do what: the operator (a tenant admin) writes every offer and reads everything. A
partner's own API key (bound to it in clearing) syncs and retires its own catalogue and
reads its own offers and their performance; the partner comes from the credential, never
from an argument, and another partner's offer is NOT_FOUND to it. A member activates and
hides offers for itself; a till with ``members:write`` for any member.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import strawberry
from loyalty_core.sdk import (
    Connection,
    Cursors,
    Forbidden,
    LoyaltyError,
    Member,
    NotFound,
    RequestContext,
    Role,
    Scope,
    UserError,
    ValidationFailed,
    conditions,
    connection,
    may_read_member,
    page_size,
    require_id,
    require_principal,
    require_tenant,
    run_mutation,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.scalars import JSON
from strawberry.types import Info

from loyalty_partner_offers import catalogue, members, models, reporting
from loyalty_partner_offers import repository as repo
from loyalty_partner_offers.partners import directories, partner_of, require_partner
from loyalty_partner_offers.settings import NAME

MAX_SYNC = 500

OfferRewardKind = models.RewardKind
OfferActivationModel = models.Activation
OfferStatus = models.Status
MemberOfferState = models.OfferState
strawberry.enum(
    OfferRewardKind,
    name="OfferRewardKind",
    description="FIXED points, PER_UNIT points per major currency unit of the qualifying "
    "spend, a MULTIPLIER of the purchase's base earn (2 is double points), or an EFFECT: an "
    "enabled module's rule effect (a gift card, a reward), as campaigns name them.",
)
strawberry.enum(
    OfferActivationModel,
    name="OfferActivationModel",
    description="CLIP: the member activates it; AUTO: every member who qualifies earns it.",
)
strawberry.enum(OfferStatus, name="OfferStatus", description="LIVE or RETIRED.")
strawberry.enum(
    MemberOfferState,
    name="MemberOfferState",
    description="Where an offer stands for a member.",
)


@strawberry.type(description="What a purchase must be to earn an offer.")
class OfferRequirements:
    minimum_spend: int = strawberry.field(
        description="Minor units of the qualifying spend (the matching items' with an item "
        "requirement, else the purchase's amount); the edge qualifies."
    )
    stores: list[str]
    channels: list[str] = strawberry.field(description="The purchase payload's `channel`.")
    skus: list[str]
    categories: list[str]
    first_purchase: bool = strawberry.field(
        description="Only the member's first purchase sent with the funder's credential."
    )
    weekdays: list[int] = strawberry.field(
        description="ISO days of the week (1 Monday .. 7 Sunday), the tenant's; empty: any."
    )

    @classmethod
    def of(cls, req: models.Requirements) -> OfferRequirements:
        return cls(
            minimum_spend=req.minimum_spend,
            stores=list(req.stores),
            channels=list(req.channels),
            skus=list(req.skus),
            categories=list(req.categories),
            first_purchase=req.first_purchase,
            weekdays=list(req.weekdays),
        )


@strawberry.type(description="An enabled module's rule effect an offer pays.")
class OfferEffect:
    kind: str = strawberry.field(description="<module>.<effect>, e.g. giftcards.issue_gift_card")
    params: dict[str, Any] = strawberry.field(
        graphql_type=JSON, description="Its parameters, as the effect's module reads them."
    )


@strawberry.type(description="An offer's terms: its reward and requirements.")
class OfferTerms:
    reward: OfferRewardKind
    value: str | None = strawberry.field(
        description="Points, points per unit, or the multiplier; null for an EFFECT."
    )
    effect: OfferEffect | None = strawberry.field(description="An EFFECT reward's effect.")
    requirements: OfferRequirements
    per_member_limit: int

    @classmethod
    def of(cls, terms: models.Terms) -> OfferTerms:
        effect = terms.effect
        return cls(
            reward=terms.reward,
            value=None if terms.reward is OfferRewardKind.EFFECT else str(terms.value),
            effect=None
            if effect is None
            else OfferEffect(kind=effect["kind"], params=effect["params"]),
            requirements=OfferRequirements.of(terms.requirements),
            per_member_limit=terms.per_member_limit,
        )


@strawberry.type(description="An offer of the catalogue, funded by a partner or the retailer.")
class Offer:
    id: strawberry.ID
    partner_id: strawberry.ID | None = strawberry.field(
        description="The partner who funds it; null for the retailer's own."
    )
    external_id: str | None
    version: int = strawberry.field(description="The last catalogue sync's version (0: none).")
    status: OfferStatus
    title: str
    description: str
    image_url: str | None
    terms_text: str
    starts_at: datetime
    ends_at: datetime
    activation: OfferActivationModel
    terms: OfferTerms
    segment: str = strawberry.field(description="A CEL condition on the member; empty: all.")
    budget: int | None = strawberry.field(description="Rewards it may give in total.")
    daily_cap: int | None = strawberry.field(description="Rewards it may give per day.")
    used: int = strawberry.field(description="Rewards given against the budget.")
    condition_failures: int = strawberry.field(
        description="Purchases its segment condition failed on (skipped, never fatal)."
    )
    effect_failures: int = strawberry.field(
        description="Purchases its rule effect failed on (undone and skipped, never fatal)."
    )

    @classmethod
    def of(cls, offer: models.Offer) -> Offer:
        return cls(
            id=strawberry.ID(str(offer.id)),
            partner_id=None if offer.partner_id is None else strawberry.ID(str(offer.partner_id)),
            external_id=offer.external_id,
            version=offer.version,
            status=offer.status,
            title=offer.title,
            description=offer.description,
            image_url=offer.image_url,
            terms_text=offer.terms_text,
            starts_at=offer.starts_at,
            ends_at=offer.ends_at,
            activation=offer.activation,
            terms=OfferTerms.of(offer.terms),
            segment=offer.segment,
            budget=offer.budget,
            daily_cap=offer.daily_cap,
            used=offer.used,
            condition_failures=offer.condition_failures,
            effect_failures=offer.effect_failures,
        )


@strawberry.type(description="An offer as one member sees it.")
class MemberOffer:
    offer: Offer
    state: MemberOfferState
    terms: OfferTerms = strawberry.field(
        description="The terms the member holds: frozen at activation, else the offer's."
    )
    activated_at: datetime | None
    ends_at: datetime = strawberry.field(description="When the member's window ends.")
    redeemed: int

    @classmethod
    def of(cls, found: models.MemberOffer) -> MemberOffer:
        activation = found.activation
        return cls(
            offer=Offer.of(found.offer),
            state=found.state,
            terms=OfferTerms.of(found.offer.terms if activation is None else activation.terms),
            activated_at=None if activation is None else activation.activated_at,
            ends_at=found.offer.ends_at if activation is None else activation.ends_at,
            redeemed=0 if activation is None else activation.redeemed,
        )


@strawberry.input
class OfferRequirementsInput:
    minimum_spend: int = 0
    stores: list[str] = strawberry.field(default_factory=list)
    channels: list[str] = strawberry.field(default_factory=list)
    skus: list[str] = strawberry.field(default_factory=list)
    categories: list[str] = strawberry.field(default_factory=list)
    first_purchase: bool = False
    weekdays: list[int] = strawberry.field(default_factory=list)


@strawberry.input(description="An enabled module's rule effect, as campaigns name it.")
class OfferEffectInput:
    kind: str = strawberry.field(description="<module>.<effect>, e.g. giftcards.issue_gift_card")
    params: dict[str, Any] | None = strawberry.field(
        default=None, graphql_type=JSON | None, description="The effect's parameters."
    )


@strawberry.input(description="An offer as its funder describes it.")
class OfferInput:
    title: str
    starts_at: datetime
    ends_at: datetime
    reward: OfferRewardKind
    value: str | None = strawberry.field(
        default=None, description="Points, points per unit, or the multiplier; none for EFFECT."
    )
    effect: OfferEffectInput | None = strawberry.field(
        default=None, description="An EFFECT reward's rule effect (the retailer's own offers)."
    )
    requirements: OfferRequirementsInput | None = None
    activation: OfferActivationModel = models.Activation.CLIP
    per_member_limit: int = 1
    description: str = ""
    image_url: str | None = None
    terms_text: str = ""
    segment: str = ""
    budget: int | None = None
    daily_cap: int | None = None


@strawberry.input
class OfferCreateInput:
    offer: OfferInput
    partner_id: strawberry.ID | None = strawberry.field(
        default=None, description="The partner who funds it (needs clearing); null: the retailer."
    )
    external_id: str | None = None


@strawberry.input
class OfferUpdateInput:
    id: strawberry.ID
    offer: OfferInput


@strawberry.input
class OfferRetireInput:
    id: strawberry.ID


@strawberry.input(description="One offer of a sync: upserted, or retired with `retire`.")
class OfferSyncItemInput:
    external_id: str
    version: int = strawberry.field(description="Newer than the stored version, or ignored.")
    offer: OfferInput | None = None
    retire: bool = False


@strawberry.input
class OfferCatalogSyncInput:
    offers: list[OfferSyncItemInput]
    partner_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The operator syncing for a partner; a partner's key syncs its own and "
        "leaves it out.",
    )


@strawberry.input
class OfferMemberInput:
    offer_id: strawberry.ID
    member_id: strawberry.ID | None = strawberry.field(
        default=None, description="Left out by a member acting for itself."
    )


@strawberry.type
class OfferPayload:
    offer: Offer | None
    errors: list[UserError]


@strawberry.type(description="What a synced offer did: `written` is false for a replay.")
class OfferSyncResult:
    external_id: str
    offer: Offer | None
    written: bool


@strawberry.type
class OfferCatalogSyncPayload:
    results: list[OfferSyncResult]
    errors: list[UserError]


@strawberry.type
class MemberOfferPayload:
    member_offer: MemberOffer | None
    errors: list[UserError]


@strawberry.type
class OfferHidePayload:
    hidden: bool
    errors: list[UserError]


@strawberry.type(description="One offer on one day.")
class OfferPerformanceRow:
    offer_id: strawberry.ID
    external_id: str | None
    title: str
    day: date
    activations: int
    redemptions: int
    points_awarded: int
    points_reversed: int = strawberry.field(description="Taken back by refunds.")
    money_owed: int = strawberry.field(
        description="Minor units of `currency` the partner owes for the day's rewards, as "
        "clearing charged them (fees included), net of what refunds credited back; 0 for the "
        "retailer's own offers."
    )
    currency: str | None = strawberry.field(
        description="The partner's billing currency; null when nothing was charged."
    )


@strawberry.type(description="Offers' performance per day, and the same as CSV.")
class OfferPerformance:
    rows: list[OfferPerformanceRow]
    csv: str


@dataclass(frozen=True)
class Caller:
    """Who writes or reads the catalogue: the operator (``partner_id`` None) or a partner."""

    tenant_id: uuid.UUID
    partner_id: uuid.UUID | None

    def owns(self, offer: models.Offer) -> bool:
        return self.partner_id is None or offer.partner_id == self.partner_id


async def caller_of(ctx: RequestContext, conn: AsyncConnection) -> Caller:
    principal = require_principal(ctx.principal)
    tenant_id = require_tenant(principal)
    if principal.role is Role.ADMIN:
        return Caller(tenant_id, None)
    if principal.role is Role.TOUCHPOINT:
        found = directories(ctx.registry, ctx.enabled_modules)
        partner_id = await partner_of(conn, tenant_id, found, principal.actor)
        if partner_id is not None:
            return Caller(tenant_id, partner_id)
    raise Forbidden("the catalogue is the operator's and its partners' (with their own keys)")


def _aware(value: datetime, field: str) -> datetime:
    if value.tzinfo is None:
        raise ValidationFailed("a time needs its UTC offset", field=field)
    return value


def _draft(value: OfferInput) -> catalogue.Draft:
    req = value.requirements or OfferRequirementsInput()
    return catalogue.Draft(
        title=value.title,
        starts_at=_aware(value.starts_at, "startsAt"),
        ends_at=_aware(value.ends_at, "endsAt"),
        terms=models.Terms(
            reward=value.reward,
            value=Decimal(0) if value.value is None else catalogue.decimal_of(value.value, "value"),
            effect=None
            if value.effect is None
            else {"kind": value.effect.kind, "params": value.effect.params or {}},
            requirements=models.Requirements(
                minimum_spend=req.minimum_spend,
                stores=tuple(req.stores),
                channels=tuple(req.channels),
                skus=tuple(req.skus),
                categories=tuple(req.categories),
                first_purchase=req.first_purchase,
                weekdays=tuple(req.weekdays),
            ),
            per_member_limit=value.per_member_limit,
        ),
        activation=value.activation,
        description=value.description,
        image_url=value.image_url,
        terms_text=value.terms_text,
        segment=value.segment,
        budget=value.budget,
        daily_cap=value.daily_cap,
    )


def funder_of(ctx: RequestContext, partner_id: uuid.UUID | None) -> catalogue.Funder:
    return catalogue.Funder(partner_id, ctx.registry, ctx.enabled_modules)


async def _checked_draft(
    info: Info[RequestContext, None],
    conn: AsyncConnection,
    value: OfferInput,
    partner_id: uuid.UUID | None,
) -> catalogue.Draft:
    ctx = info.context
    return await catalogue.check(
        conn, ctx.tenant_id, _draft(value), conditions.event_types(ctx), funder_of(ctx, partner_id)
    )


async def _funder(ctx: RequestContext, conn: AsyncConnection, partner_id: uuid.UUID | None) -> None:
    if partner_id is not None:
        found = directories(ctx.registry, ctx.enabled_modules)
        await require_partner(conn, ctx.tenant_id, found, partner_id)


async def _owned(conn: AsyncConnection, caller: Caller, raw_id: str) -> models.Offer:
    offer_id = require_id(raw_id)
    offer = await repo.get_offer(conn, caller.tenant_id, offer_id, lock=True)
    if offer is None or not caller.owns(offer):
        raise NotFound("offer not found", field="id")
    return offer


def _member_of(ctx: RequestContext, member_id: strawberry.ID | None) -> uuid.UUID:
    """The member a member acts for (itself), or a till or admin names."""
    principal = require_principal(ctx.principal)
    if principal.role is Role.MEMBER:
        own = principal.member_id
        assert own is not None
        if member_id is not None and require_id(str(member_id), field="memberId") != own:
            raise NotFound("member not found", field="memberId")
        return own
    if not principal.may(Scope.MEMBERS_WRITE):
        raise Forbidden("requires the members:write scope")
    if member_id is None:
        raise ValidationFailed("name the member", field="memberId")
    return require_id(str(member_id), field="memberId")


@strawberry.type
class OfferQuery:
    @strawberry.field(
        description="The catalogue, oldest first: every offer to the operator, its own to a "
        "partner's key."
    )
    async def offers(
        self,
        info: Info[RequestContext, None],
        first: int | None = None,
        after: str | None = None,
        status: OfferStatus | None = None,
    ) -> Connection[Offer]:
        ctx = info.context
        size = page_size(first)
        cursors = Cursors(ctx.tenant_id, f"{NAME}.offers")
        position = cursors.decode(after)
        async with ctx.read() as conn:
            caller = await caller_of(ctx, conn)
            found = await repo.list_offers(
                conn,
                caller.tenant_id,
                partner_id=caller.partner_id,
                own_only=False,
                status=status,
                after=position,
                limit=size + 1,
            )
        return connection(cursors, found, size, lambda offer: offer.id, Offer.of)

    @strawberry.field(description="An offer: any to the operator, its own to a partner.")
    async def offer(self, info: Info[RequestContext, None], id: strawberry.ID) -> Offer | None:
        ctx = info.context
        async with ctx.read() as conn:
            caller = await caller_of(ctx, conn)
            offer_id = require_id(str(id))
            found = await repo.get_offer(conn, caller.tenant_id, offer_id)
        if found is None or not caller.owns(found):
            return None
        return Offer.of(found)

    @strawberry.field(
        name="offerPerformance",
        description="Activations, redemptions, points and the money the partner owes per "
        "offer and day (the tenant's days), also as CSV: every offer's to the operator, its "
        "own to a partner's key.",
    )
    async def offer_performance(
        self,
        info: Info[RequestContext, None],
        since: date,
        until: date,
        offer_ids: list[strawberry.ID] | None = None,
    ) -> OfferPerformance:
        ctx = info.context
        async with ctx.read() as conn:
            caller = await caller_of(ctx, conn)
            ids = None if offer_ids is None else [require_id(str(i)) for i in offer_ids[:100]]
            rows = await reporting.performance(
                conn,
                caller.tenant_id,
                partner_id=caller.partner_id,
                offer_ids=ids,
                since=since,
                until=until,
                zone=ctx.tenant.timezone if ctx.tenant is not None else "UTC",
            )
        return OfferPerformance(
            rows=[
                OfferPerformanceRow(
                    offer_id=strawberry.ID(str(r.offer_id)),
                    external_id=r.external_id,
                    title=r.title,
                    day=r.day,
                    activations=r.activations,
                    redemptions=r.redemptions,
                    points_awarded=r.points_awarded,
                    points_reversed=r.points_reversed,
                    money_owed=r.money_owed,
                    currency=r.currency,
                )
                for r in rows
            ],
            csv=reporting.to_csv(rows),
        )


@strawberry.type
class OfferMutation:
    @strawberry.mutation(
        name="offerCreate",
        description="Create an offer (operator): the retailer's own, or one a partner funds.",
    )
    async def offer_create(
        self, info: Info[RequestContext, None], input: OfferCreateInput
    ) -> OfferPayload:
        async def work(conn: AsyncConnection, _: Any) -> models.Offer:
            caller = await caller_of(info.context, conn)
            if caller.partner_id is not None:
                raise Forbidden("a partner's key syncs its catalogue with offerCatalogSync")
            partner_id = (
                None
                if input.partner_id is None
                else require_id(str(input.partner_id), field="partnerId")
            )
            draft = await _checked_draft(info, conn, input.offer, partner_id)
            await _funder(info.context, conn, partner_id)
            return await catalogue.create(
                conn,
                caller.tenant_id,
                draft,
                partner_id=partner_id,
                external_id=input.external_id,
                actor=require_principal(info.context.principal).actor,
            )

        offer, errors = await run_mutation(info, work)
        return OfferPayload(offer=None if offer is None else Offer.of(offer), errors=errors)

    @strawberry.mutation(
        name="offerUpdate",
        description="Change an offer; members who activated it keep their terms.",
    )
    async def offer_update(
        self, info: Info[RequestContext, None], input: OfferUpdateInput
    ) -> OfferPayload:
        async def work(conn: AsyncConnection, _: Any) -> models.Offer:
            caller = await caller_of(info.context, conn)
            offer = await _owned(conn, caller, str(input.id))
            draft = await _checked_draft(info, conn, input.offer, offer.partner_id)
            return await catalogue.update(
                conn,
                caller.tenant_id,
                offer,
                draft,
                actor=require_principal(info.context.principal).actor,
            )

        offer, errors = await run_mutation(info, work)
        return OfferPayload(offer=None if offer is None else Offer.of(offer), errors=errors)

    @strawberry.mutation(
        name="offerRetire",
        description="Retire an offer: no one activates it any more; activations earn until "
        "their window ends.",
    )
    async def offer_retire(
        self, info: Info[RequestContext, None], input: OfferRetireInput
    ) -> OfferPayload:
        async def work(conn: AsyncConnection, _: Any) -> models.Offer:
            caller = await caller_of(info.context, conn)
            offer = await _owned(conn, caller, str(input.id))
            return await catalogue.retire(
                conn, caller.tenant_id, offer, actor=require_principal(info.context.principal).actor
            )

        offer, errors = await run_mutation(info, work)
        return OfferPayload(offer=None if offer is None else Offer.of(offer), errors=errors)

    @strawberry.mutation(
        name="offerCatalogSync",
        description="Upsert or retire offers by the funder's external id, each at a version: "
        "an older or equal version writes nothing. A partner's key syncs its own catalogue.",
    )
    async def offer_catalog_sync(
        self, info: Info[RequestContext, None], input: OfferCatalogSyncInput
    ) -> OfferCatalogSyncPayload:
        async def work(conn: AsyncConnection, _: Any) -> list[OfferSyncResult]:
            caller = await caller_of(info.context, conn)
            partner_id = caller.partner_id
            if input.partner_id is not None:
                if caller.partner_id is not None:
                    raise ValidationFailed("a partner's key syncs its own", field="partnerId")
                partner_id = require_id(str(input.partner_id), field="partnerId")
            items = []
            for position, item in enumerate(input.offers):
                try:
                    draft = None if item.retire or item.offer is None else _draft(item.offer)
                except ValidationFailed as error:
                    error.field = f"offers[{position}].{error.field or ''}".rstrip(".")
                    raise
                if draft is None and not item.retire:
                    raise ValidationFailed(
                        "an offer to upsert, or retire", field=f"offers[{position}].offer"
                    )
                items.append((item.external_id, item.version, draft))
            return await sync_items(info.context, conn, caller, partner_id, items)

        results, errors = await run_mutation(info, work)
        return OfferCatalogSyncPayload(results=results or [], errors=errors)

    @strawberry.mutation(
        name="offerActivate",
        description="Activate an offer for a member: its terms are frozen now and hold until "
        "the member's window ends. Activating again answers the first activation.",
    )
    async def offer_activate(
        self, info: Info[RequestContext, None], input: OfferMemberInput
    ) -> MemberOfferPayload:
        ctx = info.context

        async def work(conn: AsyncConnection, _: Any) -> models.MemberOffer:
            member_id = _member_of(ctx, input.member_id)
            offer_id = require_id(str(input.offer_id), field="offerId")
            now = ctx.now()
            facts = conditions.member_facts(ctx)
            activation = await members.activate(
                conn, ctx.tenant_id, offer_id, member_id, now, facts
            )
            offer = await repo.get_offer(conn, ctx.tenant_id, offer_id)
            assert offer is not None
            return models.MemberOffer(offer, members.state_of(activation, now), activation)

        found, errors = await run_mutation(info, work)
        return MemberOfferPayload(
            member_offer=None if found is None else MemberOffer.of(found), errors=errors
        )

    @strawberry.mutation(
        name="offerHide",
        description="Hide an offer from a member: it leaves the member's list and earns no more.",
    )
    async def offer_hide(
        self, info: Info[RequestContext, None], input: OfferMemberInput
    ) -> OfferHidePayload:
        ctx = info.context

        async def work(conn: AsyncConnection, _: Any) -> bool:
            member_id = _member_of(ctx, input.member_id)
            offer_id = require_id(str(input.offer_id), field="offerId")
            await members.hide(conn, ctx.tenant_id, offer_id, member_id, ctx.now())
            return True

        hidden, errors = await run_mutation(info, work)
        return OfferHidePayload(hidden=bool(hidden), errors=errors)


async def sync_items(
    ctx: RequestContext,
    conn: AsyncConnection,
    caller: Caller,
    partner_id: uuid.UUID | None,
    items: list[tuple[str, int, catalogue.Draft | None]],
) -> list[OfferSyncResult]:
    """Sync ``items`` (external id, version, the offer or None to retire) in one
    transaction: the mutation's and the NDJSON route's."""
    if len(items) > MAX_SYNC:
        raise ValidationFailed(f"at most {MAX_SYNC} offers per sync", field="offers")
    await _funder(ctx, conn, partner_id)
    actor = require_principal(ctx.principal).actor
    types = conditions.event_types(ctx)
    funder = funder_of(ctx, partner_id)
    results: list[OfferSyncResult] = []
    for position, (external_id, version, draft) in enumerate(items):
        try:
            if draft is not None:
                draft = await catalogue.check(conn, caller.tenant_id, draft, types, funder)
            synced = await catalogue.sync(
                conn, caller.tenant_id, partner_id, external_id, version, draft, actor=actor
            )
        except LoyaltyError as error:
            error.field = f"offers[{position}].{error.field or ''}".rstrip(".")
            raise
        results.append(
            OfferSyncResult(
                external_id=external_id,
                offer=None if synced is None else Offer.of(synced.offer),
                written=synced is not None and synced.written,
            )
        )
    return results


@strawberry.field(
    name="offers",
    description="The member's offers: activated and used ones with the terms it holds, then "
    "the live offers it may activate or earns automatically (hidden ones left out).",
)
async def member_offers(
    root: Member,
    info: Info[RequestContext, None],
    first: int | None = None,
    after: str | None = None,
    state: MemberOfferState | None = None,
) -> Connection[MemberOffer]:
    """The member's offers in the catalogue's order (oldest first), ``state``'s only when
    given (an app lists the ACTIVATED ones first, then the AVAILABLE ones). The list is made
    from the per-process index of live offers and the member's activations, then paged."""
    member_id = uuid.UUID(str(root.id))
    ctx = info.context
    size = page_size(first)
    cursors = Cursors(ctx.tenant_id, f"{NAME}.member_offers:{member_id}")
    position = cursors.decode(after)
    if not may_read_member(ctx.principal, member_id):
        return connection(cursors, [], size, lambda item: item.offer.id)
    async with ctx.read() as conn:
        found = await members.offers_of(
            conn, ctx.tenant_id, member_id, ctx.now(), conditions.member_facts(ctx)
        )
    page = sorted(
        (
            item
            for item in found
            if (state is None or item.state is state)
            and (position is None or item.offer.id > position)
        ),
        key=lambda item: item.offer.id,
    )[: size + 1]
    return connection(cursors, page, size, lambda item: item.offer.id, MemberOffer.of)


__all__ = [
    "NAME",
    "Caller",
    "Offer",
    "OfferMutation",
    "OfferQuery",
    "caller_of",
    "member_offers",
    "sync_items",
]
