"""Saving articles: translations, addresses, rendering, and bad input refused with a
message and nothing changed."""

from __future__ import annotations

import pytest

from casedesk.kb.actions import ArticleError, Text, save_article
from casedesk.kb.index import ARTICLE
from casedesk.kb.models import Article, Translation
from casedesk.kb.tests.conftest import publish
from casedesk.search.models import Document


def test_an_article_is_saved_with_its_translations_rendered_and_indexed(section, agent):
    article = publish(section, "Reset a password", "Use **Forgot password**.", by=agent,
                      ar=("إعادة تعيين كلمة المرور", "استخدم **نسيت كلمة المرور**."))

    assert article.slug == "reset-a-password"
    assert article.author == agent and article.published_at is not None
    by_language = {t.language: t for t in article.translations.all()}
    assert by_language["en"].html == "<p>Use <strong>Forgot password</strong>.</p>\n"
    assert "<strong>نسيت كلمة المرور</strong>" in by_language["ar"].html
    assert Document.objects.filter(kind=ARTICLE.code).count() == 2


def test_a_title_taken_gets_a_suffixed_address(section):
    first = publish(section, "Reset a password", "One.")
    second = publish(section, "Reset a password", "Two.")
    third = publish(section, "Reset a password!", "Three.")

    assert (first.slug, second.slug, third.slug) == (
        "reset-a-password", "reset-a-password-2", "reset-a-password-3")


def test_an_address_chosen_by_the_author_that_is_taken_is_refused_naming_the_holder(section):
    publish(section, "Reset a password", "One.", slug="passwords")

    with pytest.raises(ArticleError) as refused:
        publish(section, "Change a password", "Two.", slug="passwords")

    assert refused.value.field == "slug"
    assert "“passwords” is already used by the article “Reset a password”" in str(refused.value)
    assert Article.objects.count() == 1


@pytest.mark.parametrize("slug", ["Has Spaces", "ünïcode", "a--b", "-x", "x" * 121])
def test_an_address_that_is_not_a_slug_is_refused(section, slug):
    with pytest.raises(ArticleError, match="lower-case letters a to z"):
        publish(section, "Title", "Body.", slug=slug)
    assert not Article.objects.exists()


def test_an_unknown_language_code_is_refused_with_the_known_ones(section):
    with pytest.raises(ArticleError) as refused:
        save_article(by=None, section=section, texts=[
            Text("en", "Title", "Body."), Text("xx", "Titre", "Corps.")])

    assert str(refused.value) == (
        "“xx” is not a language of this site. Use one of: en (English), ar (Arabic)."
    )
    assert not Article.objects.exists() and not Translation.objects.exists()


def test_every_article_needs_english_and_a_translation_needs_title_and_body(section):
    with pytest.raises(ArticleError, match="Every article has an English version"):
        save_article(by=None, section=section, texts=[Text("ar", "عنوان", "نص.")])
    with pytest.raises(ArticleError, match="Write the Arabic version's text"):
        save_article(by=None, section=section, texts=[
            Text("en", "Title", "Body."), Text("ar", "عنوان", "  ")])
    assert not Article.objects.exists()


def test_editing_removes_a_translation_left_empty_and_its_index_entry(section, agent):
    article = publish(section, "Title", "Body.", ar=("عنوان", "نص."))

    save_article(by=agent, section=section, article=article, slug=article.slug,
                 texts=[Text("en", "New title", "Body."), Text("ar", "", "")])

    assert list(article.translations.values_list("language", "title")) == [("en", "New title")]
    assert Document.objects.filter(kind=ARTICLE.code).count() == 1
    assert Document.objects.get(kind=ARTICLE.code).title == "new title"


@pytest.mark.parametrize(("markdown", "kept", "gone"), [
    ("Hi <script>alert(1)</script> there", "Hi", ["<script", "alert(1)"]),
    ('<iframe src="https://evil.example/"></iframe>Text', "Text", ["<iframe", "evil.example"]),
    ("[click](javascript:alert(1))", "click", ['href="javascript:']),
    ('<a href="javascript:alert(2)" onclick="steal()">x</a>', ">x</a>",
     ["javascript:", "onclick", "steal"]),
    ('<img src="x" onerror="alert(3)">', '<img src="x">', ["onerror"]),
    ('<div style="position:fixed">raw <b>bold</b></div>', "<b>bold</b>",
     ["<div", "position:fixed"]),
    ("<style>body{display:none}</style>Shown", "Shown", ["<style", "display:none"]),
    ("[data](data:text/html;base64,PHNjcmlwdD4=)", "data", ['href="data:']),
])
def test_markdown_with_scripts_frames_and_unsafe_links_is_sanitized(section, markdown, kept,
                                                                    gone):
    article = publish(section, "Unsafe", markdown)

    html = article.translations.get().html
    assert kept in html
    for text in gone:
        assert text not in html
    # The author's text is kept as written: nothing accepted is lost.
    assert article.translations.get().body == markdown


def test_a_markdown_table_is_rendered(section):
    article = publish(section, "Times", "| Level | Standard |\n|---|--:|\n| High | 2 hours |")

    html = article.translations.get().html
    assert "<table>" in html and "<th>Level</th>" in html
    # Aligned by a class: pages allow no style attribute (Content-Security-Policy).
    assert '<td class="kb-align-right">2 hours</td>' in html
    assert "style=" not in html


def test_an_authors_style_and_foreign_classes_are_dropped(section):
    article = publish(section, "Styled", '<table><tr><td style="text-align:right" '
                      'class="kb-align-right evil">x</td></tr></table>')

    html = article.translations.get().html
    assert "style=" not in html and "evil" not in html
