"""The knowledge base in the agent desk: the list of articles (with votes, and for admins
the suggestion and deflection counts), writing an article with a preview, and the lookup
behind "insert an article link" on the case page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _

from casedesk.desk.access import agent_required
from casedesk.kb import deflection
from casedesk.kb.access import direction, pick_translation
from casedesk.kb.actions import ArticleError, save_article
from casedesk.kb.find import find_articles
from casedesk.kb.forms import ArticleForm, initial_for
from casedesk.kb.markdown import render as render_markdown
from casedesk.kb.models import SOURCE_LANGUAGE, Article
from casedesk.search.query import SearchError

LOOKUP_RESULTS = 8


@agent_required
def article_list(request: HttpRequest) -> HttpResponse:
    articles = list(
        Article.objects.select_related("section__category", "author")
        .prefetch_related("translations")
        .annotate(
            yes=Count("votes", filter=Q(votes__helpful=True), distinct=True),
            no=Count("votes", filter=Q(votes__helpful=False), distinct=True),
        )
    )
    is_admin = bool(getattr(request.user, "is_staff", False))
    per_article = deflection.per_article() if is_admin else {}
    rows = [
        {
            "article": a, "title": pick_translation(a, SOURCE_LANGUAGE)[0].title,
            "languages": sorted(t.language for t in a.translations.all()),
            "opened": per_article.get(a.pk, (0, 0))[0],
            "deflected": per_article.get(a.pk, (0, 0))[1],
        }
        for a in articles
    ]
    return render(request, "kb/desk_list.html", {
        "rows": rows, "is_admin": is_admin,
        "totals": deflection.totals() if is_admin else None,
        "window_minutes": int(deflection.WINDOW.total_seconds() // 60),
        "nav_view": "kb",
    })


@agent_required
def article_edit(request: HttpRequest, article_id: int | None = None) -> HttpResponse:
    article = get_object_or_404(Article, pk=article_id) if article_id else None
    previews: list[dict[str, Any]] = []
    if request.method == "POST":
        form = ArticleForm(request.POST)
        if form.is_valid():
            if "preview" in request.POST:
                previews = [
                    {"language": t.language, "title": t.title, "html": render_markdown(t.body),
                     "dir": direction(t.language)}
                    for t in form.texts() if t.title or t.body
                ]
            else:
                try:
                    saved = save_article(
                        by=request.user,  # type: ignore[arg-type]
                        section=form.cleaned_data["section"], texts=form.texts(),
                        status=form.cleaned_data["status"],
                        internal=form.cleaned_data["internal"],
                        slug=form.cleaned_data["slug"], article=article,
                    )
                except ArticleError as exc:
                    form.add_error(exc.field if exc.field in form.fields else None,
                                   exc.message)
                else:
                    messages.success(request, _("Article saved."))
                    return HttpResponseRedirect(
                        reverse("kb_desk:edit", args=[saved.pk]), status=303
                    )
    else:
        form = ArticleForm(initial=initial_for(article) if article else {
            "status": Article.Status.DRAFT})
    return render(request, "kb/desk_edit.html", {
        "form": form, "article": article, "previews": previews, "nav_view": "kb",
    })


@agent_required
def lookup(request: HttpRequest) -> JsonResponse:
    """Public published articles for the case page's "insert a link": the links go to
    customers, so internal articles and drafts are left out."""
    text = request.GET.get("q", "").strip()[:200]
    results: list[dict[str, str]] = []
    if len(text) >= 2:
        try:
            hits = find_articles(text, None, SOURCE_LANGUAGE, limit=LOOKUP_RESULTS)
        except SearchError as exc:
            return JsonResponse({"results": [], "error": str(exc)})
        # Searched as a visitor would (user None): public published articles only.
        for hit in hits:
            url = settings.CASEDESK_BASE_URL + hit.article.get_absolute_url()
            if hit.translation.language != SOURCE_LANGUAGE:
                url += f"?lang={hit.translation.language}"
            results.append({"title": hit.translation.title, "url": url,
                            "language": hit.translation.language})
    return JsonResponse({"results": results})
