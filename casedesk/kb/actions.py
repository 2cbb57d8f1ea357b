"""Every change to the knowledge base: saving an article (its translations, rendering and
search index in one transaction), helpful votes, and the submit form's suggestion events.

Bad input raises ArticleError with a message for the person who typed it, and changes
nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from casedesk.accounts.models import User
from casedesk.kb import index
from casedesk.kb.markdown import render
from casedesk.kb.models import (
    SOURCE_LANGUAGE,
    Article,
    FormSession,
    HelpfulVote,
    Section,
    SuggestionOpen,
    Translation,
)

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
SLUG_MAX = 120
TOKEN = re.compile(r"[A-Za-z0-9_-]{16,32}")


class ArticleError(ValueError):
    """An article that cannot be saved; `field` names the form field at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Text:
    """An article's title and Markdown body in one language."""

    language: str
    title: str
    body: str


def known_languages() -> dict[str, str]:
    return {code: str(name) for code, name in settings.LANGUAGES}


def check_texts(texts: list[Text]) -> list[Text]:
    """The translations to keep: a known language each, English always, both title and
    body. A language with neither title nor body is no translation (removed if it was)."""
    known = known_languages()
    kept: list[Text] = []
    for text in texts:
        if text.language not in known:
            raise ArticleError(str(_(
                "“%(code)s” is not a language of this site. Use one of: %(known)s."
            ) % {"code": text.language, "known": ", ".join(
                f"{code} ({name})" for code, name in known.items())}))
        title, body = text.title.strip(), text.body.strip()
        if not title and not body and text.language != SOURCE_LANGUAGE:
            continue
        if not title:
            raise ArticleError(str(_("Give the %(language)s version a title.") % {
                "language": known[text.language]}), f"title_{text.language}")
        if not body:
            raise ArticleError(str(_("Write the %(language)s version's text.") % {
                "language": known[text.language]}), f"body_{text.language}")
        kept.append(Text(text.language, title, text.body))
    if not any(t.language == SOURCE_LANGUAGE for t in kept):
        raise ArticleError(
            str(_("Every article has an English version: it is shown when a reader's "
                  "language has none.")), f"title_{SOURCE_LANGUAGE}",
        )
    if len({t.language for t in kept}) != len(kept):
        raise ArticleError(str(_("Each language can have one version only.")))
    return kept


def free_slug(base: str, article: Article | None) -> str:
    """`base`, or base-2, base-3, ... : the first not used by another article."""
    base = (slugify(base)[:SLUG_MAX - 4].strip("-")) or "article"
    others = Article.objects.exclude(pk=article.pk) if article else Article.objects.all()
    taken = set(others.filter(slug__startswith=base).values_list("slug", flat=True))
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


def check_slug(slug: str, title: str, article: Article | None) -> str:
    """An address given by the author must be free (refused if not, naming the article
    that has it); none given: made from the English title, suffixed -2, -3... if taken."""
    slug = slug.strip().lower()
    if not slug:
        return free_slug(title, article)
    if len(slug) > SLUG_MAX or not SLUG.fullmatch(slug):
        raise ArticleError(str(_(
            "An address uses lower-case letters a to z, digits and single hyphens, at most "
            "%(max)d characters (for example escalate-a-ticket)."
        ) % {"max": SLUG_MAX}), "slug")
    holder = Article.objects.filter(slug=slug)
    if article is not None:
        holder = holder.exclude(pk=article.pk)
    other = holder.prefetch_related("translations").first()
    if other is not None:
        titles = {t.language: t.title for t in other.translations.all()}
        raise ArticleError(str(_(
            "The address “%(slug)s” is already used by the article “%(title)s”. Choose "
            "another, or leave it empty to have one made from the title."
        ) % {"slug": slug, "title": titles.get(SOURCE_LANGUAGE, other.slug)}), "slug")
    return slug


def save_article(
    *, by: User | None, section: Section, texts: list[Text], status: str = Article.Status.DRAFT,
    internal: bool = False, slug: str = "", article: Article | None = None,
) -> Article:
    """Create (article=None) or change an article and its translations; renders each body
    to sanitized HTML and indexes it for search, all in one transaction."""
    if status not in Article.Status.values:
        raise ArticleError(str(_("Choose Draft or Published.")), "status")
    kept = check_texts(texts)
    english = next(t for t in kept if t.language == SOURCE_LANGUAGE)
    try:
        with transaction.atomic():
            if article is not None:
                article = Article.objects.select_for_update().get(pk=article.pk)
            slug = check_slug(slug if slug or article is None else article.slug,
                              english.title, article)
            now = timezone.now()
            if article is None:
                article = Article(author=by)
            article.section = section
            article.slug = slug
            article.internal = internal
            if status == Article.Status.PUBLISHED and article.published_at is None:
                article.published_at = now
            article.status = status
            article.save()
            _store_translations(article, kept, by)
            index.index_article(article)
    except IntegrityError as exc:
        # Two authors took the same address at the same moment: the second is told.
        raise ArticleError(str(_(
            "The address “%(slug)s” was just taken by another article. Save again to get "
            "another one, or choose one."
        ) % {"slug": slug}), "slug") from exc
    return article


def _store_translations(article: Article, kept: list[Text], by: User | None) -> None:
    existing = {t.language: t for t in article.translations.all()}
    gone = [t.pk for code, t in existing.items() if code not in {k.language for k in kept}]
    if gone:
        index.forget_translations(gone)
        Translation.objects.filter(pk__in=gone).delete()
    for text in kept:
        translation = existing.get(text.language) or Translation(
            article=article, language=text.language
        )
        if translation.pk and (translation.title, translation.body) == (text.title, text.body):
            continue
        translation.title = text.title
        translation.body = text.body
        translation.html = render(text.body)
        translation.updated_by = by
        translation.save()


def delete_article(article: Article) -> None:
    with transaction.atomic():
        index.forget_translations(list(article.translations.values_list("pk", flat=True)))
        article.delete()


def vote(article: Article, session_key: str, helpful: bool, language: str) -> HelpfulVote:
    """One answer per article and visitor session; answering again changes it."""
    found, _created = HelpfulVote.objects.update_or_create(
        article=article, session_key=session_key,
        defaults={"helpful": helpful, "language": language},
    )
    return found


def valid_token(token: str) -> bool:
    return bool(TOKEN.fullmatch(token))


def suggestion_opened(token: str, article: Article, at: datetime | None = None) -> None:
    """A suggestion was opened from the submit form whose page load is `token`."""
    if not valid_token(token):
        return
    at = at or timezone.now()
    with transaction.atomic():
        session, created = FormSession.objects.get_or_create(
            token=token, defaults={"last_open_at": at}
        )
        if not created:
            FormSession.objects.filter(pk=session.pk).update(last_open_at=at)
        SuggestionOpen.objects.get_or_create(session=session, article=article)


def form_event(token: str, event: str, at: datetime | None = None) -> bool:
    """The submit form reported `event` ("submitted" or "left"). Only a form that opened
    a suggestion has a row; the others are not counted. Returns whether it counted."""
    if event not in {"submitted", "left"} or not valid_token(token):
        return False
    field = "submitted_at" if event == "submitted" else "left_at"
    # The first report counts; a page restored from the back-forward cache may report again.
    return bool(FormSession.objects.filter(token=token, **{f"{field}__isnull": True}).update(
        **{field: at or timezone.now()}
    ))
