"""The retailer console's journeys in headless Chromium against the served gateway.

An admin creates a campaign with a typo in its condition and sees where it is, fixes it,
simulates it over the stored events and activates it; turns a module off and on again with
the form made from its settings schema and sees its screen go and come back; finds a member
and adjusts the points. A clearing partner's key sees its statements and offers only. Every
screen passes axe-core without a serious violation.
"""

from __future__ import annotations

import re
import uuid

from playwright.async_api import Dialog, Page, expect

from tests.web import DESKTOP, OpenPage, Site, axe_problems, shown

SCREENS = (
    "/",
    "/members",
    "/campaigns",
    "/campaigns/new",
    "/segments",
    "/enrolment",
    "/giftcards",
    "/payments",
    "/clearing",
    "/offers",
    "/tiers",
    "/rewards",
    "/games",
    "/modules",
    "/keys",
)
CAMPAIGN = """query Campaign($id: ID!) { campaign(id: $id) { name status condition } }"""


def accept_dialogs(page: Page) -> None:
    async def accept(dialog: Dialog) -> None:
        await dialog.accept()

    page.on("dialog", accept)


async def test_an_admin_fixes_a_condition_simulates_and_activates_a_campaign(
    site: Site, open_page: OpenPage
) -> None:
    page = await open_page(site.console(), viewport=DESKTOP)
    await page.get_by_role("link", name="Campaigns", exact=True).click()
    await page.get_by_role("link", name="New campaign").click()
    name = f"Big baskets {uuid.uuid4().hex[:6]}"
    await page.get_by_label("Name", exact=True).fill(name)

    condition = page.get_by_test_id("campaign-condition")
    await condition.fill("event.amount >=")  # the typo: nothing to compare with
    await expect(page.get_by_test_id("condition-mark")).to_be_visible()
    await expect(condition).to_have_attribute("aria-invalid", "true")
    await condition.fill("event.ammount >= 2000")  # another: a field purchases lack
    await expect(page.get_by_role("alert").filter(has_text="ammount")).to_be_visible()
    await condition.fill("event.amount >= 2000")
    await expect(page.get_by_test_id("condition-ok")).to_be_visible()

    await page.get_by_test_id("campaign-simulate").click()
    await expect(page.get_by_test_id("simulation")).to_be_visible()
    await page.get_by_role("button", name="Save").click()
    await expect(page).to_have_url(re.compile(r"#/campaigns/[0-9a-f-]{36}$"))
    campaign_id = page.url.rsplit("/", 1)[1]
    await page.get_by_test_id("campaign-activate").click()
    await expect(page.get_by_test_id("campaign-pause")).to_be_visible()

    stored = await site.graphql(CAMPAIGN, {"id": campaign_id})
    assert stored["campaign"] == {
        "name": name,
        "status": "ACTIVE",
        "condition": "event.amount >= 2000",
    }


async def test_a_module_turned_off_and_on_takes_its_screen_with_it(
    site: Site, open_page: OpenPage
) -> None:
    page = await open_page(site.console(), viewport=DESKTOP)
    accept_dialogs(page)
    navigation = page.get_by_role("navigation")
    await expect(navigation.get_by_role("link", name="Gift cards")).to_be_visible()
    await navigation.get_by_role("link", name="Modules").click()
    row = page.locator('[data-testid="module-row"][data-module="giftcards"]')
    await row.get_by_role("button", name="Disable").click()
    await expect(navigation.get_by_role("link", name="Gift cards")).to_have_count(0)

    await row.get_by_role("button", name="Enable…").click()
    await row.get_by_role("form").get_by_role("button", name="Enable").click()
    await expect(navigation.get_by_role("link", name="Gift cards")).to_be_visible()
    await navigation.get_by_role("link", name="Gift cards").click()
    await expect(page.locator("main").get_by_role("heading").first).to_be_visible()
    await expect(page.locator("main").get_by_role("alert")).to_have_count(0)


async def test_an_admin_finds_a_member_and_adjusts_the_points(
    site: Site, open_page: OpenPage
) -> None:
    before = await site.points()
    page = await open_page(site.console())
    await page.get_by_role("link", name="Members").click()
    await page.get_by_label("Find a member").fill("CB-1001")
    await page.get_by_role("button", name="Search").click()
    await page.get_by_test_id("member-link").filter(has_text="Mia Schneider").click()

    form = page.get_by_test_id("adjust-form")
    await form.get_by_role("combobox", name="Currency").select_option(label="Points")
    await form.get_by_role("spinbutton", name="Points").fill("25")
    await form.get_by_label("Reason").fill("Goodwill: a broken cup")
    await form.get_by_role("button", name="Book the adjustment").click()
    await expect(form.get_by_role("status")).to_have_text("Booked.")
    assert await site.points() == before + 25


async def test_a_partner_key_sees_its_statements_and_offers_only(
    site: Site, open_page: OpenPage
) -> None:
    partners = await site.graphql("{ partners(first: 1) { edges { node { id } } } }")
    [edge] = partners["partners"]["edges"]
    issued = await site.graphql(
        """mutation Key($input: PartnerApiKeyCreateInput!) {
          partnerApiKeyCreate(input: $input) { secret errors { code message } }
        }""",
        {
            "input": {
                "partnerId": edge["node"]["id"],
                "name": "web test",
                "scopes": ["EVENTS_WRITE"],
            }
        },
    )
    key = issued["partnerApiKeyCreate"]["secret"]

    page = await open_page(f"{site.url}/console/")
    await page.get_by_label("Partner API key").fill(key)
    await page.get_by_role("button", name="Sign in with the key").click()
    navigation = page.get_by_role("navigation")
    await expect(navigation.get_by_role("link")).to_have_text(["Partners & statements", "Offers"])


async def test_every_console_screen_passes_axe(site: Site, open_page: OpenPage) -> None:
    page = await open_page(site.console())
    await expect(page.locator("main")).to_be_visible()
    problems = {}
    for path in (*SCREENS, f"/members/{site.demo.member_id}"):
        await shown(page, f"{site.url}/console/#{path}")
        problems[path] = await axe_problems(page)
    assert all(not found for found in problems.values()), problems
