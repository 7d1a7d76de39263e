"""The tenant's keys for codes and PINs: one stored secret, and the keys derived from it.

Decisions:

- **One random 256-bit secret per tenant**, made when the tenant first enables the module
  and kept in ``giftcards_keys`` (row-level secured like every table). Hashes are useless
  across tenants, and anyone reading the cards table alone (logs, analytics copies, a
  support query) learns no code. Re-enabling keeps the secret: changing it would orphan
  every card.
- **Two keys are derived from it**, never the secret used twice: the HMAC key codes and
  PINs are hashed with, and the AES-256-GCM key that seals the codes of members' cards
  (see :mod:`loyalty_giftcards.codes`). Derived with HKDF-SHA-256 rather than a second
  random column: one secret to provision and back up, and the purposes are separated by
  HKDF's ``info``.
- **An optional server-held pepper** (``GIFTCARDS_PEPPER``, at least 32 characters, read
  by the module itself: the ``LOYALTY_*`` settings are the core's) is HKDF's salt for both
  keys. With it, a database dump holding both tables opens neither hashes nor sealed codes.
  A tenant's secret is bound to the pepper it was made under (a fingerprint of the pepper is
  stored beside it): a secret made without a pepper keeps working unpeppered (its hashes
  were made that way), and a secret made under a pepper refuses to work under another or
  none, loudly, instead of failing every look-up. So set the pepper before tenants enable
  the module, and never change it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from functools import cache

from loyalty_core.sdk import codes
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from loyalty_giftcards.tables import keys

_HASHING = b"loyalty-giftcards/code-hmac/v1"
_SEALING = b"loyalty-giftcards/code-aes-gcm/v1"
_FINGERPRINT = b"loyalty-giftcards/pepper-fingerprint/v1"


class ServerSettings(BaseSettings):
    """What the module reads from the server's environment (``GIFTCARDS_*``)."""

    model_config = SettingsConfigDict(env_prefix="GIFTCARDS_", extra="ignore")

    pepper: SecretStr | None = Field(
        None, min_length=32, description="Server-held salt of the derived keys (optional)."
    )


@cache
def server_settings() -> ServerSettings:
    """Read once per process (tests clear the cache to change it)."""
    return ServerSettings()


@dataclass(frozen=True)
class TenantKeys:
    """The keys a tenant's codes are hashed (``hashing``) and sealed (``sealing``) with."""

    hashing: bytes
    sealing: bytes


async def ensure_key(conn: AsyncConnection, tenant_id: uuid.UUID) -> None:
    """Create the tenant's secret unless it has one (enabling again keeps it), bound to the
    server's pepper if one is set."""
    await conn.execute(
        pg_insert(keys)
        .values(
            tenant_id=tenant_id,
            secret=secrets.token_bytes(32),
            pepper_fingerprint=_fingerprint(_pepper()),
        )
        .on_conflict_do_nothing(index_elements=["tenant_id"])
    )


async def tenant_keys(conn: AsyncConnection, tenant_id: uuid.UUID) -> TenantKeys:
    row = (
        await conn.execute(
            select(keys.c.secret, keys.c.pepper_fingerprint).where(keys.c.tenant_id == tenant_id)
        )
    ).first()
    if row is None:  # enabling always makes one; a missing key is a broken install
        raise RuntimeError("the tenant has no gift card key: enable the module again")
    return derive(bytes(row.secret), row.pepper_fingerprint, _pepper())


def derive(secret: bytes, bound_to: str | None, pepper: bytes | None) -> TenantKeys:
    """The keys of a tenant's ``secret``, made under the pepper fingerprinted ``bound_to``
    (None: made without one; its HMAC key is then the secret itself, as before peppers)."""
    if bound_to is None:
        return TenantKeys(hashing=secret, sealing=_hkdf(secret, None, _SEALING))
    if pepper is None or not hmac.compare_digest(bound_to, _fingerprint(pepper) or ""):
        raise RuntimeError(
            "this tenant's gift card key was made under another server pepper "
            "(GIFTCARDS_PEPPER): set the one it was made with"
        )
    return TenantKeys(
        hashing=_hkdf(secret, pepper, _HASHING), sealing=_hkdf(secret, pepper, _SEALING)
    )


def _hkdf(secret: bytes, salt: bytes | None, info: bytes) -> bytes:
    return codes.derive_key(secret, info, salt)


def _pepper() -> bytes | None:
    pepper = server_settings().pepper
    return None if pepper is None else pepper.get_secret_value().encode()


def _fingerprint(pepper: bytes | None) -> str | None:
    """Which pepper a secret was made under, without revealing it (a keyed hash of a
    constant: the pepper is high-entropy, so this is no oracle)."""
    if pepper is None:
        return None
    return hmac.new(pepper, _FINGERPRINT, hashlib.sha256).hexdigest()[:32]


__all__ = ["ServerSettings", "TenantKeys", "derive", "ensure_key", "server_settings", "tenant_keys"]
