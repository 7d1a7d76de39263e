"""The hooks the rewards module defines for other modules (see ``loyalty_hookspecs()``).

A module that can issue something as a reward (the gift cards module: a card) implements
``loyalty_rewards_kinds``; one that collects money at a till (the payment module) implements
``loyalty_rewards_collectors``, so a points-plus-money reward is redeemed only against money
it attests. Both with ``@hookimpl(optionalhook=True)``, never importing this package; the
objects returned satisfy :class:`loyalty_rewards.kinds.RewardKind` and
:class:`loyalty_rewards.collectors.MoneyCollector`.
"""

from __future__ import annotations

from collections.abc import Sequence

from loyalty_core.sdk import hookspec


@hookspec
def loyalty_rewards_kinds() -> Sequence[object]:  # type: ignore[empty-body]
    """Reward kinds the module issues: objects with ``name``, ``description``, ``check``,
    ``issue`` and ``cancel`` (see ``loyalty_rewards.kinds.RewardKind``)."""


@hookspec
def loyalty_rewards_collectors() -> Sequence[object]:  # type: ignore[empty-body]
    """Money collectors: objects with ``name`` and ``collected`` (see
    ``loyalty_rewards.collectors.MoneyCollector``)."""


__all__ = ["loyalty_rewards_collectors", "loyalty_rewards_kinds"]
