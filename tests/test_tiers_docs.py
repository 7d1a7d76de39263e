"""The worked example of docs/modules/tiers.md, run as written: each numbered step's
``graphql`` block is sent by the caller the step names in bold (admin, till or member) with
the ``json`` block under it as its variables, in order, against a real gateway with tiers
enabled. Placeholders (``"$MEMBER_ID"``, ``"$CAMPAIGN_ID"``, ``"$IN_30_DAYS"``) are
replaced as the guide says; the test then checks what the guide's prose promises."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, graphql, member_token

from tests.tiers import TierShop

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "modules" / "tiers.md"
STEP = re.compile(
    r"^\d+\. \*\*(?P<caller>Admin|Till|Member)\*\*.*?^```graphql\n(?P<operation>.*?)^```\s*"
    r"^```json\n(?P<variables>.*?)^```",
    re.MULTILINE | re.DOTALL,
)


def walk_through() -> list[tuple[str, str, dict[str, Any]]]:
    text = GUIDE.read_text(encoding="utf-8")
    section = text.split("\n## Worked example\n", 1)[1].split("\n## ", 1)[0]
    return [
        (m["caller"], m["operation"], json.loads(m["variables"])) for m in STEP.finditer(section)
    ]


def substitute(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {key: substitute(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute(item, names) for item in value]
    if isinstance(value, str) and value.startswith("$"):
        assert value[1:] in names, f"{value} is not known"
        return names[value[1:]]
    return value


def test_the_worked_example_has_eight_steps() -> None:
    assert [caller for caller, _, _ in walk_through()] == [
        "Admin",
        "Admin",
        "Admin",
        "Till",
        "Member",
        "Till",
        "Admin",
        "Member",
    ]


async def test_the_worked_example_runs_as_written(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await TierShop.start(make_app, db, tenant, timezone="Europe/Berlin")
    mia = await shop.member("mia@example.com")
    names = {
        "MEMBER_ID": mia,
        "IN_30_DAYS": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
    }
    tokens = {
        "Admin": {"token": shop.admin},
        "Till": {"api_key": shop.key},
        "Member": {"token": member_token(tenant.id, uuid.UUID(mia))},
    }
    answers = []
    for caller, operation, variables in walk_through():
        body = await graphql(shop.client, operation, substitute(variables, names), **tokens[caller])
        assert "errors" not in body, body
        answers.append(body["data"])
        if "campaignCreate" in body["data"]:
            names["CAMPAIGN_ID"] = body["data"]["campaignCreate"]["campaign"]["id"]

    ladder, _, activated, reaching, mine, doubled, invited, history = answers
    assert ladder["tierLadderSet"]["ladder"]["version"] == 1
    assert activated["campaignActivate"]["campaign"]["status"] == "ACTIVE"
    assert not any("Double" in t["reason"] for t in reaching["eventIngest"]["transactions"])
    tier, progress = mine["member"]["tier"], mine["member"]["tierProgress"]
    assert tier["level"] == {"name": "gold", "benefits": ["Double points"]}
    assert tier["source"] == "EARNED"
    assert tier["until"].endswith("-12-31")
    assert progress == {
        "value": 42_000,
        "nextLevel": None,
        "missing": 0,
        "keep": 0,
        "contributions": [{"amount": 42_000}],
    }
    assert any(
        t["reason"].startswith("Double points for gold")
        for t in doubled["eventIngest"]["transactions"]
    )
    given = invited["tierOverride"]["tier"]
    assert (given["level"]["name"], given["source"], given["earnedLevel"]) == (
        "platinum",
        "OVERRIDE",
        "gold",
    )
    changes = [e["node"] for e in history["member"]["tierHistory"]["edges"]]
    assert [(c["kind"], c["toLevel"]) for c in changes] == [
        ("override", "platinum"),
        ("upgrade", "gold"),
    ]
    assert "receipt-2001" in changes[1]["reason"]
