"""Payments: pay with points and stored value at the till and online.

The hook implementations (this package is the entry point). Each hook returns declarations;
the work lives in the modules named by what they hold: ``tenders`` (the contract a module
implements to offer a tender) and ``hookspecs`` (the hook it implements it through),
``points`` (the POINTS tender), ``conversion`` (money to points), ``allocation`` (splitting
an amount across tenders), ``service`` (authorise, capture, void, refund, expire),
``offers`` (which tenders a tenant can use), ``repository`` and ``tables`` (SQL), ``schema``
(GraphQL), ``jobs`` (expiry), ``privacy`` (a member's payments in privacy requests). Only
``loyalty_core.sdk`` is imported from the core.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from types import ModuleType

from loyalty_core.sdk import (
    SDK_VERSION,
    DemoSeed,
    Job,
    MemberData,
    ModuleInfo,
    SchemaContribution,
    TypeExtension,
    hookimpl,
)

from loyalty_payment import hookspecs
from loyalty_payment.collector import PaymentCollector
from loyalty_payment.jobs import EXPIRY_JOB
from loyalty_payment.points import PointsTender
from loyalty_payment.privacy import MEMBER_DATA
from loyalty_payment.schema import NAME, PaymentMutation, PaymentQuery, member_payments
from loyalty_payment.settings import PaymentSettings

__version__ = "0.1.0"


@hookimpl
def loyalty_module() -> ModuleInfo:
    return ModuleInfo(
        name=NAME,
        version=__version__,
        description="Payments with points and stored value: authorise, capture, void, refund.",
        settings_model=PaymentSettings,
        sdk_version=SDK_VERSION,
    )


@hookimpl
def loyalty_demo() -> DemoSeed:
    """In the demo a point pays one cent, for at most half a basket (the payment guide's
    walk-through runs against it)."""
    return DemoSeed(
        settings={
            "point_values": [{"asset": "points", "currency": "EUR", "value": "1"}],
            "max_points_share": "0.5",
        }
    )


@hookimpl
def loyalty_hookspecs() -> ModuleType:
    return hookspecs


@hookimpl
def loyalty_payment_tenders() -> list[object]:
    return [PointsTender()]


@hookimpl(optionalhook=True)
def loyalty_rewards_collectors() -> list[object]:
    """The rewards module's hook (``loyalty_rewards.hookspecs``): payments attest the money
    of points-plus-money rewards. Optional: without rewards the hook has no spec."""
    return [PaymentCollector()]


@hookimpl
def loyalty_migrations() -> Path:
    return Path(str(resources.files("loyalty_payment") / "migrations" / "versions"))


@hookimpl
def loyalty_schema() -> SchemaContribution:
    return SchemaContribution(query=PaymentQuery, mutation=PaymentMutation)


@hookimpl
def loyalty_type_extensions() -> list[TypeExtension]:
    return [TypeExtension("Member", member_payments)]


@hookimpl
def loyalty_jobs() -> list[Job]:
    return [EXPIRY_JOB]


@hookimpl
def loyalty_member_data() -> MemberData:
    return MEMBER_DATA


__all__ = [
    "loyalty_demo",
    "loyalty_hookspecs",
    "loyalty_jobs",
    "loyalty_member_data",
    "loyalty_migrations",
    "loyalty_module",
    "loyalty_payment_tenders",
    "loyalty_rewards_collectors",
    "loyalty_schema",
    "loyalty_type_extensions",
]
