"""Running a search on SQLite (FTS5) or PostgreSQL (tsvector + GIN): one interface.

Ranking: by relevance (SQLite's bm25, PostgreSQL's ts_rank; a word in the title counts
most, then in the people, then in the messages), then newest first. Relevance is computed
over a window: the WINDOW newest documents that match. Every engine reads its index in
key order cheaply and stops after the window, so a word found in half a million cases
costs the same as one found in ten; ranking all half million would cost seconds, and an
agent who types a word that common finds the case among the recent ones or adds a word.
A rare word has fewer matches than the window, and all of them are ranked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from casedesk.search.kinds import KINDS, Kind
from casedesk.search.query import Query, Term

WINDOW = 1000
PAGE_SIZE = 25
# Title, people, public messages, internal notes.
SQLITE_WEIGHTS = "10.0, 5.0, 1.0, 1.0"
# ts_rank takes the weights of D, C, B, A: notes, messages, people, title.
PG_WEIGHTS = "{0.1, 0.1, 0.5, 1.0}"


@dataclass(frozen=True)
class Results:
    ref_ids: list[int]
    number: int
    has_previous: bool
    has_next: bool
    # The number of matches ranked, and whether there may be more than that (the window
    # was full): "1,000 or more".
    matched: int
    more: bool


def _fts5_term(term: Term) -> str:
    # Words are letters and digits only (casedesk.search.normalize), so quoting them is
    # enough: nothing a user types becomes FTS5 syntax.
    phrase = '"' + " ".join(term.words) + '"'
    return phrase + "*" if term.prefix else phrase


def fts5_expression(query: Query, *, include_notes: bool) -> str:
    expression = " AND ".join(_fts5_term(term) for term in query.terms)
    return expression if include_notes else f"{{title people body}} : ({expression})"


def _tsquery_term(term: Term, weights: str) -> str:
    parts = [f"'{word}'" for word in term.words]
    if term.prefix:
        parts[-1] += ":*"
    if weights:
        parts = [p + weights if p.endswith("*") else f"{p}:{weights}" for p in parts]
    return parts[0] if len(parts) == 1 else "(" + " <-> ".join(parts) + ")"


def tsquery_expression(query: Query, *, include_notes: bool) -> str:
    # Notes have weight D: leaving them out is matching A, B and C only.
    weights = "" if include_notes else "ABC"
    return " & ".join(_tsquery_term(term, weights) for term in query.terms)


def _scope_sql(scope: QuerySet | None, ref: str) -> tuple[str, list[Any]]:
    """`scope` as a condition on the document's thing, `ref`: EXISTS with the thing's
    primary key bound to the candidate, so each engine checks only the candidates it
    reaches (one primary-key lookup each) rather than first collecting the whole scope,
    which for "open cases" is most of the table."""
    if scope is None:
        return "", []
    # `ref` is one of this module's two constant column expressions.
    bound = scope.order_by().filter(pk=RawSQL(ref, ()))  # noqa: S611
    sql, params = bound.values("pk").query.sql_with_params()
    return f" AND EXISTS ({sql})", list(params)


def ranked(
    kind: Kind, query: Query, *, include_notes: bool = True, scope: QuerySet | None = None,
    window: int = WINDOW,
) -> list[int]:
    """Ids of the things of `kind` that match, best first (at most `window`).

    `scope`: a queryset of the kind's model; only things in it are found (the desk's
    filters). `include_notes=False` leaves internal notes out, for searches by customers.
    """
    if query.prefixes():
        # A prefix is expensive when the words it begins are common: both engines merge
        # every one of their lists (FTS5 beyond its three- and four-letter prefix indexes,
        # GIN always) before the newest can be taken. When the word as typed is itself
        # common enough to fill the window, the window is those matches, read lazily.
        exact = _ranked(kind, query.exact(), include_notes, scope, window)
        if len(exact) >= window:
            return exact
    return _ranked(kind, query, include_notes, scope, window)


def _ranked(
    kind: Kind, query: Query, include_notes: bool, scope: QuerySet | None, window: int
) -> list[int]:
    if connection.vendor == "postgresql":
        scope_sql, scope_params = _scope_sql(scope, "search_document.ref_id")
        # The inner query finds the newest matches: through the GIN index for a rare word,
        # or by walking the primary key backwards for a common one, whichever the planner
        # estimates cheaper. Ranking happens outside it, on the window's rows only.
        sql = (
            "SELECT ref_id FROM (SELECT id, ref_id, vector FROM search_document "  # noqa: S608
            "WHERE kind = %s AND vector @@ to_tsquery('simple', %s)" + scope_sql +
            " ORDER BY id DESC LIMIT %s) AS hits "
            f"ORDER BY ts_rank('{PG_WEIGHTS}', vector, to_tsquery('simple', %s)) DESC, id DESC"
        )
        expression = tsquery_expression(query, include_notes=include_notes)
        params: list[Any] = [kind.code, expression, *scope_params, window, expression]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [row[0] for row in cursor.fetchall()]
    scope_sql, scope_params = _scope_sql(scope, f"(search_fts.rowid / {KINDS})")
    # FTS5 yields matches in rowid order, descending here, without sorting; bm25 is
    # computed only for the rows the LIMIT lets through. Lower bm25 is better.
    sql = (
        f"SELECT search_fts.rowid / {KINDS}, bm25(search_fts, {SQLITE_WEIGHTS}) "  # noqa: S608
        f"FROM search_fts WHERE search_fts MATCH %s AND search_fts.rowid %% {KINDS} = %s"
        + scope_sql + " ORDER BY search_fts.rowid DESC LIMIT %s"
    )
    params = [fts5_expression(query, include_notes=include_notes), kind.code,
              *scope_params, window]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    # Python's sort is stable: equal scores keep the newest-first order.
    rows.sort(key=lambda row: row[1])
    return [row[0] for row in rows]


def search(
    kind: Kind, query: Query, *, page: int = 1, size: int = PAGE_SIZE,
    include_notes: bool = True, scope: QuerySet | None = None,
) -> Results:
    """One page of the things of `kind` that match `query`, best first."""
    found = ranked(kind, query, include_notes=include_notes, scope=scope)
    page = max(1, page)
    start = (page - 1) * size
    return Results(
        ref_ids=found[start:start + size], number=page, has_previous=page > 1,
        has_next=len(found) > start + size, matched=len(found), more=len(found) >= WINDOW,
    )
