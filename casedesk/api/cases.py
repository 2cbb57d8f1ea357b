"""Finding cases for a token and showing them: fetch-and-authorize (one answer, 404, for a
missing case and one the token may not see), merged cases' redirects, the case's shape
with its SLA block, and the list's filters and cursor pages."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from rest_framework import serializers
from rest_framework.request import Request

from casedesk.accounts.models import User
from casedesk.api.problems import Problem
from casedesk.api.serializers import PRIORITY_BY_SLUG, plan_by_slug
from casedesk.core.choices import PRIORITY_SLUGS
from casedesk.desk.queue import ORDERS, UNASSIGNED, Criteria, after, arms, filtered, window
from casedesk.search.engine import search
from casedesk.search.kinds import CASE
from casedesk.search.query import SearchError, parse
from casedesk.sla.models import Clock
from casedesk.tickets.access import (
    cases_visible_to_contact,
    get_case_for_agent,
    get_case_for_contact,
    resolve_merged,
)
from casedesk.tickets.models import Ticket

SLA_KINDS = (Clock.Kind.FIRST_RESPONSE, Clock.Kind.NEXT_RESPONSE, Clock.Kind.RESOLUTION)
DATE_FILTERS = ("created_from", "created_to", "updated_from", "updated_to")
AGENT_FILTERS = ("assignee", "organization", "plan", "category", "level", "channel", "sort",
                 *DATE_FILTERS)
CONTACT_ORDER = ("-created_at", "-id")


class Moved(Exception):
    """The case was merged: the same request belongs at `location` (308)."""

    def __init__(self, location: str, case_id: int) -> None:
        super().__init__(f"This case was merged into case {case_id}.")
        self.location = location
        self.case_id = case_id


def get_case(person: User, case_id: int | str) -> Ticket:
    if person.is_agent:
        return get_case_for_agent(person, case_id)
    return get_case_for_contact(person, case_id)


def case_for(person: User, case_id: int | str, url_name: str, **kwargs: Any) -> Ticket:
    """The case the token may see, or 404; a merged case's request is sent on (308) to the
    case it lives on now, when the token may see that one too (else 404, as the portal)."""
    ticket = get_case(person, case_id)
    if ticket.merged_into_id is not None:
        survivor = get_case(person, resolve_merged(ticket.pk) or ticket.pk)
        if survivor.pk != ticket.pk:
            raise Moved(reverse(url_name, kwargs={"case_id": survivor.pk, **kwargs}),
                        survivor.pk)
    return ticket


# ---------------------------------------------------------------- the case's shape


def iso(value: Any) -> str | None:
    return serializers.DateTimeField().to_representation(value) if value else None


def sla_blocks(ticket_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Each case's latest clock of each target, in one query."""
    blocks: dict[int, dict[str, Any]] = {
        pk: {str(kind): None for kind in SLA_KINDS} for pk in ticket_ids
    }
    rows = (
        Clock.objects.filter(ticket_id__in=ticket_ids, kind__in=SLA_KINDS)
        .order_by("ticket_id", "kind", "started_at", "pk")
        .values_list("ticket_id", "kind", "due_at", "met_at", "breached_at", "paused_at",
                     "cancelled_at")
    )
    for ticket_id, kind, due, met, breached, paused, cancelled in rows:
        blocks[ticket_id][kind] = {
            "due_at": iso(due), "met_at": iso(met), "breached_at": iso(breached),
            "paused": paused is not None and met is None and cancelled is None,
        }
    return blocks


def case_data(ticket: Ticket, sla: dict[str, Any]) -> dict[str, Any]:
    return {
        "case_id": ticket.pk,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": PRIORITY_SLUGS.get(ticket.priority, "medium"),
        "category": ticket.category.name if ticket.category_id and ticket.category else None,
        "requester": ticket.requester.email,
        "organization": ticket.organization_id,
        "assignee": ticket.assignee.email if ticket.assignee_id and ticket.assignee else None,
        "escalation_level": ticket.escalation_level,
        "channel": ticket.channel,
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at),
        "merged_into": ticket.merged_into_id,
        "sla": sla,
    }


def cases_data(ids: list[int]) -> list[dict[str, Any]]:
    """The cases, in the order of `ids`: two queries whatever their number."""
    found = Ticket.objects.select_related(
        "requester", "organization", "assignee", "category"
    ).in_bulk(ids)
    blocks = sla_blocks([pk for pk in ids if pk in found])
    return [case_data(found[pk], blocks[pk]) for pk in ids if pk in found]


def one_case(ticket_id: int) -> dict[str, Any]:
    return cases_data([ticket_id])[0]


# ---------------------------------------------------------------- the list


def _date(raw: str, name: str, errors: dict[str, list[str]]) -> date | None:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = ["A date, YYYY-MM-DD."]
        return None


def _number(raw: str, name: str, errors: dict[str, list[str]]) -> int | None:
    if raw.isdigit() and len(raw) <= 9:
        return int(raw)
    errors[name] = ["A whole number."]
    return None


def agent_criteria(agent: User, params: Any) -> Criteria:
    """The desk's filters, read from the query string (unknown values are errors)."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {"view": "all"}
    status = params.get("status", "")
    if status == "open":
        values["view"] = "open"
    elif status in Ticket.Status.values:
        values["status"] = status
    elif status:
        errors["status"] = [f"One of open, {', '.join(Ticket.Status.values)}."]
    priority = params.get("priority", "")
    if priority:
        if priority in PRIORITY_BY_SLUG:
            values["priority"] = PRIORITY_BY_SLUG[priority]
        else:
            errors["priority"] = [f"One of {', '.join(PRIORITY_BY_SLUG)}."]
    assignee = params.get("assignee", "").strip().lower()
    if assignee == "none":
        values["assignee"] = UNASSIGNED
    elif assignee == "me":
        values["assignee"] = str(agent.pk)
    elif assignee:
        found = User.objects.filter(email=assignee, role=User.Role.AGENT).first()
        if found is None:
            errors["assignee"] = ["An agent's email address, me, or none."]
        else:
            values["assignee"] = str(found.pk)
    for name in ("organization", "category", "level"):
        if raw := params.get(name, ""):
            values[name] = _number(raw, name, errors)
    if raw := params.get("plan", ""):
        try:
            values["plan"] = plan_by_slug(raw.strip().lower()).pk
        except serializers.ValidationError as exc:
            errors["plan"] = [str(exc.detail[0])]  # type: ignore[index]
    channel = params.get("channel", "")
    if channel:
        if channel in Ticket.Channel.values:
            values["channel"] = channel
        else:
            errors["channel"] = [f"One of {', '.join(Ticket.Channel.values)}."]
    sort = params.get("sort", "")
    if sort:
        if sort in ORDERS:
            values["sort"] = sort
        else:
            errors["sort"] = [f"One of {', '.join(ORDERS)}."]
    for name in DATE_FILTERS:
        if raw := params.get(name, ""):
            values[name] = _date(raw, name, errors)
    if errors:
        raise serializers.ValidationError(errors)
    return Criteria(**values)


def contact_filters(params: Any, cases: QuerySet[Ticket]) -> QuerySet[Ticket]:
    errors: dict[str, list[str]] = {}
    for name in AGENT_FILTERS:
        if params.get(name):
            errors[name] = ["This filter is for agent tokens."]
    status = params.get("status", "")
    if status == "open":
        cases = cases.filter(status__in=Ticket.OPEN_STATUSES)
    elif status in Ticket.Status.values:
        cases = cases.filter(status=status)
    elif status:
        errors["status"] = [f"One of open, {', '.join(Ticket.Status.values)}."]
    priority = params.get("priority", "")
    if priority in PRIORITY_BY_SLUG:
        cases = cases.filter(priority=PRIORITY_BY_SLUG[priority])
    elif priority:
        errors["priority"] = [f"One of {', '.join(PRIORITY_BY_SLUG)}."]
    if errors:
        raise serializers.ValidationError(errors)
    return cases


def search_page(
    request: Request, text: str, scope: QuerySet[Ticket], include_notes: bool, size: int,
    page: int,
) -> tuple[list[int], bool]:
    """A page of the full-text search (casedesk.search: the desk's index and ranking)."""
    try:
        query = parse(text)
    except SearchError as exc:
        raise serializers.ValidationError({"q": [str(exc)]}) from None
    if not query.terms:
        raise serializers.ValidationError({"q": ["Type words to search for."]})
    results = search(CASE, query, page=page, size=size, scope=scope, include_notes=include_notes)
    return results.ref_ids, results.has_next


def agent_page(agent: User, criteria: Criteria, key: list[Any] | None,
               size: int) -> tuple[list[int], list[Any] | None]:
    """The desk queue's keyset page (casedesk.desk.queue): the same indexes, any size."""
    order = ORDERS[criteria.sort]
    queries = arms(agent, criteria)
    if key is not None:
        queries = [query.filter(after(order, key)) for query in queries]
    keys = window(queries, order, size + 1)
    more = len(keys) > size
    keys = keys[:size]
    return [k[-1] for k in keys], list(keys[-1]) if more and keys else None


def contact_page(cases: QuerySet[Ticket], key: list[Any] | None,
                 size: int) -> tuple[list[int], list[Any] | None]:
    if key is not None:
        cases = cases.filter(after(CONTACT_ORDER, key))
    keys = list(cases.order_by(*CONTACT_ORDER).values_list("created_at", "id")[:size + 1])
    more = len(keys) > size
    keys = keys[:size]
    return [k[1] for k in keys], list(keys[-1]) if more and keys else None


def search_scope(agent: User, criteria: Criteria) -> QuerySet[Ticket]:
    from casedesk.desk.queue import statuses_for

    return filtered(agent, criteria).filter(status__in=statuses_for(criteria))


def visible_cases(contact: User) -> QuerySet[Ticket]:
    return cases_visible_to_contact(contact)


def bad_cursor() -> Problem:
    return Problem(400, "This cursor was made for another list.",
                   errors=[{"field": "cursor", "message": "Made for another list."}])
