"""Gift card codes: unguessable, typo-proof, and never stored in the clear.

Codes are the SDK's (:mod:`loyalty_core.sdk.codes`, shared with every module that hands
customers a code): at least 65 random bits in Crockford's base32 alphabet with a Luhn mod 32
check symbol, so a typo is caught before it counts as a guess. The settings never allow
fewer than 13 symbols; the default 16 carry 80 bits.

What the database keeps is an HMAC-SHA-256 of the normalised code under the tenant's own
key (see :mod:`loyalty_giftcards.keys`) and the last four symbols for display. The full code
of an anonymous card exists only in the answer to the issuing request and in a batch's
one-time export. A card issued to a member (by an admin or a campaign) also keeps its code
sealed with AES-256-GCM under the tenant's sealing key, bound to the tenant and the card, so
that its owner can reveal it (``giftCardReveal``) and nobody else can read it: sealing is
this module's own, here.
"""

from __future__ import annotations

import uuid

from loyalty_core.sdk import codes
from loyalty_core.sdk.codes import (
    ALPHABET,
    MIN_LENGTH,
    check_symbol,
    digest,
    display,
    last_four,
    masked,
    new_code,
    new_pin,
    normalise,
)


def seal(key: bytes, tenant_id: uuid.UUID, card_id: uuid.UUID, code: str) -> bytes:
    """``code`` sealed for storage (:func:`loyalty_core.sdk.codes.seal`), bound to the tenant
    and the card, so a sealed code copied onto another card (or tenant) does not open."""
    return codes.seal(key, _bound(tenant_id, card_id), code)


def unseal(key: bytes, tenant_id: uuid.UUID, card_id: uuid.UUID, sealed: bytes) -> str:
    """The code :func:`seal` stored; raises when it was tampered with or moved."""
    return codes.unseal(key, _bound(tenant_id, card_id), sealed)


def _bound(tenant_id: uuid.UUID, card_id: uuid.UUID) -> bytes:
    return f"giftcard:{tenant_id}:{card_id}".encode()


__all__ = [
    "ALPHABET",
    "MIN_LENGTH",
    "check_symbol",
    "digest",
    "display",
    "last_four",
    "masked",
    "new_code",
    "new_pin",
    "normalise",
    "seal",
    "unseal",
]
