"""The POS walk-through of docs/modules/payment.md, run as written: each numbered step's
``graphql`` block is sent by a till with the ``json`` block under it as its variables, in
order, against a real gateway with payments and gift cards enabled.

Placeholder convention (stated in the guide too): a JSON string ``"$MEMBER_ID"``,
``"$GIFT_CARD_CODE"`` or ``"$PAYMENT_ID"`` anywhere in the variables is replaced by the
member's id, the card's code and the id of the payment the first step authorised. The test
then checks the promises the guide's prose makes (what is due, what each tender got back).
"""

from __future__ import annotations

from typing import Any

from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, graphql

from tests.guides import Step, placeholders, steps, substitute
from tests.payments import Shop, reconciles


def walk_through() -> list[Step]:
    """The steps of the guide's "POS walk-through" section, in order."""
    return steps("payment.md", "POS walk-through")


def test_the_walk_through_has_five_steps_with_known_placeholders() -> None:
    found = walk_through()
    assert len(found) == 5
    assert placeholders(found) == {"MEMBER_ID", "GIFT_CARD_CODE", "PAYMENT_ID"}


async def test_the_pos_walk_through_runs_as_written(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant, points=1500)
    _, code = await shop.card(1000)
    names = {"MEMBER_ID": shop.member, "GIFT_CARD_CODE": code}
    answers: list[dict[str, Any]] = []

    for step in walk_through():
        body = await graphql(
            shop.gateway.client, step.operation, substitute(step.variables, names), api_key=shop.key
        )
        assert "errors" not in body, (step.operation, body)
        [answer] = body["data"].values()
        assert answer is not None, step.operation
        assert answer.get("errors", []) == [], (step.operation, answer)
        answers.append(answer)
        names.setdefault("PAYMENT_ID", answers[0]["payment"]["id"])

    authorized, due, captured, refunded, timeline = answers
    assert (authorized["payment"]["held"], authorized["payment"]["amountDue"]) == (2000, 500)
    assert (due["amountDue"], due["status"]) == (500, "AUTHORIZED")
    assert [(t["tender"], t["captured"]) for t in captured["payment"]["tenders"]] == [
        ("POINTS", 1000),
        ("GIFT_CARD", 1000),
    ]
    assert [(p["tender"], p["amount"], p["units"]) for p in refunded["operation"]["parts"]] == [
        ("POINTS", 250, 250),
        ("GIFT_CARD", 250, 250),
    ]
    assert [op["kind"] for op in timeline["timeline"]] == ["AUTHORIZE", "CAPTURE", "REFUND"]
    assert await shop.points() == (750, 0)
    assert await shop.funds(code) == (250, 0)
    await reconciles(db, tenant)
