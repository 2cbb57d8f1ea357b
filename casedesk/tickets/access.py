"""Fetch-and-authorize, one function per audience. Anything a person may not see answers
exactly like something that does not exist (Http404), so Case IDs cannot be probed."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from casedesk.accounts.models import User
from casedesk.core import rows
from casedesk.tickets.models import Attachment, Ticket


def parse_case_id(raw: str | int) -> int:
    """A Case ID from a URL or a form: digits only, or 404."""
    text = str(raw).strip().lstrip("#")
    if not text.isdigit() or len(text) > 18:
        raise Http404("A Case ID is a number.")
    return int(text)


def cases_visible_to_contact(user: User) -> QuerySet[Ticket]:
    """The contact's own cases, plus their organization's when they may see those."""
    if not user.is_authenticated or not user.is_active:
        return Ticket.objects.none()
    if user.sees_organization_cases():
        return Ticket.objects.filter(
            Q(organization_id=user.organization_id) | Q(requester=user)
        )
    return Ticket.objects.filter(requester=user)


def get_case_for_contact(user: User, case_id: str | int) -> Ticket:
    ticket = (
        cases_visible_to_contact(user)
        .select_related("requester", "organization", "category", "assignee")
        .filter(pk=parse_case_id(case_id))
        .first()
    )
    if ticket is None:
        raise Http404("No such case.")
    return ticket


def get_case_for_agent(user: User, case_id: str | int) -> Ticket:
    if not user.is_authenticated or not user.is_agent:
        raise Http404("No such case.")
    # Fixed statements (casedesk.core.rows): every desk page of a case starts here, and
    # compiling the ORM's four joins cost more than running the reads.
    found = rows.select(Ticket, "id = %s", [parse_case_id(case_id)])
    if not found:
        raise Http404("No such case.")
    rows.attach([(found, "requester"), (found, "organization"), (found, "category"),
                 (found, "assignee")])
    return found[0]


# Longer than any real chain (each merge adds one link, and a merged case cannot take
# more); the bound only guards the loop.
MAX_MERGE_HOPS = 20


def resolve_merged(ticket_id: int) -> int | None:
    """The Case ID a case lives on now: itself, or the end of its merge chain (a case
    merged into one that was later merged again); None when there is no such case.
    No authorization: callers check the surviving case like any other."""
    current = ticket_id
    for _ in range(MAX_MERGE_HOPS):
        found = list(
            Ticket.objects.filter(pk=current).values_list("merged_into_id", flat=True)
        )
        if not found:
            return None
        if found[0] is None:
            return current
        current = found[0]
    return current


def get_attachment(ticket: Ticket, attachment_id: int, *, public_only: bool) -> Attachment:
    """An attachment of this case; for customers, only one on a public message."""
    attachments = Attachment.objects.filter(ticket=ticket, pk=attachment_id)
    if public_only:
        attachments = attachments.filter(message__kind="public")
    attachment = attachments.first()
    if attachment is None:
        raise Http404("No such file.")
    return attachment
