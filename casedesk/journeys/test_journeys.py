"""The issue's journeys, in Chromium, against `casedesk serve`.

One story told in order, as it happens at a helpdesk: a new customer opens a case, an
agent answers it, the customer reads the answer. A later journey needs what an earlier one
made; when that is missing it is skipped, and the earlier journey's failure says why. So run
them in one process, in file order (no -n).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from casedesk.journeys.support import Person, Shots, Site, body_text

pytestmark = pytest.mark.browser

CUSTOMER_NAME = "Layla Mansour"
CUSTOMER_PASSWORD = "Saffron-kite-harbour-7"
SUBJECT = "Blocked categories open on resolver 2"
DESCRIPTION = (
    "Since 09:00 GST subscribers routed to resolver 2 reach sites in blocked categories.\n"
    "Resolver 1 filters as expected. We restarted resolver 2 once; no change."
)
CUSTOMER_REPLY = "Still happening at 11:30; the screenshot shows a blocked site opening."
AGENT_REPLY = "We found it: resolver 2 lost its policy feed. Restoring it now."
INTERNAL_NOTE = "Policy feed on resolver 2 died after the 09:00 deploy; check the cron job."


@dataclass
class Story:
    """What each journey leaves for the next."""

    customer: Person | None = None
    case_id: int | None = None
    agent_replied: bool = False

    def need(self, done: bool, what: str) -> None:
        if not done:
            pytest.skip(f"needs the earlier journey, which did not get as far as {what}")


@pytest.fixture(scope="module")
def story() -> Story:
    return Story()


def is_orange(css_color: str) -> bool:
    match = re.match(r"rgba?\((\d+), (\d+), (\d+)", css_color)
    assert match, css_color
    red, green, blue = (int(n) for n in match.groups())
    return red > 190 and 80 < green < 180 and blue < 90


def expect_signed_in(page: Page, full_name: str) -> None:
    expect(page.locator(".account-name")).to_have_text(full_name.split()[0])
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def sign_in(page: Page, person: Person) -> None:
    page.get_by_label("Email address").fill(person.email)
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Sign in").click()


def test_new_customer_submits_a_case_then_follows_it(
    page: Page, shots: Shots, site: Site, story: Story, tmp_path: Path
) -> None:
    customer = Person(f"layla.mansour@{site.org_domain}", CUSTOMER_PASSWORD, CUSTOMER_NAME)

    # Given a visitor on the portal's home page
    page.goto("/")
    shots.take(page, "home")
    expect(page.locator(".topbar").get_by_role("link", name="Sign in")).to_be_visible()

    # When they click "Submit a ticket"
    page.locator("main").get_by_role("link", name="Submit a ticket").first.click()
    expect(page).to_have_url(re.compile(r"/submit/$"))
    shots.take(page, "submit")

    # Then every mandatory field carries an orange *, and the optional ones none
    for name in ("full_name", "email", "subject", "category", "priority", "description"):
        star = page.locator(f"#field-{name} .req")
        expect(star).to_have_text("*")
        assert is_orange(star.evaluate("e => getComputedStyle(e).color")), name
    for name in ("organization_name", "phone", "attachments"):
        expect(page.locator(f"#field-{name} .req")).to_have_count(0)

    # When they submit with a subject of spaces only (the browser lets it through)
    page.get_by_label("Your name").fill(customer.full_name)
    page.get_by_label("Email address").fill(customer.email)
    page.get_by_label("Phone").fill("+971 50 555 0199")
    page.get_by_label("Subject").fill("   ")
    page.get_by_label("Category").select_option(label="Filtering and blocking")
    page.get_by_label("High (Critical)").check()
    page.get_by_label("Description").fill(DESCRIPTION)
    page.get_by_role("button", name="Submit ticket").click()

    # Then the error sits next to the subject and everything typed is still there
    expect(page.locator("#field-subject .error")).to_contain_text("required")
    expect(page.locator(".form-errors")).to_be_visible()
    expect(page.get_by_label("Your name")).to_have_value(customer.full_name)
    expect(page.get_by_label("Email address")).to_have_value(customer.email)
    expect(page.get_by_label("Phone")).to_have_value("+971 50 555 0199")
    expect(page.get_by_label("Category")).to_have_value(re.compile(r"\d+"))
    expect(page.get_by_label("High (Critical)")).to_be_checked()
    expect(page.get_by_label("Description")).to_have_value(DESCRIPTION)
    shots.take(page, "submit-error")

    # When they give a subject, attach a real screenshot and submit again
    screenshot = tmp_path / "resolver2-block-page.png"
    page.screenshot(path=str(screenshot))
    assert screenshot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    page.get_by_label("Subject").fill(SUBJECT)
    page.get_by_label("Attachments").set_input_files(str(screenshot))
    page.get_by_role("button", name="Submit ticket").click()

    # Then the confirmation shows the numeric Case ID and the Premium response time
    expect(page).to_have_url(re.compile(r"/submitted/[^/]+/$"))
    case_text = page.locator(".big-id").inner_text().strip()
    assert re.fullmatch(r"\d+", case_text), case_text
    case_id = int(case_text)
    expect(page.locator("main")).to_contain_text("1 hour")
    shots.take(page, "submitted")

    # And the acknowledgement carries the Case ID, priority and first-response target
    ack = site.outbox.wait_for(to=customer.email, subject=f"[Case #{case_id}]")
    assert ack["Subject"] == f"[Case #{case_id}] {SUBJECT}"
    ack_text = body_text(ack)
    assert re.search(rf"Case ID:\s+{case_id}\b", ack_text), ack_text
    assert "High (Critical)" in ack_text
    assert "1 hour" in ack_text

    # And an invitation whose link starts with the site's address
    invitation = site.outbox.wait_for(to=customer.email, body="/accounts/invitation/")
    link = re.search(rf"{re.escape(site.url)}/accounts/invitation/\S+/", body_text(invitation))
    assert link, body_text(invitation)

    # When they follow it and set a password
    page.goto(link.group(0))
    shots.take(page, "invitation")
    page.get_by_label("New password").fill(customer.password)
    page.get_by_label("Type it again").fill(customer.password)
    page.get_by_role("button", name="Set password and sign in").click()

    # Then they are signed in, on their cases
    expect_signed_in(page, customer.full_name)
    expect(page).to_have_url(re.compile(r"/cases/"))
    story.customer = customer
    shots.take(page, "cases")

    # And the case is among their organization's cases, next to colleagues' cases
    page.get_by_role("navigation", name="Which cases").get_by_role(
        "link", name="My organization's cases"
    ).click()
    expect(page).to_have_url(re.compile(r"scope=org"))
    expect(page.locator("h1")).to_contain_text(site.org_name)
    row = page.locator("table.cases tr", has=page.get_by_role("link", name=str(case_id)))
    expect(row).to_contain_text(SUBJECT)
    expect(row).to_contain_text(customer.full_name)
    assert page.locator("table.cases tbody tr").count() > 1, "colleagues' cases are missing"
    shots.take(page, "org-cases")

    # When they open it
    row.get_by_role("link", name=SUBJECT).click()
    expect(page).to_have_url(re.compile(rf"/cases/{case_id}/$"))
    expect(page.locator("h1")).to_have_text(SUBJECT)
    expect(page.locator(".case-id")).to_contain_text(str(case_id))

    # Then the screenshot is on it, and it is the very file they sent
    attachment = page.locator(".files a", has_text=screenshot.name)
    expect(attachment).to_be_visible()
    expect(attachment.locator("img")).to_have_js_property("complete", True)
    assert attachment.locator("img").evaluate("img => img.naturalWidth") > 1
    href = attachment.get_attribute("href")
    assert href
    download = page.request.get(href)
    assert download.ok and download.body() == screenshot.read_bytes()
    shots.take(page, "case")

    # When they reply
    page.get_by_label("Your reply").fill(CUSTOMER_REPLY)
    page.get_by_role("button", name="Send reply").click()

    # Then the reply is in the thread
    expect(page.locator(".thread .msg.from-customer").last).to_contain_text(CUSTOMER_REPLY)
    story.case_id = case_id
    shots.take(page, "case-replied")

    # When they sign out, they are back on the home page, signed out
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator(".flash")).to_contain_text("signed out")
    expect(page.locator(".topbar").get_by_role("link", name="Sign in")).to_be_visible()
    shots.take(page, "signed-out")


def test_agent_answers_the_case_from_the_desk(
    page: Page, shots: Shots, site: Site, story: Story
) -> None:
    story.need(story.case_id is not None and story.customer is not None, "a case")
    assert story.case_id is not None and story.customer is not None
    case_id, customer = story.case_id, story.customer

    # Given an agent on the sign-in page
    page.goto("/accounts/signin/")
    shots.take(page, "signin")

    # When they sign in, they land on the desk, the new case in its queue
    sign_in(page, site.agent)
    expect(page).to_have_url(re.compile(r"/desk/$"))
    expect_signed_in(page, site.agent.full_name)
    case_link = page.get_by_role("link", name=SUBJECT)
    expect(case_link).to_be_visible()
    shots.take(page, "desk-queue")

    # When they open it, they see the whole thread with the customer's reply
    case_link.click()
    expect(page).to_have_url(re.compile(rf"/desk/cases/{case_id}/$"))
    expect(page.locator("h1")).to_contain_text(SUBJECT)
    expect(page.locator(".thread")).to_contain_text(CUSTOMER_REPLY)
    shots.take(page, "desk-case")

    # When they add an internal note
    page.get_by_label("Internal note").check()
    page.get_by_label("Message").fill(INTERNAL_NOTE)
    page.get_by_role("button", name="Send", exact=True).click()

    # Then it is in the thread, marked as internal
    expect(page.locator(".flash")).to_contain_text("Internal note added")
    expect(page.locator(".thread .msg.internal")).to_contain_text(INTERNAL_NOTE)
    shots.take(page, "desk-case-noted")

    # When they reply publicly
    page.get_by_label("Public reply").check()
    page.get_by_label("Message").fill(AGENT_REPLY)
    page.get_by_role("button", name="Send", exact=True).click()

    # Then the desk says who it went to, and the case is open
    expect(page.locator(".flash")).to_contain_text(f"Reply sent to {customer.email}")
    expect(page.locator(".thread .msg.from-agent").last).to_contain_text(AGENT_REPLY)
    expect(page.locator(".case-head .badge.status-open")).to_be_visible()
    shots.take(page, "desk-case-answered")

    # Then the requester gets the public reply by mail, and never the note
    mail = site.outbox.wait_for(
        to=customer.email, subject=f"[Case #{case_id}]", body=AGENT_REPLY
    )
    assert mail["Subject"] == f"[Case #{case_id}] {SUBJECT}"
    assert all(INTERNAL_NOTE not in body_text(m) for m in site.outbox.messages())
    story.agent_replied = True


def test_customer_reads_the_answer_but_not_the_note(
    page: Page, shots: Shots, site: Site, story: Story
) -> None:
    story.need(story.agent_replied, "the agent's reply")
    assert story.case_id is not None and story.customer is not None
    case_id, customer = story.case_id, story.customer

    # Given the customer signing in again from the home page
    page.goto("/")
    shots.take(page, "home")
    page.locator(".topbar").get_by_role("link", name="Sign in").click()
    shots.take(page, "signin")
    sign_in(page, customer)
    expect_signed_in(page, customer.full_name)
    shots.take(page, "cases")

    # When they open their case
    page.get_by_role("link", name=SUBJECT).click()
    expect(page).to_have_url(re.compile(rf"/cases/{case_id}/$"))

    # Then the agent's public reply is there, and the internal note is not
    expect(page.locator(".thread .msg.from-agent")).to_contain_text(AGENT_REPLY)
    expect(page.locator(".thread .msg.from-agent")).to_contain_text(site.agent.full_name.split()[0])
    assert INTERNAL_NOTE not in page.content()
    shots.take(page, "case-answered")
