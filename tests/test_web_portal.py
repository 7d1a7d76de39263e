"""The member portal's journeys in headless Chromium against the served gateway.

A member signs in, sees the balance, and sees it change without reloading when a till books
a purchase (the ``balanceChanged`` subscription); activates an offer; redeems a reward and
finds the voucher; switches the language; signs out. Every page passes axe-core without a
serious violation, at phone width.
"""

from __future__ import annotations

import asyncio
import re
import uuid

from playwright.async_api import expect

from tests.web import DESKTOP, OpenPage, Site, axe_problems, shown

INGEST = """mutation Ingest($input: EventIngestInput!) {
  eventIngest(input: $input) { errors { code message } }
}"""
PAGES = ("/", "/history", "/offers", "/rewards", "/games", "/wallet", "/profile")


async def book_purchase(site: Site, euros: int) -> None:
    """The till books a purchase for the member, as a POS does, with its API key."""
    reference = f"web-{uuid.uuid4().hex[:10]}"
    event = {
        "type": "purchase",
        "source": "pos-coffee-bar",
        "externalId": reference,
        "payload": {"amount": euros * 100, "currency": "EUR", "orderReference": reference},
        "memberId": str(site.demo.member_id),
    }
    data = await site.graphql(INGEST, {"input": event}, api_key=site.demo.pos_api_key)
    assert data["eventIngest"]["errors"] == []


async def code_sent_to(site: Site, address: str) -> str:
    """The one-time code last sent to ``address``, as the demo's mailbox (the messages the
    onboarding module sent) shows it; sign-in codes go out just after the answer."""
    for _ in range(50):
        sent = await site.graphql("{ sentMessages(first: 20) { recipient body createdAt } }")
        mine = [m for m in sent["sentMessages"] if m["recipient"] == address]
        if mine:
            latest = max(mine, key=lambda message: str(message["createdAt"]))
            [code] = re.findall(r"\b\d{6}\b", str(latest["body"]))
            return str(code)
        await asyncio.sleep(0.1)
    raise AssertionError(f"no code was sent to {address}")


async def test_the_balance_follows_a_purchase_at_the_till_live(
    site: Site, open_page: OpenPage
) -> None:
    before = await site.points()
    page = await open_page(site.portal())
    balance = page.get_by_test_id("balance-points")
    await expect(balance).to_have_text(f"{before:,}")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Demo Coffee & Books")

    await book_purchase(site, 120)
    after = await site.points()
    assert after >= before + 120
    await expect(balance).to_have_text(f"{after:,}")  # no reload: the subscription


async def test_a_member_activates_an_offer_and_redeems_a_reward(
    site: Site, open_page: OpenPage
) -> None:
    await book_purchase(site, 150)  # enough for a free filter coffee (100 points)
    page = await open_page(site.portal())
    await page.get_by_role("link", name="Offers").click()
    offer = page.get_by_test_id("offer").filter(has_text="Double points on Tuesdays")
    await offer.get_by_role("button", name="Activate").click()
    await expect(offer.get_by_text("activated", exact=True)).to_be_visible()

    await page.get_by_role("link", name="Rewards").click()
    reward = page.get_by_test_id("reward").filter(has_text="Free filter coffee")
    await reward.get_by_role("button", name="Redeem").click()
    await expect(reward.get_by_role("status")).to_have_text("Redeemed: see your vouchers.")
    await expect(page.get_by_test_id("voucher").first).to_be_visible()
    await expect(page.get_by_test_id("voucher").get_by_role("img").first).to_be_visible()


async def test_the_portal_speaks_german_and_signs_out(site: Site, open_page: OpenPage) -> None:
    page = await open_page(site.portal(), locale="de-DE")
    await expect(page.get_by_role("link", name="Verlauf")).to_be_visible()
    await page.get_by_label("Sprache").select_option("en")
    await expect(page.get_by_role("link", name="History")).to_be_visible()
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


async def test_a_signed_out_visitor_gets_the_sign_in_page(site: Site, open_page: OpenPage) -> None:
    page = await open_page(f"{site.url}/portal/")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await page.get_by_label("Development token").fill(site.member_token)
    await page.get_by_role("button", name="Sign in with the token").click()
    await expect(page.get_by_test_id("balance-points")).to_be_visible()


async def test_every_portal_page_passes_axe(site: Site, open_page: OpenPage) -> None:
    page = await open_page(site.portal())
    await expect(page.get_by_test_id("balance-points")).to_be_visible()
    problems = {}
    for path in PAGES:
        await shown(page, f"{site.url}/portal/#{path}")
        problems[path] = await axe_problems(page)
    assert problems == {path: [] for path in PAGES}, problems


async def test_the_portal_at_desktop_width(site: Site, open_page: OpenPage) -> None:
    page = await open_page(site.portal(), viewport=DESKTOP)
    await expect(page.get_by_role("navigation")).to_be_visible()
    await expect(page.get_by_test_id("balance-points")).to_be_visible()


async def test_the_sign_in_page_shows_the_retailer_named_in_the_link(
    site: Site, open_page: OpenPage
) -> None:
    page = await open_page(f"{site.url}/portal/?tenant=demo")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Demo Coffee & Books")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


async def test_a_member_signs_in_with_a_one_time_code(site: Site, open_page: OpenPage) -> None:
    """The link a retailer gives its members: the tenant and its public enrolment key."""
    page = await open_page(f"{site.url}/portal/?tenant=demo&key={site.demo.enrolment_api_key}")
    await page.get_by_label("E-mail or phone").fill(site.demo.member_email)
    await page.get_by_role("button", name="Send me a code").click()
    await expect(page.get_by_role("status")).to_contain_text("We sent you a code")

    code = await code_sent_to(site, site.demo.member_email)
    await page.get_by_label("Code").fill(code)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await expect(page.get_by_test_id("balance-points")).to_be_visible()
    await expect(page.get_by_text("Hello Mia!")).to_be_visible()


async def test_a_newcomer_joins_with_consents_and_is_signed_in(
    site: Site, open_page: OpenPage
) -> None:
    email = f"lena.{uuid.uuid4().hex[:8]}@example.com"
    page = await open_page(f"{site.url}/portal/?tenant=demo&key={site.demo.enrolment_api_key}")
    join = page.get_by_role("region", name="Join the programme")
    await join.get_by_label("E-mail", exact=True).fill(email)
    await join.get_by_label("First name").fill("Lena")
    await join.get_by_label("Last name").fill("Vogel")
    await join.get_by_role("button", name="Get my code to join").click()

    code = await code_sent_to(site, email)
    await join.get_by_label("Code").fill(code)
    await join.get_by_role("button", name="Confirm my address").click()
    await join.get_by_label("News and offers by e-mail").check()
    await join.get_by_role("button", name="Join", exact=True).click()
    await expect(page.get_by_text("Hello Lena!")).to_be_visible()

    await page.get_by_role("link", name="Profile").click()
    consents = page.get_by_role("group", name="Consents")
    await expect(consents.get_by_label("News and offers by e-mail")).to_be_checked()
    await expect(consents.get_by_label("News and offers by text message")).not_to_be_checked()
