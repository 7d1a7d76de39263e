"""Gift card codes: unguessable, typo-proof, and never stored in the clear.

A code is ``length`` symbols drawn with :mod:`secrets` from Crockford's base32 alphabet
(digits and capitals without I, L, O, U, so nothing reads as something else), plus one check
symbol (Luhn mod 32 over the same alphabet) that catches every single mistyped symbol and
most swaps of neighbours before a look-up is even attempted: a typo is not a failed guess.
Sixteen symbols carry 80 bits; the settings never allow fewer than 13 (65 bits).

What the database keeps is an HMAC-SHA-256 of the normalised code under the tenant's own
key (see :mod:`loyalty_giftcards.keys`) and the last four symbols for display. The full code
exists only in the answer to the issuing request and in a batch's one-time export.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BITS_PER_SYMBOL = 5
MIN_LENGTH = 13  # 65 bits, the first length over 64
GROUP = 4

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


__all__ = [
    "ALPHABET",
    "MIN_LENGTH",
    "check_symbol",
    "digest",
    "display",
    "last_four",
    "new_code",
    "new_pin",
    "normalise",
]
