"""The coffee shop's worked example of docs/modules/gamification.md, run as written: each
numbered step's ``graphql`` block is sent with the ``json`` block under it as its variables,
in order (definitions by a tenant admin, the visits by the till, the reads by the member),
against a real gateway with the module enabled. ``"$MEMBER_ID"`` and ``"$LEADERBOARD_ID"``
are replaced by the member's id and the id the third step returns. Then the promises of the
guide's prose are checked: the badge earned in November, the streak's milestone, Mia first
on November's board, and her prize paid once by two job runs at once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from loyalty_core.db.engine import Database
from loyalty_core.modules.contributions import NoSettings
from loyalty_core.tenants.models import Tenant
from loyalty_gamification.leaderboards import pay_prizes
from loyalty_testing import MakeApp, graphql, member_token

from tests.gamification import Shop, reward_transactions
from tests.guides import Step, steps, substitute
from tests.jobs import job_context


def worked_example() -> list[Step]:
    return steps("gamification.md", "Worked example: a coffee shop")


async def test_the_coffee_shop_example_runs_as_written(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await Shop.open(make_app, db, tenant)
    mia = await shop.member()
    names = {"MEMBER_ID": mia}
    steps = worked_example()
    assert len(steps) == 6
    callers = [
        {"token": shop.admin},
        {"token": shop.admin},
        {"token": shop.admin},
        {"api_key": shop.key},
        {"token": member_token(tenant.id, uuid.UUID(mia))},
        {"token": member_token(tenant.id, uuid.UUID(mia))},
    ]
    answers: list[dict[str, Any]] = []
    for step, caller in zip(steps, callers, strict=True):
        operation = step.operation
        if len(answers) == 3:
            names["LEADERBOARD_ID"] = answers[2]["leaderboard"]["id"]
        body = await graphql(
            shop.gateway.client, operation, substitute(step.variables, names), **caller
        )
        assert "errors" not in body, (operation, body)
        [answer] = body["data"].values()
        assert answer.get("errors", []) == [], (operation, answer)
        answers.append(answer)

    *_, batch, member, board = answers
    assert all(result["errors"] == [] for result in batch["results"])
    [regular] = [b for b in member["badges"] if b["badge"]["name"] == "Coffee regular"]
    assert [a["periodKey"] for a in regular["awards"]] == ["month:2026-11"]
    assert regular["awards"][0]["transactionId"] is not None
    [weeks] = member["streaks"]
    assert (weeks["best"], weeks["lastActiveOn"]) == (4, "2026-11-23")
    assert (board["member"]["rank"], board["member"]["score"]) == (1, 5)
    assert (board["above"], board["below"]) == ([], [])
    assert await reward_transactions(db, tenant) == {"earn": 2}

    context = job_context(db, tenant, NoSettings(), now=datetime(2026, 12, 1, 9, tzinfo=UTC))
    assert sorted(await asyncio.gather(pay_prizes(context), pay_prizes(context))) == [0, 1]
    assert await reward_transactions(db, tenant) == {"earn": 3}
