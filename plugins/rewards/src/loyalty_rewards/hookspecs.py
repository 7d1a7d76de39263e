"""The hook the rewards module defines for other modules (see ``loyalty_hookspecs()``).

A module that can issue something as a reward (the gift cards module: a card) implements
``loyalty_rewards_kinds`` with ``@hookimpl(optionalhook=True)`` and never imports this
package; the objects it returns satisfy :class:`loyalty_rewards.kinds.RewardKind`.
"""

from __future__ import annotations

from collections.abc import Sequence

from loyalty_core.sdk import hookspec


@hookspec
def loyalty_rewards_kinds() -> Sequence[object]:  # type: ignore[empty-body]
    """Reward kinds the module issues: objects with ``name``, ``description``, ``check``,
    ``issue`` and ``cancel`` (see ``loyalty_rewards.kinds.RewardKind``)."""


__all__ = ["loyalty_rewards_kinds"]
