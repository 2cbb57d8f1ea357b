"""An agent works the desk in Arabic, in Chromium, against `casedesk serve` with the demo
helpdesk: the browser asks for Arabic (Accept-Language), and the queue and a case read
right to left, with the layout mirrored: the views list on the right of the queue, the
side panels on the left of the conversation, each message's coloured edge on its right.
Screenshots of the case page and the queue are saved to /tmp/desk-ar.png and
/tmp/desk-ar-queue.png for people to look at."""

from __future__ import annotations

import re
import shutil

import pytest
from playwright.sync_api import Browser, Page, expect

from casedesk.core.management.commands import demo
from casedesk.journeys.support import DESKTOP, Pages, Person, Shots, Site
from casedesk.journeys.test_escalation import demo_case_id

pytestmark = pytest.mark.browser

SAMI = Person("sami@casedesk.example", demo.DEMO_AGENT_PASSWORD, "Sami Youssef")
SCREENSHOT = "/tmp/desk-ar.png"
QUEUE_SCREENSHOT = "/tmp/desk-ar-queue.png"


def arabic_page(chromium: Browser, pages: Pages, site: Site) -> Page:
    """A page whose browser prefers Arabic, watched for errors like every journey's."""
    context = chromium.new_context(base_url=site.url, viewport=DESKTOP, locale="ar")  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    pages.contexts.append(context)
    page = context.new_page()
    page.on("pageerror", lambda exc: pages.problems.append(f"script error: {exc}"))
    page.on("response", pages._check_response)
    return page


def sign_in(page: Page, person: Person) -> None:
    # By the fields themselves, not their labels: the sign-in page may be in Arabic too.
    page.goto("/accounts/signin/")
    page.locator("input[name=email]").fill(person.email)
    page.locator("input[name=password]").fill(person.password)
    page.locator("form[action='/accounts/signin/'] button[type=submit]").click()
    expect(page.locator(".account-name")).to_have_text(person.full_name.split()[0])


def box(page: Page, selector: str) -> dict[str, float]:
    found = page.locator(selector).first.evaluate(
        "e => { const r = e.getBoundingClientRect();"
        " return {left: r.left, right: r.right, width: r.width}; }"
    )
    return dict(found)


def test_an_agent_reads_the_queue_and_a_case_in_arabic_right_to_left(
    chromium: Browser, pages: Pages, shots: Shots, site: Site
) -> None:
    case_id = demo_case_id(site, "noor@gulfnet.example", "DNS filtering stopped on resolver 2")
    page = arabic_page(chromium, pages, site)
    sign_in(page, SAMI)

    # The queue: Arabic, right to left
    page.goto("/desk/")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    expect(page.locator("h1")).to_have_text("كل المفتوحة")
    expect(page.locator("table.queue th").nth(1)).to_have_text("رقم الطلب")
    # The views list sits on the right of the cases, and the table starts on the right
    views, main = box(page, "nav.views"), box(page, ".queue-main")
    assert views["left"] >= main["right"], (views, main)
    id_head = box(page, "table.queue th.num")
    subject_head = box(page, "table.queue th:nth-child(3)")
    assert id_head["left"] > subject_head["left"]
    # The Case ID is still in Latin digits
    expect(page.locator(f"table.queue a[href='/desk/cases/{case_id}/']").first).to_have_text(
        str(case_id)
    )
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # Every column shows, the last (the next SLA target) included, at its left end
    wrap, last = box(page, ".table-wrap"), box(page, "table.queue th:last-child")
    assert last["left"] >= wrap["left"], (last, wrap)
    shutil.copyfile(shots.take(page, "queue-ar"), QUEUE_SCREENSHOT)

    # A case: Arabic, right to left, the panels on the left of the conversation
    page.goto(f"/desk/cases/{case_id}/")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("#reply-title")).to_have_text("الرد أو إضافة ملاحظة")
    expect(page.locator(".internal-label").first).to_have_text(
        "ملاحظة داخلية — لا يراها العميل"
    )
    thread, aside = box(page, "ol.thread"), box(page, "aside")
    assert aside["right"] <= thread["left"], (aside, thread)
    # Each message's coloured edge is on its right (the start of a line in Arabic), and an
    # internal note's edge is another colour than a public reply's.
    edges = page.locator("ol.thread > li.msg").evaluate_all(
        "items => items.map(e => { const s = getComputedStyle(e);"
        " return {kind: e.className, right: s.borderRightWidth, left: s.borderLeftWidth,"
        " colour: s.borderRightColor}; })"
    )
    assert edges and all(e["right"] == "4px" and e["left"] == "1px" for e in edges), edges
    note = next(e for e in edges if "internal" in e["kind"])
    reply = next(e for e in edges if "from-agent" in e["kind"])
    assert note["colour"] != reply["colour"]
    # A message written in English reads left to right inside the Arabic page
    expect(page.locator(".msg-body").first).to_have_attribute("dir", "auto")
    assert page.locator(".msg-body").first.evaluate("e => getComputedStyle(e).direction") == "ltr"
    # Nothing sticks out sideways: the page is as wide as the window
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # The requester's email reads left to right inside the Arabic panel
    expect(page.locator("a[href^='mailto:']").first).to_have_attribute("dir", "ltr")
    # The script's words come from the page, translated
    expect(page.locator("#presence")).to_have_attribute("data-viewing", "{name} يطّلع على الطلب")
    expect(page.locator("h1")).to_have_text(re.compile("DNS filtering stopped"))
    path = shots.take(page, "case-ar")
    shutil.copyfile(path, SCREENSHOT)
