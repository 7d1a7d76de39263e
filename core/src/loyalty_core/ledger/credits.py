"""Many earns credited at once: what :func:`ledger.service.earn` writes, for a chunk of a
batch in a handful of statements instead of one or two per earn.

The caller plans every earn with :func:`ledger.service.plan_earn` and guarantees that no
idempotency key is taken (they derive from events stored new in the same transaction), so
there is nothing to claim or replay: the headers, lots and entries are inserted and every
credited account's balance moves once by its total. Locks follow the ledger's one order:
the member accounts by ascending id (``SELECT ... ORDER BY id FOR NO KEY UPDATE`` locks as
it reads, in that order), never the tenant's counter-accounts, whose balance is derived.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_core.db.prepared import Prepared
from loyalty_core.db.rows import InsertRows
from loyalty_core.ids import new_id
from loyalty_core.ledger import repository as repo
from loyalty_core.ledger.models import LedgerTransaction
from loyalty_core.ledger.tables import ledger_entries, ledger_lots, ledger_transactions

Earn = tuple[repo.Header, repo.Credit]
"""An earn as :func:`ledger.service.plan_earn` plans it."""

_UUIDS = ARRAY(PG_UUID(as_uuid=True))
_ACCOUNTS = Prepared(
    text(
        "SELECT id, member_id, asset_id, purpose FROM ledger_accounts"
        " WHERE tenant_id = :tenant_id AND asset_id = ANY(:assets)"
        " AND (member_id = ANY(:members) OR (member_id IS NULL AND owner_ref IS NULL))"
    ).bindparams(bindparam("assets", type_=_UUIDS), bindparam("members", type_=_UUIDS))
)
"""The members' accounts and the tenant's counter-accounts of the assets credited."""
_LOCK = Prepared(
    text(
        "SELECT id FROM ledger_accounts WHERE tenant_id = :tenant_id AND id = ANY(:ids)"
        " ORDER BY id FOR NO KEY UPDATE"
    ).bindparams(bindparam("ids", type_=_UUIDS))
)
"""The credited member accounts locked in ascending id order, before any is written."""
_CREDIT = Prepared(
    text(
        "UPDATE ledger_accounts AS a SET balance = a.balance + d.delta"
        " FROM unnest(:ids, :deltas) AS d (id, delta)"
        " WHERE a.tenant_id = :tenant_id AND a.id = d.id"
    ).bindparams(bindparam("ids", type_=_UUIDS), bindparam("deltas", type_=ARRAY(BigInteger())))
)
"""Every credited balance up by its total."""
_HEADERS = InsertRows(
    ledger_transactions,
    [
        "tenant_id",
        "id",
        "kind",
        "idempotency_key",
        "request_hash",
        "reason",
        "cause_kind",
        "cause_id",
        "event_id",
        "rule_id",
        "rule_version",
        "actor",
        "reverses_id",
        "details",
    ],
    "RETURNING created_at",
)
_LOTS = InsertRows(
    ledger_lots,
    [
        "tenant_id",
        "id",
        "account_id",
        "member_id",
        "asset_id",
        "transaction_id",
        "earned",
        "remaining",
        "available_from",
        "expires_at",
    ],
)
_ENTRIES = InsertRows(
    ledger_entries,
    ["tenant_id", "id", "transaction_id", "account_id", "asset_id", "amount", "lot_id"],
)


async def credit_many(
    conn: AsyncConnection, tenant_id: uuid.UUID, earns: Sequence[tuple[uuid.UUID, Earn]]
) -> list[LedgerTransaction]:
    """Write ``(transaction id, earn)`` pairs, whose keys are known to be free; their
    transactions, in the order given."""
    if not earns:
        return []
    accounts = await _accounts(conn, tenant_id, [credit for _, (_, credit) in earns])
    headers: list[dict[str, Any]] = []
    lots: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    deltas: dict[uuid.UUID, int] = {}
    for transaction_id, (header, credit) in earns:
        asset_id = credit.asset.id
        account_id = accounts[(credit.member_id, asset_id, credit.purpose.value)]
        counter_id = accounts[(None, asset_id, credit.counter.value)]
        lot_id = new_id()
        headers.append(header.values(tenant_id, transaction_id))
        lots.append(
            {
                "tenant_id": tenant_id,
                "id": lot_id,
                "account_id": account_id,
                "member_id": credit.member_id,
                "asset_id": asset_id,
                "transaction_id": transaction_id,
                "earned": credit.amount,
                "remaining": credit.amount,
                "available_from": credit.available_from,
                "expires_at": credit.expires_at,
            }
        )
        for account, amount, lot in (
            (account_id, credit.amount, lot_id),
            (counter_id, -credit.amount, None),
        ):
            entries.append(
                {
                    "tenant_id": tenant_id,
                    "id": new_id(),
                    "transaction_id": transaction_id,
                    "account_id": account,
                    "asset_id": asset_id,
                    "amount": amount,
                    "lot_id": lot,
                }
            )
        deltas[account_id] = deltas.get(account_id, 0) + credit.amount
    ordered = sorted(deltas)
    await _LOCK.execute(conn, {"tenant_id": tenant_id, "ids": ordered})
    await _CREDIT.execute(
        conn, {"tenant_id": tenant_id, "ids": ordered, "deltas": [deltas[a] for a in ordered]}
    )
    # Every row of a transaction is created at now(), the transaction's start: one will do.
    created_at = (await _HEADERS.all(conn, headers))[0].created_at
    await _LOTS.execute(conn, lots)
    await _ENTRIES.execute(conn, entries)
    return [header.transaction(t, created_at) for t, (header, _) in earns]


async def _accounts(
    conn: AsyncConnection, tenant_id: uuid.UUID, credits: Sequence[repo.Credit]
) -> dict[tuple[uuid.UUID | None, uuid.UUID, str], uuid.UUID]:
    """Account ids by (member or None for the tenant's, asset, purpose), the missing ones
    created (an account's first use, one at a time as :func:`ledger.service.earn` does)."""
    rows = await _ACCOUNTS.all(
        conn,
        {
            "tenant_id": tenant_id,
            "assets": list({c.asset.id for c in credits}),
            "members": list({c.member_id for c in credits}),
        },
    )
    found = {
        (repo.as_uuid(r.member_id) if r.member_id else None, repo.as_uuid(r.asset_id), r.purpose): (
            repo.as_uuid(r.id)
        )
        for r in rows
    }
    for credit in credits:
        mine = (credit.member_id, credit.asset.id, credit.purpose.value)
        if mine not in found:
            found[mine] = await repo.member_account(
                conn, tenant_id, credit.member_id, credit.asset, credit.purpose
            )
        counter = (None, credit.asset.id, credit.counter.value)
        if counter not in found:
            found[counter] = await repo.tenant_account(
                conn, tenant_id, credit.asset, credit.counter
            )
    return found


__all__ = ["Earn", "credit_many"]
