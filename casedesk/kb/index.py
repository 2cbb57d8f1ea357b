"""Articles in the search index (casedesk.search): one Document per translation, of the
kind ARTICLE, keyed by the translation's id. The title ranks first, the section and
category titles and the body's headings next, the body last; the Arabic folding and the
engines (FTS5 on SQLite, tsvector on PostgreSQL) are the search app's, so articles are
found exactly as cases are.

casedesk.kb.actions calls index_article() in the transaction that saves an article, so an
article is searchable once committed and its old text is forgotten at the same moment.
"""

from __future__ import annotations

import re

from casedesk.kb.markdown import plain_text
from casedesk.kb.models import Article, Translation
from casedesk.search.index import MAX_FIELD
from casedesk.search.kinds import Kind
from casedesk.search.models import Document
from casedesk.search.normalize import index_text

# casedesk.search.kinds keeps code 2 for articles; a code is never reused.
ARTICLE = Kind("article", 2)
HEADING = re.compile(r"<h[1-6]>(.*?)</h[1-6]>", re.S)


def translation_document(translation: Translation, article: Article) -> Document:
    section = article.section
    language = translation.language
    places = f"{section.title_in(language)} {section.category.title_in(language)}"
    # The body's headings rank with the section and category, above the text.
    headings = " ".join(plain_text(h) for h in HEADING.findall(translation.html))
    return Document(
        id=ARTICLE.key(translation.pk), kind=ARTICLE.code, ref_id=translation.pk,
        title=index_text(translation.title), people=index_text(f"{places} {headings}"),
        body=index_text(plain_text(translation.html))[:MAX_FIELD], notes="",
    )


def index_article(article: Article) -> None:
    """Index the article's translations again. Call inside the transaction that changed
    it (a translation being deleted is forgotten first, by forget_translations)."""
    for translation in article.translations.all():
        document = translation_document(translation, article)
        Document.objects.update_or_create(
            pk=document.pk,
            defaults={f: getattr(document, f) for f in ("kind", "ref_id", "title", "people",
                                                       "body", "notes")},
        )


def forget_translations(translation_ids: list[int]) -> None:
    Document.objects.filter(pk__in=[ARTICLE.key(pk) for pk in translation_ids]).delete()


def rebuild_articles() -> int:
    """Index every article again; returns how many translations are indexed."""
    Document.objects.filter(kind=ARTICLE.code).delete()
    for article in Article.objects.select_related("section__category"):
        index_article(article)
    return Document.objects.filter(kind=ARTICLE.code).count()
