"""The agent's queue: which cases a view shows, in which order, one page at a time.

A page costs the same at 1,000 cases and at 1,000,000: no OFFSET and no COUNT(*) over the
table. Pages are keyset pages: the cursor holds the sort key of the last (or first) row
shown, and the next page is "the rows after that key", a range of an index the database
starts reading exactly there and stops after one page. Sort keys end with the Case ID, so
they are unique and a row is never skipped or shown twice between pages.

Why the queries are split by status: the views ask for several statuses at once (new,
open, pending, on hold). Neither SQLite nor PostgreSQL can read
`status IN (...) ORDER BY created_at` in order from the (status, created_at, id) index:
each status is a separate stretch of the index, so the database would collect every open
case and sort them all to return 25. One query per status (an "arm") reads its stretch in
order and stops after the page; merging four short sorted lists in Python is cheap
(PostgreSQL gets them in one UNION ALL). A view narrowed to one organization
is the exception: its own index finds its cases directly. A second query then fetches
the page's rows with their requester, organization and assignee.

"Breaching soon" is ordered by the SLA clocks' due times instead (see breaching_page).
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.db.models import (
    BooleanField,
    Exists,
    Expression,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from casedesk.accounts.models import Organization, User
from casedesk.core.rows import attach, marks, select
from casedesk.escalation.models import Escalation, Level
from casedesk.sla.display import zone_named
from casedesk.sla.models import Clock, Plan
from casedesk.tickets.models import Ticket

PAGE_SIZE = 25

StrOrPromise = str | Promise

VIEWS: dict[str, StrOrPromise] = {
    "mine": _("My cases"),
    "unassigned": _("Unassigned"),
    "team": _("My team"),
    "breaching": _("Breaching soon"),
    "escalated": _("Escalated"),
    "pending": _("Pending"),
    "open": _("All open"),
    "all": _("All cases"),
}
VIEW_NOTES: dict[str, StrOrPromise] = {
    "mine": _("Open cases assigned to you."),
    "unassigned": _("Open cases nobody has taken."),
    "team": _("Open cases at your teams' escalation levels, or assigned to a teammate."),
    "breaching": _("Open cases whose next SLA target is overdue or due within 4 hours, "
                   "soonest first."),
    "escalated": _("Open cases above the first escalation level."),
    "pending": _("Cases waiting on the customer: their SLA clocks are paused."),
    "open": _("Every case not yet resolved or closed."),
    "all": _("Every case, whatever its status."),
}
SORTS: dict[str, StrOrPromise] = {
    "newest": _("Newest first"),
    "priority": _("Priority, oldest first"),
}
# Each order ends with the Case ID (unique: the keyset is exact) and is served by an
# index that starts with status: (status, created_at, id) and (status, priority,
# created_at, id); without a status (the "all" view) by (created_at, id). Within one
# order every field runs the same way, so "after this row" is one row-value comparison
# the database turns into the start of an index range.
ORDERS: dict[str, tuple[str, ...]] = {
    "newest": ("-created_at", "-id"),
    "priority": ("priority", "created_at", "id"),
}
COLUMNS = (
    "id", "subject", "status", "priority", "created_at", "updated_at", "escalation_level",
    "organization_name_given", "requester", "requester__full_name", "requester__email",
    "organization", "organization__name", "assignee", "assignee__full_name",
    "assignee__email",
)
UNASSIGNED = "none"
# "Breaching soon": overdue, or due within this long.
BREACHING_WINDOW = timedelta(hours=4)


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
    plan: int | None = None
    category: int | None = None
    # A level number: cases assigned to a member of that level's team.
    team: int | None = None
    level: int | None = None
    channel: str = ""
    created_from: date | None = None
    created_to: date | None = None
    updated_from: date | None = None
    updated_to: date | None = None
    q: str = ""

    def fingerprint(self) -> str:
        """Everything that decides which rows a page holds and in which order: a cursor
        made under other criteria does not apply to these."""
        return "|".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self))


@dataclass(frozen=True)
class Page:
    tickets: list[Ticket]
    # The sort key after the last row / before the first, when there are rows that way.
    next_key: list[Any] | None
    previous_key: list[Any] | None


# ---------------------------------------------------------------- which cases


def statuses_for(criteria: Criteria) -> tuple[str, ...]:
    """The statuses a view lists; a status filter replaces the view's set."""
    if criteria.status:
        return (criteria.status,)
    if criteria.view == "all":
        return tuple(Ticket.Status.values)
    if criteria.view == "pending":
        return (str(Ticket.Status.PENDING),)
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


def team_condition(agent: User) -> Q:
    """"My team": open cases at the levels whose team the agent is on (that level's
    queue), or assigned to anyone on those teams (a teammate's case at another level).
    An agent on no team has no team cases."""
    # Subqueries, not lists read first: the page and each count need no extra round trip.
    levels = Level.objects.filter(team=agent).values("number")
    members = Level.team.through.objects.filter(level__number__in=levels).values("user_id")
    return Q(escalation_level__in=levels) | Q(assignee_id__in=members)


def day_start(day: date, agent: User) -> datetime:
    """Midnight starting `day` in the agent's time zone: date filters read as the agent's
    calendar days, not UTC's."""
    return datetime.combine(day, time.min, tzinfo=zone_named(agent.time_zone))


def filtered(agent: User, criteria: Criteria) -> QuerySet[Ticket]:
    """Every condition except status (the arms add that one each)."""
    tickets = Ticket.objects.all()
    assignee = assignee_of(agent, criteria)
    if assignee == UNASSIGNED:
        tickets = tickets.filter(assignee__isnull=True)
    elif assignee:
        tickets = tickets.filter(assignee_id=int(assignee))
    if criteria.view == "team":
        tickets = tickets.filter(team_condition(agent))
    if criteria.view == "escalated":
        tickets = tickets.filter(escalation_level__gt=1)
    if criteria.priority is not None:
        tickets = tickets.filter(priority=criteria.priority)
    if criteria.organization is not None:
        tickets = tickets.filter(organization_id=criteria.organization)
    if criteria.plan is not None:
        tickets = tickets.filter(plan_condition(criteria.plan))
    if criteria.category is not None:
        tickets = tickets.filter(category_id=criteria.category)
    if criteria.team is not None:
        members = Level.team.through.objects.filter(level__number=criteria.team)
        tickets = tickets.filter(assignee_id__in=members.values("user_id"))
    if criteria.level is not None:
        tickets = tickets.filter(escalation_level=criteria.level)
    if criteria.channel:
        tickets = tickets.filter(channel=criteria.channel)
    if criteria.created_from:
        tickets = tickets.filter(created_at__gte=day_start(criteria.created_from, agent))
    if criteria.created_to:
        tickets = tickets.filter(
            created_at__lt=day_start(criteria.created_to + timedelta(days=1), agent)
        )
    if criteria.updated_from:
        tickets = tickets.filter(updated_at__gte=day_start(criteria.updated_from, agent))
    if criteria.updated_to:
        tickets = tickets.filter(
            updated_at__lt=day_start(criteria.updated_to + timedelta(days=1), agent)
        )
    q = criteria.q.strip().lstrip("#")
    if q.isdigit() and len(q) <= 18:
        tickets = tickets.filter(pk=int(q))
    elif criteria.q.strip():
        tickets = tickets.filter(subject__icontains=criteria.q.strip())
    return tickets


def plan_condition(plan_id: int) -> Q:
    """Cases whose organization has the plan. The default plan also covers the cases it
    applies to by default: organizations without a plan, and cases without one."""
    orgs = Organization.objects.filter(plan_id=plan_id)
    default = Plan.default()
    if default is not None and default.pk == plan_id:
        orgs = Organization.objects.filter(Q(plan_id=plan_id) | Q(plan__isnull=True))
        return Q(organization_id__in=orgs.values("pk")) | Q(organization__isnull=True)
    return Q(organization_id__in=orgs.values("pk"))


def narrowed_to_one(agent: User, criteria: Criteria) -> bool:
    """One organization's cases: their own index, (organization, created_at), finds them
    directly, and sorting a few thousand rows is cheaper than walking each status's
    stretch looking for theirs (which reads every open case when they have none). One
    agent's cases keep their arms: (assignee, status, created_at, id) reads each status of
    theirs in order."""
    return bool(criteria.organization)


def in_view(agent: User, criteria: Criteria) -> QuerySet[Any]:
    """The Case IDs of the view with its filters, in one query (for counts)."""
    if criteria.view == "breaching":
        return breaching_clocks(breaching_narrow(agent, criteria)).values("ticket_id")
    return filtered(agent, criteria).filter(status__in=statuses_for(criteria)).values("pk")


def arms(agent: User, criteria: Criteria) -> list[QuerySet[Ticket]]:
    """One query per status, each readable in order from an index."""
    base = filtered(agent, criteria)
    statuses = statuses_for(criteria)
    if narrowed_to_one(agent, criteria):
        return [base.filter(status__in=statuses)]
    if set(statuses) == set(Ticket.Status.values) and criteria.sort == "newest":
        # Every status, newest first: the (created_at, id) index alone gives this order.
        return [base]
    return [base.filter(status=status) for status in statuses]


# ---------------------------------------------------------------- keyset pages


class RowCompare(Expression):
    """`(a, b, c) > (x, y, z)`: the rows after a key in the order (a, b, c).

    SQLite (3.15+) and PostgreSQL both compare row values and both start an index range
    scan at the key, where the equivalent `a > x OR (a = x AND ...)` makes them read from
    the start of the index and filter (Django's own tuple lookup falls back to that on
    SQLite).
    """

    output_field = BooleanField()
    conditional = True

    def __init__(self, names: Sequence[str], op: str, values: Sequence[Any]) -> None:
        super().__init__()
        if op not in ("<", ">") or len(names) != len(values):
            raise ValueError("A row comparison needs < or > and one value per column.")
        self.columns: list[Any] = [F(name) for name in names]
        self.op = op
        self.values = list(values)

    def get_source_expressions(self) -> list[Any]:
        return self.columns

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        self.columns = list(exprs)

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        parts, params = [], []
        for column in self.columns:
            sql, column_params = compiler.compile(column)
            parts.append(sql)
            params.extend(column_params)
        values = [
            column.output_field.get_db_prep_value(value, connection, prepared=False)
            for column, value in zip(self.columns, self.values, strict=True)
        ]
        return f"({', '.join(parts)}) {self.op} ({marks(len(values))})", [*params, *values]


def reverse_order(order: Sequence[str]) -> tuple[str, ...]:
    return tuple(name[1:] if name.startswith("-") else f"-{name}" for name in order)


def after(order: Sequence[str], key: Sequence[Any]) -> RowCompare:
    """The condition "comes after `key` in `order`" (all of order's fields run one way)."""
    names = [name.lstrip("-") for name in order]
    return RowCompare(names, "<" if order[0].startswith("-") else ">", key)


SortKey = tuple[Any, ...]


def _keys(query: QuerySet[Ticket], order: Sequence[str], stop: int) -> list[SortKey]:
    names = [name.lstrip("-") for name in order]
    return [tuple(row) for row in query.order_by(*order).values_list(*names)[:stop]]


def _union_keys(queries: list[QuerySet[Ticket]], order: Sequence[str],
                stop: int) -> list[SortKey]:
    names = [name.lstrip("-") for name in order]
    arms = [q.order_by(*order).values_list(*names)[:stop] for q in queries]
    return [tuple(row) for row in arms[0].union(*arms[1:], all=True)]


def window(queries: list[QuerySet[Ticket]], order: Sequence[str], stop: int) -> list[SortKey]:
    """The first `stop` sort keys of the arms together, in `order`."""
    if len(queries) == 1:
        return _keys(queries[0], order, stop)
    descending = order[0].startswith("-")
    if connection.features.supports_slicing_ordering_in_compound:
        # PostgreSQL runs the arms as one UNION ALL: one round trip instead of four.
        keys = _union_keys(queries, order, stop)
        keys.sort(reverse=descending)
        return keys[:stop]
    lists = [_keys(query, order, stop) for query in queries]
    return list(heapq.merge(*lists, reverse=descending))[:stop]


def rows_for(ids: list[int], criteria: Criteria) -> list[Ticket]:
    """The page's cases, in the order of `ids`, with what the table shows."""
    if criteria.view != "escalated":
        return _plain_rows(ids)
    latest = (
        Escalation.objects.filter(ticket=OuterRef("pk"))
        .order_by("-created_at").values("created_at")[:1]
    )
    found = (
        Ticket.objects.select_related("requester", "organization", "assignee").only(*COLUMNS)
        .annotate(escalated_at=Subquery(latest)).in_bulk(ids)
    )
    return [found[pk] for pk in ids if pk in found]


def _plain_rows(ids: list[int]) -> list[Ticket]:
    """rows_for without the escalated view's column: the cases, then their people and
    organizations, each a fixed statement (casedesk.core.rows). Compiling the ORM's query
    with its three joins cost more than running these three."""
    if not ids:
        return []
    found = {t.pk: t for t in select(Ticket, f"id IN ({marks(len(ids))})", ids)}
    cases = list(found.values())
    attach([(cases, "requester"), (cases, "assignee"), (cases, "organization")])
    return [found[pk] for pk in ids if pk in found]


def find_page(agent: User, criteria: Criteria, key: Sequence[Any] | None = None,
              backwards: bool = False, size: int | None = None) -> Page:
    """The cases after `key` (before it, `backwards`), or the first page without one.

    Fetches one row more than the page holds to know whether there is more that way.
    """
    size = size or PAGE_SIZE
    if criteria.view == "breaching":
        return breaching_page(agent, criteria, key, backwards, size)
    order = ORDERS[criteria.sort]
    walk = reverse_order(order) if backwards else order
    queries = arms(agent, criteria)
    if key is not None:
        queries = [query.filter(after(walk, key)) for query in queries]
    keys = window(queries, walk, size + 1)
    more = len(keys) > size
    keys = keys[:size]
    if backwards:
        keys.reverse()
    tickets = rows_for([k[-1] for k in keys], criteria)
    first, last = (list(keys[0]), list(keys[-1])) if keys else (None, None)
    if backwards:
        return Page(tickets, next_key=last, previous_key=first if more else None)
    return Page(tickets, next_key=last if more else None,
                previous_key=first if key is not None else None)


# ---------------------------------------------------------------- breaching soon


def breaching_clocks(narrow: QuerySet[Ticket] | None,
                     now: datetime | None = None) -> QuerySet[Clock]:
    """Each listed case's soonest running clock, if it is overdue or due within the window.

    A case has up to one live clock per kind; only the first of its running clocks (by due
    time, then id) stands for it, so a case is listed once, at its most urgent target.
    The running clocks come from the partial index on due_at (clock_running_due) in order;
    the check for an earlier clock of the same case reads the case's few clocks by its
    ticket index.
    """
    now = now or timezone.now()
    running = Q(met_at__isnull=True, cancelled_at__isnull=True, paused_at__isnull=True)
    earlier = Clock.objects.filter(running, ticket_id=OuterRef("ticket_id")).filter(
        Q(due_at__lt=OuterRef("due_at")) | Q(due_at=OuterRef("due_at"), pk__lt=OuterRef("pk"))
    )
    clocks = Clock.objects.filter(running, due_at__lte=now + BREACHING_WINDOW).filter(
        ~Exists(earlier)
    )
    if narrow is not None:
        clocks = clocks.filter(ticket__in=narrow)
    return clocks


def breaching_narrow(agent: User, criteria: Criteria) -> QuerySet[Ticket] | None:
    """The cases the clocks are limited to, or None for all: without filters the open
    statuses need no check, since a resolved or closed case has no running clock (the
    status change met or cancelled them)."""
    defaults = Criteria(view=criteria.view, sort=criteria.sort)
    if criteria == defaults and not assignee_of(agent, criteria):
        return None
    return filtered(agent, criteria).filter(status__in=statuses_for(criteria))


def breaching_page(agent: User, criteria: Criteria, key: Sequence[Any] | None,
                   backwards: bool, size: int) -> Page:
    """Open cases by their soonest running SLA due time, overdue first (the sort switch
    does not apply). Paused clocks (waiting on the customer) and cases without a running
    clock are not listed. The keyset is the standing clock's (due_at, id)."""
    clocks = breaching_clocks(breaching_narrow(agent, criteria))
    order = ("-due_at", "-pk") if backwards else ("due_at", "pk")
    if key is not None:
        clocks = clocks.filter(RowCompare(("due_at", "pk"), "<" if backwards else ">", key))
    rows = list(clocks.order_by(*order).values_list("ticket_id", "due_at", "pk")[:size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    tickets = rows_for([r[0] for r in rows], criteria)
    first, last = ([rows[0][1], rows[0][2]], [rows[-1][1], rows[-1][2]]) if rows else (None, None)
    if backwards:
        return Page(tickets, next_key=last, previous_key=first if more else None)
    return Page(tickets, next_key=last if more else None,
                previous_key=first if key is not None else None)
