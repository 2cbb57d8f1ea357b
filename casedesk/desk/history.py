"""A case's events as sentences an agent reads at a glance."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from casedesk.accounts.models import User
from casedesk.core.choices import Priority
from casedesk.sla.display import event_sentence
from casedesk.tickets.models import Event, Ticket

REASONS = {
    "customer_reply": "when the customer replied",
    "closed_by_customer": "from the portal",
    "reopened_by_customer": "from the portal",
    "merged": "when the case was merged",
}

# How an escalation came in, as the end of a sentence.
SOURCES = {
    "portal": " from the portal",
    "phone": " after a phone call",
    "agent": "",
    "sla": " on an SLA breach",
}


@dataclass(frozen=True)
class Line:
    at: datetime
    text: str
    kind: str


def _label(choices: Any, value: Any) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def describe(events: Iterable[Event]) -> list[Line]:
    """One sentence per event, oldest first. Events must come with their actor loaded."""
    events = list(events)
    # Assignee events keep email addresses (names change; the address identifies the
    # agent); show today's names with one query for the whole history.
    emails = {
        value
        for event in events if event.kind == Event.Kind.ASSIGNEE
        for value in (event.data.get("old"), event.data.get("new")) if value
    }
    names = dict(
        User.objects.filter(email__in=emails).values_list("email", "full_name")
    ) if emails else {}
    return [Line(e.created_at, sentence(e, names), e.kind) for e in events]


def sentence(event: Event, names: dict[str, str]) -> str:
    who = event.actor.get_full_name() if event.actor else "casedesk"
    data = event.data or {}
    kind = event.kind
    if kind == Event.Kind.CREATED:
        channel = _label(Ticket.Channel, data.get("channel", "portal")).lower()
        files = data.get("attachments") or 0
        extra = f" with {_plural(files, 'attachment')}" if files else ""
        return f"{who} created the case via {channel}{extra}"
    if kind == Event.Kind.STATUS:
        old = _label(Ticket.Status, data.get("old"))
        new = _label(Ticket.Status, data.get("new"))
        reason = REASONS.get(data.get("reason", ""), "")
        return f"Status: {old} → {new} by {who}" + (f" {reason}" if reason else "")
    if kind == Event.Kind.PRIORITY:
        old = _label(Priority, data.get("old"))
        new = _label(Priority, data.get("new"))
        return f"Priority: {old} → {new} by {who}"
    if kind == Event.Kind.ASSIGNEE:
        to, was = data.get("new"), data.get("old")
        if data.get("reason") == "escalation":
            # Chosen by the escalation (on shift, fewest open cases), not by the actor.
            who = "the escalation"
        if to:
            text = f"Assigned to {names.get(to) or to} by {who}"
            return text + (f" (was {names.get(was) or was})" if was else "")
        return f"Unassigned (was {names.get(was or '') or was}) by {who}"
    if kind in (Event.Kind.REPLY, Event.Kind.NOTE):
        what = "replied" if kind == Event.Kind.REPLY else "added an internal note"
        files = data.get("attachments") or 0
        return f"{who} {what}" + (f" with {_plural(files, 'attachment')}" if files else "")
    if kind == Event.Kind.MAIL_FAILED:
        to = data.get("to")
        return "An email could not be delivered" + (f" to {to}" if to else "")
    if kind == Event.Kind.MAIL_BOUNCED:
        what = "bounced" if data.get("permanent") else "is delayed"
        why = f": {data['reason']}" if data.get("reason") else ""
        return f"Mail to {data.get('to') or 'the requester'} {what}{why}"
    if kind == Event.Kind.ESCALATED:
        source = SOURCES.get(data.get("source", ""), "")
        up = (data.get("to") or 0) > (data.get("from") or 0)
        text = f"{'Escalated' if up else 'Moved'} to level {data.get('to')} by {who}{source}"
        return text + (" (nobody on shift)" if data.get("nobody_on_shift") else "")
    if kind == Event.Kind.MERGED_INTO:
        moved = _plural(data.get("messages") or 0, "message")
        return f"{who} merged this case into case {data.get('target')} ({moved} moved)"
    if kind == Event.Kind.MERGED_FROM:
        moved = _plural(data.get("messages") or 0, "message")
        files = data.get("attachments") or 0
        extra = f" and {_plural(files, 'attachment')}" if files else ""
        return f"{who} merged case {data.get('source')} into this case ({moved}{extra} moved)"
    if kind in (Event.Kind.LINKED, Event.Kind.UNLINKED):
        verb = "linked" if kind == Event.Kind.LINKED else "unlinked"
        return f"{who} {verb} related case {data.get('other')}"
    if kind in (Event.Kind.CC_ADDED, Event.Kind.CC_REMOVED):
        verb = "copied" if kind == Event.Kind.CC_ADDED else "stopped copying"
        return f"{who} {verb} " + ", ".join(data.get("addresses") or [])
    if kind.startswith("sla_"):
        return event_sentence(kind, data) or _label(Event.Kind, kind)
    return f"{_label(Event.Kind, kind)} by {who}"
