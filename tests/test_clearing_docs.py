"""The worked example of docs/modules/clearing.md, run as written: each step's ``graphql``
block is sent, by the operator or with the partner's key its first line names, with the
``json`` block under it as its variables, in order, against a real gateway.

Placeholders (stated in the guide too): ``"$BAKERY_ID"``, ``"$PETROL_ID"`` and
``"$MEMBER_ID"`` are the ids the steps that create them answer; a step's ``# BAKERY`` or
``# PETROL`` line sends it with the key ``partnerApiKeyCreate`` answered for that partner.
The test then checks the figures the guide's prose states.
"""

from __future__ import annotations

from typing import Any

from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, admin_token, graphql

from tests.clearing import clearing_balances
from tests.guides import Step, step_pattern, steps, substitute

STEP = step_pattern(first_line=r"# (?P<caller>\w+)\n")
SETS = {  # operation name -> (placeholder, path into its answer)
    "Bakery": ("BAKERY_ID", ("partner", "id")),
    "Petrol": ("PETROL_ID", ("partner", "id")),
    "BakeryKey": ("BAKERY", ("secret",)),
    "PetrolKey": ("PETROL", ("secret",)),
    "Mia": ("MEMBER_ID", ("member", "id")),
}


def walk_through() -> list[Step]:
    """The guide's worked example, in order."""
    return steps("clearing.md", "Worked example: a town card", STEP)


async def test_the_town_card_runs_as_written(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await make_app()
    names: dict[str, str] = {}
    answers: dict[str, dict[str, Any]] = {}
    steps = walk_through()
    assert len(steps) == 17
    for step in steps:
        operation = step.operation
        credential: dict[str, str] = (
            {"token": admin_token(tenant.id)}
            if step.caller == "operator"
            else {"api_key": names[str(step.caller)]}
        )
        body = await graphql(
            gateway.client, operation, substitute(step.variables, names), **credential
        )
        assert "errors" not in body, (operation, body)
        name = operation.split("(", 1)[0].split()[1].split("{")[0]
        for answer in body["data"].values():
            assert answer is not None, operation
            assert answer.get("errors", []) == [], (operation, answer)
        answers[name] = (
            next(iter(body["data"].values())) if len(body["data"]) == 1 else body["data"]
        )
        if name in SETS:
            placeholder, path = SETS[name]
            found: Any = answers[name]
            for key in path:
                found = found[key]
            names[placeholder] = found

    march = answers["CloseMarch"]
    assert (march["periodStartsOn"], march["periodEndsOn"]) == ("2026-03-01", "2026-04-01")
    by_name = {s["partner"]["name"]: s for s in march["statements"]}
    bakery, petrol = by_name["Bäckerei Krume"], by_name["Tankstelle Nord"]
    assert (bakery["pointsIssued"], bakery["issuedAmount"]) == (35, -44)
    assert (bakery["adjustmentsAmount"], bakery["closing"]) == (1500, 1456)
    assert (bakery["direction"], bakery["netDue"], bakery["residue"]) == (
        "OPERATOR_OWES",
        1456,
        "0.2500000000",
    )
    assert (petrol["pointsIssued"], petrol["issuedAmount"], petrol["reversalsAmount"]) == (
        145,
        -116,
        32,
    )
    assert (petrol["feesAmount"], petrol["closing"], petrol["direction"]) == (
        -1000,
        -1084,
        "PARTNER_OWES",
    )
    account = answers["MyAccount"]
    assert account["position"] == 1456 + 45
    kinds = [edge["node"]["kind"] for edge in account["movements"]["edges"]]
    assert kinds == ["ISSUED", "ISSUED", "ADJUSTMENT", "REDEEMED"]
    balances = (await clearing_balances(db, tenant.id))["clearing_eur"]
    assert sum(balances.values()) == 0
