"""The knowledge base: the list of articles (filters, full-text `q` on the search app's
index as the KB's own search page uses it, cursor pages) and one article.

Who reads what is casedesk.kb.access's: anyone, even without a token, reads published
public articles; agent tokens also read internal articles and drafts, as the desk lists
them to agents. Anything else answers the 404 of a missing article.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from casedesk.api.base import ApiView, make_cursor, page_links, page_size, read_cursor
from casedesk.api.cases import bad_cursor, iso
from casedesk.api.serializers import KbArticlePageSerializer, KbArticleSerializer
from casedesk.core.net import client_address
from casedesk.kb.access import get_article_for_reader, is_agent, openable_articles
from casedesk.kb.find import scope as search_scope
from casedesk.kb.index import ARTICLE
from casedesk.kb.models import SOURCE_LANGUAGE, Article, Category, Translation
from casedesk.search.engine import ranked
from casedesk.search.query import SearchError, parse

PAGE_PARAMS = [
    OpenApiParameter("cursor", str, description="From a previous page's `next`."),
    OpenApiParameter("page_size", int, description="1 to 100 (default 50)."),
]
LANGUAGE = OpenApiParameter(
    "language", str, enum=[code for code, _name in settings.LANGUAGES],
    description="List: only articles written in this language, titled in it. One "
    "article: show it in this language (English when it is not written in it).",
)
STATUSES = list(Article.Status.values)


def known_language(raw: str) -> str:
    known = [code for code, _name in settings.LANGUAGES]
    if raw not in known:
        raise serializers.ValidationError({"language": [
            f"“{raw[:20]}” is not a language of this site; use one of: {', '.join(known)}."
        ]})
    return raw


def translation_in(article: Article, language: str) -> tuple[Translation, bool]:
    """The article's translation in `language`, else its English one (the flag says so).
    Reads the prefetched translations."""
    by_language = {t.language: t for t in article.translations.all()}
    if language in by_language:
        return by_language[language], False
    return by_language.get(SOURCE_LANGUAGE) or next(iter(by_language.values())), True


def summary(request: Request, article: Article, language: str) -> dict[str, Any]:
    shown, _fallback = translation_in(article, language)
    section = article.section
    category = section.category
    return {
        "slug": article.slug,
        "title": shown.title,
        "language": shown.language,
        "languages": sorted(t.language for t in article.translations.all()),
        "category": {"id": category.pk, "title": category.title_in(shown.language)},
        "section": {"id": section.pk, "title": section.title_in(shown.language)},
        "status": article.status,
        "internal": article.internal,
        "updated_at": iso(shown.updated_at),
        "url": request.build_absolute_uri(reverse("api:kb_article", args=[article.slug])),
        "web_url": request.build_absolute_uri(article.get_absolute_url()),
    }


class KbView(ApiView):
    # The knowledge base is public: a request without a token reads what a visitor of its
    # pages reads. Such requests count against their address's allowance.
    permission_classes = [AllowAny]

    def rate_subject(self, request: Request) -> str | None:
        subject = super().rate_subject(request)
        if subject is None:
            return f"ip:{client_address(request._request)}"
        return subject

    def articles(self) -> QuerySet[Article]:
        return openable_articles(self.request.user).select_related(
            "section__category").prefetch_related("translations")


class KbArticleList(KbView):
    query_parameters = {"get": frozenset({"q", "language", "category", "status", "cursor",
                                          "page_size"})}

    @extend_schema(operation_id="kb_articles_list", parameters=[
        OpenApiParameter("q", str, description="Full-text search (titles, headings, text); "
                         "results best first."),
        LANGUAGE,
        OpenApiParameter("category", int, description="Only this category's articles."),
        OpenApiParameter("status", str, enum=STATUSES,
                         description="Only published articles, or (agents) only drafts."),
        *PAGE_PARAMS,
    ], responses=KbArticlePageSerializer)
    def get(self, request: Request) -> Response:
        params = request.query_params
        size = page_size(request)
        errors: dict[str, list[str]] = {}
        language = params.get("language", "")
        if language:
            try:
                known_language(language)
            except serializers.ValidationError as exc:
                errors.update(exc.detail)  # type: ignore[arg-type]
        category = params.get("category", "")
        if category and not (category.isdigit() and len(category) <= 9
                             and Category.objects.filter(pk=int(category)).exists()):
            errors["category"] = [f"There is no knowledge base category “{category[:20]}”."]
        status = params.get("status", "")
        if status and status not in STATUSES:
            errors["status"] = [f"One of {', '.join(STATUSES)}."]
        if errors:
            raise serializers.ValidationError(errors)
        agent = is_agent(request.user)
        text = params.get("q", "").strip()
        scope = f"kb|{agent}|{language}|{category}|{status}|{text}"
        rows = self.articles()
        if category:
            rows = rows.filter(section__category_id=int(category))
        if status:
            rows = rows.filter(status=status)
        if language:
            rows = rows.filter(translations__language=language)
        if text:
            found, cursor = self.search_page(scope, text, rows, language, size)
        else:
            found, cursor = self.id_page(scope, rows, size)
        return Response({"results": [summary(request, a, language or SOURCE_LANGUAGE)
                                     for a in found],
                         **page_links(request, cursor)})

    def id_page(self, scope: str, rows: QuerySet[Article],
                size: int) -> tuple[list[Article], str | None]:
        if raw := self.request.query_params.get("cursor"):
            position = read_cursor(scope, raw)
            if len(position) != 1 or not isinstance(position[0], int):
                raise bad_cursor()
            rows = rows.filter(pk__gt=position[0])
        found = list(rows.order_by("pk")[:size + 1])
        more = len(found) > size
        found = found[:size]
        return found, make_cursor(scope, [found[-1].pk]) if more and found else None

    def search_page(self, scope: str, text: str, rows: QuerySet[Article], language: str,
                    size: int) -> tuple[list[Article], str | None]:
        """A page of the articles matching `text`, best first: the KB search's index and
        ranking (casedesk.search), within what the token may read and the filters."""
        page = 1
        if raw := self.request.query_params.get("cursor"):
            position = read_cursor(scope, raw)
            if len(position) != 1 or not isinstance(position[0], int) or position[0] < 1:
                raise bad_cursor()
            page = position[0]
        try:
            query = parse(text)
        except SearchError as exc:
            raise serializers.ValidationError({"q": [str(exc)]}) from None
        if not query.terms:
            raise serializers.ValidationError({"q": ["Type words to search for."]})
        translations = search_scope(self.request.user, drafts=True).filter(
            article__in=rows.values("pk"))
        if language:
            # Searching in one language searches its text.
            translations = translations.filter(language=language)
        hits = ranked(ARTICLE, query, scope=translations)
        article_of = dict(Translation.objects.filter(pk__in=hits)
                          .values_list("pk", "article_id"))
        order: list[int] = []
        for translation_id in hits:
            article_id = article_of.get(translation_id)
            if article_id is not None and article_id not in order:
                order.append(article_id)
        start = (page - 1) * size
        ids = order[start:start + size]
        loaded = self.articles().in_bulk(ids)
        found = [loaded[pk] for pk in ids if pk in loaded]
        more = len(order) > start + size
        return found, make_cursor(scope, [page + 1]) if more else None


class KbArticleDetail(KbView):
    query_parameters = {"get": frozenset({"language"})}

    @extend_schema(operation_id="kb_articles_read", parameters=[
        OpenApiParameter("slug", str, OpenApiParameter.PATH,
                         description="The article's address, as in /kb/articles/<slug>/."),
        LANGUAGE,
    ], responses=KbArticleSerializer)
    def get(self, request: Request, slug: str) -> Response:
        language = request.query_params.get("language", "")
        if language:
            known_language(language)
        article = get_article_for_reader(request.user, slug)
        shown, fallback = translation_in(article, language or SOURCE_LANGUAGE)
        author = article.author
        return Response({
            **summary(request, article, shown.language),
            "fallback": bool(language) and fallback,
            "html": shown.html,
            "markdown": shown.body,
            "author": (author.get_full_name() or None) if author is not None else None,
            "published_at": iso(article.published_at),
            "translations": [
                {"language": t.language, "title": t.title,
                 "url": request.build_absolute_uri(
                     reverse("api:kb_article", args=[article.slug])
                     + f"?language={t.language}")}
                for t in article.translations.all() if t.pk != shown.pk
            ],
        })
