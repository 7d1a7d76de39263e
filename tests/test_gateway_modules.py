"""Modules in the gateway: per-tenant schemas, switching without restart, clashes, bad modules."""

from __future__ import annotations

from types import ModuleType

import pytest
import pytest_asyncio
from loyalty_core.db.engine import Database
from loyalty_core.modules import manager
from loyalty_core.modules.manager import ModuleRegistry, build_registry
from loyalty_core.tenants.models import Tenant
from loyalty_gateway.composition import SchemaClashError, compose_schema
from loyalty_testing import (
    MakeApp,
    RunningGateway,
    admin_token,
    create_test_tenant,
    disable_for,
    enable_for,
    graphql,
    insert_member,
    member_token,
    token,
)

from tests.modules import clashing, greetings, misspelled

HELLO = "{ hello { text } }"
QUERY_FIELDS = '{ __type(name: "Query") { fields { name } } }'
MEMBER_FIELDS = '{ __type(name: "Member") { fields { name } } }'
GREETING_TYPE = '{ __type(name: "Greeting") { name } }'


def registry_with(*plugins: object) -> ModuleRegistry:
    return build_registry(plugins=plugins, load_entry_points=False)


@pytest_asyncio.fixture(loop_scope="session")
async def gateway(make_app: MakeApp) -> RunningGateway:
    return await make_app(registry_with(greetings))


@pytest_asyncio.fixture(loop_scope="session")
async def other_tenant(db: Database) -> Tenant:
    return await create_test_tenant(db)


def field_names(body: dict[str, object]) -> set[str]:
    data = body["data"]
    assert isinstance(data, dict), body
    return {field["name"] for field in data["__type"]["fields"]}


async def test_only_tenants_that_enabled_a_module_see_it(
    gateway: RunningGateway, db: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    await enable_for(db, gateway.registry, tenant, greetings.NAME)
    enabled, disabled = admin_token(tenant.id), admin_token(other_tenant.id)

    assert await graphql(gateway.client, HELLO, token=enabled) == {
        "data": {"hello": {"text": "Hello, world!"}}
    }
    refused = await graphql(gateway.client, HELLO, token=disabled)
    assert refused["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "data" not in refused


async def test_introspection_shows_no_trace_of_modules_a_tenant_has_not_enabled(
    gateway: RunningGateway, db: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    await enable_for(db, gateway.registry, tenant, greetings.NAME)
    enabled, disabled = admin_token(tenant.id), admin_token(other_tenant.id)

    assert {"hello", "greetingFailure"} <= field_names(
        await graphql(gateway.client, QUERY_FIELDS, token=enabled)
    )
    assert "hello" not in field_names(await graphql(gateway.client, QUERY_FIELDS, token=disabled))
    assert "badgeCount" in field_names(await graphql(gateway.client, MEMBER_FIELDS, token=enabled))
    assert "badgeCount" not in field_names(
        await graphql(gateway.client, MEMBER_FIELDS, token=disabled)
    )
    assert await graphql(gateway.client, GREETING_TYPE, token=disabled) == {
        "data": {"__type": None}
    }


async def test_anonymous_callers_get_the_core_alone(gateway: RunningGateway) -> None:
    assert "hello" not in field_names(await graphql(gateway.client, QUERY_FIELDS))


async def test_a_module_field_on_a_core_type_resolves(
    gateway: RunningGateway, db: Database, tenant: Tenant
) -> None:
    await enable_for(db, gateway.registry, tenant, greetings.NAME)
    async with db.tenant_transaction(tenant.id) as conn:
        member_id = await insert_member(conn, tenant.id)

    body = await graphql(
        gateway.client,
        "{ viewer { member { id badgeCount } } }",
        token=member_token(tenant.id, member_id),
    )

    assert body == {
        "data": {"viewer": {"member": {"id": str(member_id), "badgeCount": greetings.BADGES}}}
    }


async def test_a_tenants_module_settings_reach_the_resolvers(
    gateway: RunningGateway, db: Database, tenant: Tenant
) -> None:
    await enable_for(db, gateway.registry, tenant, greetings.NAME, {"salutation": "Ahoy"})

    body = await graphql(gateway.client, HELLO, token=admin_token(tenant.id))

    assert body == {"data": {"hello": {"text": "Ahoy, world!"}}}


async def test_enabling_and_disabling_apply_on_the_next_request(
    gateway: RunningGateway, db: Database, tenant: Tenant
) -> None:
    admin = admin_token(tenant.id)
    assert "errors" in await graphql(gateway.client, HELLO, token=admin)

    # Written straight to the database, as another replica would: the change reaches this
    # gateway as a notification, which sync() waits for.
    await enable_for(db, gateway.registry, tenant, greetings.NAME)
    await gateway.state.notifier.sync()
    assert "errors" not in await graphql(gateway.client, HELLO, token=admin)

    await disable_for(db, gateway.registry, tenant, greetings.NAME)
    await gateway.state.notifier.sync()
    refused = await graphql(gateway.client, HELLO, token=admin)
    assert refused["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_tenants_with_the_same_modules_share_one_schema(
    gateway: RunningGateway, db: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    for each in (tenant, other_tenant):
        await enable_for(db, gateway.registry, each, greetings.NAME)
        await graphql(gateway.client, HELLO, token=admin_token(each.id))

    schemas = gateway.state.schemas
    assert frozenset({greetings.NAME}) in schemas
    assert schemas.get(frozenset({greetings.NAME})) is schemas.get(frozenset({greetings.NAME}))


@pytest.mark.parametrize(
    ("plugin", "name", "modules"),
    [
        (clashing.RootField, "Query.hello", {"echo", "greetings"}),
        (clashing.TypeName, "type Greeting", {"lookalike", "greetings"}),
        (clashing.ExtensionField, "Member.badgeCount", {"badges", "greetings"}),
        (clashing.CoreField, "Member.status", {"core", "shadow"}),
    ],
    ids=["root field", "type name", "type extension", "core field"],
)
async def test_a_clash_fails_start_up_naming_both_modules(
    make_app: MakeApp, plugin: object, name: str, modules: set[str]
) -> None:
    with pytest.raises(SchemaClashError) as raised:
        await make_app(registry_with(greetings, plugin))

    assert raised.value.name == name
    assert set(raised.value.modules) == modules
    for module in modules:
        assert repr(module) in str(raised.value)


def test_modules_that_do_not_clash_compose_in_any_combination() -> None:
    registry = registry_with(greetings)

    with_greetings = str(compose_schema(registry, frozenset({greetings.NAME})))
    core_only = str(compose_schema(registry, frozenset()))

    assert "badgeCount" in with_greetings
    assert "countdown" in with_greetings
    assert "badgeCount" not in core_only
    assert "countdown" not in core_only


async def test_a_misspelled_hook_is_skipped_and_reported(make_app: MakeApp) -> None:
    registry = registry_with(greetings, misspelled)

    running = await make_app(registry)
    metrics = (await running.client.get("/metrics")).text

    assert "misspelled" not in registry.modules
    assert greetings.NAME in registry.modules
    [failure] = registry.failures
    assert failure.name == misspelled.__name__
    assert "loyalty_shcema" in failure.reason
    assert f'loyalty_module_load_failures{{module="{misspelled.__name__}"}} 1.0' in metrics


class _ExplodingEntryPoint:
    """An installed module whose import fails (a missing dependency, say)."""

    name = "exploding"

    def load(self) -> ModuleType:
        raise ImportError("No module named 'missing_dependency'")


class _GreetingsEntryPoint:
    name = greetings.NAME

    def load(self) -> ModuleType:
        return greetings


async def test_a_module_whose_import_fails_is_skipped_and_reported(
    make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fake_entry_points(*, group: str) -> list[object]:
        assert group == manager.ENTRY_POINT_GROUP
        return [_ExplodingEntryPoint(), _GreetingsEntryPoint()]

    monkeypatch.setattr(manager, "entry_points", fake_entry_points)

    registry = build_registry()
    running = await make_app(registry)

    assert sorted(registry.modules) == ["core", greetings.NAME]
    [failure] = registry.failures
    assert failure.name == "exploding"
    assert "missing_dependency" in failure.reason
    assert (await running.client.post("/graphql", json={"query": "{ __typename }"})).is_success


async def test_module_routes_answer_tenants_that_enabled_the_module(
    gateway: RunningGateway, db: Database, tenant: Tenant, other_tenant: Tenant
) -> None:
    await enable_for(db, gateway.registry, tenant, greetings.NAME)
    path = f"/modules/{greetings.NAME}/ping"

    enabled = await gateway.client.get(
        path, headers={"Authorization": f"Bearer {admin_token(tenant.id)}"}
    )
    disabled = await gateway.client.get(
        path, headers={"Authorization": f"Bearer {admin_token(other_tenant.id)}"}
    )
    anonymous = await gateway.client.get(path)
    bad_credential = await gateway.client.get(
        path, headers={"Authorization": f"Bearer {token('admin', 'x', secret='n' * 40)}"}
    )

    assert enabled.json() == {"module": greetings.NAME, "tenant": str(tenant.id)}
    assert disabled.status_code == 404
    assert anonymous.json() == {"module": greetings.NAME, "tenant": None}
    assert bad_credential.status_code == 401


async def test_what_the_database_refuses_in_a_module_route_is_an_answer(
    gateway: RunningGateway, db: Database, tenant: Tenant
) -> None:
    await enable_for(db, gateway.registry, tenant, greetings.NAME)
    auth = {"Authorization": f"Bearer {admin_token(tenant.id)}"}
    path = f"/modules/{greetings.NAME}/number"

    good = await gateway.client.get(path, params={"value": "42"}, headers=auth)
    bad = await gateway.client.get(path, params={"value": "forty-two"}, headers=auth)
    huge = await gateway.client.get(path, params={"value": "9" * 30}, headers=auth)

    assert good.json() == {"value": 42}
    assert bad.status_code == huge.status_code == 400
    assert bad.json()["errors"][0]["extensions"] == {"code": "INVALID_INPUT"}
    assert huge.json()["errors"][0]["extensions"] == {"code": "INVALID_INPUT"}
