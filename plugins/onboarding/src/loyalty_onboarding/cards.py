"""Member card numbers with a Luhn check digit, and the QR payload apps show.

A check digit lets a till reject a mistyped number before it asks the server, and the
Luhn scheme is what card readers and keypads already know.
"""

from __future__ import annotations

import secrets

CARD_LENGTH = 16
QR_PREFIX = "loyalty-card:"


def luhn_check_digit(digits: str) -> str:
    """The digit that makes ``digits`` + it pass the Luhn check."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def is_valid_card_number(number: str) -> bool:
    return number.isdigit() and len(number) >= 8 and luhn_check_digit(number[:-1]) == number[-1]


def new_card_number(prefix: str) -> str:
    """A random card number: ``prefix``, random digits, then the check digit."""
    body_length = CARD_LENGTH - 1 - len(prefix)
    body = prefix + "".join(secrets.choice("0123456789") for _ in range(body_length))
    return body + luhn_check_digit(body)


def qr_payload(number: str) -> str:
    """What a member app renders as a QR code; a till scanning it reads the card number."""
    return f"{QR_PREFIX}{number}"


__all__ = ["is_valid_card_number", "luhn_check_digit", "new_card_number", "qr_payload"]
