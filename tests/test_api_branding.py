"""A tenant's branding: typed, validated where it is written, and readable by slug without
signing in (name and branding only), so that a sign-in page can look like the retailer."""

from __future__ import annotations

import base64
from typing import Any

from loyalty_core.db.engine import Database
from loyalty_core.tenants.models import Tenant
from loyalty_testing import MakeApp, admin_token, graphql
from loyalty_testing.database import create_test_tenant

UPDATE = """
mutation($b: BrandingInput) {
  tenantUpdate(input: {branding: $b}) {
    tenant { branding { logoUrl primaryColor accentColor } }
    errors { code field }
  }
}
"""
PUBLIC = """
query($slug: String!) {
  tenantBranding(slug: $slug) { name branding { logoUrl primaryColor accentColor } }
}
"""
PNG = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n tiny").decode()


async def _update(client: Any, tenant: Tenant, branding: dict[str, Any] | None) -> Any:
    body = await graphql(client, UPDATE, {"b": branding}, token=admin_token(tenant.id))
    assert "errors" not in body, body
    return body["data"]["tenantUpdate"]


async def test_an_admin_brands_the_tenant_and_anyone_reads_it_by_slug(
    make_app: MakeApp, db: Database, tenant: Tenant
) -> None:
    gateway = await make_app()
    client = gateway.client
    updated = await _update(
        client,
        tenant,
        {
            "logoUrl": "https://cdn.example.com/kaffee-und-buch/logo.svg",
            "primaryColor": "#6F4E37",
            "accentColor": "#fc0",
        },
    )
    branding = {
        "logoUrl": "https://cdn.example.com/kaffee-und-buch/logo.svg",
        "primaryColor": "#6f4e37",
        "accentColor": "#fc0",
    }
    assert updated == {"tenant": {"branding": branding}, "errors": []}
    other = await create_test_tenant(db)
    await _update(client, other, {"logoUrl": PNG, "primaryColor": "#000000"})

    # no credential at all: the name and the branding, each tenant its own
    body = await graphql(client, PUBLIC, {"slug": tenant.slug})
    assert body == {"data": {"tenantBranding": {"name": tenant.name, "branding": branding}}}
    body = await graphql(client, PUBLIC, {"slug": other.slug})
    assert body["data"]["tenantBranding"]["branding"] == {
        "logoUrl": PNG,
        "primaryColor": "#000000",
        "accentColor": None,
    }
    # an unknown slug, or text that is no slug, is simply nothing
    for slug in ("no-such-tenant", "Not A Slug", "x" * 300, ""):
        assert (await graphql(client, PUBLIC, {"slug": slug})) == {"data": {"tenantBranding": None}}
    # nothing else of a tenant is there to ask for
    fields = await graphql(client, '{ __type(name: "PublicTenant") { fields { name } } }')
    assert fields["data"]["__type"]["fields"] == [{"name": "name"}, {"name": "branding"}]
    leak = await graphql(
        client, "query($s: String!) { tenantBranding(slug: $s) { id } }", {"s": tenant.slug}
    )
    assert leak["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    # and an anonymous caller still reads no tenant of its own
    anonymous = await graphql(client, "{ tenant { id } }")
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    # the branding is replaced as a whole: an empty one clears it
    cleared = await _update(client, tenant, {})
    assert cleared["tenant"]["branding"] == {
        "logoUrl": None,
        "primaryColor": None,
        "accentColor": None,
    }
    # a change of name alone keeps the other tenant's branding
    renamed = await graphql(
        client,
        'mutation { tenantUpdate(input: {name: "Kaffee & Buch"}) '
        "{ tenant { name branding { primaryColor } } errors { code } } }",
        token=admin_token(other.id),
    )
    assert renamed["data"]["tenantUpdate"]["tenant"] == {
        "name": "Kaffee & Buch",
        "branding": {"primaryColor": "#000000"},
    }


async def test_branding_that_could_harm_a_sign_in_page_is_refused(
    make_app: MakeApp, tenant: Tenant
) -> None:
    gateway = await make_app()
    client = gateway.client
    good = {"logoUrl": "https://example.com/logo.png", "primaryColor": "#112233"}
    await _update(client, tenant, good)
    bad: list[tuple[dict[str, Any], str]] = [
        ({"logoUrl": "http://example.com/logo.png"}, "branding.logoUrl"),
        ({"logoUrl": "javascript:alert(1)"}, "branding.logoUrl"),
        ({"logoUrl": "https://"}, "branding.logoUrl"),
        ({"logoUrl": "https://user:secret@example.com/logo.png"}, "branding.logoUrl"),
        ({"logoUrl": 'https://example.com/a.png" onerror="alert(1)'}, "branding.logoUrl"),
        ({"logoUrl": "https://example.com/" + "a" * 2100}, "branding.logoUrl"),
        ({"logoUrl": "data:text/html;base64,PHNjcmlwdD4="}, "branding.logoUrl"),
        ({"logoUrl": "data:image/png;base64,not base64!"}, "branding.logoUrl"),
        ({"logoUrl": "data:image/png;base64,abc"}, "branding.logoUrl"),
        ({"logoUrl": "data:image/png;base64," + "A" * 40_000}, "branding.logoUrl"),
        ({"primaryColor": "red"}, "branding.primaryColor"),
        ({"primaryColor": "#12345"}, "branding.primaryColor"),
        ({"accentColor": "#1234567"}, "branding.accentColor"),
        ({"accentColor": "#ff0000; background: url(x)"}, "branding.accentColor"),
    ]
    for branding, field in bad:
        answer = await _update(client, tenant, branding)
        assert answer == {"tenant": None, "errors": [{"code": "INVALID_INPUT", "field": field}]}, (
            branding
        )
    # nothing of it was written
    body = await graphql(client, PUBLIC, {"slug": tenant.slug})
    assert body["data"]["tenantBranding"]["branding"] == {**good, "accentColor": None}
    # tenant admins only
    refused = await graphql(client, UPDATE, {"b": good})
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
