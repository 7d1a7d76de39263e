"""The hook the payment module defines for other modules (returned by its
``loyalty_hookspecs``): how a module offers a tender.

A module implements it like any other hook, with ``@hookimpl`` from the SDK and without
importing this package::

    @hookimpl
    def loyalty_payment_tenders() -> list[object]:
        return [GiftCardTender()]

The payment module reads the declarations of the tenant's enabled modules when it pays, so
a tender works only where the module that provides it is enabled (MODULE_NOT_ENABLED
otherwise).
"""

from __future__ import annotations

from collections.abc import Sequence

from loyalty_core.sdk import hookspec

HOOK = "loyalty_payment_tenders"


@hookspec
def loyalty_payment_tenders() -> Sequence[object]:  # type: ignore[empty-body]
    """Tender providers (objects that satisfy ``loyalty_payment.tenders.TenderProvider``)."""


__all__ = ["HOOK", "loyalty_payment_tenders"]
