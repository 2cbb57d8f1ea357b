"""Background work on SLA clocks: the periodic sweep, and recomputations after admin edits.

The sweep (`sweep`) finds the clocks whose warning or due time has come, records each
warning and each breach once (an Event on the case), queues the escalation of a breached
case one level when its plan says so (`escalate_breached`, a job of its own), and mails
the assignee and the level's contacts. An escalation's acknowledgement clock is swept like
any other: its breach escalates the case again when the plan escalates on breach (nobody
at the level took the escalation up). It reads only the
clocks with `next_check_at <= now`, through the partial index on next_check_at: an empty
sweep is one index probe, whatever the number of open cases.

Any number of sweeps may run at once. Each batch is one transaction that claims its clocks
and their cases:

- PostgreSQL: `SELECT ... FOR UPDATE OF clock, ticket SKIP LOCKED`. Two sweeps take
  disjoint batches; a clock whose case an action holds (a reply being saved) is skipped
  and seen by the next sweep, so the sweep never waits on an agent and never deadlocks
  with an action (actions lock the case, then its clocks; the sweep waits for neither).
- SQLite: transactions start IMMEDIATE (settings), so the batch holds the database's
  write lock from its first read: a second sweep waits, then reads what the first left.

Within the lock, a clock is handled only if its warning/breach is still unrecorded, and
`next_check_at` then moves to its next pending instant or NULL; so even a clock read twice
is handled once.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django_tasks import task

from casedesk.core.choices import Priority
from casedesk.core.paths import path_for
from casedesk.mail.actions import queue_mail
from casedesk.mail.models import OutboundMail
from casedesk.sla import clocks as sla_clocks
from casedesk.sla.display import duration
from casedesk.sla.models import Clock
from casedesk.tickets.models import Event, Ticket

log = logging.getLogger(__name__)

SWEEP_BATCH = 500
# Cases listed per section of an alert mail.
MAIL_LINES = 10


@dataclass
class SweepResult:
    claimed: int = 0
    warned: int = 0
    breached: int = 0
    escalations_queued: int = 0
    mails: int = 0
    batches: int = 0
    seconds: float = 0.0


@dataclass
class Alert:
    """One warning or breach, for the notification mail."""

    kind: str  # "warning" or "breach"
    clock: Clock
    escalating: bool = False


@dataclass
class Batch:
    now: datetime
    alerts: list[Alert] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


def due_clocks(now: datetime, size: int) -> QuerySet[Clock]:
    """The next `size` clocks with work due at `now`, oldest due first (then oldest
    clock, so that cases due together are claimed and listed in the order they were
    opened, on every database), claimed (see the module's docstring) until the caller's
    transaction ends."""
    clocks = (
        Clock.objects.filter(next_check_at__lte=now)
        .select_related("ticket", "ticket__assignee", "plan")
        .order_by("next_check_at", "pk")
    )
    if connection.features.has_select_for_update_skip_locked:
        clocks = clocks.select_for_update(skip_locked=True, of=("self", "ticket"))
    return clocks[:size]


def sweep(now: datetime | None = None, batch: int = SWEEP_BATCH) -> SweepResult:
    """Handle every clock due at `now` (default: now), `batch` clocks per transaction."""
    started = time.perf_counter()
    now = now or timezone.now()
    result = SweepResult()
    levels = _levels()
    while True:
        claimed = _sweep_batch(now, batch, result, levels)
        if claimed:
            result.batches += 1
        # Every clock handled moved past `now` (or to NULL), so a short batch means none
        # is left that another sweep is not already holding.
        if claimed < batch:
            break
    result.seconds = round(time.perf_counter() - started, 4)
    return result


def _sweep_batch(now: datetime, size: int, result: SweepResult,
                 levels: dict[int, Any]) -> int:
    with transaction.atomic():
        clocks = list(due_clocks(now, size))
        if not clocks:
            return 0
        batch = Batch(now)
        for clock in clocks:
            _check(clock, batch)
        _save_clocks(clocks)
        Event.objects.bulk_create(batch.events)
        _escalate(batch, result)
        result.mails += _notify(batch, levels)
        result.claimed += len(clocks)
        result.warned += sum(1 for a in batch.alerts if a.kind == "warning")
        result.breached += sum(1 for a in batch.alerts if a.kind == "breach")
    return len(clocks)


def _save_clocks(clocks: list[Clock]) -> None:
    """Write what the batch changed with one UPDATE per outcome (warned, breached, ...).

    Most clocks of a batch end in one of two states (warned, next look at the due time;
    breached, nothing left), so a few set-based UPDATEs do what bulk_update would do with
    a CASE per row and field, at a fraction of the cost.
    """
    groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for clock in clocks:
        next_check: Any = clock.next_check_at
        if next_check is not None and next_check == clock.due_at:
            next_check = "due_at"
        groups[(clock.warned_at, clock.breached_at, next_check)].append(clock.pk)
    for (warned_at, breached_at, next_check), ids in groups.items():
        Clock.objects.filter(pk__in=ids).update(
            warned_at=warned_at, breached_at=breached_at,
            next_check_at=F("due_at") if next_check == "due_at" else next_check,
        )


def _check(clock: Clock, batch: Batch) -> None:
    """Record what is due on this clock at batch.now, once; then move next_check_at on."""
    now = batch.now
    ticket = clock.ticket
    if not ticket.is_open:
        # Resolving a case stops its clocks in the same transaction; a live clock on a
        # closed case is a leftover, not something to alert on.
        log.warning("Clock %s of case %s (status %s) was still live", clock.pk, ticket.pk,
                    ticket.status)
        clock.next_check_at = None
        return
    if (clock.warned_at is None and clock.breached_at is None and clock.warn_at is not None
            and clock.warn_at <= now):
        clock.warned_at = now
        # Both due at once (a recomputation, a stopped worker): the breach says it all.
        if clock.due_at > now:
            batch.events.append(Event(
                ticket=ticket, kind=Event.Kind.SLA_WARNING, created_at=now,
                data={"clock": clock.pk, "kind": clock.kind, "due_at": sla_clocks.iso(
                    clock.due_at), "percent": clock.plan.warn_percent},
            ))
            batch.alerts.append(Alert("warning", clock))
    if clock.breached_at is None and clock.due_at <= now:
        clock.breached_at = now
        batch.events.append(Event(
            ticket=ticket, kind=Event.Kind.SLA_BREACH, created_at=now,
            data={"clock": clock.pk, "kind": clock.kind,
                  "due_at": sla_clocks.iso(clock.due_at),
                  "escalate": clock.plan.escalate_on_breach},
        ))
        batch.alerts.append(Alert("breach", clock))
    clock.next_check_at = clock.pending_check()


def _escalate(batch: Batch, result: SweepResult) -> None:
    """Queue the escalation of each breached case whose plan escalates, one level per
    case (two clocks of a case breaching together move it one level, not two).

    One job per batch, queued in the batch's transaction, so it exists exactly when the
    breaches do; it escalates each case in a transaction of its own. Escalating inline
    would hold the batch's locks (on SQLite, the whole database) for every escalation's
    routing and mail: a burst of breaches would stall the portal.
    """
    done: dict[int, int] = {}
    for alert in batch.alerts:
        clock = alert.clock
        if alert.kind != "breach" or not clock.plan.escalate_on_breach:
            continue
        if clock.ticket_id in done:
            continue
        done[clock.ticket_id] = clock.pk
        alert.escalating = True
    if done:
        escalate_breached.enqueue(list(done.values()))
        result.escalations_queued += len(done)


def _levels() -> dict[int, Any]:
    from casedesk.escalation.models import Level

    return {level.number: level for level in Level.objects.all()}


def _recipients(ticket: Ticket, levels: dict[int, Any]) -> list[str]:
    """The case's assignee and its level's contacts, each once."""
    found: dict[str, str] = {}
    if ticket.assignee is not None and ticket.assignee.is_active and ticket.assignee.email:
        found[ticket.assignee.email.lower()] = ticket.assignee.email
    level = levels.get(ticket.escalation_level)
    if level is not None:
        addresses = level.notify_list() if hasattr(level, "notify_list") else [level.email]
        for address in addresses:
            if address:
                found.setdefault(address.lower(), address)
    return list(found.values())


def _notify(batch: Batch, levels: dict[int, Any]) -> int:
    """One mail per recipient per batch, listing their warnings and breaches (the first
    MAIL_LINES of each; the desk's Breaching soon view has them all): a burst of breaches
    is one message to read, not hundreds."""
    by_recipient: dict[str, list[Alert]] = defaultdict(list)
    lines: dict[int, dict[str, Any]] = {}
    for alert in batch.alerts:
        for address in _recipients(alert.clock.ticket, levels):
            by_recipient[address].append(alert)
    for address, alerts in by_recipient.items():
        breaches = [a for a in alerts if a.kind == "breach"]
        warnings = [a for a in alerts if a.kind == "warning"]
        for alert in [*breaches[:MAIL_LINES], *warnings[:MAIL_LINES]]:
            if id(alert) not in lines:
                lines[id(alert)] = _line(alert, batch.now)
        if len(alerts) == 1:
            alert = alerts[0]
            # Lazy: rendered in the recipient's language by queue_mail.
            what = _("SLA breached") if alert.kind == "breach" else _("SLA due soon")
            subject = format_lazy("[Case #{}] {}: {}", alert.clock.ticket_id, what,
                                  alert.clock.get_kind_display().lower())
        else:
            counts = {"breached": len(breaches), "soon": len(warnings)}
            if breaches and warnings:
                subject = format_lazy(_("SLA: {breached} breached, {soon} due soon"), **counts)
            elif breaches:
                subject = format_lazy(_("SLA: {breached} breached"), **counts)
            else:
                subject = format_lazy(_("SLA: {soon} due soon"), **counts)
        queue_mail(
            kind=OutboundMail.Kind.OTHER,
            ticket=alerts[0].clock.ticket if len(alerts) == 1 else None,
            to=address, subject=subject, template="sla/mail/alert.txt",
            context={
                "breaches": [lines[id(a)] for a in breaches[:MAIL_LINES]],
                "warnings": [lines[id(a)] for a in warnings[:MAIL_LINES]],
                "more_breaches": max(0, len(breaches) - MAIL_LINES),
                "more_warnings": max(0, len(warnings) - MAIL_LINES),
                "breaching_url": settings.CASEDESK_BASE_URL + reverse("desk:queue")
                + "?view=breaching",
            },
            headers={"Auto-Submitted": "auto-generated"},
        )
    return len(by_recipient)


def _line(alert: Alert, now: datetime) -> dict[str, Any]:
    clock = alert.clock
    ticket = clock.ticket
    return {
        "case": ticket.pk, "subject": ticket.subject, "kind": clock.get_kind_display(),
        "priority": Priority(clock.priority).label if clock.priority in Priority.values
        else clock.priority,
        "plan": clock.plan.name, "target": duration(clock.target_seconds),
        "due_at": f"{clock.due_at.astimezone(UTC):%d %b %Y, %H:%M}", "left": duration(
            int(abs((clock.due_at - now).total_seconds()))),
        "escalating": alert.escalating,
        "url": settings.CASEDESK_BASE_URL + path_for("desk:case", ticket.pk),
    }


@task(queue_name="default")
def sweep_due_clocks() -> dict[str, Any]:
    """The periodic sweep (casedesk.core.schedule)."""
    return asdict(sweep())


def breach_reason(clock: Clock) -> str:
    if clock.kind == Clock.Kind.ESCALATION_ACK:
        return (f"SLA breach: nobody acknowledged the escalation to level "
                f"{clock.ticket.escalation_level} within its target "
                f"({duration(clock.target_seconds)}), due {clock.due_at:%Y-%m-%d %H:%M} UTC.")
    return (f"SLA breach: the {clock.get_kind_display().lower()} target "
            f"({duration(clock.target_seconds)}) was due {clock.due_at:%Y-%m-%d %H:%M} UTC.")


def escalate_for_breaches(clock_ids: list[int]) -> dict[str, int]:
    """escalate_for_breach for each clock, each in its own transaction; counts outcomes."""
    outcomes: dict[str, int] = defaultdict(int)
    for clock_id in clock_ids:
        outcomes[escalate_for_breach(clock_id).split(":")[0]] += 1
    return dict(outcomes)


def escalate_for_breach(clock_id: int) -> str:
    """Escalate the case of a breached clock one level (source "sla"). Returns what
    happened, for the job's result. A breach withdrawn since (the priority was lowered)
    escalates nothing; a refusal (closed case, top level) is the answer, not an error."""
    from casedesk.escalation.actions import EscalationRefused, escalate
    from casedesk.escalation.models import Escalation

    clock = Clock.objects.filter(pk=clock_id).first()
    if clock is None or clock.breached_at is None:
        return "no breach any more"
    reason = breach_reason(clock)
    # The job may run again (its worker died mid-job and the lease handed it on): a breach
    # already escalated (its reason names the clock and due time) is not escalated twice.
    if Escalation.objects.filter(ticket_id=clock.ticket_id, source="sla", reason=reason,
                                 created_at__gte=clock.breached_at).exists():
        return "already escalated for this breach"
    try:
        escalation = escalate(clock.ticket_id, source="sla", reason=reason)
    except EscalationRefused as refused:
        return f"not escalated: {refused}"
    return f"escalated to level {escalation.to_level}"


@task(queue_name="default")
def escalate_breached(clock_ids: list[int]) -> dict[str, int]:
    """Queued by the sweep for the breaches of one batch whose plan escalates."""
    return escalate_for_breaches(clock_ids)


@task(queue_name="default")
def recompute_clocks(plan_id: int | None = None, organization_id: int | None = None,
                     calendar_id: int | None = None) -> int:
    """Recompute after an admin's edit (casedesk.sla.clocks.schedule_recompute)."""
    changed = 0
    if plan_id is not None:
        changed += sla_clocks.recompute_for_plan(plan_id)
    if organization_id is not None:
        changed += sla_clocks.recompute_for_organization(organization_id)
    if calendar_id is not None:
        changed += sla_clocks.recompute_for_calendar(calendar_id)
    return changed
