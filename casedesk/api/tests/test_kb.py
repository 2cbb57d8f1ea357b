"""GET /api/v1/kb/articles and /api/v1/kb/articles/{slug}: what a visitor (no token), a
contact and an agent read, search, filters, cursor pages, and refused input."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from casedesk.accounts.models import User
from casedesk.api.tests.conftest import Api, problem
from casedesk.kb.models import Article, Category, Section
from casedesk.kb.tests.conftest import publish

LIST = "/api/v1/kb/articles"


@pytest.fixture
def section(db: Any) -> Section:
    category = Category.objects.create(title="Getting help", titles={"ar": "المساعدة"})
    return Section.objects.create(category=category, title="Accounts", titles={"ar": "الحسابات"})


@pytest.fixture
def shelf(section: Section, agent: User) -> dict[str, Article]:
    """A public article in English and Arabic, an internal one and a draft."""
    return {
        "public": publish(
            section, "Reset your router password",
            "# Steps\n\nHold **reset** for ten seconds.<script>alert(1)</script>",
            by=agent, ar=("إعادة تعيين كلمة مرور الموجه", "اضغط على زر إعادة التعيين"),
            slug="reset-router",
        ),
        "internal": publish(section, "Router reset escalation runbook",
                            "Call the on-shift engineer before a router reset.", by=agent,
                            internal=True, slug="reset-runbook"),
        "draft": publish(section, "Router reset for fibre", "Not ready yet: reset.",
                         by=agent, status=Article.Status.DRAFT, slug="reset-fibre"),
    }


def slugs(response: Any) -> list[str]:
    assert response.status_code == 200, response.content[:500]
    return [a["slug"] for a in response.json()["results"]]


def test_visitors_and_contacts_read_published_public_articles_agents_all(
    shelf: dict[str, Article], contact_api: Api, agent_api: Api
) -> None:
    for api in (Api(None), contact_api):
        assert slugs(api.get(LIST)) == ["reset-router"]
        assert slugs(api.get(LIST, q="reset")) == ["reset-router"]
    # Agents read internal articles and drafts, as the desk lists them; status says which.
    listed = agent_api.get(LIST).json()["results"]
    assert {a["slug"]: (a["status"], a["internal"]) for a in listed} == {
        "reset-router": ("published", False), "reset-runbook": ("published", True),
        "reset-fibre": ("draft", False),
    }
    assert set(slugs(agent_api.get(LIST, q="reset"))) == {"reset-router", "reset-runbook",
                                                          "reset-fibre"}
    assert slugs(agent_api.get(LIST, status="draft")) == ["reset-fibre"]


def test_one_article_rendered_sanitized_with_its_source_and_languages(
    shelf: dict[str, Article], agent: User
) -> None:
    response = Api(None).get(f"{LIST}/reset-router")
    assert response.status_code == 200
    article = response.json()
    assert article["title"] == "Reset your router password"
    assert article["language"] == "en" and article["fallback"] is False
    assert "<h1>Steps</h1>" in article["html"] and "<strong>reset</strong>" in article["html"]
    assert "<script" not in article["html"] and "alert" not in article["html"]
    # The source is as written, script and all: it is Markdown for an editor, not HTML.
    assert article["markdown"].startswith("# Steps\n\nHold **reset**")
    assert article["languages"] == ["ar", "en"]
    assert [t["language"] for t in article["translations"]] == ["ar"]
    assert article["author"] == agent.get_full_name()
    assert article["updated_at"] and article["category"]["title"] == "Getting help"
    assert article["web_url"].endswith("/kb/articles/reset-router/")

    arabic = Api(None).get(article["translations"][0]["url"]).json()
    assert arabic["language"] == "ar" and arabic["title"] == "إعادة تعيين كلمة مرور الموجه"
    assert arabic["category"]["title"] == "المساعدة"
    assert [t["language"] for t in arabic["translations"]] == ["en"]


def test_an_article_not_written_in_the_language_asked_for_is_shown_in_english(
    section: Section,
) -> None:
    publish(section, "Change your plan", "Write to us.", slug="change-plan")
    found = Api(None).get(f"{LIST}/change-plan", language="ar").json()
    assert found["language"] == "en" and found["fallback"] is True
    # The list's language filter keeps only articles written in it.
    assert slugs(Api(None).get(LIST, language="ar")) == []
    assert slugs(Api(None).get(LIST, language="en")) == ["change-plan"]


def test_internal_drafts_and_unknown_slugs_are_the_same_404_to_non_agents(
    shelf: dict[str, Article], contact_api: Api, agent_api: Api
) -> None:
    for api in (Api(None), contact_api):
        missing = problem(api.get(f"{LIST}/no-such-article"), 404)
        for slug in ("reset-runbook", "reset-fibre"):
            hidden = problem(api.get(f"{LIST}/{slug}"), 404)
            assert hidden["detail"] == missing["detail"]
    assert agent_api.get(f"{LIST}/reset-runbook").json()["internal"] is True
    assert agent_api.get(f"{LIST}/reset-fibre").json()["status"] == "draft"
    # Not a slug at all: the API's own 404.
    problem(Api(None).get(f"{LIST}/not%20a%20slug"), 404)


@pytest.mark.parametrize(("params", "field"), [
    ({"language": "fr"}, "language"),
    ({"category": "999999"}, "category"),
    ({"category": "one"}, "category"),
    ({"status": "archived"}, "status"),
    ({"q": "x" * 300}, "q"),
    ({"q": "!!!"}, "q"),
    ({"lang": "ar"}, "lang"),
    ({"cursor": "damaged"}, "cursor"),
    ({"page_size": "0"}, "page_size"),
])
def test_bad_filters_are_refused_naming_the_parameter(
    shelf: dict[str, Article], params: dict[str, str], field: str
) -> None:
    body = problem(Api(None).get(LIST, **params), 400)
    assert field in {e["field"] for e in body["errors"]}, body


def test_bad_language_for_one_article(shelf: dict[str, Article]) -> None:
    body = problem(Api(None).get(f"{LIST}/reset-router", language="xx"), 400)
    assert body["errors"][0]["field"] == "language" and "en" in body["errors"][0]["message"]


def test_category_filter_and_search_in_one_language(section: Section) -> None:
    other = Section.objects.create(
        category=Category.objects.create(title="Billing"), title="Invoices")
    publish(section, "Router lights", "What the router's lights mean.", slug="lights",
            ar=("أضواء الموجه", "معنى أضواء الموجه"))
    publish(other, "Router invoices", "Invoices for a router you rent.", slug="invoices")
    visitor = Api(None)
    assert slugs(visitor.get(LIST, category=str(other.category_id))) == ["invoices"]
    assert set(slugs(visitor.get(LIST, q="router"))) == {"lights", "invoices"}
    assert slugs(visitor.get(LIST, q="router", category=str(section.category_id))) == [
        "lights"]
    arabic = visitor.get(LIST, q="أضواء", language="ar").json()["results"]
    assert [(a["slug"], a["language"]) for a in arabic] == [("lights", "ar")]


def test_cursor_pages_list_every_article_once(section: Section) -> None:
    for n in range(5):
        publish(section, f"Router guide {n}", f"Router guide number {n}.", slug=f"guide-{n}")
    for params in ({}, {"q": "router"}):
        seen: list[str] = []
        response = Api(None).get(LIST, page_size="2", **params)
        while True:
            seen += slugs(response)
            following = response.json()["next"]
            if following is None:
                break
            response = Api(None).client.get(following)
        assert sorted(seen) == [f"guide-{n}" for n in range(5)], params
    # A cursor is bound to the filters it was made with.
    first = Api(None).get(LIST, page_size="2").json()["next"]
    cursor = first.split("cursor=")[1].split("&")[0]
    problem(Api(None).get(LIST, page_size="2", q="router", cursor=cursor), 400)


def test_the_list_costs_the_same_queries_for_two_articles_or_eight(section: Section) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert Api(None).get(LIST).status_code == 200
        return len(queries)

    for n in range(2):
        publish(section, f"Guide {n}", "Text.", slug=f"few-{n}", ar=("دليل", "نص"))
    few = count()
    for n in range(6):
        publish(section, f"Guide {n}", "Text.", slug=f"many-{n}", ar=("دليل", "نص"))
    assert count() == few


def test_visitors_are_rate_limited_by_address(settings: Any, shelf: dict[str, Article]) -> None:
    settings.CASEDESK_API_RATE_LIMIT = 2
    visitor = Api(None)
    assert visitor.get(LIST).status_code == 200
    assert visitor.get(f"{LIST}/reset-router")["RateLimit-Remaining"] == "0"
    body = problem(visitor.get(LIST), 429)
    assert "address may make 2 requests a minute" in body["detail"]


def test_behind_a_trusted_proxy_each_visitor_has_their_own_allowance(
    settings: Any, shelf: dict[str, Article]
) -> None:
    from ipaddress import ip_network

    from django.test import Client

    settings.CASEDESK_API_RATE_LIMIT = 1
    settings.CASEDESK_TRUSTED_PROXIES = [ip_network("10.0.0.0/24")]
    proxy = Client(REMOTE_ADDR="10.0.0.2")

    assert proxy.get(LIST, HTTP_X_FORWARDED_FOR="203.0.113.5").status_code == 200
    assert proxy.get(LIST, HTTP_X_FORWARDED_FOR="203.0.113.6").status_code == 200
    problem(proxy.get(LIST, HTTP_X_FORWARDED_FOR="203.0.113.5"), 429)


def test_a_bad_token_is_refused_even_where_none_is_needed(shelf: dict[str, Article]) -> None:
    problem(Api("not-a-token").get(LIST), 401)
