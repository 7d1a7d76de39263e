"""The worked example of docs/modules/rewards.md, run as written: each step's ``graphql``
block is sent by whoever its ``# as:`` line names, with the ``json`` block under it as its
variables, against a real gateway; placeholders are filled from earlier answers, and the
scheduler runs on Mia's birthday before the last step."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from loyalty_core.db.engine import Database
from loyalty_core.rules.engine import module_effects
from loyalty_core.rules.schedules import run_scheduled_at
from loyalty_core.tenants.models import Tenant
from loyalty_rewards.settings import RewardSettings
from loyalty_testing import MakeApp, admin_token, enable_for, graphql, member_token

from tests.api import available, credit, pos_key
from tests.guides import Step, step_pattern, steps, substitute

STEP = step_pattern(first_line=r"# as: (?P<caller>\w+)\n")
BIRTHDAY = datetime(2027, 3, 14, 9, 0, tzinfo=UTC)


def walk_through() -> list[Step]:
    return steps("rewards.md", "Worked example", STEP)


async def test_the_worked_example_runs_as_written(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await make_app()
    await enable_for(db, gateway.registry, tenant, "rewards", {})
    created = await graphql(
        gateway.client,
        "mutation($i: MemberCreateInput!) { memberCreate(input: $i) { member { id } } }",
        {
            "i": {
                "identifiers": [{"kind": "EMAIL", "value": "mia@example.com"}],
                "profile": {"birthDate": "1994-03-14"},
            }
        },
        token=admin_token(tenant.id),
    )
    mia = created["data"]["memberCreate"]["member"]["id"]
    await credit(gateway.client, tenant.id, mia, 250)
    credentials = {
        "admin": {"token": admin_token(tenant.id)},
        "member": {"token": member_token(tenant.id, uuid.UUID(mia))},
        "till": {"api_key": await pos_key(gateway.client, tenant.id)},
    }
    names = {"MEMBER_ID": mia}
    steps = walk_through()
    assert len(steps) == 8
    answers: list[dict[str, Any]] = []
    for number, step in enumerate(steps, start=1):
        if number == 8:
            # the scheduler's job on Mia's birthday, with the tenant's module effects
            await run_scheduled_at(
                db,
                tenant,
                BIRTHDAY,
                effects=module_effects(gateway.registry, ["rewards"]),
                settings={"rewards": RewardSettings()},
            )
        body = await graphql(
            gateway.client,
            step.operation,
            substitute(step.variables, names),
            **credentials[str(step.caller)],
        )
        assert "errors" not in body, (number, body)
        [answer] = body["data"].values()
        assert answer.get("errors", []) == [], (
            (number, answer) if isinstance(answer, dict) else answer
        )
        answers.append(answer)
        if number == 1:
            names["COFFEE_ID"] = answer["reward"]["id"]
        if number == 2:
            names["VOUCHER_CODE"] = answer["code"]
        if number == 5:
            names["BIRTHDAY_ID"] = answer["reward"]["id"]
        if number == 6:
            names["CAMPAIGN_ID"] = answer["campaign"]["id"]

    assert answers[1]["redemption"]["points"] == 100
    assert await available(gateway.client, tenant.id, mia) == 150
    assert (answers[2]["valid"], answers[2]["discount"]) == (True, 350)
    assert (answers[3]["discount"], answers[3]["voucher"]["status"]) == (350, "REDEEMED")
    assert answers[6]["campaign"]["status"] == "ACTIVE"
    birthday = [v for v in answers[7]["vouchers"] if v["amount"] == 500]
    assert len(birthday) == 1
    assert birthday[0]["status"] == "ACTIVE"
    assert birthday[0]["code"]
