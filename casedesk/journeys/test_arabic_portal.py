"""The portal in Arabic, right to left, in Chromium against `casedesk serve`.

A visitor whose browser prefers Arabic gets Arabic pages laid out right to left; a contact
switches language from the header's menu and the choice stays with their account.
"""

from __future__ import annotations

import shutil
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from casedesk.core.management.commands import demo
from casedesk.journeys.support import DESKTOP, Pages, Person, Shots, Site

pytestmark = pytest.mark.browser

# A demo contact no other journey signs in as (their language choice is saved on the account).
SARA = Person("sara@cedarschools.example", demo.DEMO_CONTACT_PASSWORD, "Sara")
SCREENSHOT = "/tmp/portal-ar.png"


def open_in(pages: Pages, browser: Browser, locale: str) -> Page:
    """A fresh browser context whose Accept-Language is `locale`, watched like pages.open."""
    context = browser.new_context(base_url=pages.base_url, viewport=DESKTOP, locale=locale)  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    pages.contexts.append(context)
    page = context.new_page()
    page.on("pageerror", lambda exc: pages.problems.append(f"script error: {exc}"))
    page.on("response", pages._check_response)
    return page


def box(page: Page, script: str) -> dict[str, Any]:
    found: dict[str, Any] = page.evaluate(script)
    assert found, f"nothing measured by {script}"
    return found


# The rendered text of an element (not its box, which spans the whole row), measured with a
# Range: where a reader's eye finds the words.
TEXT_BOX = """(selector) => {
  const element = document.querySelector(selector);
  if (!element) return null;
  const range = document.createRange();
  range.selectNodeContents(element);
  const r = range.getBoundingClientRect();
  return {left: r.left, right: r.right};
}"""
ELEMENT_BOX = """(selector) => {
  const element = document.querySelector(selector);
  if (!element) return null;
  const r = element.getBoundingClientRect();
  return {left: r.left, right: r.right, width: r.width};
}"""


def test_a_visitor_whose_browser_prefers_arabic_gets_the_portal_right_to_left(
    pages: Pages, shots: Shots, site: Site
) -> None:
    # Given a visitor whose browser asks for Arabic first
    page = open_in(pages, pages.browser, "ar-AE")

    # When they open the portal
    page.goto("/")
    shots.take(page, "home-ar")

    # Then the page is Arabic, right to left
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "ar")
    expect(html).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("heading", level=1)).to_have_text("كيف يمكننا مساعدتك؟")
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    # The brand sits on the right of the top bar, the account area on the left.
    brand = page.evaluate(ELEMENT_BOX, ".brand")
    account = page.evaluate(ELEMENT_BOX, ".account")
    assert brand["left"] > account["right"], (brand, account)

    # When they open the submit form
    page.get_by_role("link", name="تقديم طلب").first.click()
    expect(page).to_have_url(f"{site.url}/submit/")
    expect(page.get_by_role("heading", level=1)).to_have_text("تقديم طلب")

    # Then each label's words start at the right edge of its field
    for name in ("subject", "description", "full_name"):
        label = page.evaluate(TEXT_BOX, f"#field-{name} label")
        field = page.evaluate(ELEMENT_BOX, f"#id_{name}")
        assert abs(label["right"] - field["right"]) < 4, (name, label, field)
        assert label["left"] > field["left"] + field["width"] / 2, (name, label, field)
    # The orange * of a required field comes first, on the right of its label.
    star = page.evaluate(ELEMENT_BOX, "#field-subject label .req")
    label = page.evaluate(TEXT_BOX, "#field-subject label")
    assert star["right"] >= label["right"] - 1
    # A priority card's radio button sits on its right, before its text.
    radio = page.evaluate(ELEMENT_BOX, ".priority-card input")
    text = page.evaluate(ELEMENT_BOX, ".priority-card .priority-text")
    assert radio["left"] > text["right"] - 1, (radio, text)
    # The group heading ("About you") starts on the right too.
    legend = page.evaluate(TEXT_BOX, "fieldset.group > legend")
    form = page.evaluate(ELEMENT_BOX, "form.submit-form")
    assert form["right"] - legend["right"] < 60, (legend, form)
    # The email address is typed left to right even on an Arabic page.
    assert page.evaluate(
        "getComputedStyle(document.querySelector('#id_email')).direction"
    ) == "ltr"

    path = shots.take(page, "submit-ar")
    shutil.copyfile(path, SCREENSHOT)


def sign_in(page: Page, person: Person) -> None:
    page.locator("#id_email").fill(person.email)
    page.locator("#id_password").fill(person.password)
    page.locator("form[action='/accounts/signin/'] button[type=submit]").click()
    expect(page.locator(".account-name")).to_be_visible()


def test_a_contact_switches_to_arabic_and_it_is_remembered_after_signing_in_again(
    pages: Pages, shots: Shots, site: Site
) -> None:
    # Given a contact signed in with a browser that prefers English
    page = open_in(pages, pages.browser, "en-US")
    page.goto("/accounts/signin/")
    sign_in(page, SARA)
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    expect(page.get_by_role("heading", level=1)).to_have_text("My cases")

    # When they choose العربيّة in the header's language menu
    page.locator(".language-menu").get_by_role("button", name="العربيّة").click()

    # Then the same page comes back in Arabic, right to left
    expect(page).to_have_url(f"{site.url}/cases/")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("heading", level=1)).to_have_text("طلباتي")
    shots.take(page, "cases-ar")

    # When they sign out and back in
    page.locator(".account").get_by_role("button", name="تسجيل الخروج").click()
    page.goto("/accounts/signin/")
    sign_in(page, SARA)
    expect(page.locator("html")).to_have_attribute("dir", "rtl")

    # And on another browser, without the cookie, that prefers English
    other = open_in(pages, pages.browser, "en-US")
    other.goto("/accounts/signin/")
    expect(other.locator("html")).to_have_attribute("dir", "ltr")
    sign_in(other, SARA)

    # Then the account's choice wins: Arabic, right to left
    expect(other.locator("html")).to_have_attribute("lang", "ar")
    expect(other.locator("html")).to_have_attribute("dir", "rtl")
    expect(other.get_by_role("heading", level=1)).to_have_text("طلباتي")
    shots.take(other, "cases-ar-other-browser")

    # And switching back to English is remembered the same way (the demo stays English)
    other.locator(".language-menu").get_by_role("button", name="English").click()
    expect(other.locator("html")).to_have_attribute("dir", "ltr")
