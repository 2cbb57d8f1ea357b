"""The public knowledge base: home, article, search, the submit form's suggestions and
their tracked opening, the form's reports, and "Was this helpful?"."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.db.models import Count, Q
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.utils import translation as i18n
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from casedesk.kb import actions
from casedesk.kb.access import (
    direction,
    get_article_for_reader,
    is_agent,
    pick_translation,
    readable_articles,
    reader_language,
)
from casedesk.kb.find import find_articles, suggest
from casedesk.kb.models import Article, Category, HelpfulVote
from casedesk.search.query import SearchError

RELATED = 5


def _language(request: HttpRequest) -> tuple[str, str]:
    return reader_language(request.GET.get("lang") or request.POST.get("lang"))


def _article_url(article: Article, language: str = "") -> str:
    url = article.get_absolute_url()
    return f"{url}?{urlencode({'lang': language})}" if language else url


def home(request: HttpRequest) -> HttpResponse:
    language, unknown = _language(request)
    with i18n.override(language):
        articles = readable_articles(request.user).prefetch_related("translations")
        by_section: dict[int, list[tuple[Article, Any]]] = {}
        for article in articles:
            by_section.setdefault(article.section_id, []).append(
                (article, pick_translation(article, language)[0])
            )
        categories = []
        for category in Category.objects.prefetch_related("sections"):
            sections = [
                (section, by_section[section.pk]) for section in category.sections.all()
                if section.pk in by_section
            ]
            if sections:
                categories.append((category, sections))
        return render(request, "kb/home.html", {
            "categories": categories, "language": language, "unknown_language": unknown,
            "dir": direction(language),
        })


def search(request: HttpRequest) -> HttpResponse:
    language, _unknown = _language(request)
    query = request.GET.get("q", "").strip()[:200]
    hits: list[Any] = []
    error = ""
    with i18n.override(language):
        if query:
            try:
                hits = find_articles(query, request.user, language)
            except SearchError as exc:
                error = str(exc)
        return render(request, "kb/search.html", {
            "query": query, "hits": hits, "error": error, "language": language,
            "page_dir": direction(language),
        }, status=400 if error else 200)


def article(request: HttpRequest, slug: str) -> HttpResponse:
    language, unknown = _language(request)
    found = get_article_for_reader(request.user, slug)
    with i18n.override(language):
        translation, fallback = pick_translation(found, language)
        others = [
            (t.language, i18n.get_language_info(t.language)["name_local"])
            for t in found.translations.all() if t.language != translation.language
        ]
        related = _related(request, found, language)
        voted = None
        if request.session.session_key:
            voted = HelpfulVote.objects.filter(
                article=found, session_key=request.session.session_key
            ).values_list("helpful", flat=True).first()
        counts = None
        if is_agent(request.user):
            counts = found.votes.aggregate(
                yes=Count("pk", filter=Q(helpful=True)), no=Count("pk", filter=Q(helpful=False))
            )
        return render(request, "kb/article.html", {
            "article": found, "translation": translation, "fallback": fallback,
            "language": language, "unknown_language": unknown,
            "dir": direction(translation.language), "page_dir": direction(language),
            "others": others, "related": related,
            "voted": voted, "counts": counts,
            "fallback_language": i18n.get_language_info(language)["name_translated"],
        })


def _related(request: HttpRequest, found: Article, language: str) -> list[tuple[str, str]]:
    """Other articles of the same section, then of the same category."""
    candidates = (
        readable_articles(request.user).exclude(pk=found.pk)
        .filter(section__category_id=found.section.category_id)
        .prefetch_related("translations")
    )
    ordered = sorted(candidates, key=lambda a: (a.section_id != found.section_id, a.position,
                                                a.slug))
    return [
        (_article_url(a), pick_translation(a, language)[0].title) for a in ordered[:RELATED]
    ]


@require_POST
def helpful(request: HttpRequest, slug: str) -> HttpResponse:
    found = get_article_for_reader(request.user, slug)
    answer = request.POST.get("answer")
    language, _unknown = _language(request)
    asked = request.POST.get("lang", "")
    known = {code for code, _name in settings.LANGUAGES}
    back = _article_url(found, asked if asked in known else "")
    if answer not in {"yes", "no"}:
        messages.error(request, _("Choose Yes or No."))
        return HttpResponseRedirect(back + "#helpful", status=303)
    if not request.session.session_key:
        request.session.save()
    actions.vote(found, str(request.session.session_key), answer == "yes", language)
    with i18n.override(language):
        messages.success(request, _("Thank you for your feedback."))
    return HttpResponseRedirect(back + "#helpful", status=303)


@require_GET
def suggestions(request: HttpRequest) -> HttpResponse:
    """The submit form's suggestions for the subject typed so far: an HTML fragment."""
    language, _unknown = _language(request)
    text = request.GET.get("q", "")[:200]
    token = request.GET.get("fs", "")
    with i18n.override(language):
        hits = suggest(text, language) if len(text.strip()) >= 3 else []
        return render(request, "kb/_suggestion_list.html", {
            "hits": hits, "token": token if actions.valid_token(token) else "",
            "query": text.strip(),
        })


@require_GET
def open_suggestion(request: HttpRequest, slug: str) -> HttpResponse:
    """A suggestion opened from the submit form: counted, then the article."""
    found = readable_articles(None).filter(slug=slug).first()
    if found is None:
        raise Http404("No such article.")
    actions.suggestion_opened(request.GET.get("fs", ""), found)
    lang = request.GET.get("lang", "")
    known = {code for code, _name in settings.LANGUAGES}
    return HttpResponseRedirect(_article_url(found, lang if lang in known else ""))


@require_POST
def form_event(request: HttpRequest) -> HttpResponse:
    """The submit form's script: "submitted" or "left" (sent as a beacon)."""
    event = request.POST.get("event", "")
    if event not in {"submitted", "left"}:
        return HttpResponseBadRequest("event must be submitted or left")
    actions.form_event(request.POST.get("token", ""), event)
    return HttpResponse(status=204)
