"""The core as a plugin: it has no back door that modules lack (datasette's default plugins)."""

from __future__ import annotations

from loyalty_core import __version__
from loyalty_core.modules.contributions import Job, MemberData, ModuleInfo, SchemaContribution
from loyalty_core.modules.hookspecs import hookimpl


@hookimpl
def loyalty_module() -> ModuleInfo:
    return ModuleInfo(
        name="core",
        version=__version__,
        description="Members, identifiers, the points ledger, events and module settings.",
    )


@hookimpl
def loyalty_schema() -> SchemaContribution:
    from loyalty_core.graphql.root import Mutation, Query, Subscription

    return SchemaContribution(query=Query, mutation=Mutation, subscription=Subscription)


@hookimpl
def loyalty_jobs() -> list[Job]:
    from loyalty_core.ledger.jobs import expire_points, release_pending
    from loyalty_core.rules.schedules import run_scheduled

    return [
        Job(name="ledger.release_pending", run=release_pending),
        Job(name="ledger.expire_points", run=expire_points),
        Job(name="rules.scheduled", run=run_scheduled),
    ]


@hookimpl
def loyalty_member_data() -> MemberData:
    from loyalty_core.privacy.core_data import CORE_MEMBER_DATA

    return CORE_MEMBER_DATA
