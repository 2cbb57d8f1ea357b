"""The public pages for a visitor, a contact, an agent and an admin; the desk's pages."""

from __future__ import annotations

import re

import pytest

from casedesk.kb.models import Article
from casedesk.kb.tests.conftest import publish, signed_in


@pytest.fixture
def articles(section, agent):
    return {
        "public": publish(section, "Reset a password", "Use **Forgot password**.", by=agent,
                          ar=("إعادة تعيين كلمة المرور", "استخدم رابط نسيت كلمة المرور.")),
        "english": publish(section, "Change an email", "Ask your administrator."),
        "internal": publish(section, "Override a lockout", "Agents: use the admin.",
                            internal=True),
        "draft": publish(section, "Unfinished", "Soon.", status=Article.Status.DRAFT),
    }


def test_a_visitor_reads_a_public_article_in_english(client, articles):
    page = client.get("/kb/articles/reset-a-password/").content.decode()

    assert '<article class="card kb-article" id="kb-article" lang="en" dir="ltr">' in page
    assert "<h1>Reset a password</h1>" in page
    assert "Use <strong>Forgot password</strong>." in page
    assert "by Sam Agent" in page and "Updated " in page
    assert 'href="/kb/articles/reset-a-password/?lang=ar"' in page  # the Arabic version
    assert 'href="/kb/articles/change-an-email/"' in page  # related, same section
    assert "Override a lockout" not in page and "Unfinished" not in page


def test_the_arabic_version_is_right_to_left_with_its_labels_in_arabic(client, articles):
    page = client.get("/kb/articles/reset-a-password/?lang=ar").content.decode()

    assert 'lang="ar" dir="rtl"' in page
    assert "<h1>إعادة تعيين كلمة المرور</h1>" in page
    assert "هل كانت هذه المقالة مفيدة؟" in page  # "Was this article helpful?"
    assert 'href="/kb/articles/reset-a-password/?lang=en"' in page


def test_an_article_without_the_readers_language_falls_back_to_english_and_says_so(
    client, articles
):
    page = client.get("/kb/articles/change-an-email/?lang=ar").content.decode()

    assert 'lang="en" dir="ltr"' in page
    assert "<h1>Change an email</h1>" in page
    assert "هذه المقالة غير متوفرة" in page  # "not available in Arabic yet"


def test_an_unknown_language_asked_for_is_named_and_english_shown(client, articles):
    page = client.get("/kb/articles/reset-a-password/?lang=xx").content.decode()

    assert "“xx” is not a language of this site" in page
    assert "<h1>Reset a password</h1>" in page


@pytest.mark.parametrize("who", ["visitor", "contact"])
def test_internal_and_draft_articles_answer_like_a_missing_one_to_customers(
    client, contact, articles, who
):
    reader = client if who == "visitor" else signed_in(contact)
    for slug in ["override-a-lockout", "unfinished", "no-such-article"]:
        assert reader.get(f"/kb/articles/{slug}/").status_code == 404
    home = reader.get("/kb/").content.decode()
    assert "Reset a password" in home and "Override a lockout" not in home


def test_an_agent_reads_internal_articles_and_drafts_marked_as_such(agent, articles):
    reader = signed_in(agent)

    internal = reader.get("/kb/articles/override-a-lockout/").content.decode()
    draft = reader.get("/kb/articles/unfinished/").content.decode()

    assert "Internal: only agents can read this article." in internal
    assert "Draft: only agents can see this article" in draft
    assert "Override a lockout" in reader.get("/kb/").content.decode()


def test_the_home_page_lists_categories_sections_and_articles(client, articles):
    page = client.get("/kb/?lang=ar").content.decode()

    assert "المساعدة" in page and "الحسابات" in page
    assert "إعادة تعيين كلمة المرور" in page
    assert "Change an email" in page  # no Arabic version: its English title


def test_the_search_page_finds_articles_and_escapes_what_was_typed(client, articles):
    found = client.get("/kb/search/", {"q": "forgot"}).content.decode()
    nothing = client.get("/kb/search/", {"q": "<b>zebra</b>"}).content.decode()
    internal = client.get("/kb/search/", {"q": "lockout"}).content.decode()

    assert 'href="/kb/articles/reset-a-password/"' in found
    assert "<mark>Forgot</mark>" in found
    assert "No articles matched “&lt;b&gt;zebra&lt;/b&gt;” yet." in nothing
    assert "Override a lockout" not in internal


def test_a_search_of_only_symbols_is_refused_with_a_message(client, articles):
    response = client.get("/kb/search/", {"q": "!!!"})

    assert response.status_code == 400
    assert "Nothing to search for" in response.content.decode()


def test_the_suggestions_fragment_links_through_the_tracked_redirect(client, articles):
    response = client.get("/kb/suggest/", {"q": "password reset", "fs": "a" * 22})

    page = response.content.decode()
    assert response.status_code == 200
    assert f'href="/kb/open/reset-a-password/?fs={"a" * 22}&amp;lang=en"' in page
    assert 'target="_blank"' in page
    assert client.get("/kb/suggest/", {"q": "lockout"}).content.decode().strip() == ""
    assert client.get("/kb/suggest/", {"q": "pa"}).content.decode().strip() == ""


def test_the_submit_form_offers_the_suggestions_and_a_search_without_javascript(client, db):
    page = client.get("/submit/").content.decode()

    box = re.search(r'<aside class="card narrow-wide kb-suggest".*?</aside>', page, re.S)
    assert box is not None
    assert re.search(r'data-token="[\w-]{22}"', box.group())
    assert 'action="/kb/search/"' in box.group() and 'name="q"' in box.group()
    assert '<script src="/static/kb/suggest.js" defer></script>' in page
    assert "<script>" not in page  # no inline script: a CSP without unsafe-inline holds


def test_desk_pages_are_for_agents_only(client, contact, agent, articles):
    assert client.get("/desk/kb/").status_code == 302  # to sign in
    assert signed_in(contact).get("/desk/kb/").status_code == 404
    assert signed_in(contact).get("/desk/kb/lookup/?q=password").status_code == 404
    page = signed_in(agent).get("/desk/kb/").content.decode()
    assert "Reset a password" in page and "Unfinished" in page
    assert "Suggestions opened" not in page  # the deflection figures are for admins


def test_an_agent_previews_then_saves_an_article(agent, section):
    reader = signed_in(agent)
    data = {"section": section.pk, "slug": "", "status": "published",
            "title_en": "Set up RADIUS", "body_en": "Step **one** <script>x()</script>",
            "title_ar": "إعداد RADIUS", "body_ar": "الخطوة **الأولى**"}

    preview = reader.post("/desk/kb/new/", {**data, "preview": "1"}).content.decode()
    assert "Preview (not saved)" in preview and "Step <strong>one</strong>" in preview
    assert "<script>x()" not in preview
    assert not Article.objects.exists()

    saved = reader.post("/desk/kb/new/", {**data, "save": "1"})
    article = Article.objects.get()
    assert saved.status_code == 303 and saved["Location"] == f"/desk/kb/{article.pk}/"
    assert article.slug == "set-up-radius" and article.author == agent
    assert set(article.translations.values_list("language", flat=True)) == {"en", "ar"}


def test_the_desk_form_shows_a_taken_address_next_to_the_field_and_saves_nothing(
    agent, section, articles
):
    response = signed_in(agent).post("/desk/kb/new/", {
        "section": section.pk, "slug": "reset-a-password", "status": "draft",
        "title_en": "Another", "body_en": "Text."})

    page = response.content.decode()
    assert response.status_code == 200
    assert "The address “reset-a-password” is already used by the article" in page
    assert Article.objects.count() == 4


def test_editing_keeps_the_address_and_changes_the_text(agent, section, articles):
    article = articles["english"]
    response = signed_in(agent).post(f"/desk/kb/{article.pk}/", {
        "section": section.pk, "slug": article.slug, "status": "published",
        "title_en": "Change your email address", "body_en": "Ask us.", "save": "1"})

    assert response.status_code == 303
    assert article.translations.get().title == "Change your email address"
    assert Article.objects.get(pk=article.pk).slug == "change-an-email"


def test_the_lookup_gives_public_articles_with_full_addresses(agent, articles, settings):
    settings.CASEDESK_BASE_URL = "https://support.example"
    reader = signed_in(agent)

    found = reader.get("/desk/kb/lookup/", {"q": "password"}).json()
    internal = reader.get("/desk/kb/lookup/", {"q": "lockout"}).json()

    assert found["results"][0] == {
        "title": "Reset a password", "language": "en",
        "url": "https://support.example/kb/articles/reset-a-password/"}
    assert internal["results"] == []


def test_the_case_page_offers_to_insert_an_article_link(agent, contact):
    from casedesk.conftest import make_case

    case = make_case(contact).ticket
    page = signed_in(agent).get(f"/desk/cases/{case.pk}/").content.decode()

    assert 'id="kb-insert"' in page and 'data-lookup-url="/desk/kb/lookup/"' in page
    assert '<script src="/static/kb/desk_insert.js" defer></script>' in page


def test_the_static_files_are_served(client, db):
    for name in ["kb/suggest.js", "kb/desk_insert.js", "kb/kb.css"]:
        response = client.get(f"/static/{name}")
        assert response.status_code == 200, name


def test_the_demo_publishes_the_process_articles_in_english_and_arabic_once(db, client):
    from casedesk.kb.demo import publish_demo_articles

    assert publish_demo_articles() == 3
    assert publish_demo_articles() == 0  # a second run changes nothing

    page = client.get("/kb/articles/support-and-escalation-process/").content.decode()
    assert "<th>Standard</th>" in page and "<th>Premium</th>" in page
    assert "within 2 hours" in page and "within 1 hour" in page
    assert "within 96 hours" in page and "within 72 hours" in page
    arabic = client.get("/kb/articles/escalate-a-ticket/?lang=ar").content.decode()
    assert "<h1>تصعيد طلب</h1>" in arabic and "رقم الطلب" in arabic
    assert not re.search("[\u0660-\u0669]", arabic)  # Latin digits only
    policy = client.get("/kb/articles/categories-and-policy/?lang=ar").content.decode()
    assert "<h1>الفئات والسياسة</h1>" in policy
    assert 'href="/kb/articles/escalate-a-ticket/"' in client.get(
        "/kb/articles/support-and-escalation-process/").content.decode()


def count_queries(reader, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert reader.get(url).status_code == 200
    return len(queries)


def test_the_lists_and_the_article_page_cost_the_same_queries_for_more_articles(
    section, admin
):
    reader = signed_in(admin)
    first = publish(section, "First", "One.", ar=("الأول", "واحد."))
    publish(section, "Second", "Two.")
    for url in ["/kb/", "/desk/kb/"]:
        reader.get(url)  # the site's configuration is cached by the first page
    few = {url: count_queries(reader, url) for url in
           ["/kb/", "/desk/kb/", f"/kb/articles/{first.slug}/"]}

    for n in range(6):
        publish(section, f"More {n}", "Text.", ar=(f"المزيد {n}", "نص."))
    many = {url: count_queries(reader, url) for url in few}

    assert many == few
