"""Who reads which article. Anyone reads published public articles; agents also read
internal ones and drafts. Anything else answers 404, exactly like a missing article."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404
from django.utils import translation as i18n

from casedesk.kb.models import SOURCE_LANGUAGE, Article, Translation


def is_agent(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_agent", False))


def readable_articles(user: Any) -> QuerySet[Article]:
    """Published articles `user` may read (internal ones for agents)."""
    articles = Article.objects.filter(status=Article.Status.PUBLISHED)
    return articles if is_agent(user) else articles.filter(internal=False)


def openable_articles(user: Any) -> QuerySet[Article]:
    """What `user` may open by its address: for agents every article, drafts included (as
    the desk lists them); for anyone else the published public ones."""
    return Article.objects.all() if is_agent(user) else readable_articles(user)


def get_article_for_reader(user: Any, slug: str) -> Article:
    articles = openable_articles(user)
    found = (
        articles.select_related("section__category", "author")
        .prefetch_related("translations").filter(slug=slug).first()
    )
    if found is None:
        raise Http404("No such article.")
    return found


def reader_language(asked: str | None) -> tuple[str, str]:
    """The language to read in and the unknown code asked for ("" when none): `?lang=`
    when it names a language of the site, else the request's active language."""
    known = {code for code, _name in settings.LANGUAGES}
    if asked and asked in known:
        return asked, ""
    active = (i18n.get_language() or SOURCE_LANGUAGE).split("-")[0]
    return (active if active in known else SOURCE_LANGUAGE), (asked or "")[:20]


def pick_translation(article: Article, language: str) -> tuple[Translation, bool]:
    """The article's translation in `language`, else its English one; the flag says the
    fallback was used."""
    by_language = {t.language: t for t in article.translations.all()}
    if language in by_language:
        return by_language[language], False
    found = by_language.get(SOURCE_LANGUAGE) or next(iter(by_language.values()), None)
    if found is None:
        raise Http404("No such article.")
    return found, True


def direction(language: str) -> str:
    try:
        return "rtl" if i18n.get_language_info(language)["bidi"] else "ltr"
    except KeyError:
        return "ltr"
