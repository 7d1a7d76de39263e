"""Where clearing positions live in the core ledger.

Per billing currency the tenant has a money asset ``clearing_<currency>`` (scale = the
currency's minor units) and three kinds of account in it, all of purpose ``clearing``:

- ``clearing:partner:<id>``: a partner's position, owned by the module and allowed to go
  either way (positive: the operator owes the partner), so its balance is derived from its
  entries and concurrent movements of one partner never queue on a row;
- the operator's counter-account (a tenant account: its balance is derived from its entries,
  so the movements of every partner never queue on one row);
- ``clearing:rounding``: where whole units of rounding residue go at a close.

Every transaction the module posts moves money between these only, so per currency all
clearing accounts sum to zero, as every ledger asset does.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from loyalty_core.sdk import ledger, minor_units
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_clearing.settings import NAME

ROUNDING_OWNER = "clearing:rounding"


def asset_code(currency: str) -> str:
    """The money asset of clearing positions in ``currency``: ``clearing_eur``."""
    return f"clearing_{currency.lower()}"


def partner_owner(partner_id: uuid.UUID) -> str:
    return f"clearing:partner:{partner_id}"


@dataclass(frozen=True)
class Accounts:
    """The accounts one posting in a currency needs."""

    asset: ledger.Asset
    partner: uuid.UUID
    operator: uuid.UUID


async def money_asset(conn: AsyncConnection, tenant_id: uuid.UUID, currency: str) -> ledger.Asset:
    """The tenant's clearing asset in ``currency``, made on first use; two partners made at
    once in a new currency both get it (``ensure_asset``: insert if absent, then read)."""
    return await ledger.ensure_asset(
        conn,
        tenant_id,
        code=asset_code(currency),
        name=f"Clearing ({currency})",
        kind=ledger.AssetKind.MONEY,
        scale=minor_units(currency),
        actor=f"module:{NAME}",
    )


_known: dict[tuple[uuid.UUID, uuid.UUID, str], Accounts] = {}
_MAX_KNOWN = 100_000


async def accounts_of(
    conn: AsyncConnection, tenant_id: uuid.UUID, partner_id: uuid.UUID, currency: str
) -> Accounts:
    """A partner's account and the operator's in ``currency``, made with the partner (its
    currency never changes), so ingestion only reads them: once per process, then from
    memory (ledger accounts are never deleted). A partner made in a transaction that rolled
    back leaves an entry for an id nothing will ask for again."""
    key = (tenant_id, partner_id, currency)
    found = _known.get(key)
    if found is None:
        found = await _accounts(conn, tenant_id, partner_id, currency)
        if len(_known) >= _MAX_KNOWN:
            _known.clear()
        _known[key] = found
    return found


async def _accounts(
    conn: AsyncConnection, tenant_id: uuid.UUID, partner_id: uuid.UUID, currency: str
) -> Accounts:
    asset = await money_asset(conn, tenant_id, currency)
    partner = await ledger.owned_account(
        conn,
        tenant_id,
        partner_owner(partner_id),
        asset,
        ledger.Purpose.CLEARING,
        allow_negative=True,
    )
    operator = await ledger.tenant_account(conn, tenant_id, asset, ledger.Purpose.CLEARING)
    return Accounts(asset, partner, operator)


async def rounding_account(
    conn: AsyncConnection, tenant_id: uuid.UUID, asset: ledger.Asset
) -> uuid.UUID:
    return await ledger.owned_account(
        conn, tenant_id, ROUNDING_OWNER, asset, ledger.Purpose.CLEARING, allow_negative=True
    )


__all__ = [
    "ROUNDING_OWNER",
    "Accounts",
    "accounts_of",
    "asset_code",
    "money_asset",
    "partner_owner",
    "rounding_account",
]
