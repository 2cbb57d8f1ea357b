"""Searching articles on SQLite (FTS5) and PostgreSQL (tsvector), with the search app's
normalization: Arabic spelling variants find each other."""

from __future__ import annotations

import pytest

from casedesk.kb.actions import Text, save_article
from casedesk.kb.find import find_articles, suggest
from casedesk.kb.index import ARTICLE, rebuild_articles
from casedesk.kb.models import Article
from casedesk.kb.tests.conftest import publish
from casedesk.search.models import Document
from casedesk.search.query import SearchError


@pytest.fixture
def library(section):
    return {
        "password": publish(
            section, "Reset a password", "Use the Forgot password link on the sign-in page.",
            ar=("إعادة تعيين كلمة المرور", "استخدم رابط نسيت كلمة المرور في صفحة الدخول."),
        ),
        "escalate": publish(
            section, "Escalate a Ticket", "You need the Case ID, numbers only.",
            ar=("تصعيد طلب", "تحتاج إلى رقم الطلب، أرقام فقط. المسؤول يتابع الطلب."),
        ),
        "dns": publish(section, "DNS filtering stopped", "Check the second resolver."),
        "internal": publish(section, "Resolver override", "Agents only.", internal=True),
        "draft": publish(section, "Resolver draft", "Soon.", status=Article.Status.DRAFT),
    }


def slugs(hits):
    return [hit.article.slug for hit in hits]


def test_every_word_must_match_and_the_last_is_a_prefix(library):
    assert slugs(find_articles("password", None, "en")) == ["reset-a-password"]
    assert slugs(find_articles("escal", None, "en")) == ["escalate-a-ticket"]
    assert find_articles("password resolver", None, "en") == []


def test_an_arabic_word_typed_with_another_hamza_finds_the_article(library):
    # The article writes إعادة (alef with hamza below); the reader types اعادة or أعادة.
    for typed in ["اعادة تعيين", "أعادة", "إعادة"]:
        assert slugs(find_articles(typed, None, "ar")) == ["reset-a-password"], typed
    # المسؤول in the text, المسئول typed (waw and ya with hamza are one letter).
    assert slugs(find_articles("المسئول", None, "ar")) == ["escalate-a-ticket"]


def test_the_matching_translation_is_shown_with_the_words_marked(library):
    [hit] = find_articles("كلمة المرور", None, "en")

    assert hit.translation.language == "ar"
    assert "<mark>كلمة</mark> <mark>المرور</mark>" in hit.title


def test_an_article_found_in_two_languages_appears_once_in_the_readers(library, section):
    publish(section, "Set up RADIUS", "Point RADIUS at us.",
            ar=("إعداد RADIUS", "وجّه خادم RADIUS إلينا."))

    assert [h.translation.language for h in find_articles("radius", None, "ar")] == ["ar"]
    assert [h.translation.language for h in find_articles("radius", None, "en")] == ["en"]
    hits = find_articles("escalate", None, "ar")
    assert [h.translation.language for h in hits] == ["en"]  # only English has the word


def test_internal_articles_are_found_by_agents_only_and_drafts_by_nobody(library, agent,
                                                                        contact):
    assert set(slugs(find_articles("resolver", agent, "en"))) == {
        "resolver-override", "dns-filtering-stopped"}
    assert slugs(find_articles("resolver", contact, "en")) == ["dns-filtering-stopped"]
    assert slugs(find_articles("resolver", None, "en")) == ["dns-filtering-stopped"]


def test_a_search_that_cannot_run_says_why(library):
    with pytest.raises(SearchError, match="Nothing to search for"):
        find_articles("?!", None, "en")


def test_an_edit_is_searchable_at_once_and_the_old_text_forgotten(library, agent):
    article = library["dns"]
    save_article(by=agent, section=article.section, article=article, slug=article.slug,
                 status=article.status, texts=[Text("en", "Blocking stopped", "Restart it.")])

    assert find_articles("dns", None, "en") == []
    assert slugs(find_articles("blocking", None, "en")) == ["dns-filtering-stopped"]


def test_suggestions_match_any_word_and_ignore_words_in_most_articles(library):
    # "the" is in most articles and counts for nothing; "password" decides.
    assert slugs(suggest("I forgot the password of my account", "en"))[0] == "reset-a-password"
    assert slugs(suggest("how do I escalate my ticket", "en"))[0] == "escalate-a-ticket"
    assert suggest("zzz qqq", "en") == []
    assert "resolver-override" not in slugs(suggest("resolver override", "en"))


def test_suggestions_in_arabic_with_a_different_hamza(library):
    assert slugs(suggest("اريد اعادة تعيين كلمة السر", "ar"))[0] == "reset-a-password"


def test_rebuilding_the_article_index_gives_the_same_documents(library):
    before = sorted(Document.objects.filter(kind=ARTICLE.code).values_list("pk", "title"))

    count = rebuild_articles()

    assert count == 7  # five articles, two of them in two languages
    after = sorted(Document.objects.filter(kind=ARTICLE.code).values_list("pk", "title"))
    assert after == before


def test_the_reindex_command_restores_a_lost_index(library):
    from io import StringIO

    from django.core.management import call_command

    Document.objects.filter(kind=ARTICLE.code).delete()
    assert find_articles("password", None, "en") == []
    out = StringIO()

    call_command("kb-reindex", stdout=out)

    assert out.getvalue() == "Indexed 7 article translations.\n"
    assert slugs(find_articles("password", None, "en")) == ["reset-a-password"]


@pytest.mark.parametrize(("subject", "language", "first"), [
    ("How can I escalate my case", "en", "escalate-a-ticket"),
    ("what are the response times", "en", "support-and-escalation-process"),
    ("which category should I choose", "en", "categories-and-policy"),
    ("كيف اصعد طلبي؟ تصعيد", "ar", "escalate-a-ticket"),
    ("اوقات الاستجابة", "ar", "support-and-escalation-process"),
])
def test_the_demo_articles_are_suggested_for_the_subjects_they_answer(db, subject, language,
                                                                     first):
    from casedesk.kb.demo import publish_demo_articles

    publish_demo_articles()

    hits = suggest(subject, language)
    assert hits and hits[0].article.slug == first
    assert hits[0].translation.language == language
