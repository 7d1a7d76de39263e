"""Onboarding: enrolment on web, app and at the till, verification, consents, member cards,
welcome and profile bonuses, referrals, duplicate signals and the enrolment funnel.

This file holds the hook implementations (the entry point of group ``loyalty.modules``);
everything else lives in the modules named after what they hold.
"""

from __future__ import annotations

from datetime import timedelta
from importlib import resources
from pathlib import Path

from loyalty_core.sdk import (
    SDK_VERSION,
    DemoSeed,
    EventHandler,
    Job,
    MemberData,
    ModuleInfo,
    SchemaContribution,
    hookimpl,
)

from loyalty_onboarding.bonuses import on_member_updated
from loyalty_onboarding.jobs import forget_abandoned
from loyalty_onboarding.privacy import MEMBER_DATA
from loyalty_onboarding.referrals import on_event_ingested
from loyalty_onboarding.schema import NAME, OnboardingMutation, OnboardingQuery
from loyalty_onboarding.settings import OnboardingSettings

__version__ = "0.1.0"


@hookimpl
def loyalty_module() -> ModuleInfo:
    return ModuleInfo(
        name=NAME,
        version=__version__,
        description="Enrolment on every channel, consents, member cards and referrals.",
        settings_model=OnboardingSettings,
        sdk_version=SDK_VERSION,
    )


@hookimpl
def loyalty_migrations() -> Path:
    return Path(str(resources.files("loyalty_onboarding") / "migrations" / "versions"))


@hookimpl
def loyalty_schema() -> SchemaContribution:
    return SchemaContribution(query=OnboardingQuery, mutation=OnboardingMutation)


@hookimpl
def loyalty_event_handlers() -> list[EventHandler]:
    return [
        EventHandler("event.ingested", on_event_ingested),
        EventHandler("member.updated", on_member_updated),
    ]


@hookimpl
def loyalty_jobs() -> list[Job]:
    return [
        Job(name="onboarding.forget_abandoned", run=forget_abandoned, interval=timedelta(hours=1))
    ]


@hookimpl
def loyalty_member_data() -> MemberData:
    return MEMBER_DATA


@hookimpl
def loyalty_demo() -> DemoSeed:
    """The demo tenant signs its members in by code: the development sender records the
    codes, so a developer reads them with ``sentMessages`` (the demo prints how)."""
    return DemoSeed(settings={"sign_in_by_code": True})


__all__ = [
    "loyalty_demo",
    "loyalty_event_handlers",
    "loyalty_jobs",
    "loyalty_member_data",
    "loyalty_migrations",
    "loyalty_module",
    "loyalty_schema",
]
