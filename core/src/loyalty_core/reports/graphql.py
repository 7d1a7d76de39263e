"""GraphQL of reports: the programme overview a retailer's console charts."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

import strawberry
from strawberry.types import Info

from loyalty_core.auth import require_admin
from loyalty_core.context import RequestContext
from loyalty_core.errors import ValidationFailed
from loyalty_core.ledger.graphql_types import Asset
from loyalty_core.members.graphql import MemberStatus
from loyalty_core.reports import overview as reports

OverviewInterval = reports.Interval
strawberry.enum(
    OverviewInterval,
    name="OverviewInterval",
    description="The step of an overview's series; weeks start on Monday.",
)


@strawberry.type(description="Points of one asset moved in a period.")
class PointsMovements:
    issued: int = strawberry.field(description="Earned by members, net of reversals and refunds.")
    redeemed: int = strawberry.field(description="Spent by members, net of cancellations.")
    expired: int = strawberry.field(
        description="Lost to expiry (not what an erasure forfeits: that is not expiry)."
    )


@strawberry.type(description="One interval of a series: from `start`, for one interval.")
class PointsPeriod:
    start: date
    issued: int
    redeemed: int
    expired: int


@strawberry.type(
    description="An asset in the overview: the period's movements and today's liability."
)
class AssetOverview:
    asset: Asset
    totals: PointsMovements = strawberry.field(description="Over the whole period.")
    outstanding: int | None = strawberry.field(
        description="What members hold now (available and pending): the outstanding "
        "liability. Null for an asset that cannot be spent (status points)."
    )
    series: list[PointsPeriod] = strawberry.field(
        description="Per interval, every interval of the period, zeros included."
    )


@strawberry.type
class MemberStatusCount:
    status: MemberStatus
    count: int


@strawberry.type(description="Members joined in one interval, from `start`.")
class MembersJoined:
    start: date
    count: int


@strawberry.type(description="The programme at a glance, for a period of whole days.")
class ProgrammeOverview:
    from_: date = strawberry.field(name="from", description="First day (tenant's time zone).")
    to: date = strawberry.field(description="Last day, included.")
    interval: OverviewInterval
    members: int = strawberry.field(description="Every member now, erased ones included.")
    members_by_status: list[MemberStatusCount] = strawberry.field(
        description="Members now, per status (every status, zeros included)."
    )
    active_members: int = strawberry.field(
        description="Members with an event, or a movement of points they caused (not an "
        "expiry or a release), in the `activeDays` days before now."
    )
    active_days: int
    members_joined: list[MembersJoined] = strawberry.field(
        description="Members enrolled per interval of the period, zeros included."
    )
    assets: list[AssetOverview] = strawberry.field(description="Every asset, by code.")


@strawberry.type
class ReportQuery:
    @strawberry.field(
        description="Members, activity and points of a period, with series per interval for "
        "charts (tenant admins). `from` and `to` are days in the tenant's time zone, both "
        "included; by default the 30 days up to today. At most 366 intervals."
    )
    async def programme_overview(
        self,
        info: Info[RequestContext, None],
        from_: Annotated[date | None, strawberry.argument(name="from")] = None,
        to: date | None = None,
        interval: OverviewInterval = OverviewInterval.DAY,
    ) -> ProgrammeOverview:
        ctx = info.context
        tenant_id = require_admin(ctx.principal)
        assert ctx.tenant is not None  # a tenant admin always has its tenant
        timezone = ctx.tenant.timezone
        now = ctx.now()
        end = to if to is not None else now.astimezone(ZoneInfo(timezone)).date()
        start = from_ if from_ is not None else end - timedelta(days=29)
        for field, day in (("from", start), ("to", end)):
            if not reports.EARLIEST <= day <= reports.LATEST:
                raise ValidationFailed(
                    f"{field}: a day from {reports.EARLIEST} to {reports.LATEST}", field=field
                )
        if start > end:
            raise ValidationFailed("from must not be after to", field="from")
        if reports.interval_count(start, end, interval) > reports.MAX_POINTS:
            raise ValidationFailed(
                f"at most {reports.MAX_POINTS} intervals: a shorter period or a longer interval",
                field="from",
            )
        async with ctx.read() as conn:
            found = await reports.overview(
                conn, tenant_id, start=start, end=end, interval=interval, timezone=timezone, now=now
            )
        return ProgrammeOverview(
            from_=found.start,
            to=found.end,
            interval=found.interval,
            members=sum(found.members_by_status.values()),
            members_by_status=[
                MemberStatusCount(status=status, count=found.members_by_status.get(status.value, 0))
                for status in MemberStatus
            ],
            active_members=found.active_members,
            active_days=reports.ACTIVE_DAYS,
            members_joined=[MembersJoined(start=day, count=n) for day, n in found.members_joined],
            assets=[
                AssetOverview(
                    asset=Asset.of(item.asset),
                    totals=PointsMovements(
                        issued=item.totals.issued,
                        redeemed=item.totals.redeemed,
                        expired=item.totals.expired,
                    ),
                    outstanding=item.outstanding,
                    series=[
                        PointsPeriod(
                            start=day, issued=m.issued, redeemed=m.redeemed, expired=m.expired
                        )
                        for day, m in item.series
                    ],
                )
                for item in found.assets
            ],
        )


__all__ = ["ProgrammeOverview", "ReportQuery"]
