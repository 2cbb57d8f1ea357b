"""A case's events as sentences an agent reads at a glance."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from casedesk.accounts.models import User
from casedesk.core.choices import Priority
from casedesk.sla.display import event_sentence
from casedesk.tickets.models import Event, Ticket

REASONS = {
    "customer_reply": _("when the customer replied"),
    "closed_by_customer": _("from the portal"),
    "reopened_by_customer": _("from the portal"),
    "merged": _("when the case was merged"),
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


def _attachments(count: int) -> str:
    return ngettext("%(count)s attachment", "%(count)s attachments", count) % {"count": count}


def _messages(count: int) -> str:
    return ngettext("%(count)s message", "%(count)s messages", count) % {"count": count}


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


def _escalated(data: dict[str, Any], who: str) -> str:
    up = (data.get("to") or 0) > (data.get("from") or 0)
    values = {"level": data.get("to"), "who": who}
    # Whole sentences per source: each language orders "by whom" and "how" its own way.
    source = data.get("source", "")
    if up and source == "portal":
        text = gettext("Escalated to level %(level)s by %(who)s from the portal") % values
    elif up and source == "phone":
        text = gettext("Escalated to level %(level)s by %(who)s after a phone call") % values
    elif up and source == "sla":
        text = gettext("Escalated to level %(level)s by %(who)s on an SLA breach") % values
    elif up:
        text = gettext("Escalated to level %(level)s by %(who)s") % values
    elif source == "portal":
        text = gettext("Moved to level %(level)s by %(who)s from the portal") % values
    elif source == "phone":
        text = gettext("Moved to level %(level)s by %(who)s after a phone call") % values
    elif source == "sla":
        text = gettext("Moved to level %(level)s by %(who)s on an SLA breach") % values
    else:
        text = gettext("Moved to level %(level)s by %(who)s") % values
    if data.get("nobody_on_shift"):
        text = gettext("%(text)s (nobody on shift)") % {"text": text}
    return text


def sentence(event: Event, names: dict[str, str]) -> str:
    who = event.actor.get_full_name() if event.actor else "casedesk"
    data = event.data or {}
    kind = event.kind
    if kind == Event.Kind.CREATED:
        channel = _label(Ticket.Channel, data.get("channel", "portal")).lower()
        files = data.get("attachments") or 0
        if files:
            return gettext("%(who)s created the case via %(channel)s with %(files)s") % {
                "who": who, "channel": channel, "files": _attachments(files)}
        return gettext("%(who)s created the case via %(channel)s") % {
            "who": who, "channel": channel}
    if kind == Event.Kind.STATUS:
        values = {"old": _label(Ticket.Status, data.get("old")),
                  "new": _label(Ticket.Status, data.get("new")), "who": who}
        text = gettext("Status: %(old)s → %(new)s by %(who)s") % values
        reason = REASONS.get(data.get("reason", ""), "")
        return f"{text} {reason}" if reason else text
    if kind == Event.Kind.PRIORITY:
        return gettext("Priority: %(old)s → %(new)s by %(who)s") % {
            "old": _label(Priority, data.get("old")), "new": _label(Priority, data.get("new")),
            "who": who}
    if kind == Event.Kind.ASSIGNEE:
        to, was = data.get("new"), data.get("old")
        if data.get("reason") == "escalation":
            # Chosen by the escalation (on shift, fewest open cases), not by the actor.
            who = gettext("the escalation")
        if to and was:
            return gettext("Assigned to %(to)s by %(who)s (was %(was)s)") % {
                "to": names.get(to) or to, "who": who, "was": names.get(was) or was}
        if to:
            return gettext("Assigned to %(to)s by %(who)s") % {
                "to": names.get(to) or to, "who": who}
        return gettext("Unassigned (was %(was)s) by %(who)s") % {
            "was": names.get(was or "") or was, "who": who}
    if kind in (Event.Kind.REPLY, Event.Kind.NOTE):
        files = data.get("attachments") or 0
        values = {"who": who, "files": _attachments(files)}
        if kind == Event.Kind.REPLY:
            if files:
                return gettext("%(who)s replied with %(files)s") % values
            return gettext("%(who)s replied") % values
        if files:
            return gettext("%(who)s added an internal note with %(files)s") % values
        return gettext("%(who)s added an internal note") % values
    if kind == Event.Kind.MAIL_FAILED:
        to = data.get("to")
        if to:
            return gettext("An email could not be delivered to %(to)s") % {"to": to}
        return gettext("An email could not be delivered")
    if kind == Event.Kind.MAIL_BOUNCED:
        values = {"to": data.get("to") or gettext("the requester"),
                  "why": data.get("reason") or ""}
        if data.get("permanent"):
            text = gettext("Mail to %(to)s bounced") % values
        else:
            text = gettext("Mail to %(to)s is delayed") % values
        return f"{text}: {values['why']}" if values["why"] else text
    if kind == Event.Kind.ESCALATED:
        return _escalated(data, who)
    if kind == Event.Kind.MERGED_INTO:
        return gettext("%(who)s merged this case into case %(target)s (%(moved)s moved)") % {
            "who": who, "target": data.get("target"),
            "moved": _messages(data.get("messages") or 0)}
    if kind == Event.Kind.MERGED_FROM:
        files = data.get("attachments") or 0
        values = {
            "who": who, "source": str(data.get("source")),
            "moved": _messages(data.get("messages") or 0), "files": _attachments(files),
        }
        if files:
            return gettext(
                "%(who)s merged case %(source)s into this case (%(moved)s and %(files)s moved)"
            ) % values
        return gettext("%(who)s merged case %(source)s into this case (%(moved)s moved)") % values
    if kind in (Event.Kind.LINKED, Event.Kind.UNLINKED):
        values = {"who": who, "other": str(data.get("other"))}
        if kind == Event.Kind.LINKED:
            return gettext("%(who)s linked related case %(other)s") % values
        return gettext("%(who)s unlinked related case %(other)s") % values
    if kind in (Event.Kind.CC_ADDED, Event.Kind.CC_REMOVED):
        values = {"who": who, "addresses": ", ".join(data.get("addresses") or [])}
        if kind == Event.Kind.CC_ADDED:
            return gettext("%(who)s copied %(addresses)s") % values
        return gettext("%(who)s stopped copying %(addresses)s") % values
    if kind.startswith("sla_"):
        return event_sentence(kind, data) or _label(Event.Kind, kind)
    return gettext("%(what)s by %(who)s") % {"what": _label(Event.Kind, kind), "who": who}
