"""Finding articles: the public search page (every word must match, as in the desk's case
search) and the submit form's suggestions (any word may match, rarer words weigh more),
both on the search app's engines, query parser and snippets."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.safestring import SafeString

from casedesk.kb.access import is_agent
from casedesk.kb.index import ARTICLE
from casedesk.kb.markdown import plain_text
from casedesk.kb.models import Article, Translation
from casedesk.search.engine import ranked
from casedesk.search.query import Query, parse
from casedesk.search.snippets import Matcher, Passage, best, highlight

RESULTS = 25
SUGGESTIONS = 5


@dataclass(frozen=True)
class ArticleHit:
    article: Article
    translation: Translation
    title: SafeString
    snippet: SafeString | None


def scope(user: Any = None, *, public_only: bool = False) -> QuerySet[Translation]:
    """The translations a search may find: of published articles, internal ones only for
    agents (and never for suggestions, which are for requesters)."""
    found = Translation.objects.filter(article__status=Article.Status.PUBLISHED)
    if public_only or not is_agent(user):
        found = found.filter(article__internal=False)
    return found


def _hits(ids: list[int], query: Query, language: str, limit: int) -> list[ArticleHit]:
    """One hit per article, in the order of `ids` (translation ids, best first): the
    reader's language version when it matched too, else the one that matched."""
    translations = Translation.objects.select_related("article").in_bulk(ids)
    chosen: dict[int, Translation] = {}
    order: list[int] = []
    for pk in ids:
        found = translations.get(pk)
        if found is None:
            continue
        if found.article_id not in chosen:
            chosen[found.article_id] = found
            order.append(found.article_id)
        elif found.language == language:
            chosen[found.article_id] = found
    matcher = Matcher(query)
    hits = []
    for article_id in order[:limit]:
        found = chosen[article_id]
        snippet = best([Passage(text=plain_text(found.html))], matcher)
        hits.append(ArticleHit(
            article=found.article, translation=found, title=highlight(found.title, matcher),
            snippet=snippet.html if snippet else None,
        ))
    return hits


def find_articles(text: str, user: Any, language: str, limit: int = RESULTS) -> list[ArticleHit]:
    """Articles with every word of `text`, best first. Raises SearchError for a search
    that cannot run (its message says why)."""
    query = parse(text)
    return _hits(ranked(ARTICLE, query, scope=scope(user)), query, language, limit)


def suggest(text: str, language: str, limit: int = SUGGESTIONS) -> list[ArticleHit]:
    """Public articles for a subject being typed: any of its words may match; each word
    counts by how rare it is among the articles (a word in most of them, such as "the",
    counts for nothing), and a word in the title counts more (the engine's own rank)."""
    try:
        query = parse(text)
    except ValueError:
        return []
    found_in = scope(public_only=True)
    total = found_in.count()
    if not total:
        return []
    scores: dict[int, float] = defaultdict(float)
    for term in query.terms:
        ids = ranked(ARTICLE, Query(text, (term,)), scope=found_in, window=200)
        if not ids or len(ids) * 2 > total >= 4:
            continue
        weight = math.log(1 + total / len(ids))
        for position, pk in enumerate(ids):
            scores[pk] += weight * (1 + 1 / (position + 2))
    best_first = sorted(scores, key=lambda pk: -scores[pk])
    return _hits(best_first, query, language, limit)
