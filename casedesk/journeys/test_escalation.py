"""Escalation journeys, in Chromium, against `casedesk serve` with the demo helpdesk.

A signed-in customer escalates a colleague's case from the home page's widget; a visitor
who is not signed in escalates through the link emailed to the requester; an agent logs a
customer's phone call on the desk. Each uses its own demo case, so they run in any order.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from casedesk.core.management.commands import demo
from casedesk.journeys.support import Person, Shots, Site, body_text

pytestmark = pytest.mark.browser

NOOR = Person("noor@gulfnet.example", demo.DEMO_CONTACT_PASSWORD, "Noor Haddad")
# Level 2's contact in the demo's matrix (no team is on shift there: the alert says so).
LEVEL_2_EMAIL = demo.LEVEL_CONTACTS[2][1]


def sign_in(page: Page, person: Person) -> None:
    page.goto("/accounts/signin/")
    page.get_by_label("Email address").fill(person.email)
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".account-name")).to_have_text(person.full_name.split()[0])


def demo_case_id(site: Site, requester: str, subject: str) -> int:
    """A demo case's ID, from the acknowledgement the demo mailed its requester."""
    ack = site.outbox.wait_for(to=requester, subject=subject)
    found = re.search(r"\[Case #(\d+)\]", str(ack["Subject"]))
    assert found, ack["Subject"]
    return int(found.group(1))


def test_a_signed_in_customer_escalates_a_colleagues_case_from_the_home_page(
    page: Page, shots: Shots, site: Site
) -> None:
    case_id = demo_case_id(site, "omar@gulfnet.example", "Safe search not enforced")
    widget = page.locator("#escalate")

    # Given Noor, signed in, on the home page: the widget asks for no email
    sign_in(page, NOOR)
    page.goto("/")
    expect(widget.get_by_role("heading", name="Escalate a Ticket")).to_be_visible()
    expect(widget.get_by_label("Requester's email")).to_have_count(0)
    shots.take(page, "home-signed-in")

    # When she types letters for the Case ID
    widget.get_by_label("Case ID").fill("GN-2231")
    widget.get_by_label("Why escalate?").fill("Every video app still ignores safe search.")
    widget.get_by_role("button", name="Escalate").click()

    # Then the escalate page says what a Case ID is, next to the field, her reason kept
    expect(page).to_have_url(re.compile(r"/escalate/$"))
    expect(page.locator("#field-case_id .error")).to_have_text(
        "A Case ID is a number, like 100123."
    )
    expect(page.get_by_label("Why escalate?")).to_have_value(
        "Every video app still ignores safe search."
    )
    shots.take(page, "widget-error")

    # When she gives her colleague Omar's case number
    page.get_by_label("Case ID").fill(str(case_id))
    page.get_by_role("button", name="Escalate").click()

    # Then she is on the case, escalated at once to level 2, and the page shows why
    expect(page).to_have_url(re.compile(rf"/cases/{case_id}/$"))
    expect(page.locator(".flash")).to_contain_text(
        f"Case {case_id} is escalated to level 2 (Senior Support Engineer)"
    )
    expect(page.locator("dl.meta")).to_contain_text("Level 2: Senior Support Engineer")
    history = page.locator("#escalations")
    expect(history).to_contain_text("Escalated to level 2 (Senior Support Engineer)")
    expect(history).to_contain_text("Every video app still ignores safe search.")
    shots.take(page, "case-escalated")

    # And the requester and level 2's contact are told
    told = site.outbox.wait_for(to="omar@gulfnet.example", body="has been escalated")
    assert f"Your case {case_id} has been escalated to Senior Support Engineer" in body_text(told)
    alert = site.outbox.wait_for(to=LEVEL_2_EMAIL, subject=f"[Case #{case_id}] Escalated")
    # The demo staffs level 2 around the clock (Sami by day, Hana by night, Dubai time):
    # whoever is on shift now has the case.
    assert "NOBODY ON SHIFT" not in str(alert["Subject"])
    assert re.search(r"Assigned to: +(Sami Youssef|Hana Idris) <", body_text(alert))
    assert f"{site.url}/desk/cases/{case_id}/" in body_text(alert)

    # When she tries again at once
    page.goto("/")
    widget.get_by_label("Case ID").fill(str(case_id))
    widget.get_by_label("Why escalate?").fill("Please, it is urgent.")
    widget.get_by_role("button", name="Escalate").click()

    # Then the case page says it is already escalated, and when
    expect(page.locator(".flash")).to_contain_text(
        re.compile(rf"Case {case_id} was already escalated at \d\d:\d\d UTC to level 2")
    )
    shots.take(page, "already-escalated")


def test_a_visitor_escalates_through_the_link_emailed_to_the_requester(
    page: Page, shots: Shots, site: Site
) -> None:
    subject = "Monthly usage report export is empty"
    case_id = demo_case_id(site, NOOR.email, subject)
    widget = page.locator("#escalate")

    # Given a visitor who is not signed in, on the home page
    page.goto("/")
    shots.take(page, "home")

    # When they give the Case ID with an address that is not the requester's
    widget.get_by_label("Case ID").fill(str(case_id))
    widget.get_by_label("Requester's email").fill("someone@elsewhere.example")
    widget.get_by_label("Why escalate?").fill("The export is still empty.")
    widget.get_by_role("button", name="Escalate").click()

    # Then the answer gives nothing away
    expect(page).to_have_url(re.compile(r"/escalate/sent/$"))
    expect(page.locator("main")).to_contain_text(
        "If this is your case, we have emailed you a link to confirm the escalation"
    )
    neutral = page.locator("main").inner_text()
    shots.take(page, "sent-mismatch")

    # When they ask again with the requester's address
    page.goto("/")
    widget.get_by_label("Case ID").fill(str(case_id))
    widget.get_by_label("Requester's email").fill(NOOR.email)
    widget.get_by_label("Why escalate?").fill("The October export is still empty.")
    widget.get_by_role("button", name="Escalate").click()

    # Then the answer is word for word the same
    expect(page).to_have_url(re.compile(r"/escalate/sent/$"))
    assert page.locator("main").inner_text() == neutral
    shots.take(page, "sent")

    # And the requester, only, gets a link
    mail = site.outbox.wait_for(to=NOOR.email, body="/escalate/confirm/")
    assert str(mail["Subject"]) == f"[Case #{case_id}] {subject}: confirm the escalation"
    link = re.search(rf"{re.escape(site.url)}/escalate/confirm/\S+/", body_text(mail))
    assert link, body_text(mail)
    assert not any("someone@elsewhere" in str(m["To"]) for m in site.outbox.messages())

    # When they follow it: what will happen, and a button
    page.goto(link.group(0))
    expect(page.locator("h1")).to_contain_text(subject)
    expect(page.locator("main")).to_contain_text("The October export is still empty.")
    shots.take(page, "confirm")
    page.get_by_role("button", name="Confirm escalation").click()

    # Then the case is escalated
    expect(page.locator("h1")).to_have_text(f"Case {case_id} is escalated")
    expect(page.locator("main")).to_contain_text("level 2 (Senior Support Engineer)")
    shots.take(page, "confirmed")
    site.outbox.wait_for(to=NOOR.email, body=f"Your case {case_id} has been escalated")

    # And the link does not work twice
    page.goto(link.group(0))
    expect(page.locator("main")).to_contain_text("This link has already been used")
    expect(page.get_by_role("button", name="Confirm escalation")).to_have_count(0)
    shots.take(page, "link-used")


def test_an_agent_logs_a_phone_escalation_on_the_desk(
    page: Page, shots: Shots, site: Site
) -> None:
    subject = "RADIUS accounting packets rejected"
    case_id = demo_case_id(site, "karim@atlasbb.example", subject)
    panel = page.locator("#phone-escalation")

    # Given an agent on the case's desk page
    sign_in(page, site.agent)
    page.goto(f"/desk/cases/{case_id}/")
    expect(page.locator(".level-now")).to_contain_text("1 · Support Engineer")
    shots.take(page, "desk-case")

    # When they open "Log a phone escalation" and log the call with a number that is not one
    panel.get_by_text("Log a phone escalation").click()
    panel.get_by_label("Caller").fill("Karim Mansour")
    panel.get_by_label("Their number").fill("ask reception")
    panel.get_by_label("Reason").fill(
        "Subscribers unmapped since midnight; they need a senior engineer now."
    )
    panel.get_by_role("button", name="Log the call and escalate").click()

    # Then the error is next to the number, and nothing is escalated
    expect(panel.locator("#field-caller_phone .error")).to_contain_text("Enter a phone number")
    expect(panel.get_by_label("Caller")).to_have_value("Karim Mansour")
    expect(page.locator(".level-now")).to_contain_text("1 · Support Engineer")
    shots.take(page, "phone-error")

    # When they correct it
    panel.get_by_label("Their number").fill("+212 5 22 55 01 99")
    panel.get_by_role("button", name="Log the call and escalate").click()

    # Then the case is at level 2, and the history says who called, from where, and why
    expect(page.locator(".flash")).to_contain_text("Escalated to level 2 (Senior Support Engineer)")
    expect(page.locator(".level-now")).to_contain_text("2 · Senior Support Engineer")
    history = page.locator("#escalations")
    expect(history).to_contain_text("Phone call")
    expect(history).to_contain_text("Caller: Karim Mansour, +212 5 22 55 01 99")
    expect(history).to_contain_text(f"logged by {site.agent.full_name}")
    shots.take(page, "phone-escalated")

    # And the Escalated view lists it
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Escalated").click()
    expect(page.locator("h1")).to_have_text("Escalated")
    row = page.locator("table.queue tr", has=page.get_by_role("link", name=str(case_id)))
    expect(row).to_contain_text(subject)
    shots.take(page, "escalated-view")

    # And level 2's contact has the caller's details
    alert = site.outbox.wait_for(to=LEVEL_2_EMAIL, subject=f"[Case #{case_id}] Escalated")
    assert "Karim Mansour (+212 5 22 55 01 99) by phone" in body_text(alert)
