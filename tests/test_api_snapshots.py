"""One document, one moment of the ledger: every read of a GraphQL document sees the same
snapshot, however many statements its fields take and whatever commits meanwhile."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from typing import Any

import httpx
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, admin_token, graphql

from tests.api import credit, enrol, pos_key

MEMBERS = 12
OPENING = 100
TRANSFERS_IN_FLIGHT = 32
TRANSFERS_EACH = 12
READERS = 4

TRANSFER = """
mutation($input: PointsTransferInput!) {
  pointsTransfer(input: $input) { transaction { id } errors { code } }
}
"""


def _bank_reads(member_ids: list[str]) -> list[str]:
    """Documents reading every member's balance: each member by an alias of its own (the
    members resolve one after another, so their balances take several statements), all
    through the ``members`` connection, and both in one document."""
    aliased = " ".join(
        f'm{n}: member(id: "{member_id}") {{ balances {{ available pending }} }}'
        for n, member_id in enumerate(member_ids)
    )
    listed = "members(first: 100) { edges { node { balances { available pending } } } }"
    return [f"{{ {aliased} }}", f"{{ {listed} }}", f"{{ {aliased} {listed} }}"]


def _sums(body: dict[str, Any], count: int) -> list[int]:
    """The points held by all members, as each way the document read them adds up."""
    data = body["data"]
    ways: list[list[list[dict[str, int]]]] = []
    if "m0" in data:
        ways.append([data[f"m{n}"]["balances"] for n in range(count)])
    if "members" in data:
        ways.append([edge["node"]["balances"] for edge in data["members"]["edges"]])
    assert all(len(way) == count for way in ways), body
    return [sum(b["available"] + b["pending"] for member in way for b in member) for way in ways]


async def test_every_read_of_a_document_sees_one_moment_while_transfers_run_on_two_gateways(
    make_app: MakeApp, tenant: Tenant
) -> None:
    """The bank test: points only move between members, so every read of all balances in
    one document sums to what was credited, while 32 transfers at a time run through two
    gateways on one database."""
    first, second = await make_app(), await make_app()
    clients = [first.client, second.client]
    member_ids = [
        await enrol(first.client, tenant.id, f"member-{n}@example.com") for n in range(MEMBERS)
    ]
    for member_id in member_ids:
        await credit(first.client, tenant.id, member_id, OPENING)
    key = await pos_key(first.client, tenant.id)
    total = MEMBERS * OPENING
    documents = _bank_reads(member_ids)
    keys = itertools.count()
    transfers_done = asyncio.Event()

    async def transfer(client: httpx.AsyncClient, pick: random.Random) -> None:
        for _ in range(TRANSFERS_EACH):
            sender, recipient = pick.sample(member_ids, 2)
            variables = {
                "input": {
                    "senderId": sender,
                    "recipientId": recipient,
                    "amount": pick.randint(1, 40),
                    "idempotencyKey": f"move-{next(keys)}",
                }
            }
            body = await graphql(client, TRANSFER, variables, api_key=key)
            errors = body["data"]["pointsTransfer"]["errors"]
            assert errors in ([], [{"code": "INSUFFICIENT_BALANCE"}]), body

    async def read(client: httpx.AsyncClient, turn: int) -> list[int]:
        seen: list[int] = []
        while not transfers_done.is_set():
            document = documents[(turn + len(seen)) % len(documents)]
            body = await graphql(client, document, token=admin_token(tenant.id))
            assert "errors" not in body, body
            seen += _sums(body, MEMBERS)
        return seen

    async def transfers() -> None:
        try:
            await asyncio.gather(
                *(transfer(clients[n % 2], random.Random(n)) for n in range(TRANSFERS_IN_FLIGHT))
            )
        finally:
            transfers_done.set()  # the readers stop, also when a transfer failed

    started = time.monotonic()
    moving = asyncio.create_task(transfers())
    try:
        reads = await asyncio.gather(*(read(clients[n % 2], n) for n in range(READERS)))
    finally:
        await moving
    elapsed = time.monotonic() - started

    sums = [found for seen in reads for found in seen]
    wrong = [found for found in sums if found != total]
    assert len(sums) >= 2 * READERS, "the readers read while the transfers ran"
    assert wrong == [], f"{len(wrong)} of {len(sums)} sums saw no single moment: {wrong[:5]}"
    final = await graphql(first.client, documents[-1], token=admin_token(tenant.id))
    assert _sums(final, MEMBERS) == [total, total]
    assert elapsed < 120


async def test_what_a_document_reads_after_a_mutation_sees_it(
    make_app: MakeApp, tenant: Tenant
) -> None:
    """A document of mutations: each payload is read after its own write, on a snapshot that
    holds it and the writes before it (not on the first payload's, nor from its DataLoaders)."""
    gateway = await make_app()
    member_id = await enrol(gateway.client, tenant.id, "ada@example.com")
    await credit(gateway.client, tenant.id, member_id, OPENING)
    adjust = """
      {alias}: pointsAdjust(input: {{memberId: "{member}", amount: {amount},
                                     idempotencyKey: "{alias}", reason: "goodwill"}}) {{
        member {{ balances {{ available }} }} errors {{ code }}
      }}"""
    document = (
        "mutation {"
        + "".join(
            adjust.format(alias=alias, member=member_id, amount=amount)
            for alias, amount in (("first", 5), ("second", 7), ("third", 11))
        )
        + "}"
    )

    body = await graphql(gateway.client, document, token=admin_token(tenant.id))

    assert "errors" not in body, body
    seen = {
        alias: payload["member"]["balances"][0]["available"]
        for alias, payload in body["data"].items()
    }
    assert seen == {"first": OPENING + 5, "second": OPENING + 12, "third": OPENING + 23}
