"""Enumeration protection: failed look-ups counted per card and per credential.

The counter is the SDK's (:class:`loyalty_core.sdk.codes.Lockout`, shared with every module
that hands customers a code) over this module's ``giftcards_lockouts``: each look-up reserves
an attempt before it looks, a success gives it back, and ``max_failed_attempts`` failures
lock the card or the credential for ``lockout_minutes``.
"""

from __future__ import annotations

import uuid

from loyalty_core.sdk import codes

from loyalty_giftcards.settings import GiftCardSettings
from loyalty_giftcards.tables import lockouts

credential_subject = codes.credential_subject


def card_subject(card_id: uuid.UUID) -> str:
    return f"card:{card_id}"


def counter(settings: GiftCardSettings) -> codes.Lockout:
    """The tenant's counter: its limit and lock duration over the module's table."""
    return codes.Lockout(lockouts, settings.max_failed_attempts, settings.lockout)


__all__ = ["card_subject", "counter", "credential_subject"]
