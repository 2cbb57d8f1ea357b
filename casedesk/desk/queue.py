"""The agent's queue: which cases a view shows, in which order, one page at a time.

A page costs the same at 100 cases and at 100,000: no COUNT(*) over the table, and every
query walks an index in the order the page needs and stops after the rows it shows.

Why the queries are split by status: the default views ask for several statuses at once
(new, open, pending, on hold). Neither SQLite nor PostgreSQL can read
`status IN (...) ORDER BY created_at` in order from the (status, created_at) index: each
status is a separate stretch of the index, so the database collects every open case and
sorts them all to return 25 (13 ms at 8,000 open cases, 130 ms at 100,000 on SQLite). One
query per status (an "arm") reads its stretch in order and stops after the page; merging
four or six short sorted lists in Python is cheap (PostgreSQL gets them in one UNION ALL).
A view narrowed to one agent or one organization is the exception: their own index finds
their cases directly. A second query then fetches the page's rows with their requester,
organization and assignee.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import F, OuterRef, QuerySet, Subquery

from casedesk.accounts.models import User
from casedesk.escalation.models import Escalation
from casedesk.sla.display import breaching_ids
from casedesk.tickets.models import Ticket

PAGE_SIZE = 25

VIEWS: dict[str, str] = {
    "open": "Open cases",
    "mine": "My open cases",
    "unassigned": "Unassigned open cases",
    "all": "All cases",
    "escalated": "Escalated open cases",
    "breaching": "Breaching soon",
}
SORTS: dict[str, str] = {
    "newest": "Newest first",
    "priority": "Priority, oldest first",
}
# Each order is served by an index that starts with status: (status, -created_at) and
# (status, priority, created_at). Without a status (the "all" view) the (-created_at)
# index serves the newest-first order. There is no tie-breaker on id: the indexes do not
# hold it, so adding one makes the database sort again; created_at has microseconds, and
# rows with equal times come back in the index's own stable order.
ORDERS: dict[str, tuple[str, ...]] = {
    "newest": ("-created_at",),
    "priority": ("priority", "created_at"),
}
COLUMNS = (
    "id", "subject", "status", "priority", "created_at", "updated_at",
    "organization_name_given", "requester", "requester__full_name", "requester__email",
    "organization", "organization__name", "assignee", "assignee__full_name",
    "assignee__email",
)
UNASSIGNED = "none"


@dataclass(frozen=True)
class Criteria:
    """What an agent asked to see. Filters left empty fall back to the view's defaults."""

    view: str = "open"
    sort: str = "newest"
    status: str = ""
    priority: int | None = None
    # "" for anyone, UNASSIGNED, or an agent's id.
    assignee: str = ""
    organization: int | None = None
    q: str = ""


@dataclass(frozen=True)
class Page:
    tickets: list[Ticket]
    number: int
    has_previous: bool
    has_next: bool


def statuses_for(criteria: Criteria) -> tuple[str, ...]:
    """The statuses a view lists; a status filter replaces the view's set."""
    if criteria.status:
        return (criteria.status,)
    if criteria.view == "all":
        return tuple(Ticket.Status.values)
    return tuple(str(s) for s in Ticket.OPEN_STATUSES)


def assignee_of(agent: User, criteria: Criteria) -> str:
    """"" for anyone, UNASSIGNED, or an agent's id: the filter, else the view's."""
    if criteria.assignee:
        return criteria.assignee
    if criteria.view == "mine":
        return str(agent.pk)
    if criteria.view == "unassigned":
        return UNASSIGNED
    return ""


def filtered(agent: User, criteria: Criteria) -> QuerySet[Ticket]:
    """Every condition except status (the arms add that one each)."""
    tickets = Ticket.objects.all()
    assignee = assignee_of(agent, criteria)
    if assignee == UNASSIGNED:
        tickets = tickets.filter(assignee__isnull=True)
    elif assignee:
        tickets = tickets.filter(assignee_id=int(assignee))
    if criteria.priority is not None:
        tickets = tickets.filter(priority=criteria.priority)
    if criteria.organization is not None:
        tickets = tickets.filter(organization_id=criteria.organization)
    q = criteria.q.strip().lstrip("#")
    if q.isdigit() and len(q) <= 18:
        tickets = tickets.filter(pk=int(q))
    elif criteria.q.strip():
        tickets = tickets.filter(subject__icontains=criteria.q.strip())
    return tickets


def arms(agent: User, criteria: Criteria) -> list[QuerySet[Ticket]]:
    """One query per status, each readable in order from an index."""
    base = filtered(agent, criteria)
    statuses = statuses_for(criteria)
    if assignee_of(agent, criteria) not in ("", UNASSIGNED) or criteria.organization:
        # One agent's or one organization's cases: their own index, (assignee, status)
        # or (organization, created_at), finds them directly, and sorting a few hundred
        # rows is cheaper than walking each status's stretch looking for theirs (which
        # reads every open case when they have none).
        return [base.filter(status__in=statuses)]
    if set(statuses) == set(Ticket.Status.values) and criteria.sort == "newest":
        # Every status, newest first: the (-created_at) index alone gives this order.
        return [base]
    return [base.filter(status=status) for status in statuses]


SortKey = tuple[Any, ...]


def _keys(query: QuerySet[Ticket], order: Sequence[str], start: int,
          stop: int) -> list[tuple[int, SortKey]]:
    fields = [name.lstrip("-") for name in order]
    rows = query.order_by(*order).values_list("pk", *fields)[start:stop]
    return [(row[0], tuple(row[1:])) for row in rows]


def _union_keys(queries: list[QuerySet[Ticket]], order: Sequence[str],
                stop: int) -> list[tuple[int, SortKey]]:
    fields = [name.lstrip("-") for name in order]
    arms = [q.order_by(*order).values_list("pk", *fields)[:stop] for q in queries]
    return [(row[0], tuple(row[1:])) for row in arms[0].union(*arms[1:], all=True)]


def find_page(agent: User, criteria: Criteria, number: int = 1,
              size: int | None = None) -> Page:
    """The cases on page `number` (from 1), and whether there are pages around it.

    Fetches one row more than the page holds to know whether a next page exists.
    """
    size = size or PAGE_SIZE
    number = max(1, number)
    offset = (number - 1) * size
    if criteria.view == "escalated":
        return escalated_page(agent, criteria, number, size)
    if criteria.view == "breaching":
        return breaching_page(agent, criteria, number, size)
    order = ORDERS[criteria.sort]
    wanted = offset + size + 1
    queries = arms(agent, criteria)
    if len(queries) == 1:
        # One index range in the right order: the database skips the earlier pages.
        window = _keys(queries[0], order, offset, wanted)
    else:
        # Each arm must supply everything up to the end of this page, since any of them
        # may hold all of it; deep pages cost more, the first pages stay cheap.
        newest_first = order[0].startswith("-")
        if connection.features.supports_slicing_ordering_in_compound:
            # PostgreSQL runs the arms as one UNION ALL: one round trip instead of four.
            keys = _union_keys(queries, order, wanted)
            keys.sort(key=lambda item: item[1], reverse=newest_first)
            window = keys[offset:wanted]
        else:
            lists = [_keys(query, order, 0, wanted) for query in queries]
            merged = heapq.merge(*lists, key=lambda item: item[1], reverse=newest_first)
            window = list(merged)[offset:wanted]
    ids = [pk for pk, _ in window[:size]]
    rows = (
        Ticket.objects.select_related("requester", "organization", "assignee")
        .only(*COLUMNS)
        .in_bulk(ids)
    )
    return Page(
        tickets=[rows[pk] for pk in ids if pk in rows],
        number=number,
        has_previous=number > 1,
        has_next=len(window) > size,
    )


def escalated_page(agent: User, criteria: Criteria, number: int, size: int) -> Page:
    """Open cases above the first level, the most recently escalated first.

    The partial index on tickets above level 1 (ticket_escalated) finds them without
    reading the cases that were never escalated; each one's latest escalation comes from
    the (ticket, created_at) index of escalations. Escalated open cases are few, so sorting
    them all costs little, and the sort switch does not apply here.
    """
    latest = (
        Escalation.objects.filter(ticket=OuterRef("pk"))
        .order_by("-created_at").values("created_at")[:1]
    )
    offset = (number - 1) * size
    rows: list[Ticket] = list(
        filtered(agent, criteria)
        .filter(escalation_level__gt=1, status__in=statuses_for(criteria))
        .select_related("requester", "organization", "assignee")
        .only(*COLUMNS, "escalation_level")
        .annotate(escalated_at=Subquery(latest))
        .order_by(F("escalated_at").desc(nulls_last=True), "-pk")[offset:offset + size + 1]
    )
    return Page(
        tickets=rows[:size], number=number, has_previous=number > 1,
        has_next=len(rows) > size,
    )


def breaching_page(agent: User, criteria: Criteria, number: int, size: int) -> Page:
    """Open cases by their soonest running SLA due time, overdue first (the sort switch
    does not apply). The order comes from the SLA clocks' due-time index; paused clocks
    (waiting on the customer) and cases without a running clock are not listed."""
    narrowed = bool(
        criteria.status or criteria.priority is not None or criteria.organization
        or assignee_of(agent, criteria) or criteria.q.strip()
    )
    narrow = filtered(agent, criteria).filter(status__in=statuses_for(criteria))
    offset = (number - 1) * size
    ids = breaching_ids(narrow if narrowed else None, offset, size + 1)
    rows = (
        Ticket.objects.select_related("requester", "organization", "assignee")
        .only(*COLUMNS).in_bulk(ids[:size])
    )
    return Page(
        tickets=[rows[pk] for pk in ids[:size] if pk in rows], number=number,
        has_previous=number > 1, has_next=len(ids) > size,
    )
