"""Asset expiry policies: days after earn, end of month, end of year (plus whole months or
years), a fixed date; month and year ends at midnight in the tenant's time zone. A campaign's
award expires by its asset's policy, and the expiry job moves it to breakage."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from loyalty_core.db.engine import Database
from loyalty_core.ledger.expiry import expires_at
from loyalty_core.ledger.jobs import expire_points
from loyalty_core.ledger.models import Asset, AssetKind, ExpiryPolicy
from loyalty_core.ledger.tables import assets, ledger_accounts, ledger_entries, ledger_lots
from loyalty_core.modules.contributions import NoSettings
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, admin_token, graphql
from sqlalchemy import func, select, update

from tests.jobs import job_context
from tests.test_rules_campaigns import Shop

BERLIN = "Europe/Berlin"
ASSET_FIELDS = "code expiryPolicy expiryDays expiryPeriods expiryDate pendingDays"


def _asset(policy: ExpiryPolicy, **params: Any) -> Asset:
    return Asset(
        id=uuid.uuid4(),
        code="points",
        name="Points",
        kind=AssetKind.POINTS,
        scale=0,
        allow_negative=False,
        expiry_days=params.pop("expiry_days", None),
        pending_days=0,
        expiry_policy=policy,
        **params,
    )


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def _berlin_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(BERLIN)).astimezone(UTC)


@pytest.mark.parametrize(
    ("asset", "available", "expected"),
    [
        (_asset(ExpiryPolicy.NEVER), _utc(2026, 5, 1, 12), None),
        (
            _asset(ExpiryPolicy.DAYS_AFTER_EARN, expiry_days=30),
            _utc(2026, 5, 1, 12, 30),
            _utc(2026, 5, 31, 12, 30),
        ),
        # 23:30 UTC on 31 January is already 1 February in Berlin: the end of February
        (_asset(ExpiryPolicy.END_OF_MONTH), _utc(2026, 1, 31, 23, 30), _utc(2026, 2, 28, 23)),
        (_asset(ExpiryPolicy.END_OF_MONTH), _utc(2026, 1, 31, 22, 30), _utc(2026, 1, 31, 23)),
        # summer time: local midnight is 22:00 UTC; the month after next crosses the year
        (
            _asset(ExpiryPolicy.END_OF_MONTH, expiry_periods=2),
            _utc(2026, 11, 15, 9),
            _utc(2027, 1, 31, 23),
        ),
        (_asset(ExpiryPolicy.END_OF_MONTH), _utc(2026, 7, 10, 9), _utc(2026, 7, 31, 22)),
        (_asset(ExpiryPolicy.END_OF_YEAR), _utc(2026, 6, 1, 9), _utc(2026, 12, 31, 23)),
        # "the end of the year after next": earned in 2026, valid through 31.12.2028
        (
            _asset(ExpiryPolicy.END_OF_YEAR, expiry_periods=2),
            _utc(2026, 3, 1, 9),
            _utc(2028, 12, 31, 23),
        ),
        # New Year's Eve 23:30 UTC is already 2027 in Berlin
        (
            _asset(ExpiryPolicy.END_OF_YEAR, expiry_periods=2),
            _utc(2026, 12, 31, 23, 30),
            _utc(2029, 12, 31, 23),
        ),
        (
            _asset(ExpiryPolicy.FIXED_DATE, expiry_date=date(2027, 3, 31)),
            _utc(2026, 12, 1, 9),
            _utc(2027, 3, 31, 22),
        ),
        # available after the fixed date: that date no longer applies to them
        (
            _asset(ExpiryPolicy.FIXED_DATE, expiry_date=date(2027, 3, 31)),
            _utc(2027, 3, 31, 22),
            None,
        ),
    ],
)
def test_expiry_moment_by_policy_in_the_tenant_time_zone(
    asset: Asset, available: datetime, expected: datetime | None
) -> None:
    assert expires_at(asset, available, BERLIN) == expected


def test_the_same_policy_in_another_time_zone_ends_at_its_own_midnight() -> None:
    asset = _asset(ExpiryPolicy.END_OF_YEAR)
    assert expires_at(asset, _utc(2026, 6, 1), "America/New_York") == _utc(2027, 1, 1, 5)
    assert expires_at(asset, _utc(2026, 6, 1), "UTC") == _utc(2027, 1, 1)


def test_an_asset_with_only_expiry_days_expires_by_days_after_earn() -> None:
    asset = _asset(ExpiryPolicy.NEVER, expiry_days=10)
    assert asset.expiry_policy is ExpiryPolicy.DAYS_AFTER_EARN


async def _asset_call(shop: Shop, mutation: str, fields: str) -> dict[str, Any]:
    data = await shop.admin_call(
        f"mutation {{ {mutation}(input: {{{fields}}}) {{ asset {{ {ASSET_FIELDS} }}"
        " errors { code field } } }"
    )
    payload: dict[str, Any] = data[mutation]
    return payload


async def test_policies_are_set_through_the_api_and_bad_ones_refused(
    make_app: MakeApp, tenant: Tenant
) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant)
    created = await _asset_call(
        shop,
        "assetCreate",
        'code: "miles", name: "Miles", expiryPolicy: END_OF_YEAR, expiryPeriods: 2',
    )
    assert created == {
        "asset": {
            "code": "miles",
            "expiryPolicy": "END_OF_YEAR",
            "expiryDays": None,
            "expiryPeriods": 2,
            "expiryDate": None,
            "pendingDays": 0,
        },
        "errors": [],
    }
    refused = {
        "expiryPolicy: END_OF_MONTH, expiryDays: 30": "expiryDays",
        "expiryPolicy: NEVER, expiryDays: 30": "expiryDays",
        "expiryPolicy: DAYS_AFTER_EARN": "expiryDays",
        "expiryPolicy: FIXED_DATE": "expiryDate",
        'expiryPolicy: FIXED_DATE, expiryDate: "2020-01-01"': "expiryDate",
        'expiryPolicy: END_OF_MONTH, expiryDate: "2030-01-01"': "expiryDate",
        "expiryPolicy: END_OF_YEAR, expiryPeriods: 101": "expiryPeriods",
        "expiryPeriods: 1": "expiryPeriods",
        "expiryPolicy: END_OF_MONTH, expiryPeriods: -1": "expiryPeriods",
    }
    for fields, field in refused.items():
        payload = await _asset_call(shop, "assetCreate", f'code: "bad", name: "Bad", {fields}')
        assert (payload["asset"], payload["errors"]) == (
            None,
            [{"code": "INVALID_INPUT", "field": field}],
        ), fields

    days = await _asset_call(shop, "assetUpdate", 'code: "miles", expiryDays: 30')
    assert (days["asset"]["expiryPolicy"], days["asset"]["expiryDays"]) == ("DAYS_AFTER_EARN", 30)
    assert days["asset"]["expiryPeriods"] == 0
    fixed = await _asset_call(
        shop, "assetUpdate", 'code: "miles", expiryPolicy: FIXED_DATE, expiryDate: "2099-03-31"'
    )
    assert fixed["asset"]["expiryPolicy"] == "FIXED_DATE"
    assert (fixed["asset"]["expiryDays"], fixed["asset"]["expiryDate"]) == (None, "2099-03-31")
    moved = await _asset_call(shop, "assetUpdate", 'code: "miles", expiryDate: "2099-06-30"')
    assert (moved["asset"]["expiryPolicy"], moved["asset"]["expiryDate"]) == (
        "FIXED_DATE",
        "2099-06-30",
    )
    never = await _asset_call(shop, "assetUpdate", 'code: "miles", expiryDays: null')
    assert (never["asset"]["expiryPolicy"], never["asset"]["expiryDate"]) == ("NEVER", None)


async def test_a_campaign_award_expires_at_month_end_and_the_job_moves_it_to_breakage(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant, rate="0")
    updated = await graphql(
        gateway.client,
        f'mutation {{ tenantUpdate(input: {{timezone: "{BERLIN}"}}) {{ errors {{ code }} }} }}',
        token=admin_token(tenant.id),
    )
    assert updated["data"]["tenantUpdate"]["errors"] == []
    policy = await _asset_call(shop, "assetUpdate", 'code: "points", expiryPolicy: END_OF_MONTH')
    assert policy["errors"] == []
    await shop.campaign("Month bonus", points=30)
    member = await shop.member()
    await shop.event(member)

    async with db.tenant_transaction(tenant.id) as conn:
        lot = (
            await conn.execute(
                select(ledger_lots.c.available_from, ledger_lots.c.expires_at).where(
                    ledger_lots.c.tenant_id == tenant.id,
                    ledger_lots.c.member_id == uuid.UUID(member),
                )
            )
        ).one()
    local = lot.available_from.astimezone(ZoneInfo(BERLIN)).date()
    next_month = (local.replace(day=1) + timedelta(days=32)).replace(day=1)
    assert lot.expires_at == _berlin_midnight(next_month)

    before = job_context(db, tenant, NoSettings(), now=lot.expires_at - timedelta(seconds=1))
    assert await expire_points(before) == 0
    assert await shop.balance(member) == 30
    due = job_context(db, tenant, NoSettings(), now=lot.expires_at)
    assert await expire_points(due) == 1
    assert await expire_points(due) == 0
    assert await shop.balance(member) == 0
    assert await _breakage(db, tenant) == 30


async def _breakage(db: Database, tenant: Tenant) -> int:
    async with db.tenant_transaction(tenant.id) as conn:
        total = (
            await conn.execute(
                select(func.coalesce(func.sum(ledger_entries.c.amount), 0))
                .select_from(
                    ledger_entries.join(
                        ledger_accounts,
                        (ledger_accounts.c.tenant_id == ledger_entries.c.tenant_id)
                        & (ledger_accounts.c.id == ledger_entries.c.account_id),
                    )
                )
                .where(
                    ledger_entries.c.tenant_id == tenant.id,
                    ledger_accounts.c.purpose == "breakage",
                )
            )
        ).scalar_one()
    return int(total)


async def test_an_asset_whose_fixed_date_passed_can_still_be_renamed(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await make_app()
    shop = await Shop.open(gateway.client, tenant)
    await _asset_call(
        shop,
        "assetCreate",
        'code: "promo", name: "Promo", expiryPolicy: FIXED_DATE, expiryDate: "2099-01-31"',
    )
    async with db.tenant_transaction(tenant.id) as conn:
        await conn.execute(
            update(assets)
            .where(assets.c.tenant_id == tenant.id, assets.c.code == "promo")
            .values(expiry_date=date(2020, 1, 31))
        )
    renamed = await _asset_call(shop, "assetUpdate", 'code: "promo", name: "Old promo"')
    assert (renamed["errors"], renamed["asset"]["expiryDate"]) == ([], "2020-01-31")
    moved = await _asset_call(shop, "assetUpdate", 'code: "promo", expiryDate: "2020-02-28"')
    assert moved["errors"] == [{"code": "INVALID_INPUT", "field": "expiryDate"}]
