"""Other modules' rule effects, for a module that pays rewards of its own: ``from
loyalty_core.sdk import effects``.

Campaigns reward with any enabled module's effect (a gift card, a voucher); so may a
module's own definitions (a badge, an offer). These are the campaigns' own look-up and
parameter check, so an effect is named, found and validated the same everywhere:
``<module>.<effect>``, ``UNKNOWN_EFFECT`` or ``MODULE_NOT_ENABLED`` as the caller decides,
and ``INVALID_INPUT`` on the first wrong parameter.
"""

from __future__ import annotations

from loyalty_core.rules.definition import validated_params
from loyalty_core.rules.engine import ModuleEffects, module_effects

__all__ = ["ModuleEffects", "module_effects", "validated_params"]
