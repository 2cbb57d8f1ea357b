"""An admin turns on two-factor sign-in with an authenticator app, then signs in with a
password and a code: the code is computed here, as the phone's app would."""

from __future__ import annotations

import time

import pyotp
import pytest
from playwright.sync_api import expect

from casedesk.journeys.conftest import run_casedesk
from casedesk.journeys.support import Pages, Shots, Site

pytestmark = pytest.mark.browser

EMAIL = "farah.nasser@casedesk.example"
PASSWORD = "journey-two-factor-passphrase"


def test_an_admin_sets_up_two_factor_sign_in_and_signs_in_with_a_code(
    pages: Pages, shots: Shots, site: Site
) -> None:
    # Given an admin of their own (the demo's people are shared with the other journeys)
    run_casedesk({**site.env, "CASEDESK_ADMIN_PASSWORD": PASSWORD},
                 "createadmin", "--email", EMAIL, "--name", "Farah Nasser")
    page = pages.open()
    page.goto("/accounts/signin/")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".account-name")).to_have_text("Farah")

    # When they set up two-factor sign-in from their profile
    page.goto("/accounts/profile/")
    page.get_by_role("link", name="Set it up").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-factor sign-in")
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    shots.take(page, "set-up")
    secret = page.locator(".totp-secret").get_attribute("data-secret")
    assert secret
    page.get_by_label("Code from your app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()

    # Then their recovery codes are shown, once
    expect(page.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    shots.take(page, "recovery-codes")
    page.get_by_role("link", name="I have saved them").click()
    page.get_by_role("button", name="Sign out").click()

    # When they sign in again, the password alone is not enough
    page.goto("/accounts/signin/")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-factor sign-in")
    expect(page.locator(".account-name")).to_have_count(0)
    shots.take(page, "code-step")

    # And a wrong code is refused with a message
    now = time.time()
    valid = {pyotp.TOTP(secret).at(now + 30 * k) for k in (-1, 0, 1, 2)}
    wrong = next(c for c in ("000000", "111111", "222222") if c not in valid)
    page.get_by_label("Code").fill(wrong)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert").first).to_contain_text("That code did not work")

    # And the app's next code (the one used to set it up is spent) signs them in
    page.get_by_label("Code").fill(pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".account-name")).to_have_text("Farah")
    shots.take(page, "signed-in")
