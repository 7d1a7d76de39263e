"""The worked example of docs/modules/partner_offers.md, run as written: each step's
``graphql`` block is sent by the operator, with the partner's key its first line names
(``# CINEMA``, ``# DRUGSTORE``) or by the member (``# MEMBER``), with the ``json`` block
under it as its variables, in order, against a real gateway. Placeholders (stated in the
guide too): ``"$CINEMA_ID"``, ``"$DRUGSTORE_ID"``, ``"$MEMBER_ID"`` and ``"$WELCOME_ID"`` are
the ids the steps that create them answer. The test then checks what the guide's prose
states: the rewards, the refund's share, the cinema's report (with the money it owes) and
its clearing lines."""

from __future__ import annotations

import uuid
from typing import Any

from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, admin_token, graphql, member_token

from tests.guides import Step, step_pattern, steps, substitute

STEP = step_pattern(first_line=r"# (?P<caller>\w+)\n")
SETS = {  # operation name -> (placeholder, path into its answer)
    "Cinema": ("CINEMA_ID", ("partner", "id")),
    "Drugstore": ("DRUGSTORE_ID", ("partner", "id")),
    "CinemaKey": ("CINEMA", ("secret",)),
    "DrugstoreKey": ("DRUGSTORE", ("secret",)),
    "DrugstoreCatalog": ("WELCOME_ID", ("results", 0, "offer", "id")),
    "Mia": ("MEMBER_ID", ("member", "id")),
}


def walk_through() -> list[Step]:
    return steps("partner_offers.md", "Worked example: a cinema, a drugstore and a bookshop", STEP)


def _at(answer: Any, path: tuple[Any, ...]) -> str:
    for part in path:
        answer = answer[part]
    return str(answer)


async def test_the_worked_example_runs_as_written(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await make_app()
    names: dict[str, str] = {}
    answers: dict[str, Any] = {}
    steps = walk_through()
    assert len(steps) == 16
    for step in steps:
        caller, operation = str(step.caller), step.operation
        if caller == "operator":
            credential = {"token": admin_token(tenant.id)}
        elif caller == "MEMBER":
            credential = {"token": member_token(tenant.id, uuid.UUID(names["MEMBER_ID"]))}
        else:
            credential = {"api_key": names[caller]}
        body = await graphql(
            gateway.client, operation, substitute(step.variables, names), **credential
        )
        assert "errors" not in body, (operation, body)
        name = operation.split("(", 1)[0].split()[1].split("{")[0]
        for answer in body["data"].values():
            assert answer is not None, operation
            assert answer.get("errors", []) == [], (operation, answer)
        answers[name] = next(iter(body["data"].values()))
        if name in SETS:
            placeholder, path = SETS[name]
            names[placeholder] = _at(answers[name], path)

    assert answers["Clip"]["memberOffer"]["state"] == "ACTIVATED"
    assert answers["Books"]["offer"]["partnerId"] is None
    report = answers["CinemaReport"]
    assert [
        (r["day"], r["redemptions"], r["pointsAwarded"], r["pointsReversed"], r["moneyOwed"])
        for r in report["rows"]
    ] == [("2026-12-01", 1, 24, 0, 24), ("2026-12-02", 0, 0, 12, -12)]
    assert len(report["csv"].splitlines()) == 3

    balance = await graphql(
        gateway.client,
        "query($id: ID!) { member(id: $id) { balances { available pending asset { code } } } }",
        {"id": names["MEMBER_ID"]},
        token=admin_token(tenant.id),
    )
    [points] = [b for b in balance["data"]["member"]["balances"] if b["asset"]["code"] == "points"]
    # 24 + 24 at the cinema, less 12 + 12; 12 + 50 at the drugstore
    assert points["available"] + points["pending"] == 24 + 62

    movements = await graphql(
        gateway.client,
        "query($id: ID!) { partner(id: $id) { movements(first: 20) { edges { node {"
        " kind points amount } } } } }",
        {"id": names["CINEMA_ID"]},
        token=admin_token(tenant.id),
    )
    lines = sorted(
        (n["node"]["kind"], n["node"]["points"], n["node"]["amount"])
        for n in movements["data"]["partner"]["movements"]["edges"]
    )
    assert lines == [
        ("FUNDED", 24, -24),
        ("ISSUED", 24, -24),
        ("REVERSAL", -12, 12),
        ("REVERSAL", -12, 12),
    ]
