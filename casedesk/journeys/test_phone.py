"""The pages a new customer meets first, at a phone's width (390 x 844, an iPhone 12-15)."""

from __future__ import annotations

import pytest

from casedesk.journeys.support import PHONE, Pages, Shots

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("path", "name"), [("/", "home"), ("/submit/", "submit")], ids=["home", "submit"]
)
def test_first_pages_fit_a_phone(pages: Pages, shots: Shots, path: str, name: str) -> None:
    # Given a phone-sized window
    page = pages.open(viewport=PHONE)

    # When a visitor opens the page
    page.goto(path)
    shots.take(page, f"{name}-phone")

    # Then nothing is wider than the screen: no sideways scrolling to read or to type
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{path} is {overflow}px wider than a {PHONE['width']}px phone"
    # And "Submit a ticket" and "Sign in" are within reach
    assert page.get_by_role("link", name="Submit a ticket").first.is_visible()
    assert page.locator(".topbar").get_by_role("link", name="Sign in").is_visible()
