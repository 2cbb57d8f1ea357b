"""Searching cases: the page of results the desk shows, each case with its highlighted
subject and requester and the snippet of the message that matches best."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import QuerySet
from django.db.models.functions import Left
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from casedesk.search.engine import PAGE_SIZE, Results, search
from casedesk.search.kinds import CASE
from casedesk.search.query import Query
from casedesk.search.snippets import Matcher, Passage, Snippet, best, highlight
from casedesk.tickets.models import Message, Ticket

# Enough of each message for a snippet; a very long email is not read whole for one.
PASSAGE_CHARS = 20_000


@dataclass(frozen=True)
class CaseHit:
    ticket: Ticket
    subject: SafeString
    requester: SafeString
    snippet: Snippet | None


@dataclass(frozen=True)
class CasePage:
    hits: list[CaseHit]
    results: Results


def passages(ticket_ids: list[int], *, include_notes: bool) -> dict[int, list[Passage]]:
    messages = Message.objects.filter(ticket_id__in=ticket_ids)
    if not include_notes:
        messages = messages.filter(kind=Message.Kind.PUBLIC)
    found: dict[int, list[Passage]] = defaultdict(list)
    for ticket_id, pk, kind, text in (
        messages.order_by("ticket_id", "created_at", "pk")
        .values_list("ticket_id", "pk", "kind", Left("body", PASSAGE_CHARS))
    ):
        label = gettext("Internal note") if kind == Message.Kind.INTERNAL else ""
        found[ticket_id].append(Passage(text=text, label=label, anchor=f"m{pk}"))
    return found


def find_cases(
    query: Query, *, page: int = 1, size: int = PAGE_SIZE,
    scope: QuerySet[Ticket] | None = None, include_notes: bool = True,
) -> CasePage:
    """One page of the cases that match `query` (within `scope`, when given), best first.

    Internal notes are searched and shown unless `include_notes` is False (a search made
    for customers). Three queries: the ranking, the page's cases, their messages.
    """
    results = search(
        CASE, query, page=page, size=size, scope=scope, include_notes=include_notes
    )
    tickets = (
        Ticket.objects.select_related("requester", "organization", "assignee")
        .in_bulk(results.ref_ids)
    )
    ids = [pk for pk in results.ref_ids if pk in tickets]
    texts = passages(ids, include_notes=include_notes)
    matcher = Matcher(query)
    hits = []
    for pk in ids:
        ticket = tickets[pk]
        requester = ticket.requester
        hits.append(CaseHit(
            ticket=ticket,
            subject=highlight(ticket.subject, matcher),
            requester=highlight(str(requester), matcher),
            snippet=best(texts.get(pk, []), matcher),
        ))
    return CasePage(hits=hits, results=results)
