"""The hook the clearing module defines for other modules (returned by its
``loyalty_hookspecs``): how a module has partners fund what it gives members.

A module (partner offers, say) implements it like any other hook, with ``@hookimpl`` from
the SDK and without importing this package::

    @hookimpl(optionalhook=True)
    def loyalty_clearing_funding_sources() -> list[object]:
        return [OfferFunding()]

For every ingested event, clearing asks the sources of the tenant's enabled modules which
points of it a partner funds, and charges each partner at its rate card, in the event's
transaction (``loyalty_clearing.funding.FundingSource``).
"""

from __future__ import annotations

from collections.abc import Sequence

from loyalty_core.sdk import hookspec

HOOK = "loyalty_clearing_funding_sources"


@hookspec
def loyalty_clearing_funding_sources() -> Sequence[object]:  # type: ignore[empty-body]
    """Funding sources (objects that satisfy ``loyalty_clearing.funding.FundingSource``)."""


__all__ = ["HOOK", "loyalty_clearing_funding_sources"]
