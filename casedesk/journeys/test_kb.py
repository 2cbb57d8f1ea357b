"""Knowledge base journeys, in Chromium, against `casedesk serve` with the demo helpdesk
(whose `casedesk demo` publishes the process articles in English and Arabic).

A visitor reads an article in Arabic, reached from the English page's language link (the
`?lang=ar` address it leads to; no browser language or locale middleware needed), and the
article is laid out right to left. A visitor typing a subject on the submit form sees a
matching article suggested without a page reload, opens it (a new tab) and leaves the
form: the admin's desk page counts the suggestion opened and the deflection.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from casedesk.core.management.commands import demo
from casedesk.journeys.support import Pages, Person, Shots, Site

pytestmark = pytest.mark.browser

ADMIN = next(
    Person(p.email, p.password, p.full_name) for p in demo.PEOPLE if p.admin
)
ARABIC_SHOT = Path("/tmp/kb-ar.png")


def sign_in(page: Page, person: Person) -> None:
    page.goto("/accounts/signin/")
    page.get_by_label("Email address").fill(person.email)
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".account-name")).to_have_text(person.full_name.split()[0])


def test_a_visitor_reads_an_article_in_arabic_laid_out_right_to_left(
    page: Page, shots: Shots
) -> None:
    # Given the English article on the support process
    page.goto("/kb/")
    page.get_by_role("link", name="Our support and escalation process").click()
    article = page.locator("#kb-article")
    expect(article).to_have_attribute("dir", "ltr")

    # When the visitor chooses its Arabic version
    # (Django's own name for Arabic, in Arabic: العربيّة, with a shadda.)
    page.get_by_role("link", name=re.compile("^العربي")).click()

    # Then the article is in Arabic, marked and laid out right to left
    expect(page).to_have_url(re.compile(r"/kb/articles/support-and-escalation-process/\?lang=ar$"))
    expect(article.get_by_role("heading", level=1)).to_have_text("آلية الدعم والتصعيد لدينا")
    expect(article).to_have_attribute("lang", "ar")
    expect(article).to_have_attribute("dir", "rtl")
    assert article.evaluate("node => getComputedStyle(node).direction") == "rtl"
    body = article.locator(".kb-body")
    assert body.evaluate("node => getComputedStyle(node).textAlign") in {"right", "start"}
    # The response-time table reads from the right: its first column is the rightmost.
    headers = article.locator("table th")
    expect(headers.first).to_have_text("الأولوية")
    first, last = headers.first.bounding_box(), headers.last.bounding_box()
    assert first and last and first["x"] > last["x"]
    # Its numbered steps are indented from the right, where their numbers stand.
    item = article.locator("ol li").first.bounding_box()
    box = article.bounding_box()
    assert item and box
    assert (box["x"] + box["width"]) - (item["x"] + item["width"]) > item["x"] - box["x"]
    # The page's own words are Arabic, digits Latin.
    expect(page.get_by_role("heading", name="هل كانت هذه المقالة مفيدة؟")).to_be_visible()
    expect(article).to_contain_text("خلال 72 ساعة")

    # And "Was this helpful?" works in Arabic without JavaScript's help
    page.get_by_role("button", name="نعم").click()
    expect(page.get_by_text("شكرًا لك على ملاحظاتك.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"\?lang=ar#helpful$"))

    page.goto("/kb/articles/support-and-escalation-process/?lang=ar")
    shot = shots.take(page, "article-in-arabic")
    shutil.copyfile(shot, ARABIC_SHOT)


def deflection_counts(page: Page) -> tuple[int, int, int, int]:
    """(total opened, total deflected, the article's opened, its deflected) on the admin's
    desk page for "Escalate a Ticket"."""
    page.goto("/desk/kb/")
    row = page.locator("tr", has=page.get_by_role("link", name="Escalate a Ticket", exact=True))
    return (
        int(page.locator("#kb-total-opened").inner_text()),
        int(page.locator("#kb-total-deflected").inner_text()),
        int(row.locator(".kb-opened").inner_text()),
        int(row.locator(".kb-deflected").inner_text()),
    )


def test_a_visitor_opens_a_suggestion_while_typing_a_subject_and_leaves_counted_as_deflected(
    pages: Pages, shots: Shots
) -> None:
    admin = pages.open()
    sign_in(admin, ADMIN)
    before = deflection_counts(admin)

    # Given a visitor on the submit form
    visitor = pages.open()
    visitor.goto("/submit/")
    visitor.evaluate("window.stillTheSamePage = true")
    suggestions = visitor.locator("#kb-suggestions")
    expect(suggestions).to_be_hidden()

    # When they type a subject
    visitor.get_by_label("Subject").press_sequentially("How can I escalate my case", delay=20)

    # Then a matching article is suggested under the subject, without a page reload
    suggestion = suggestions.get_by_role("link", name="Escalate a Ticket")
    expect(suggestion).to_be_visible()
    assert visitor.evaluate("window.stillTheSamePage") is True
    field = visitor.locator("#field-subject").bounding_box()
    box = suggestions.bounding_box()
    assert field and box and box["y"] >= field["y"] + field["height"] - 1
    shots.take(visitor, "suggestion")

    # When they open it: it opens in a new tab, the form stays as it was
    with visitor.expect_popup() as popup:
        suggestion.click()
    article = popup.value
    expect(article.get_by_role("heading", level=1)).to_have_text("Escalate a Ticket")
    shots.take(article, "suggested-article")
    expect(visitor.get_by_label("Subject")).to_have_value("How can I escalate my case")

    # And leave the form without submitting it
    visitor.goto("/")
    article.close()

    # Then the admin sees the suggestion opened and the deflection counted
    expected = (before[0] + 1, before[1] + 1, before[2] + 1, before[3] + 1)
    deadline = time.monotonic() + 10
    while (found := deflection_counts(admin)) != expected and time.monotonic() < deadline:
        time.sleep(0.3)
    assert found == expected
    shots.take(admin, "desk-kb-counts")


def test_an_agent_inserts_an_article_link_into_a_reply(page: Page, shots: Shots,
                                                       site: Site) -> None:
    # Given an agent writing a reply on a case
    sign_in(page, site.agent)
    page.goto("/desk/?view=all")
    page.locator("a[href^='/desk/cases/']").first.click()
    reply = page.locator("#reply-form textarea[name=body]")
    reply.fill("Hello, this explains it:")

    # When they look for an article and insert it
    page.get_by_label("Insert a help article link").press_sequentially("escalate", delay=20)
    page.locator("#kb-insert-results li", has_text="Escalate a Ticket").get_by_role(
        "button", name="Insert link").click()

    # Then the reply holds the article's full address, after what they wrote
    expect(reply).to_have_value(
        f"Hello, this explains it:\nEscalate a Ticket: {site.url}/kb/articles/escalate-a-ticket/\n"
    )
    shots.take(page, "reply-with-article-link")
