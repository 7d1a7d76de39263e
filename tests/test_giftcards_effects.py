"""The ``issue_gift_card`` rule effect, applied as the rules engine applies effects: in the
trigger's transaction, with the campaign's idempotency key."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from loyalty_core.db.engine import Database
from loyalty_core.ids import new_id
from loyalty_core.modules.contributions import EffectContext
from loyalty_core.modules.manager import build_registry
from loyalty_core.tenants.models import Tenant
from loyalty_giftcards import codes
from loyalty_giftcards.effects import ISSUE_GIFT_CARD, IssueGiftCardParams
from loyalty_giftcards.settings import GiftCardSettings
from loyalty_giftcards.tables import cards, events
from loyalty_testing import MakeApp, admin_token, enable_for, graphql, insert_member, member_token
from sqlalchemy import func, select

from tests.api import pos_key
from tests.test_giftcards_api import move
from tests.test_rules_campaigns import Shop


def _context(conn: object, tenant: Tenant, member_id: uuid.UUID, key: str) -> EffectContext:
    return EffectContext(
        conn=conn,  # type: ignore[arg-type]
        tenant=tenant,
        member_id=member_id,
        campaign_id=uuid.UUID(int=7),
        campaign_version=2,
        idempotency_key=key,
        now=datetime.now(UTC),
        actor="rule:welcome",
        module_settings=GiftCardSettings(),
    )


async def test_the_effect_issues_the_member_one_card_per_trigger(
    db: Database, tenant: Tenant
) -> None:
    await enable_for(db, build_registry(), tenant, "giftcards", {})
    params = IssueGiftCardParams(amount=1_500)
    key = f"campaign:7:v2:event:{new_id()}:0"
    async with db.tenant_transaction(tenant.id) as conn:
        member_id = await insert_member(conn, tenant.id)
        first = await ISSUE_GIFT_CARD.apply(_context(conn, tenant, member_id, key), params)
    async with db.tenant_transaction(tenant.id) as conn:
        again = await ISSUE_GIFT_CARD.apply(_context(conn, tenant, member_id, key), params)
        owned = await conn.scalar(
            select(func.count()).where(
                cards.c.tenant_id == tenant.id, cards.c.member_id == member_id
            )
        )
        cause = (
            await conn.execute(
                select(events.c.cause_kind, events.c.cause_id).where(
                    events.c.tenant_id == tenant.id
                )
            )
        ).one()

    assert first.transaction_ids
    assert again.transaction_ids == first.transaction_ids
    assert owned == 1
    assert tuple(cause) == ("rule", f"{uuid.UUID(int=7)}:v2")
    assert ISSUE_GIFT_CARD.simulate is not None
    assert "1500 EUR" in ISSUE_GIFT_CARD.simulate(params, {}).description


async def test_a_campaign_rewards_a_purchase_with_a_gift_card(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await make_app()
    await enable_for(db, gateway.registry, tenant, "giftcards", {})
    shop = await Shop.open(gateway.client, tenant, rate="0")
    effect = {"kind": "giftcards.issue_gift_card", "params": {"amount": 1_000}}
    await shop.campaign("Gift card for a purchase", effects=[effect])
    member = await shop.member()

    first = await shop.event(member)
    assert first["errors"] == [], first
    cards = await graphql(
        gateway.client,
        "query($id: ID!) { member(id: $id) { giftCards { id balance status events { cause } } } }",
        {"id": member},
        token=admin_token(tenant.id),
    )
    [card] = cards["data"]["member"]["giftCards"]
    assert (card["balance"], card["status"]) == (1_000, "ACTIVE")
    assert card["events"][0]["cause"].startswith("rule:")

    # Nobody saw the code at issue: the member reveals it and spends the card at a till.
    revealed = await graphql(
        gateway.client,
        "mutation($id: ID!) { giftCardReveal(input: {id: $id}) { code errors { code } } }",
        {"id": card["id"]},
        token=member_token(tenant.id, uuid.UUID(member)),
    )
    code = revealed["data"]["giftCardReveal"]["code"]
    assert codes.normalise(code) is not None, revealed
    till = await pos_key(gateway.client, tenant.id)
    spent = await move(gateway, till, "giftCardRedeem", code, 400, "campaign-card")
    assert (spent["errors"], spent["giftCard"]["balance"]) == ([], 600)
