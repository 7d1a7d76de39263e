"""Gamification: badges (achievements) that count or sum what members do, live, capped,
explainable and reversed with refunds; challenges, streaks and leaderboards; rewards paid
through the ledger.

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
    NoSettings,
    SchemaContribution,
    TypeExtension,
    events,
    hookimpl,
)

from loyalty_gamification.demo import seed
from loyalty_gamification.leaderboards import pay_prizes
from loyalty_gamification.privacy import MEMBER_DATA
from loyalty_gamification.progress import NAME, on_event_ingested
from loyalty_gamification.ranks import fold_counts
from loyalty_gamification.schema import (
    GamificationMutation,
    GamificationQuery,
    member_badges,
    member_challenges,
    member_streaks,
)

__version__ = "0.1.0"


@hookimpl
def loyalty_module() -> ModuleInfo:
    return ModuleInfo(
        name=NAME,
        version=__version__,
        description="Badges that count what members do, with rewards, caps and refunds.",
        settings_model=NoSettings,
        sdk_version=SDK_VERSION,
    )


@hookimpl
def loyalty_migrations() -> Path:
    return Path(str(resources.files("loyalty_gamification") / "migrations" / "versions"))


@hookimpl
def loyalty_schema() -> SchemaContribution:
    return SchemaContribution(query=GamificationQuery, mutation=GamificationMutation)


@hookimpl
def loyalty_type_extensions() -> list[TypeExtension]:
    return [
        TypeExtension("Member", member_badges),
        TypeExtension("Member", member_challenges),
        TypeExtension("Member", member_streaks),
    ]


@hookimpl
def loyalty_event_handlers() -> list[EventHandler]:
    return [EventHandler(events.EventIngested.TOPIC, on_event_ingested)]


@hookimpl
def loyalty_jobs() -> list[Job]:
    return [
        Job("gamification.leaderboard_prizes", pay_prizes, interval=timedelta(minutes=5)),
        Job("gamification.leaderboard_counts", fold_counts, interval=timedelta(minutes=1)),
    ]


@hookimpl
def loyalty_member_data() -> MemberData:
    return MEMBER_DATA


@hookimpl
def loyalty_demo() -> DemoSeed:
    return DemoSeed(settings={}, seed=seed)


__all__ = [
    "loyalty_demo",
    "loyalty_event_handlers",
    "loyalty_jobs",
    "loyalty_member_data",
    "loyalty_migrations",
    "loyalty_module",
    "loyalty_schema",
    "loyalty_type_extensions",
]
