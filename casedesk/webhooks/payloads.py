"""What a delivery says: `{id, type, created_at, data}` built from one history event.

`data.case` is the case as it stood when the event was fanned out (seconds after it
happened); the event's own details (what changed, the message, the escalation, the SLA
target) come from the event and are exactly as recorded.

Two audiences. A global subscription (an admin's own systems) gets everything, internal
notes and agents' addresses included. A subscription scoped to an organization gets what
that organization's portal shows and nothing more: its own cases only, never an internal
note, agents by first name (as the portal names the engineer), no escalation
acknowledgement targets (the support team's internal clock).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.urls import reverse

from casedesk.accounts.models import User
from casedesk.core.choices import PRIORITY_SLUGS
from casedesk.tickets.models import Event, Message, Ticket
from casedesk.webhooks.models import EventType

Kind = Event.Kind
TYPES: dict[str, str] = {
    Kind.CREATED: EventType.CASE_CREATED,
    Kind.STATUS: EventType.CASE_UPDATED,
    Kind.PRIORITY: EventType.CASE_UPDATED,
    Kind.ASSIGNEE: EventType.CASE_UPDATED,
    Kind.MERGED_INTO: EventType.CASE_UPDATED,
    Kind.REPLY: EventType.MESSAGE_CREATED,
    Kind.NOTE: EventType.MESSAGE_CREATED,
    Kind.ESCALATED: EventType.CASE_ESCALATED,
    Kind.SLA_WARNING: EventType.SLA_WARNING,
    Kind.SLA_BREACH: EventType.SLA_BREACHED,
}
# The event kinds the fan-out job reads; the rest of the history is not sent anywhere.
KINDS = list(TYPES)
# SLA clocks a customer never sees.
INTERNAL_CLOCKS = {"escalation_ack"}


def iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def priority_slug(value: Any) -> Any:
    return PRIORITY_SLUGS.get(value, value)


@dataclass
class Loaded:
    """The rows a batch of events refers to, read once for the batch."""

    tickets: dict[int, Ticket] = field(default_factory=dict)
    messages: dict[int, Message] = field(default_factory=dict)
    # Each new case's first message: its description.
    descriptions: dict[int, Message] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)  # by email (events record emails)

    def short_name(self, email: str | None) -> str | None:
        if email is None:
            return None
        user = self.users.get(email)
        return user.get_short_name() if user is not None else None


def load(events: list[Event]) -> Loaded:
    loaded = Loaded()
    loaded.tickets = Ticket.objects.select_related(
        "organization", "requester", "assignee", "category"
    ).in_bulk({e.ticket_id for e in events})
    message_ids = {e.data.get("message") for e in events if e.kind in (Kind.REPLY, Kind.NOTE)}
    loaded.messages = Message.objects.select_related("author").prefetch_related(
        "attachments").in_bulk({m for m in message_ids if isinstance(m, int)})
    created = {e.ticket_id for e in events if e.kind == Kind.CREATED}
    if created:
        for message in Message.objects.select_related("author").prefetch_related(
                "attachments").filter(ticket_id__in=created, kind=Message.Kind.PUBLIC
                                      ).order_by("ticket_id", "pk"):
            loaded.descriptions.setdefault(message.ticket_id, message)
    emails = set()
    for event in events:
        if event.kind == Kind.ASSIGNEE:
            emails |= {event.data.get("old"), event.data.get("new")}
        elif event.kind == Kind.ESCALATED:
            emails.add(event.data.get("assigned_to"))
    emails.discard(None)
    loaded.users = {u.email: u for u in User.objects.filter(email__in=emails)}
    return loaded


def event_type(event: Event) -> str | None:
    return TYPES.get(event.kind)


def visible_to_organization(event: Event) -> bool:
    if event.kind == Kind.NOTE:
        return False
    if event.kind in (Kind.SLA_WARNING, Kind.SLA_BREACH):
        return event.data.get("kind") not in INTERNAL_CLOCKS
    return True


def case_data(ticket: Ticket, *, scoped: bool) -> dict[str, Any]:
    assignee = ticket.assignee
    if scoped:
        url = settings.CASEDESK_BASE_URL + reverse("portal:case", args=[ticket.pk])
        assignee_value = assignee.get_short_name() if assignee else None
    else:
        url = settings.CASEDESK_BASE_URL + reverse("desk:case", args=[ticket.pk])
        assignee_value = assignee.email if assignee else None
    organization = ticket.organization
    return {
        "case_id": ticket.pk,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": priority_slug(ticket.priority),
        "category": ticket.category.name if ticket.category else None,
        "requester": ticket.requester.email,
        "organization": {"id": organization.pk, "name": organization.name}
        if organization else None,
        "assignee": assignee_value,
        "escalation_level": ticket.escalation_level,
        "channel": ticket.channel,
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at),
        "url": url,
    }


def message_data(message: Message, *, scoped: bool) -> dict[str, Any]:
    author = message.author
    is_agent = author.role == User.Role.AGENT
    return {
        "id": message.pk,
        "visibility": message.kind,
        "author": {
            "name": author.get_short_name() if scoped and is_agent else author.get_full_name(),
            "email": None if scoped and is_agent else author.email,
            "role": "agent" if is_agent else "contact",
        },
        "body": message.body,
        "channel": message.channel,
        "created_at": iso(message.created_at),
        "attachments": [
            {"id": a.pk, "filename": a.filename, "content_type": a.content_type, "size": a.size}
            for a in message.attachments.all()
        ],
    }


def _person(loaded: Loaded, email: str | None, *, scoped: bool) -> str | None:
    return loaded.short_name(email) if scoped else email


def details(event: Event, loaded: Loaded, *, scoped: bool) -> dict[str, Any]:
    """The event's own part of `data`."""
    data = event.data
    if event.kind == Kind.CREATED:
        first = loaded.descriptions.get(event.ticket_id)
        return {"message": message_data(first, scoped=scoped) if first else None}
    if event.kind == Kind.STATUS:
        return {"changes": {"status": {"old": data.get("old"), "new": data.get("new")}}}
    if event.kind == Kind.PRIORITY:
        return {"changes": {"priority": {"old": priority_slug(data.get("old")),
                                         "new": priority_slug(data.get("new"))}}}
    if event.kind == Kind.ASSIGNEE:
        return {"changes": {"assignee": {
            "old": _person(loaded, data.get("old"), scoped=scoped),
            "new": _person(loaded, data.get("new"), scoped=scoped)}}}
    if event.kind == Kind.MERGED_INTO:
        return {"changes": {"merged_into": {"old": None, "new": data.get("target")}}}
    if event.kind in (Kind.REPLY, Kind.NOTE):
        message = loaded.messages.get(data.get("message"))  # type: ignore[arg-type]
        return {"message": message_data(message, scoped=scoped) if message else None}
    if event.kind == Kind.ESCALATED:
        return {"escalation": {
            "from_level": data.get("from"), "to_level": data.get("to"),
            "source": data.get("source"), "reason": data.get("reason"),
            "assigned_to": _person(loaded, data.get("assigned_to"), scoped=scoped),
        }}
    # SLA warning or breach.
    return {"sla": {"target": data.get("kind"), "due_at": data.get("due_at")}}


def payload(event: Event, loaded: Loaded, *, scoped: bool) -> dict[str, Any] | None:
    """The body for one audience, or None when that audience may not see the event."""
    kind = event_type(event)
    ticket = loaded.tickets.get(event.ticket_id)
    if kind is None or ticket is None:
        return None
    if scoped and not visible_to_organization(event):
        return None
    return {
        "id": event.pk,
        "type": kind,
        "created_at": iso(event.created_at),
        "data": {"case": case_data(ticket, scoped=scoped), **details(event, loaded,
                                                                      scoped=scoped)},
    }
