"""Gift card codes: unguessable, typo-proof, and never stored in the clear.

A code is ``length`` symbols drawn with :mod:`secrets` from Crockford's base32 alphabet
(digits and capitals without I, L, O, U, so nothing reads as something else), plus one check
symbol (Luhn mod 32 over the same alphabet) that catches every single mistyped symbol and
most swaps of neighbours before a look-up is even attempted: a typo is not a failed guess.
Sixteen symbols carry 80 bits; the settings never allow fewer than 13 (65 bits).

What the database keeps is an HMAC-SHA-256 of the normalised code under the tenant's own
key (see :mod:`loyalty_giftcards.keys`) and the last four symbols for display. The full code
of an anonymous card exists only in the answer to the issuing request and in a batch's
one-time export. A card issued to a member (by an admin or a campaign) also keeps its code
sealed with AES-256-GCM under the tenant's sealing key, bound to the tenant and the card, so
that its owner can reveal it (``giftCardReveal``) and nobody else can read it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import uuid

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BITS_PER_SYMBOL = 5
MIN_LENGTH = 13  # 65 bits, the first length over 64
GROUP = 4
_SEALED_VERSION = b"\x01"
_NONCE = 12

# Crockford's decoding rules: what a person may type for what is printed.
_READS_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})
_VALUE = {symbol: value for value, symbol in enumerate(ALPHABET)}


def new_code(length: int) -> str:
    """A fresh code of ``length`` random symbols and its check symbol, normalised (no dashes)."""
    if length < MIN_LENGTH:
        raise ValueError(f"a code needs at least {MIN_LENGTH} symbols")
    body = "".join(secrets.choice(ALPHABET) for _ in range(length))
    return body + check_symbol(body)


def new_pin(digits: int = 6) -> str:
    """A PIN of ``digits`` decimal digits from the CSPRNG."""
    return "".join(secrets.choice("0123456789") for _ in range(digits))


def normalise(typed: str) -> str | None:
    """The code as stored, from what a person typed (any case, spaces and dashes, I/L for 1,
    O for 0); None when it has a symbol outside the alphabet or a wrong check symbol."""
    code = typed.upper().replace("-", "").replace(" ", "").translate(_READS_AS)
    if len(code) < MIN_LENGTH + 1 or any(symbol not in _VALUE for symbol in code):
        return None
    return code if check_symbol(code[:-1]) == code[-1] else None


def display(code: str) -> str:
    """The code in groups of four for printing and reading aloud: ``7K3D-M9QX-...``."""
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def check_symbol(body: str) -> str:
    """Luhn mod 32: every second symbol from the right is doubled, digits of base 32 summed.

    Catches any single substituted symbol and any swap of two adjacent different symbols
    except one pair per alphabet, as Luhn does for decimal digits.
    """
    n = len(ALPHABET)
    total = 0
    for position, symbol in enumerate(reversed(body)):
        value = _VALUE[symbol]
        if position % 2 == 0:
            value *= 2
            value = value // n + value % n
        total += value
    return ALPHABET[(n - total % n) % n]


def digest(key: bytes, secret: str) -> str:
    """The keyed hash a code (or a PIN, salted with its card) is stored and found by."""
    return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()


def last_four(code: str) -> str:
    return code[-GROUP:]


def masked(last: str) -> str:
    """How a code is shown where only its owner may see it in full: ``****-...-7K3D``."""
    return f"****-****-****-{last}"


def seal(key: bytes, tenant_id: uuid.UUID, card_id: uuid.UUID, code: str) -> bytes:
    """``code`` encrypted for storage: version, random nonce, AES-GCM ciphertext and tag. The
    tenant and card are authenticated data, so a sealed code copied onto another card (or
    into another tenant) does not open."""
    nonce = os.urandom(_NONCE)
    sealed = AESGCM(key).encrypt(nonce, code.encode(), _bound(tenant_id, card_id))
    return _SEALED_VERSION + nonce + sealed


def unseal(key: bytes, tenant_id: uuid.UUID, card_id: uuid.UUID, sealed: bytes) -> str:
    """The code :func:`seal` stored; raises when it was tampered with or moved."""
    if sealed[:1] != _SEALED_VERSION:
        raise ValueError("unknown sealed code format")
    nonce, ciphertext = sealed[1 : 1 + _NONCE], sealed[1 + _NONCE :]
    return AESGCM(key).decrypt(nonce, ciphertext, _bound(tenant_id, card_id)).decode()


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
