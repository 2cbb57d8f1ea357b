"""Every kind of page works under the Content-Security-Policy, in Chromium, against
`casedesk serve` with the demo helpdesk: the portal, the desk (queue and a case), a
knowledge-base article with a table, the reports (with their charts), the audit history,
the Django admin and both API docs pages (Swagger UI, Redoc). A page that the policy
blocks anything on (an inline script, a style attribute, a data: image...) fails, as does
a console error; the API docs must also have drawn their operations.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from casedesk.core.management.commands import demo
from casedesk.journeys.support import Pages, Person, Shots

pytestmark = pytest.mark.browser

ADMIN = next(Person(p.email, p.password, p.full_name) for p in demo.PEOPLE if p.admin)
CONTACT = next(Person(p.email, p.password, p.full_name) for p in demo.PEOPLE
               if p.role == "contact")

VIOLATIONS_SCRIPT = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"}` +
    ` (${event.sourceFile || ""}:${event.lineNumber})`);
});
"""


def watched(pages: Pages) -> tuple[Page, list[str]]:
    """A page whose console errors and CSP violations are collected."""
    page = pages.open()
    # The reports draw their charts on the server and Redoc's script is large: on a busy
    # machine these pages take longer than the journeys' usual 10 s.
    page.set_default_timeout(30_000)
    page.set_default_navigation_timeout(90_000)
    seen: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        where = str(message.location.get("url", ""))
        # The admin's pages name no icon, so Chromium asks for /favicon.ico, which is none
        # of ours: not a policy matter.
        if where.endswith("/favicon.ico"):
            return
        if message.type == "error" or "Content Security Policy" in message.text:
            seen.append(f"console: {message.text} ({where})")

    page.on("console", on_console)
    page.add_init_script(VIOLATIONS_SCRIPT)
    return page, seen


def visit(page: Page, seen: list[str], shots: Shots, path: str, name: str, *,
          full_page: bool = True) -> None:
    response = page.goto(path)
    assert response is not None and response.ok, f"{path} answered {response and response.status}"
    policy = response.headers.get("content-security-policy") or ""
    directives = dict((part.strip().split(" ", 1) + [""])[:2] for part in policy.split(";"))
    for directive in ("script-src", "style-src"):
        assert "unsafe-inline" not in directives[directive], policy
    page.wait_for_load_state("networkidle")
    if full_page:
        shots.take(page, name)
    else:  # Redoc's page is thousands of pixels tall: its first screen says enough
        page.screenshot(path=str(shots.folder / f"{name}.png"))
    violations = page.evaluate("window.__cspViolations")
    seen.extend(f"{path}: {v}" for v in violations)


def sign_in(page: Page, person: Person) -> None:
    page.goto("/accounts/signin/")
    page.get_by_label("Email address").fill(person.email)
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".account-name")).to_have_text(person.full_name.split()[0])


def test_the_portal_and_the_knowledge_base_break_no_policy(pages: Pages, shots: Shots) -> None:
    page, seen = watched(pages)
    visit(page, seen, shots, "/", "01-home")
    visit(page, seen, shots, "/kb/articles/support-and-escalation-process/", "02-article")
    # The article's response-time table is drawn, and nothing in the body has a style.
    expect(page.locator(".kb-body table").first).to_be_visible()
    assert page.locator(".kb-body [style]").count() == 0
    sign_in(page, CONTACT)
    visit(page, seen, shots, "/cases/", "03-cases")
    visit(page, seen, shots, "/submit/", "04-submit")
    page.locator("#id_subject").fill("escalation")
    page.wait_for_timeout(800)
    assert seen == []


def test_the_desk_reports_audit_and_admin_break_no_policy(pages: Pages, shots: Shots) -> None:
    page, seen = watched(pages)
    sign_in(page, ADMIN)
    visit(page, seen, shots, "/desk/", "01-queue")
    page.locator("a[href^='/desk/cases/']").first.click()
    page.wait_for_load_state("networkidle")
    shots.take(page, "02-case")
    seen.extend(page.evaluate("window.__cspViolations"))
    visit(page, seen, shots, "/desk/reports/", "03-reports")
    visit(page, seen, shots, "/desk/audit/", "04-audit")
    visit(page, seen, shots, "/admin/", "05-admin")
    visit(page, seen, shots, "/admin/accounts/user/", "06-admin-users")
    assert seen == []


def test_the_api_docs_work_under_the_policy(pages: Pages, shots: Shots) -> None:
    page, seen = watched(pages)
    visit(page, seen, shots, "/api/v1/docs/", "01-swagger")
    expect(page.locator(".opblock").first).to_be_visible()
    assert seen == []

    redoc, redoc_seen = watched(pages)
    visit(redoc, redoc_seen, shots, "/api/v1/redoc/", "02-redoc", full_page=False)
    # Redoc fetches and lays out the whole schema first: slow on a busy machine.
    expect(redoc.get_by_text("casedesk API").first).to_be_visible(timeout=120_000)
    expect(redoc.locator("[data-section-id^='operation']").first).to_be_attached()
    redoc_seen.extend(redoc.evaluate("window.__cspViolations"))
    # Known and accepted, both blocked as they should be while the page still draws
    # (checked above): the bundle's style-loader adds a few <style> elements when it
    # loads, before Redoc.init can hand it the nonce; and Redoc's footer asks its CDN for
    # the Redocly logo (no CDN at run time). Anything else (a script, a file) fails.
    def accepted(violation: str) -> bool:
        return ("redoc.standalone.js" in violation and "style" in violation.lower()) or \
            "https://cdn.redoc.ly/" in violation

    assert [v for v in redoc_seen if not accepted(v)] == []
