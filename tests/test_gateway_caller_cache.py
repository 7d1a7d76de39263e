"""The caller cache: what authentication read is reused, and every change that matters reaches
every gateway process on one database through ``loyalty_tenant_changed`` notifications."""

from __future__ import annotations

import uuid

from loyalty_core.apikeys.service import PresentedKey
from loyalty_core.auth import Principal, Role
from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_gateway.callers import CallerCache
from loyalty_testing import MakeApp, admin_token, disable_for, enable_for, graphql

from tests.api import pos_key
from tests.modules import greetings
from tests.test_gateway_modules import HELLO, registry_with

TENANT_SLUG = "{ tenant { slug } }"


SECRET = "presented-secret"


def _key(tenant_id: uuid.UUID, secret: str = SECRET) -> PresentedKey:
    return PresentedKey(tenant_id, uuid.UUID(int=7), secret)


def _principal(tenant_id: uuid.UUID) -> Principal:
    return Principal(role=Role.TOUCHPOINT, subject=str(uuid.UUID(int=7)), tenant_id=tenant_id)


def test_a_key_is_served_only_for_the_secret_it_was_checked_with() -> None:
    cache = CallerCache(60, live=lambda: True)
    tenant_id = uuid.uuid4()
    cache.store_principal(_key(tenant_id), _principal(tenant_id), generation=cache.generation)

    assert cache.principal(_key(tenant_id).raw) == _principal(tenant_id)
    assert cache.principal(_key(tenant_id, "another secret").raw) is None


def test_nothing_is_served_or_kept_while_the_listener_is_down() -> None:
    live = [True]
    cache = CallerCache(60, live=lambda: live[0])
    tenant_id = uuid.uuid4()
    cache.store_principal(_key(tenant_id), _principal(tenant_id), generation=cache.generation)

    live[0] = False
    assert cache.principal(_key(tenant_id).raw) is None
    cache.store_principal(_key(tenant_id, "other"), _principal(tenant_id), generation=0)
    live[0] = True
    assert cache.principal(_key(tenant_id, "other").raw) is None


def test_entries_expire_after_the_ttl() -> None:
    now = [100.0]
    cache = CallerCache(5, live=lambda: True, clock=lambda: now[0])
    tenant = Tenant(uuid.uuid4(), "t", "T", "UTC", "EUR")
    cache.store_tenant(tenant, {}, generation=cache.generation)

    now[0] += 4
    assert cache.tenant(tenant.id) is not None
    now[0] += 2
    assert cache.tenant(tenant.id) is None


def test_a_read_that_raced_a_notification_is_not_kept() -> None:
    cache = CallerCache(60, live=lambda: True)
    tenant = Tenant(uuid.uuid4(), "t", "T", "UTC", "EUR")
    started_at = cache.generation

    cache.changed(tenant.id)  # committed while the read was in flight
    cache.store_tenant(tenant, {}, generation=started_at)

    assert cache.tenant(tenant.id) is None


def test_a_notification_drops_only_its_tenant() -> None:
    cache = CallerCache(60, live=lambda: True)
    first, second = (Tenant(uuid.uuid4(), s, s, "UTC", "EUR") for s in ("a", "b"))
    for tenant in (first, second):
        cache.store_tenant(tenant, {}, generation=cache.generation)
        cache.store_principal(_key(tenant.id), _principal(tenant.id), generation=cache.generation)

    cache.changed(first.id)

    assert cache.tenant(first.id) is None
    assert cache.principal(_key(first.id).raw) is None
    assert cache.tenant(second.id) is not None
    assert cache.principal(_key(second.id).raw) is not None


def test_members_whose_tokens_may_act_go_with_their_tenants_changes() -> None:
    cache = CallerCache(60, live=lambda: True)
    tenant = Tenant(uuid.uuid4(), "t", "T", "UTC", "EUR")
    member, raced = uuid.uuid4(), uuid.uuid4()
    cache.store_tenant(tenant, {}, generation=cache.generation)
    cache.store_member(tenant.id, member, generation=cache.generation)
    started_at = cache.generation

    assert cache.member_may_act(tenant.id, member)
    cache.changed(tenant.id)  # an erasure committed
    cache.store_member(tenant.id, raced, generation=started_at)  # read before it: not kept
    assert not cache.member_may_act(tenant.id, member)
    assert not cache.member_may_act(tenant.id, raced)
    cache.store_member(tenant.id, member, generation=cache.generation)
    cache.store_tenant(tenant, {}, generation=cache.generation)  # read again, as after the TTL
    assert not cache.member_may_act(tenant.id, member)


def test_a_tenant_pushed_out_takes_its_keys_along() -> None:
    cache = CallerCache(60, live=lambda: True, max_tenants=1)
    first, second = uuid.uuid4(), uuid.uuid4()
    cache.store_principal(_key(first), _principal(first), generation=cache.generation)
    cache.store_principal(_key(second), _principal(second), generation=cache.generation)

    assert cache.principal(_key(first).raw) is None
    assert cache.principal(f"  {_key(second).raw} ") == _principal(second)


async def test_a_key_revoked_through_one_gateway_stops_working_on_another(
    make_app: MakeApp, tenant: Tenant
) -> None:
    first, second = await make_app(), await make_app()
    key = await pos_key(first.client, tenant.id)
    await second.state.notifier.sync()  # the key's creation, before the second reads it
    assert (await graphql(second.client, TENANT_SLUG, api_key=key))["data"]
    assert len(second.state.authenticator.callers) == 1
    listed = await graphql(first.client, "{ apiKeys { id } }", token=admin_token(tenant.id))

    await graphql(
        first.client,
        "mutation($id: ID!) { apiKeyRevoke(input: {id: $id}) { errors { code } } }",
        {"id": listed["data"]["apiKeys"][0]["id"]},
        token=admin_token(tenant.id),
    )
    await second.state.notifier.sync()

    refused = await graphql(second.client, TENANT_SLUG, api_key=key)
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_module_changes_reach_every_gateway_on_the_database(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    registry = registry_with(greetings)
    gateways = [await make_app(registry), await make_app(registry)]
    admin = admin_token(tenant.id)
    for gateway in gateways:
        assert "errors" in await graphql(gateway.client, HELLO, token=admin)

    await enable_for(db, registry, tenant, greetings.NAME, {"salutation": "Ahoy"})
    for gateway in gateways:
        await gateway.state.notifier.sync()
        body = await graphql(gateway.client, HELLO, token=admin)
        assert body == {"data": {"hello": {"text": "Ahoy, world!"}}}

    await disable_for(db, registry, tenant, greetings.NAME)
    for gateway in gateways:
        await gateway.state.notifier.sync()
        assert "errors" in await graphql(gateway.client, HELLO, token=admin)
