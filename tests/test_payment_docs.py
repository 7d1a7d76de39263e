"""The POS walk-through of docs/modules/payment.md, run as written: each numbered step's
``graphql`` block is sent by a till with the ``json`` block under it as its variables, in
order, against a real gateway with payments and gift cards enabled.

Placeholder convention (stated in the guide too): a JSON string ``"$MEMBER_ID"``,
``"$GIFT_CARD_CODE"`` or ``"$PAYMENT_ID"`` anywhere in the variables is replaced by the
member's id, the card's code and the id of the payment the first step authorised. The test
then checks the promises the guide's prose makes (what is due, what each tender got back).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, graphql

from tests.payments import Shop, reconciles

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "modules" / "payment.md"
STEP = re.compile(
    r"^```graphql\n(?P<operation>.*?)^```\s*^```json\n(?P<variables>.*?)^```",
    re.MULTILINE | re.DOTALL,
)
PLACEHOLDER = re.compile(r"^\$[A-Z_]+$")


def walk_through() -> list[tuple[str, dict[str, Any]]]:
    """The (operation, variables) pairs of the guide's "POS walk-through" section, in order."""
    text = GUIDE.read_text(encoding="utf-8")
    section = text.split("\n## POS walk-through\n", 1)[1].split("\n## ", 1)[0]
    return [(m["operation"], json.loads(m["variables"])) for m in STEP.finditer(section)]


def substitute(value: Any, names: dict[str, str]) -> Any:
    """``value`` with every placeholder string replaced; an unknown placeholder fails."""
    if isinstance(value, dict):
        return {key: substitute(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute(item, names) for item in value]
    if isinstance(value, str) and PLACEHOLDER.match(value):
        assert value[1:] in names, f"{value} is not set by an earlier step"
        return names[value[1:]]
    return value


def test_the_walk_through_has_five_steps_with_known_placeholders() -> None:
    steps = walk_through()
    assert len(steps) == 5
    used = set(re.findall(r'"\$([A-Z_]+)"', json.dumps([v for _, v in steps])))
    assert used == {"MEMBER_ID", "GIFT_CARD_CODE", "PAYMENT_ID"}


async def test_the_pos_walk_through_runs_as_written(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant, points=1500)
    _, code = await shop.card(1000)
    names = {"MEMBER_ID": shop.member, "GIFT_CARD_CODE": code}
    answers: list[dict[str, Any]] = []

    for operation, variables in walk_through():
        body = await graphql(
            shop.gateway.client, operation, substitute(variables, names), api_key=shop.key
        )
        assert "errors" not in body, (operation, body)
        [answer] = body["data"].values()
        assert answer is not None, operation
        assert answer.get("errors", []) == [], (operation, answer)
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
