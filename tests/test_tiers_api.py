"""Tiers through the HTTP API: the ladder, the upgrade on the qualifying purchase with what
the member sees (level, progress explained by its events, history), overrides that expire
and never become a floor, invitation-only levels, who may read what, and a tenant without
the module."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, graphql, member_token

from tests.tiers import PROGRESS, SPEND_LADDER, TIER, TierShop, at


async def test_a_tenant_without_tiers_has_no_tier_fields(make_app: MakeApp, tenant: Tenant) -> None:
    gateway = await make_app()
    shop = await TierShop.open(gateway.client, tenant)
    member = await shop.member()
    body = await graphql(gateway.client, TIER, {"id": member}, token=shop.admin)
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    body = await graphql(gateway.client, "{ tierLadder { version } }", token=shop.admin)
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_the_ladder_is_set_versioned_and_read_by_any_caller(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await TierShop.start(make_app, db, tenant)
    assert (await shop.admin_call("{ tierLadder { version } }"))["tierLadder"] is None
    first = await shop.set_ladder(SPEND_LADDER)
    assert first["errors"] == []
    ladder = first["ladder"]
    assert ladder["version"] == 1
    assert [lv["name"] for lv in ladder["levels"]] == ["bronze", "silver", "gold", "platinum"]
    assert ladder["levels"][3] == {
        "name": "platinum",
        "threshold": None,
        "benefits": ["Signed first editions"],
        "invitationOnly": True,
    }
    assert (ladder["metric"], ladder["window"], ladder["months"]) == ("SPEND", "CALENDAR_YEAR", 12)
    second = await shop.set_ladder({**SPEND_LADDER, "downgrade": "ONE_LEVEL"})
    assert (second["ladder"]["version"], second["ladder"]["downgrade"]) == (2, "ONE_LEVEL")
    member = await shop.member()
    body = await graphql(
        shop.client,
        "{ tierLadder { version levels { name } } }",
        token=member_token(tenant.id, uuid.UUID(member)),
    )
    assert body["data"]["tierLadder"]["version"] == 2


async def test_a_bad_ladder_is_refused_and_writes_nothing(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await TierShop.start(make_app, db, tenant, SPEND_LADDER)
    falling = {
        **SPEND_LADDER,
        "levels": [{"name": "a", "threshold": 10}, {"name": "b", "threshold": 5}],
    }
    cases: list[tuple[dict[str, Any], str | None]] = [
        (falling, None),
        ({**SPEND_LADDER, "levels": []}, "levels"),
        ({**SPEND_LADDER, "levels": [{"name": "Gold!", "threshold": 1}]}, "levels.0.name"),
        ({**SPEND_LADDER, "levels": [{"name": "a"}]}, "levels.0"),
        ({**SPEND_LADDER, "downgrade": "GRACE"}, None),
        ({**SPEND_LADDER, "window": "ROLLING", "months": 0}, "months"),
        ({**SPEND_LADDER, "levels": [{"name": "a", "threshold": 1}] * 2}, None),
    ]
    for ladder, field in cases:
        payload = await shop.set_ladder(ladder)
        assert payload["ladder"] is None
        [error] = payload["errors"]
        assert error["code"] == "INVALID_INPUT", (ladder, error)
        if field is not None:
            assert error["field"] == field, error
    data = await shop.admin_call("{ tierLadder { version } }")
    assert data["tierLadder"]["version"] == 1


async def test_the_qualifying_purchase_upgrades_and_every_figure_is_explained(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await TierShop.start(make_app, db, tenant, SPEND_LADDER)
    member = await shop.member()
    assert await shop.tier(member) is None

    first = await shop.event(member, 4_000, external_id="r-1")
    assert await shop.level(member) == "bronze"
    await shop.event(member, 7_000, external_id="r-2")
    tier = await shop.tier(member)
    assert tier is not None
    assert tier["level"]["name"] == "silver"
    assert tier["source"] == "EARNED"
    assert tier["level"]["benefits"] == ["Free refills"]

    progress = await shop.progress(member, as_member=True)
    assert progress["metric"] == "SPEND"
    assert progress["value"] == 11_000
    assert progress["nextLevel"] == {"name": "gold", "threshold": 30_000}
    assert progress["missing"] == 19_000
    assert progress["keep"] == 0
    assert sum(c["amount"] for c in progress["contributions"]) == progress["value"]
    assert progress["windowEnd"].endswith("-12-31")
    assert progress["windowStart"].endswith("-01-01")
    assert tier["until"] == progress["windowEnd"]
    assert first["errors"] == []

    kinds = [(h["kind"], h["fromLevel"], h["toLevel"]) for h in await shop.history(member)]
    assert kinds == [("upgrade", "bronze", "silver"), ("upgrade", None, "bronze")]
    [latest, _] = await shop.history(member)
    assert latest["metric"] == 11_000
    assert latest["eventId"] in [c["eventId"] for c in progress["contributions"]]
    assert await shop.outbox("tiers.upgraded") == 2


async def test_a_member_reads_only_its_own_tier(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await TierShop.start(make_app, db, tenant, SPEND_LADDER)
    mia, lukas = await shop.member(), await shop.member()
    await shop.event(mia, 12_000)
    token = member_token(tenant.id, uuid.UUID(lukas))
    body = await graphql(shop.client, TIER, {"id": mia}, token=token)
    assert body.get("data", {}).get("member") is None or body["data"]["member"]["tier"] is None
    body = await graphql(shop.client, PROGRESS, {"id": lukas}, token=token)
    assert body["data"]["member"]["tierProgress"]["value"] == 0


async def test_an_override_shows_an_invitation_level_until_it_expires_and_is_no_floor(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await TierShop.start(make_app, db, tenant, SPEND_LADDER)
    member = await shop.member()
    await shop.event(member, 12_000)
    soon = (at("2026-12-04T10:00") + timedelta(days=3650)).isoformat()

    no_expiry = await shop.override(memberId=member, level="platinum", reason="Book club host")
    assert no_expiry["errors"][0]["field"] == "expiresAt"
    too_long = await shop.override(
        memberId=member, level="platinum", reason="Book club host", expiresAt=soon
    )
    assert too_long["errors"][0]["field"] == "expiresAt"
    unknown = await shop.override(
        memberId=member, level="diamond", reason="x", expiresAt=_in(days=30)
    )
    assert unknown["errors"][0]["code"] == "NOT_FOUND"
    stranger = await shop.override(
        memberId=str(uuid.uuid4()), level="gold", reason="x", expiresAt=_in(days=30)
    )
    assert stranger["errors"][0]["code"] == "NOT_FOUND"

    expires = _in(days=30)
    given = await shop.override(
        memberId=member, level="platinum", reason="Hosts the book club", expiresAt=expires
    )
    assert given["errors"] == []
    tier = given["tier"]
    assert tier["level"]["name"] == "platinum"
    assert tier["source"] == "OVERRIDE"
    assert tier["earnedLevel"] == "silver"
    assert tier["override"]["reason"] == "Hosts the book club"
    assert tier["override"]["operator"].startswith("admin:")

    # The earned level goes on beneath the override.
    await shop.event(member, 20_000)
    tier = await shop.tier(member)
    assert tier is not None
    assert (tier["level"]["name"], tier["earnedLevel"]) == ("platinum", "gold")

    # The invitation-only level is never reached by the metric.
    await shop.event(member, 1_000_000)
    assert (await shop.tier(member) or {})["earnedLevel"] == "gold"

    # Once expired, the member is back on the earned level: not a floor at platinum.
    await shop.run_job(_moment(days=31))
    await shop.run_job(_moment(days=31))
    assert await shop.history_rows("override_expired") == 1
    history = await shop.history(member)
    assert history[0]["kind"] == "override_expired"
    assert (history[0]["fromLevel"], history[0]["toLevel"]) == ("platinum", "gold")


async def test_an_override_below_the_earned_level_is_lifted_by_an_operator(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await TierShop.start(make_app, db, tenant, SPEND_LADDER)
    member = await shop.member()
    await shop.event(member, 35_000)
    down = await shop.override(
        memberId=member, level="bronze", reason="Card shared with others", expiresAt=_in(days=7)
    )
    assert down["tier"]["level"]["name"] == "bronze"
    lifted = await shop.override(memberId=member, reason="Resolved with the member")
    assert lifted["errors"] == []
    assert lifted["tier"]["level"]["name"] == "gold"
    assert lifted["tier"]["source"] == "EARNED"
    assert [h["kind"] for h in (await shop.history(member))[:2]] == ["override_lifted", "override"]


def _moment(*, days: int) -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC) + timedelta(days=days)


def _in(*, days: int) -> str:
    return str(_moment(days=days).isoformat())


async def test_an_override_lifted_from_a_member_without_an_earned_level_leaves_no_tier(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    shop = await TierShop.start(make_app, db, tenant, SPEND_LADDER)
    member = await shop.member()  # nothing spent: no level earned
    given = await shop.override(
        memberId=member, level="gold", reason="Welcome gift", expiresAt=_in(days=7)
    )
    assert given["tier"]["level"]["name"] == "gold"
    lifted = await shop.override(memberId=member, reason="Ended early")
    assert lifted == {"tier": None, "errors": []}
    assert [h["kind"] for h in (await shop.history(member))[:2]] == ["override_lifted", "override"]
