"""Finding articles: the public search page (every word must match, as in the desk's case
search) and the submit form's suggestions (any word may match, rarer words weigh more),
both on the search app's engines, query parser and snippets."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet
from django.utils.safestring import SafeString

from casedesk.kb.access import is_agent
from casedesk.kb.index import ARTICLE
from casedesk.kb.markdown import plain_text
from casedesk.kb.models import Article, Translation
from casedesk.search.engine import ranked
from casedesk.search.models import Document
from casedesk.search.query import Query, Term, parse
from casedesk.search.snippets import Matcher, Passage, best, highlight

RESULTS = 25
SUGGESTIONS = 5


@dataclass(frozen=True)
class ArticleHit:
    article: Article
    translation: Translation
    title: SafeString
    snippet: SafeString | None


def scope(user: Any = None, *, public_only: bool = False,
          drafts: bool = False) -> QuerySet[Translation]:
    """The translations a search may find: of published articles, internal ones only for
    agents (and never for suggestions, which are for requesters); `drafts` adds an
    agent's drafts (the API's list, like the desk's)."""
    found = Translation.objects.all()
    if not (drafts and is_agent(user) and not public_only):
        found = found.filter(article__status=Article.Status.PUBLISHED)
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
    """Public articles for a subject being typed: any of its words may match. A word
    counts by how rare it is among the articles of the language it matched in (a word in
    most of them, such as "the", counts for nothing once there are a few articles), three
    times as much in the title and twice in a heading or the section's name."""
    try:
        query = parse(text)
    except ValueError:
        return []
    found_in = scope(public_only=True)
    per_language = dict(
        found_in.values("language").annotate(n=Count("pk")).values_list("language", "n")
    )
    if not per_language:
        return []
    languages = dict(found_in.values_list("pk", "language"))
    titles = {
        ref: (title.split(), people.split()) for ref, title, people in
        Document.objects.filter(kind=ARTICLE.code, ref_id__in=list(languages))
        .values_list("ref_id", "title", "people")
    }
    scores: dict[int, float] = defaultdict(float)
    for term in query.terms:
        ids = ranked(ARTICLE, Query(text, (term,)), scope=found_in, window=200)
        df: Counter[str] = Counter(languages.get(pk, "") for pk in ids)
        for position, pk in enumerate(ids):
            total, count = per_language.get(languages.get(pk, ""), 0), df[languages.get(pk, "")]
            if not total or (total >= 4 and count * 2 > total):
                continue
            title, headings = titles.get(pk, ([], []))
            where = 3 if _has(term, title) else 2 if _has(term, headings) else 1
            # The engine's order (bm25, ts_rank) breaks ties between equal counts.
            scores[pk] += math.log(1 + total / count) * where * (1 + 1 / (position + 10))
    # Stable: equal scores keep the order the engine ranked them in.
    best_first = sorted(scores, key=lambda pk: -scores[pk])
    return _hits(best_first, query, language, limit)


def _has(term: Term, words: list[str]) -> bool:
    """Whether the term's words are among `words` (normalized; the last as a prefix when
    the term is one)."""
    if term.prefix:
        return all(w in words for w in term.words[:-1]) and any(
            w.startswith(term.words[-1]) for w in words)
    return all(w in words for w in term.words)
