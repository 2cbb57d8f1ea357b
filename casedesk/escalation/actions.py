"""Escalating a case: the one function every source calls (the portal widget, a phone call
an agent logs, an agent's own decision, an SLA breach).

`check_escalation` says whether a case may move and where, without writing anything;
`escalate` checks again under the case's lock and does it, in one transaction: level,
assignee, history, and the mail to the level's contacts and to the customer (sent once the
transaction commits).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from casedesk.accounts.models import User
from casedesk.core.choices import Priority
from casedesk.mail.actions import queue_mail
from casedesk.mail.models import OutboundMail
from casedesk.sla import clocks as sla_clocks
from casedesk.tickets.actions import case_subject, lock_ticket, record, touch
from casedesk.tickets.models import Event, Message, Ticket

from .models import Escalation, Level, on_shift

Source = Escalation.Source
REASON_MAX = 2000


class EscalationRefused(Exception):
    """The case cannot be escalated now; the message is for the person who asked."""


def cooldown() -> timedelta:
    return timedelta(minutes=settings.CASEDESK_ESCALATION_COOLDOWN_MINUTES)


def clock_text(at: datetime, now: datetime) -> str:
    """"14:05 UTC", with the date when it is not today (UTC)."""
    utc = at.astimezone(UTC)
    if utc.date() != now.astimezone(UTC).date():
        return str(_("%(time)s UTC on %(date)s") % {
            "time": f"{utc:%H:%M}", "date": date_format(utc, "j M Y"),
        })
    return str(_("%(time)s UTC") % {"time": f"{utc:%H:%M}"})


@dataclass(frozen=True)
class Move:
    """Where a case would go, as check_escalation worked it out."""

    ticket: Ticket
    from_level: int
    to_level: Level


def check_escalation(
    ticket: Ticket,
    *,
    source: str,
    actor: User | None = None,
    to_level: int | None = None,
    now: datetime | None = None,
) -> Move:
    """The level the case would move to, or EscalationRefused saying why not. No writes.

    The cool-down stops a second escalation of the same case by the customer or a one-up
    move soon after another; an agent choosing a level on purpose, and an SLA breach, are
    not held back by it.
    """
    now = now or timezone.now()
    if source not in Source.values:
        raise EscalationRefused(
            _("“%(source)s” is not a source of escalations.") % {"source": source}
        )
    if to_level is not None and (actor is None or not actor.is_agent):
        raise EscalationRefused(_("Only agents can choose the level a case goes to."))
    if not ticket.is_open:
        raise EscalationRefused(
            _("Case %(id)s is %(status)s; reopen it or open a new case.")
            % {"id": ticket.pk, "status": str(ticket.get_status_display()).lower()}
        )
    levels = {level.number: level for level in Level.objects.order_by("number")}
    current = ticket.escalation_level
    if to_level is not None:
        target = levels.get(to_level)
        if target is None:
            raise EscalationRefused(
                _("There is no escalation level %(level)s.") % {"level": to_level}
            )
        if to_level == current:
            raise EscalationRefused(
                _("Case %(id)s is already at level %(level)s (%(name)s).")
                % {"id": ticket.pk, "level": current, "name": target.name}
            )
        return Move(ticket, current, target)
    higher = [number for number in levels if number > current]
    if not higher:
        top = levels.get(current)
        name = f" ({top.name})" if top else ""
        raise EscalationRefused(
            _("Case %(id)s is already at the top level, %(level)s.")
            % {"id": ticket.pk, "level": f"{current}{name}"}
        )
    if source != Source.SLA:
        last = ticket.escalations.order_by("-created_at", "-pk").first()
        if last is not None and now - last.created_at < cooldown():
            name = levels[last.to_level].name if last.to_level in levels else ""
            raise EscalationRefused(
                _("Case %(id)s was already escalated at %(at)s to level %(level)s. "
                  "It can be escalated again from %(again)s.") % {
                    "id": ticket.pk, "at": clock_text(last.created_at, now),
                    "level": f"{last.to_level} ({name})" if name else last.to_level,
                    "again": clock_text(last.created_at + cooldown(), now),
                }
            )
    return Move(ticket, current, levels[min(higher)])


def pick_agent(level: Level, now: datetime) -> User | None:
    """The level's team member on shift now with the fewest open cases (ties: lowest id).

    Two escalations at the same moment may both pick the same agent: the counts are read
    without a lock (locking the level would make the SLA sweep, which escalates many cases
    in one transaction, prone to deadlocks). The next escalation sees both cases.
    """
    team = (
        level.team.filter(role=User.Role.AGENT, is_active=True)
        .annotate(open_cases=Count(
            "assigned_tickets", filter=Q(assigned_tickets__status__in=Ticket.OPEN_STATUSES)
        ))
        .prefetch_related("shifts")
        .order_by("pk")
    )
    working = [agent for agent in team if on_shift(agent, now, list(agent.shifts.all()))]
    return min(working, key=lambda agent: (agent.open_cases, agent.pk), default=None)


def escalate(
    ticket_id: int,
    *,
    source: str,
    reason: str,
    actor: User | None = None,
    to_level: int | None = None,
    caller_name: str = "",
    caller_phone: str = "",
) -> Escalation:
    """Move the case up one level (or, for agents, to `to_level`), hand it to the level's
    agent on shift with the fewest open cases, record who, why, from where and when, and
    tell the level's contacts and the customer. A level with an acknowledgement target
    starts an SLA clock of it (casedesk.sla.clocks.on_escalation).

    With nobody of the team on shift the case is left unassigned for the team and the
    contacts' mail says NOBODY ON SHIFT. Raises EscalationRefused (nothing changed) when
    the case may not move. Locks the case until the caller's transaction ends.
    """
    reason = reason.strip()[:REASON_MAX]
    if not reason:
        raise EscalationRefused(_("Say why the case needs escalating."))
    with transaction.atomic():
        try:
            ticket = lock_ticket(ticket_id)
        except Ticket.DoesNotExist:
            raise EscalationRefused(
                _("There is no case %(id)s.") % {"id": ticket_id}
            ) from None
        now = timezone.now()
        move = check_escalation(ticket, source=source, actor=actor, to_level=to_level, now=now)
        level = move.to_level
        agent = pick_agent(level, now)
        old_assignee = ticket.assignee
        touch(ticket, escalation_level=level.number, assignee=agent, updated_at=now)
        if (old_assignee.pk if old_assignee else None) != (agent.pk if agent else None):
            record(
                ticket, Event.Kind.ASSIGNEE, actor,
                old=old_assignee.email if old_assignee else None,
                new=agent.email if agent else None, reason="escalation",
            )
        # The level's acknowledgement target, if it has one, becomes an SLA clock; the
        # previous level's, if unmet, stops (casedesk.sla.clocks explains the rules).
        ack = sla_clocks.on_escalation(ticket, to_level=level.number,
                                       ack_minutes=level.ack_target_minutes, at=now)
        escalation = Escalation.objects.create(
            ticket=ticket, from_level=move.from_level, to_level=level.number, source=source,
            reason=reason, actor=actor, caller_name=caller_name.strip()[:150],
            caller_phone=caller_phone.strip()[:40], assigned_to=agent,
            nobody_on_shift=agent is None, created_at=now,
        )
        record(
            ticket, Event.Kind.ESCALATED, actor,
            **{"from": move.from_level, "to": level.number, "source": source,
               "reason": reason, "assigned_to": agent.email if agent else None,
               "nobody_on_shift": agent is None, "escalation": escalation.pk,
               **({"ack_clock": ack.pk, "ack_due": sla_clocks.iso(ack.due_at)} if ack else {})},
        )
        notify_level(escalation, ticket, level)
        if escalation.is_up:
            # Moving a case back down is the team's own routing; the customer hears of
            # escalations, which are what they asked for or were promised.
            tell_customer(escalation, ticket, level)
    return escalation


def who_text(escalation: Escalation, ticket: Ticket) -> str:
    """Who escalated, for the level's contacts."""
    actor = escalation.actor
    if escalation.source == Source.SLA:
        return "casedesk, on an SLA breach"
    if escalation.source == Source.PHONE:
        caller = escalation.caller_name or "a caller"
        phone = f" ({escalation.caller_phone})" if escalation.caller_phone else ""
        logged = f", logged by {actor.get_full_name()}" if actor else ""
        return f"{caller}{phone} by phone{logged}"
    if actor is None:
        return "unknown"
    if actor.pk == ticket.requester_id:
        return f"{actor.get_full_name()} <{actor.email}>, the requester"
    role = "agent" if actor.is_agent else "contact"
    return f"{actor.get_full_name()} <{actor.email}>, {role}"


def notify_level(escalation: Escalation, ticket: Ticket, level: Level) -> None:
    """Mail the level's contacts (and the new assignee), one message each."""
    recipients = level.notify_list()
    agent = escalation.assigned_to
    if agent is not None and agent.email.lower() not in {r.lower() for r in recipients}:
        recipients.append(agent.email)
    if not recipients:
        return
    # Lazy: each recipient reads the subject in their own language (mail.actions).
    what = (
        _("Escalated to level {number} ({name}) — NOBODY ON SHIFT")
        if escalation.nobody_on_shift else _("Escalated to level {number} ({name})")
    )
    context = {
        "escalation": escalation, "ticket": ticket, "level": level,
        "from_level": Level.objects.filter(number=escalation.from_level).first(),
        "source_label": Source(escalation.source).label,
        "who": who_text(escalation, ticket),
        "priority_label": Priority(ticket.priority).label,
        "desk_url": settings.CASEDESK_BASE_URL + reverse("desk:case", args=[ticket.pk]),
    }
    for address in recipients:
        queue_mail(
            kind=OutboundMail.Kind.OTHER, ticket=ticket, to=address,
            subject=format_lazy(
                "[Case #{}] {}", ticket.pk,
                format_lazy(what, number=level.number, name=level.name),
            ),
            template="escalation/mail/level.txt", context=context,
            headers={"Auto-Submitted": "auto-generated", "X-Casedesk-Case": str(ticket.pk)},
        )


def tell_customer(escalation: Escalation, ticket: Ticket, level: Level) -> None:
    """Tell the requester, in the case's mail thread, who now has their case."""
    headers = {"Auto-Submitted": "auto-generated", "X-Casedesk-Case": str(ticket.pk)}
    latest = (
        Message.objects.filter(ticket=ticket, kind=Message.Kind.PUBLIC)
        .exclude(message_id_header="").order_by("-created_at", "-pk")
        .values_list("message_id_header", flat=True).first()
    )
    if latest:
        headers["In-Reply-To"] = latest
        headers["References"] = latest
    queue_mail(
        kind=OutboundMail.Kind.OTHER, ticket=ticket, to=ticket.requester.email,
        cc=ticket.cc_list(), reader=ticket.requester,
        subject=case_subject(ticket), template="escalation/mail/customer.txt",
        context={"escalation": escalation, "ticket": ticket, "level": level,
                 "requester": ticket.requester},
        headers=headers,
    )
