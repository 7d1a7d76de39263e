"""Normalised contact data for the duplicate check: one person, one key, however typed.

The core compares identifiers as stored (an e-mail address lower-cased), which is right for
recognising a member. Abuse looks different: ``J.Doe+promo@googlemail.com`` and
``jdoe@gmail.com`` reach the same inbox, so they open the same number of accounts.
"""

from __future__ import annotations

import re

# Providers that ignore dots in the local part, and domains that are the same mailbox.
_DOTLESS_DOMAINS = frozenset({"gmail.com"})
_DOMAIN_ALIASES = {"googlemail.com": "gmail.com"}
_NOT_DIGIT = re.compile(r"[^0-9]")


def email_key(address: str) -> str:
    """The mailbox an address reaches: lower case, no ``+tag``, provider dot rules applied."""
    local, _, domain = address.strip().lower().rpartition("@")
    domain = _DOMAIN_ALIASES.get(domain, domain)
    local = local.split("+", 1)[0]
    if domain in _DOTLESS_DOMAINS:
        local = local.replace(".", "")
    return f"{local}@{domain}"


def phone_key(number: str) -> str:
    """An E.164 number as digits only (spaces, dashes and the ``+`` dropped)."""
    return _NOT_DIGIT.sub("", number)


__all__ = ["email_key", "phone_key"]
