"""Every id a mutation takes, core's or a module's, answers NOT_FOUND when it names nothing
of the caller's tenant: a random id, another tenant's member, card or payment, or text that
is no id at all. Never ``internal error``: a foreign key the database enforces behind a
service is an answer too (``loyalty_core.db.errors``).

The cases are one valid request per mutation with an id argument; a test reads the composed
schema and fails when a mutation takes an id that no case covers, so a new mutation is
covered as soon as it is written."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphql import GraphQLInputObjectType, GraphQLInputType, build_schema, get_named_type
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loyalty_core.db.engine import Database
from loyalty_core.inputs import text_problem
from loyalty_core.tenants.models import Tenant
from loyalty_testing import (
    MakeApp,
    admin_token,
    create_test_tenant,
    enable_for,
    graphql,
    member_token,
)

from tests.payments import Shop

ADMIN, TILL, MEMBER = "admin", "till", "member"
PURCHASE = {
    "type": "purchase",
    "source": "pos",
    "externalId": "r-1",
    "payload": {"amount": 1999, "currency": "EUR"},
}


UNKNOWN = "01940000-0000-7000-8000-000000000000"
"""An id of nothing, for the ids beside the one under test that a mutation requires."""
VOUCHER = {"discount": "AMOUNT", "amount": 100, "currency": "EUR"}
OFFER = {
    "title": "t",
    "startsAt": "2026-01-01T00:00:00Z",
    "endsAt": "2027-01-01T00:00:00Z",
    "reward": "FIXED",
    "value": "5",
}
LADDER = """
mutation($input: TierLadderInput!) { tierLadderSet(input: $input) { errors { code } } }
"""


@dataclass(frozen=True)
class Case:
    """One mutation with a valid input, and where in it the id under test goes."""

    mutation: str
    input_type: str | None  # None: the id is the mutation's own ``id`` argument
    fields: dict[str, Any]
    path: str
    caller: str = ADMIN


CASES = [
    Case("memberUpdate", "MemberUpdateInput", {}, "input.id"),
    Case("eventIngest", "EventIngestInput", PURCHASE, "input.memberId", TILL),
    Case("eventIngestBatch", "EventIngestBatchInput", {}, "input.events.memberId", TILL),
    Case(
        "pointsAdjust",
        "PointsAdjustInput",
        {"amount": 5, "reason": "r", "idempotencyKey": "k"},
        "input.memberId",
    ),
    Case(
        "pointsRedeem",
        "PointsRedeemInput",
        {"amount": 5, "idempotencyKey": "k", "reason": "r"},
        "input.memberId",
        TILL,
    ),
    Case(
        "pointsTransfer",
        "PointsTransferInput",
        {"amount": 5, "idempotencyKey": "k", "reason": "r", "senderId": "{member}"},
        "input.recipientId",
    ),
    Case(
        "pointsTransfer",
        "PointsTransferInput",
        {"amount": 5, "idempotencyKey": "k", "reason": "r", "recipientId": "{member}"},
        "input.senderId",
    ),
    Case("apiKeyRevoke", "ApiKeyRevokeInput", {}, "input.id"),
    Case("memberExport", "MemberExportInput", {}, "input.memberId"),
    Case("memberErase", "MemberEraseInput", {}, "input.memberId"),
    Case("campaignUpdate", "CampaignUpdateInput", {"name": "n"}, "input.id"),
    Case("segmentUpdate", "SegmentUpdateInput", {"name": "n"}, "input.id"),
    Case("segmentDelete", None, {}, "id"),
    Case("campaignActivate", None, {}, "id"),
    Case("campaignDeactivate", None, {}, "id"),
    Case(
        "campaignSimulate",
        "CampaignSimulateInput",
        {"since": "2026-01-01T00:00:00Z", "until": "2026-01-02T00:00:00Z"},
        "input.id",
    ),
    Case(
        "giftCardIssue", "GiftCardIssueInput", {"amount": 100, "currency": "EUR"}, "input.memberId"
    ),
    Case("giftCardReveal", "GiftCardRevealInput", {}, "input.id", MEMBER),
    Case("giftCardCancel", "GiftCardCancelInput", {}, "input.id"),
    Case("giftCardAssign", "GiftCardAssignInput", {"memberId": "{member}"}, "input.id"),
    Case("giftCardAssign", "GiftCardAssignInput", {"id": "{card}"}, "input.memberId"),
    Case("enrolmentVerify", "EnrolmentVerifyInput", {"code": "123456"}, "input.enrolmentId", TILL),
    Case(
        "enrolmentComplete",
        "EnrolmentCompleteInput",
        {"consents": [{"purpose": "TERMS", "textVersion": "t-1"}], "source": "web"},
        "input.enrolmentId",
        TILL,
    ),
    Case("enrolmentReview", "EnrolmentReviewInput", {"approve": True}, "input.enrolmentId"),
    Case("signInVerify", "SignInVerifyInput", {"code": "123456"}, "input.attemptId"),
    Case(
        "consentGive",
        "ConsentGiveInput",
        {"purpose": "MARKETING_EMAIL", "textVersion": "t-1", "channel": "web", "source": "s"},
        "input.memberId",
    ),
    Case(
        "consentWithdraw",
        "ConsentWithdrawInput",
        {"purpose": "MARKETING_EMAIL", "channel": "web", "source": "s"},
        "input.memberId",
    ),
    Case("referralCodeCreate", "ReferralCodeCreateInput", {}, "input.memberId"),
    Case("memberCardIssue", "MemberCardIssueInput", {"kind": "DIGITAL"}, "input.memberId"),
    Case(
        "paymentAuthorize",
        "PaymentAuthorizeInput",
        {
            "orderReference": "o-1",
            "amount": 100,
            "currency": "EUR",
            "tenders": [{"tender": "POINTS"}],
            "idempotencyKey": "k",
        },
        "input.memberId",
        TILL,
    ),
    Case("paymentCapture", "PaymentCaptureInput", {"idempotencyKey": "k"}, "input.paymentId", TILL),
    Case("paymentVoid", "PaymentVoidInput", {}, "input.paymentId", TILL),
    Case("paymentRefund", "PaymentRefundInput", {"idempotencyKey": "k"}, "input.paymentId", TILL),
    Case("partnerUpdate", "PartnerUpdateInput", {"name": "n"}, "input.id"),
    Case(
        "partnerApiKeyCreate",
        "PartnerApiKeyCreateInput",
        {"name": "k", "scopes": ["EVENTS_WRITE"]},
        "input.partnerId",
    ),
    Case(
        "partnerRateCardSet",
        "PartnerRateCardSetInput",
        {"issuePrice": "0.01", "redeemReimbursement": "0.01"},
        "input.partnerId",
    ),
    Case(
        "partnerPointBlockPurchase",
        "PartnerPointBlockPurchaseInput",
        {"points": 10, "price": 10, "idempotencyKey": "k"},
        "input.partnerId",
    ),
    Case(
        "settlementAdjust",
        "SettlementAdjustInput",
        {"amount": 5, "reason": "r", "idempotencyKey": "k"},
        "input.partnerId",
    ),
    Case("badgeUpdate", "BadgeUpdateInput", {"name": "n"}, "input.id"),
    Case("challengeUpdate", "ChallengeUpdateInput", {"name": "n"}, "input.id"),
    Case("streakUpdate", "StreakUpdateInput", {"name": "n"}, "input.id"),
    Case("challengeJoin", "ChallengeJoinInput", {"memberId": "{member}"}, "input.challengeId"),
    Case("challengeJoin", "ChallengeJoinInput", {"challengeId": UNKNOWN}, "input.memberId"),
    Case("leaderboardPlayerSet", "LeaderboardPlayerSetInput", {}, "input.memberId"),
    Case("tierOverride", "TierOverrideInput", {"level": "gold", "reason": "r"}, "input.memberId"),
    Case("rewardUpdate", "RewardUpdateInput", {"name": "n"}, "input.id"),
    Case(
        "rewardCreate",
        "RewardCreateInput",
        {"name": "n", "kind": "VOUCHER", "voucher": VOUCHER},
        "input.voucher.poolId",
    ),
    Case(
        "rewardUpdate",
        "RewardUpdateInput",
        {"id": UNKNOWN, "voucher": VOUCHER},
        "input.voucher.poolId",
    ),
    Case(
        "rewardRedeem",
        "RewardRedeemInput",
        {"idempotencyKey": "k", "memberId": "{member}"},
        "input.rewardId",
        TILL,
    ),
    Case(
        "rewardRedeem",
        "RewardRedeemInput",
        {"idempotencyKey": "k", "rewardId": UNKNOWN},
        "input.memberId",
        TILL,
    ),
    Case("rewardRedemptionCancel", "RewardRedemptionCancelInput", {}, "input.id"),
    Case(
        "rewardFulfilmentUpdate", "RewardFulfilmentUpdateInput", {"status": "SHIPPED"}, "input.id"
    ),
    Case("offerCreate", "OfferCreateInput", {"offer": OFFER}, "input.partnerId"),
    Case("offerUpdate", "OfferUpdateInput", {"offer": OFFER}, "input.id"),
    Case("offerRetire", "OfferRetireInput", {}, "input.id"),
    Case("offerCatalogSync", "OfferCatalogSyncInput", {"offers": []}, "input.partnerId"),
    Case("offerActivate", "OfferMemberInput", {"memberId": "{member}"}, "input.offerId"),
    Case("offerActivate", "OfferMemberInput", {"offerId": UNKNOWN}, "input.memberId"),
    Case("offerHide", "OfferMemberInput", {"memberId": "{member}"}, "input.offerId"),
    Case("offerHide", "OfferMemberInput", {"offerId": UNKNOWN}, "input.memberId"),
]


@dataclass(frozen=True)
class World:
    """A tenant with every module on, its till, a member and a card; and another tenant's
    member, card and payment, whose ids must be as unknown as random ones."""

    shop: Shop
    card: str
    foreign: tuple[str, ...]

    async def send(self, case: Case, value: str) -> list[str]:
        """The error codes of ``case`` with ``value`` as the id under test."""
        filled = {k: self._fill(v) for k, v in case.fields.items()}
        if case.path == "input.events.memberId":
            arguments: dict[str, Any] = {"input": {"events": [{**PURCHASE, "memberId": value}]}}
        elif case.input_type is None:
            arguments = {"id": value}
        else:
            arguments = {"input": _with_value(filled, case.path.removeprefix("input."), value)}
        body = await graphql(
            self.shop.gateway.client, _document(case), arguments, **self._auth(case)
        )
        return _codes(body, case.mutation)

    def _fill(self, value: Any) -> Any:
        if value == "{member}":
            return self.shop.member
        if value == "{card}":
            return self.card
        return value

    def _auth(self, case: Case) -> dict[str, str]:
        tenant_id = self.shop.tenant.id
        if case.caller == TILL:
            return {"api_key": self.shop.key}
        if case.caller == MEMBER:
            return {"token": member_token(tenant_id, uuid.UUID(self.shop.member))}
        return {"token": admin_token(tenant_id)}


async def open_world(make_app: MakeApp, db: Database, tenant: Tenant) -> World:
    shop = await Shop.open(make_app, db, tenant, points=1_000)
    await enable_for(db, shop.gateway.registry, tenant, "onboarding", {"sign_in_by_code": True})
    for module in ("clearing", "gamification", "tiers", "rewards", "partner_offers"):
        await enable_for(db, shop.gateway.registry, tenant, module, {})
    levels = [{"name": "bronze", "threshold": 0}, {"name": "gold", "threshold": 40000}]
    ladder = {
        "levels": levels,
        "metric": "SPEND",
        "window": "CALENDAR_YEAR",
        "downgrade": "ONE_LEVEL",
    }
    laddered = await graphql(
        shop.gateway.client, LADDER, {"input": ladder}, token=admin_token(tenant.id)
    )
    assert laddered["data"]["tierLadderSet"]["errors"] == [], laddered
    card, _ = await shop.card(500)
    other = await Shop.open(make_app, db, await create_test_tenant(db), points=1_000)
    other_card, _ = await other.card(500)
    paid = await other.authorize(100, {"tender": "POINTS"})
    return World(shop, card, (other.member, other_card, paid["payment"]["id"]))


def test_every_id_argument_of_every_mutation_has_a_case() -> None:
    schema = build_schema((Path(__file__).parents[1] / "schema" / "schema.graphql").read_text())
    assert schema.mutation_type is not None
    found = {
        (name, path)
        for name, field in schema.mutation_type.fields.items()
        for arg_name, arg in field.args.items()
        for path in _id_paths(arg.type, arg_name)
    }
    assert found == {(case.mutation, case.path) for case in CASES}


async def test_an_unknown_id_is_not_found_in_every_mutation(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    world = await open_world(make_app, db, tenant)
    wrong = [
        (case.mutation, case.path, value, codes)
        for case in CASES
        for value in (str(uuid.uuid4()), *world.foreign)
        if (codes := await world.send(case, value)) != ["NOT_FOUND"]
    ]
    assert wrong == []


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
async def test_any_id_value_is_an_answer_never_an_internal_error(
    make_app: MakeApp, db: Database, tenant: Tenant, data: st.DataObject
) -> None:
    world = _WORLDS.get(tenant.id) or _WORLDS.setdefault(
        tenant.id, await open_world(make_app, db, tenant)
    )
    case = data.draw(st.sampled_from(CASES))
    value = data.draw(
        st.one_of(
            st.uuids().map(str),
            st.sampled_from(world.foreign),
            st.text(max_size=60),
            st.uuids().map(lambda u: str(u).upper()),
        )
    )
    codes = await world.send(case, value)
    assert "INTERNAL" not in codes, (case, value, codes)
    # Text no field takes (a NUL) is refused before any id is looked at.
    expected = ["NOT_FOUND"] if text_problem(value) is None else ["INVALID_INPUT"]
    assert codes == expected, (case, value, codes)


_WORLDS: dict[uuid.UUID, World] = {}


def _document(case: Case) -> str:
    if case.mutation == "eventIngestBatch":
        return (
            "mutation($input: EventIngestBatchInput!) { eventIngestBatch(input: $input) "
            "{ results { errors { code field } } errors { code field } } }"
        )
    if case.input_type is None:
        return f"mutation($id: ID!) {{ {case.mutation}(id: $id) {{ errors {{ code field }} }} }}"
    return (
        f"mutation($input: {case.input_type}!) "
        f"{{ {case.mutation}(input: $input) {{ errors {{ code field }} }} }}"
    )


def _with_value(fields: dict[str, Any], path: str, value: str) -> dict[str, Any]:
    """``fields`` with ``value`` at the dotted ``path`` (``voucher.poolId``)."""
    head, _, rest = path.partition(".")
    if not rest:
        return {**fields, head: value}
    return {**fields, head: _with_value(fields.get(head, {}), rest, value)}


def _codes(body: dict[str, Any], mutation: str) -> list[str]:
    """The codes the caller got: payload errors, else GraphQL errors' extensions."""
    if body.get("errors"):
        return [error.get("extensions", {}).get("code", "?") for error in body["errors"]]
    payload = body["data"][mutation]
    results = [error for result in payload.get("results", []) for error in result["errors"]]
    return [error["code"] for error in payload["errors"] + results]


def _id_paths(type_: GraphQLInputType, path: str) -> list[str]:
    named = get_named_type(type_)
    if isinstance(named, GraphQLInputObjectType):
        return [p for name, f in named.fields.items() for p in _id_paths(f.type, f"{path}.{name}")]
    return [path] if named.name == "ID" else []
