"""Two agents on one case, in Chromium, against `casedesk serve` with the demo helpdesk:
the second sees the first viewing, then typing, without reloading. `serve` runs several
gunicorn workers, so this also proves presence is shared between them (it is stored in
the database, not in a per-process cache)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from casedesk.core.management.commands import demo
from casedesk.journeys.support import Pages, Person, Shots, Site
from casedesk.journeys.test_escalation import demo_case_id, sign_in

pytestmark = pytest.mark.browser

SAMI = Person("sami@casedesk.example", demo.DEMO_AGENT_PASSWORD, "Sami Youssef")
HANA = Person("hana@casedesk.example", demo.DEMO_AGENT_PASSWORD, "Hana Idris")
# A pings every 10 s; B learns of it at its own next ping, at most 10 s later.
SEEN_WITHIN_MS = 25_000


def open_case(page: Page, person: Person, case_id: int) -> None:
    sign_in(page, person)
    page.goto(f"/desk/cases/{case_id}/")
    expect(page.locator("h1")).to_have_text(re.compile("Monthly usage report"))


def test_the_second_agent_sees_the_first_viewing_then_typing(
    pages: Pages, shots: Shots, site: Site
) -> None:
    case_id = demo_case_id(site, "noor@gulfnet.example", "Monthly usage report export is empty")
    hana, sami = pages.open(), pages.open()

    # Given Hana on the case, then Sami opening it too
    open_case(hana, HANA, case_id)
    open_case(sami, SAMI, case_id)

    # Then each sees the other viewing
    expect(sami.locator("#presence")).to_contain_text("Hana Idris is viewing")
    expect(hana.locator("#presence")).to_contain_text(
        "Sami Youssef is viewing", timeout=SEEN_WITHIN_MS
    )
    shots.take(hana, "hana-sees-sami-viewing")

    # When Sami starts typing a reply
    sami.get_by_label("Message").press_sequentially("Which time zone", delay=50)

    # Then Hana sees him typing, without reloading her page
    expect(hana.locator("#presence .presence-typing")).to_have_text(
        "Sami Youssef is typing", timeout=SEEN_WITHIN_MS
    )
    shots.take(hana, "hana-sees-sami-typing")

    # And when Sami leaves the case, he disappears from Hana's page
    sami.goto("/desk/")
    expect(hana.locator("#presence")).not_to_contain_text("Sami", timeout=SEEN_WITHIN_MS)
