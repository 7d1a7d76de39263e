"""Secret codes customers hold (gift cards, vouchers): unguessable, typo-proof, stored hashed.

A code is ``length`` symbols drawn with :mod:`secrets` from Crockford's base32 alphabet
(digits and capitals without I, L, O, U, so nothing reads as something else), plus one check
symbol (Luhn mod 32 over the same alphabet) that catches every single mistyped symbol and
most swaps of neighbours before a look-up is even attempted: a typo is not a failed guess.
Sixteen symbols carry 80 bits; :data:`MIN_LENGTH` (13, 65 bits) is the least a module may ask.

What a module keeps is :func:`digest`, an HMAC-SHA-256 of the normalised code under a key of
the tenant's own, and :func:`last_four` for display; never the code in the clear. Failed
look-ups are counted and locked out with :class:`loyalty_core.lockouts.Lockout`.

A code its owner must be able to see again (a member's gift card or voucher) is also kept
:func:`seal`-ed: AES-256-GCM under a key of the tenant's own, with a ``binding`` (tenant and
object) as authenticated data, so a sealed code copied onto another row does not open. Keys
come from one random secret per tenant through :func:`derive_key` (HKDF-SHA-256, one
``purpose`` per key), never the same key for two purposes.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

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
    """The keyed hash a code (or a PIN, salted with what it opens) is stored and found by."""
    return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()


def last_four(code: str) -> str:
    return code[-GROUP:]


def masked(last: str) -> str:
    """How a code is shown where only its owner may see it in full: ``****-...-7K3D``."""
    return f"****-****-****-{last}"


def derive_key(secret: bytes, purpose: bytes, salt: bytes | None = None) -> bytes:
    """A 256-bit key for ``purpose`` (``b"loyalty-<module>/code-hmac/v1"``) from a tenant's
    ``secret``, salted with a server-held pepper when there is one."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=purpose).derive(secret)


def seal(key: bytes, binding: bytes, code: str) -> bytes:
    """``code`` encrypted for storage: version, random nonce, AES-GCM ciphertext and tag, with
    ``binding`` (``b"voucher:<tenant>:<id>"``) authenticated so the result opens only there."""
    nonce = os.urandom(_NONCE)
    return _SEALED_VERSION + nonce + AESGCM(key).encrypt(nonce, code.encode(), binding)


def unseal(key: bytes, binding: bytes, sealed: bytes) -> str:
    """The code :func:`seal` stored; raises when it was tampered with or moved."""
    if sealed[:1] != _SEALED_VERSION:
        raise ValueError("unknown sealed code format")
    nonce, ciphertext = sealed[1 : 1 + _NONCE], sealed[1 + _NONCE :]
    return AESGCM(key).decrypt(nonce, ciphertext, binding).decode()


__all__ = [
    "ALPHABET",
    "BITS_PER_SYMBOL",
    "MIN_LENGTH",
    "check_symbol",
    "derive_key",
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
