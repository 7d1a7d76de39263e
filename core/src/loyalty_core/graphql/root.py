"""The core's root types, merged from the domain packages' query and mutation classes."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.tools import merge_types
from strawberry.types import Info

from loyalty_core.apikeys.graphql import ApiKeyMutation, ApiKeyQuery
from loyalty_core.auth import require_principal
from loyalty_core.context import RequestContext
from loyalty_core.errors import Forbidden
from loyalty_core.events.graphql import EventMutation, EventQuery
from loyalty_core.graphql.viewer import ViewerQuery
from loyalty_core.ledger import service as ledger
from loyalty_core.ledger.graphql import AssetMutation, PointsMutation
from loyalty_core.ledger.graphql_types import Balance
from loyalty_core.members.graphql import MemberMutation, MemberQuery
from loyalty_core.modules.graphql import ModuleMutation, ModuleQuery
from loyalty_core.privacy.graphql import PrivacyMutation
from loyalty_core.reports.graphql import ReportQuery
from loyalty_core.rules.graphql import CampaignMutation, CampaignQuery
from loyalty_core.tenants.graphql import TenantMutation, TenantQuery

Query = merge_types(
    "Query",
    (
        ViewerQuery,
        TenantQuery,
        MemberQuery,
        EventQuery,
        ModuleQuery,
        ApiKeyQuery,
        CampaignQuery,
        ReportQuery,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        MemberMutation,
        EventMutation,
        PointsMutation,
        AssetMutation,
        ModuleMutation,
        TenantMutation,
        ApiKeyMutation,
        PrivacyMutation,
        CampaignMutation,
    ),
)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="The viewer member's balances, now and after every change."
    )
    async def balance_changed(
        self, info: Info[RequestContext, None]
    ) -> AsyncGenerator[list[Balance], None]:
        ctx = info.context
        member_id = require_principal(ctx.principal).member_id
        if member_id is None:
            raise Forbidden("balanceChanged is for member tokens")
        tenant_id = ctx.tenant_id
        changes = await ctx.notifier.subscribe(tenant_id, member_id)
        try:
            while True:
                async with ctx.database.tenant_read(tenant_id) as conn:
                    balances = await ledger.balances(conn, tenant_id, member_id)
                yield [Balance.of(b, member_id) for b in balances]
                await anext(changes)
        finally:
            await changes.aclose()


__all__ = ["Mutation", "Query", "Subscription"]
