"""Secret codes for modules: ``from loyalty_core.sdk import codes``.

What gift cards and vouchers share, so a module that hands customers a code to type at a
till gets the same guarantees without copying them: codes of at least 65 random bits in a
typo-tolerant alphabet with a check symbol (``new_code``, ``normalise``, ``display``), stored
as a keyed hash (``digest``) with ``last_four`` for display, and enumeration protection
(``Lockout`` over a table declared with ``lockout_table``: failed look-ups counted per
subject, the subject locked for a while after too many; ``credential_subject`` names the
caller's credential as a subject), and for codes their owner must see again, sealing under a
tenant key (``derive_key``, ``seal``, ``unseal``).
"""

from loyalty_core.codes import (
    ALPHABET,
    BITS_PER_SYMBOL,
    MIN_LENGTH,
    check_symbol,
    derive_key,
    digest,
    display,
    last_four,
    masked,
    new_code,
    new_pin,
    normalise,
    seal,
    unseal,
)
from loyalty_core.lockouts import Lockout, credential_subject, lockout_table

__all__ = [
    "ALPHABET",
    "BITS_PER_SYMBOL",
    "MIN_LENGTH",
    "Lockout",
    "check_symbol",
    "credential_subject",
    "derive_key",
    "digest",
    "display",
    "last_four",
    "lockout_table",
    "masked",
    "new_code",
    "new_pin",
    "normalise",
    "seal",
    "unseal",
]
