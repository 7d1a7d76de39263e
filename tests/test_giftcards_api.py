"""Gift cards through the HTTP API: the lifecycle, the event log, idempotency, the batch
export, and a tenant that has not enabled the module. Helpers here are shared by the other
``test_giftcards_*`` files."""

from __future__ import annotations

from typing import Any

from loyalty_core.db.engine import Database
from loyalty_core.ledger.tables import assets, ledger_accounts, ledger_entries
from loyalty_core.tenants.models import Tenant
from loyalty_giftcards import codes
from loyalty_testing import MakeApp, RunningGateway, admin_token, enable_for, graphql
from sqlalchemy import func, select

from tests.api import enrol, pos_key

CARD = "id lastFour codeHeld currency status balance memberId expiresAt"
EVENT = "kind amount balanceAfter transactionId actor cause"

ISSUE = f"""
mutation($input: GiftCardIssueInput!) {{
  giftCardIssue(input: $input) {{
    giftCard {{ {CARD} }} code pin replayed event {{ {EVENT} }} errors {{ code field message }}
  }}
}}
"""

MOVES = {
    name: f"""
mutation($input: GiftCardMoveInput!) {{
  {name}(input: $input) {{
    giftCard {{ {CARD} }} event {{ {EVENT} }} replayed errors {{ code field message }}
  }}
}}
"""
    for name in ("giftCardActivate", "giftCardRedeem", "giftCardReload", "giftCardRefund")
}

TRANSFER = f"""
mutation($input: GiftCardTransferInput!) {{
  giftCardTransfer(input: $input) {{
    giftCard {{ {CARD} }} target {{ {CARD} }} event {{ {EVENT} }} replayed
    errors {{ code field message }}
  }}
}}
"""

CANCEL = f"""
mutation($id: ID!) {{
  giftCardCancel(input: {{id: $id}}) {{
    giftCard {{ {CARD} events {{ kind amount }} }} errors {{ code message }}
  }}
}}
"""

BALANCE = f"query($code: String!, $pin: String) {{ giftCard(code: $code, pin: $pin) {{ {CARD} }} }}"

BATCH = """
mutation($input: GiftCardBatchIssueInput!) {
  giftCardBatchIssue(input: $input) { batch { id size exportPath } errors { code message } }
}
"""

SETTINGS: dict[str, object] = {"currencies": ["EUR"], "max_balance": 100_000}


async def gift_card_gateway(
    make_app: MakeApp, db: Database, tenant: Tenant, **settings: object
) -> RunningGateway:
    """A gateway with gift cards enabled for ``tenant`` (settings over the defaults above)."""
    gateway = await make_app()
    await enable_for(db, gateway.registry, tenant, "giftcards", {**SETTINGS, **settings})
    return gateway


async def issue(
    gateway: RunningGateway, tenant: Tenant, amount: int, **extra: object
) -> dict[str, Any]:
    body = await graphql(
        gateway.client,
        ISSUE,
        {"input": {"amount": amount, "currency": "EUR", **extra}},
        token=admin_token(tenant.id),
    )
    payload: dict[str, Any] = body["data"]["giftCardIssue"]
    assert payload["errors"] == [], payload
    return payload


async def move(
    gateway: RunningGateway, key: str, name: str, code: str, amount: int, idem: str, **extra: Any
) -> dict[str, Any]:
    body = await graphql(
        gateway.client,
        MOVES[name],
        {"input": {"code": code, "amount": amount, "idempotencyKey": idem, **extra}},
        api_key=key,
    )
    payload: dict[str, Any] = body["data"][name]
    return payload


async def ledger_totals(db: Database, tenant: Tenant) -> dict[str, int]:
    """Sum of the gift card asset's entries per account purpose (cards are stored_value)."""
    async with db.tenant_transaction(tenant.id) as conn:
        rows = await conn.execute(
            select(ledger_accounts.c.purpose, func.sum(ledger_entries.c.amount))
            .select_from(
                ledger_entries.join(
                    ledger_accounts,
                    (ledger_accounts.c.tenant_id == ledger_entries.c.tenant_id)
                    & (ledger_accounts.c.id == ledger_entries.c.account_id),
                ).join(
                    assets,
                    (assets.c.tenant_id == ledger_accounts.c.tenant_id)
                    & (assets.c.id == ledger_accounts.c.asset_id),
                )
            )
            .where(ledger_entries.c.tenant_id == tenant.id, assets.c.code == "giftcard_eur")
            .group_by(ledger_accounts.c.purpose)
        )
        return {purpose: int(total) for purpose, total in rows}


async def card_reconciles(db: Database, tenant: Tenant, card_id: str) -> int:
    """A card's balance as its row keeps it, checked against the sum of its entries."""
    async with db.tenant_transaction(tenant.id) as conn:
        row = (
            await conn.execute(
                select(ledger_accounts.c.id, ledger_accounts.c.balance).where(
                    ledger_accounts.c.tenant_id == tenant.id,
                    ledger_accounts.c.owner_ref == f"giftcard:{card_id}",
                )
            )
        ).one()
        entries = await conn.scalar(
            select(func.coalesce(func.sum(ledger_entries.c.amount), 0)).where(
                ledger_entries.c.tenant_id == tenant.id, ledger_entries.c.account_id == row.id
            )
        )
    assert int(row.balance) == int(entries or 0)
    return int(row.balance)


async def test_a_tenant_without_the_module_has_no_gift_card_fields(
    make_app: MakeApp, tenant: Tenant
) -> None:
    gateway = await make_app()
    token = admin_token(tenant.id)
    body = await graphql(gateway.client, ISSUE, {"input": {"amount": 1}}, token=token)
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    fields = await graphql(
        gateway.client,
        '{ q: __type(name: "Query") { fields { name } } '
        'm: __type(name: "Mutation") { fields { name } } '
        'member: __type(name: "Member") { fields { name } } '
        'card: __type(name: "GiftCard") { name } }',
        token=token,
    )
    names = {f["name"] for part in ("q", "m", "member") for f in fields["data"][part]["fields"]}
    assert not {n for n in names if n.lower().startswith("giftcard")}
    assert fields["data"]["card"] is None


async def test_enabling_validates_the_settings(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await make_app()
    enable = """mutation($s: JSON) { moduleEnable(input: {name: "giftcards", settings: $s}) {
      errors { code message } } }"""
    for bad in (
        {"max_failed_attempts": 101},
        {"code_length": 12},
        {"currencies": ["EURO"]},
        {"expiry_policy": "after_issue"},
    ):
        body = await graphql(gateway.client, enable, {"s": bad}, token=admin_token(tenant.id))
        assert body["data"]["moduleEnable"]["errors"][0]["code"] == "INVALID_SETTINGS", bad


async def test_a_card_lives_its_life_in_the_ledger_and_its_event_log(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await gift_card_gateway(make_app, db, tenant)
    key = await pos_key(gateway.client, tenant.id)
    member_id = await enrol(gateway.client, tenant.id, "gift@example.com")
    first = await issue(gateway, tenant, 5_000, memberId=member_id)
    second = await issue(gateway, tenant, 1_000)
    code, other = first["code"], second["code"]
    assert codes.normalise(code) is not None
    assert first["giftCard"]["lastFour"] == code.replace("-", "")[-4:]
    assert first["giftCard"]["balance"] == 5_000

    redeemed = await move(gateway, key, "giftCardRedeem", code.lower(), 1_200, "r1")
    assert redeemed["event"]["balanceAfter"] == 3_800
    reloaded = await move(gateway, key, "giftCardReload", code, 500, "l1")
    assert reloaded["giftCard"]["balance"] == 4_300
    refunded = await move(gateway, key, "giftCardRefund", code, 200, "f1")
    assert refunded["giftCard"]["balance"] == 4_500
    too_much = await move(gateway, key, "giftCardRefund", code, 1_001, "f2")
    assert too_much["errors"][0]["field"] == "amount"
    moved = await graphql(
        gateway.client,
        TRANSFER,
        {"input": {"code": code, "targetCode": other, "amount": 500, "idempotencyKey": "t1"}},
        api_key=key,
    )
    transfer = moved["data"]["giftCardTransfer"]
    assert transfer["errors"] == [], transfer
    assert (transfer["giftCard"]["balance"], transfer["target"]["balance"]) == (4_000, 1_500)

    cancelled = await graphql(
        gateway.client, CANCEL, {"id": first["giftCard"]["id"]}, token=admin_token(tenant.id)
    )
    card = cancelled["data"]["giftCardCancel"]["giftCard"]
    assert (card["status"], card["balance"]) == ("CANCELLED", 0)
    assert [e["kind"] for e in card["events"]] == [
        "ISSUED", "REDEEMED", "RELOADED", "REFUNDED", "TRANSFERRED_OUT", "CANCELLED",
    ]  # fmt: skip
    after = await move(gateway, key, "giftCardRedeem", code, 1, "r2")
    assert after["errors"][0]["code"] == "GIFT_CARD_NOT_ACTIVE"

    mine = await graphql(
        gateway.client,
        "query($id: ID!) { member(id: $id) { giftCards { lastFour balance } } }",
        {"id": member_id},
        token=admin_token(tenant.id),
    )
    assert mine.get("data"), mine
    assert mine["data"]["member"]["giftCards"] == [
        {"lastFour": first["giftCard"]["lastFour"], "balance": 0}
    ]
    totals = await ledger_totals(db, tenant)
    assert await card_reconciles(db, tenant, second["giftCard"]["id"]) == 1_500
    assert totals["stored_value"] == 1_500
    assert sum(totals.values()) == 0


async def test_redeem_and_reload_are_idempotent(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await gift_card_gateway(make_app, db, tenant)
    key = await pos_key(gateway.client, tenant.id)
    code = (await issue(gateway, tenant, 1_000))["code"]
    for name, amount in (("giftCardRedeem", 300), ("giftCardReload", 200)):
        first = await move(gateway, key, name, code, amount, f"{name}-1")
        again = await move(gateway, key, name, code, amount, f"{name}-1")
        assert first["errors"] == []
        assert (again["replayed"], again["event"]) == (True, first["event"])
        other = await move(gateway, key, name, code, amount + 1, f"{name}-1")
        assert other["errors"][0]["code"] == "IDEMPOTENCY_CONFLICT"
    balance = await graphql(gateway.client, BALANCE, {"code": code}, api_key=key)
    assert balance["data"]["giftCard"]["balance"] == 900

    issued = await issue(gateway, tenant, 700, idempotencyKey="welcome-1")
    replayed = await issue(gateway, tenant, 700, idempotencyKey="welcome-1")
    assert (replayed["replayed"], replayed["code"]) == (True, None)
    assert replayed["giftCard"]["id"] == issued["giftCard"]["id"]
    assert replayed["event"] == issued["event"]


async def test_a_batch_is_exported_once_and_its_cards_activate_at_a_till(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await gift_card_gateway(make_app, db, tenant, pin_required=True)
    key = await pos_key(gateway.client, tenant.id)
    headers = {"Authorization": f"Bearer {admin_token(tenant.id)}"}
    body = await graphql(
        gateway.client, BATCH, {"input": {"count": 25}}, token=admin_token(tenant.id)
    )
    batch = body["data"]["giftCardBatchIssue"]["batch"]
    exported = await gateway.client.get(batch["exportPath"], headers=headers)
    again = await gateway.client.get(batch["exportPath"], headers=headers)
    assert exported.status_code == 200
    assert again.status_code == 410
    lines = exported.text.strip().splitlines()
    assert lines[0] == "code,pin,last_four"
    assert len(lines) == 26
    code, pin, _ = lines[1].split(",")

    inactive = await move(gateway, key, "giftCardRedeem", code, 1, "x", pin=pin)
    assert inactive["errors"][0]["code"] == "GIFT_CARD_NOT_ACTIVE"
    activated = await move(gateway, key, "giftCardActivate", code, 2_500, "a1", pin=pin)
    assert activated["errors"] == []
    assert (activated["giftCard"]["status"], activated["giftCard"]["balance"]) == ("ACTIVE", 2_500)
    listed = await graphql(
        gateway.client,
        "query($b: ID!) { giftCards(batchId: $b, status: INACTIVE, first: 100) "
        "{ edges { node { id } } } }",
        {"b": batch["id"]},
        token=admin_token(tenant.id),
    )
    assert len(listed["data"]["giftCards"]["edges"]) == 24
    anonymous = await gateway.client.get(batch["exportPath"])
    assert anonymous.status_code in (401, 403)


def test_the_check_symbol_catches_every_single_typo() -> None:
    code = codes.new_code(16)
    assert len(code) == 17
    for position in range(len(code)):
        for symbol in codes.ALPHABET:
            if symbol != code[position]:
                typo = code[:position] + symbol + code[position + 1 :]
                assert codes.normalise(typo) is None
    assert codes.normalise(codes.display(code).lower().replace("1", "l")) == code


def test_codes_carry_at_least_64_random_bits() -> None:
    assert codes.MIN_LENGTH * 5 >= 64
    assert len({codes.new_code(13) for _ in range(1000)}) == 1000
