"""The SLA clocks of a case, moved by what happens to the case.

The case actions (casedesk.tickets.actions) call these inside their own transaction, with
the case row locked (lock_ticket), so a clock never disagrees with its case: the clock
changes commit or roll back with the change that caused them. Nothing here locks a case
itself, except the batch recomputations at the bottom, which run on their own (in a job).

The rules, as a person can check them on the case page's timeline:

- Submitting a case starts a first-response clock, and a resolution clock when the plan
  has a resolution target for the case's priority. A priority without a target gets no
  clock (the portal says "no response target").
- The first public reply by an agent meets the first-response clock; internal notes and
  automatic mail (acknowledgements, notifications) never do.
- A customer message starts a next-response clock (if the plan has that target) unless a
  response clock is already running: the customer is then still waiting for that answer.
  The next public agent reply meets it.
- Waiting on the customer (pending) pauses every running clock; leaving pending resumes
  them, and each due time moves by the business time the pause lasted.
- Resolving or closing meets the resolution clock and cancels the others. Reopening starts
  a new resolution clock from the reopening, with the full target (the earlier one stays in
  the history as met); a customer reopening also starts a next-response clock.
- Changing the priority, the organization's plan, or the plan itself (its targets, its
  calendar, its warning share) recomputes every live clock from its ORIGINAL start with
  the new target: due = start + target + paused business time, in the plan's calendar.
  A clock whose kind has no target any more is cancelled; a kind the case now has a target
  for and no live clock of starts again from its original start (the cancelled clock's,
  else the case's creation): first response if no agent has replied yet, resolution if
  the case is open and its last resolution clock was not met. A recomputation that moves a
  passed due time (or warning time) into the future withdraws the breach (or warning): a
  breach is of a due time, and the new due time can be breached again, once.
- Escalating a case to a level with an acknowledgement target (Level.ack_target_minutes)
  starts an "Escalation acknowledged" clock: due that many minutes after the escalation,
  counted in the plan's calendar like every clock of the case (around the clock for the
  shipped plans), started paused if the case is waiting on the customer. The first
  message by any agent after the escalation meets it, a public reply or an internal note
  alike: acknowledging is someone at the desk taking the case up, which the customer may
  not see. A further escalation (up, or down to a chosen level) cancels it and starts the
  new level's, if that level has a target; resolving or closing cancels it; reopening does
  not start it again. A recomputation keeps the level's target and recounts it in the
  (new) plan's calendar. The sweep warns and breaches it like any clock; its alert goes
  to the assignee and the case's level's contacts, which are this level's; and a breach
  escalates the case again when the plan escalates on breach: nobody at the level took
  up the escalation, so the next level should.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from casedesk.accounts.models import User
from casedesk.core import rows
from casedesk.core.choices import Priority
from casedesk.sla import calendar as sla_calendar
from casedesk.sla.models import Clock, Plan
from casedesk.sla.terms import Terms, plan_by_id, spec_for
from casedesk.tickets.models import Event, Message, Ticket

log = logging.getLogger(__name__)

Kind = Clock.Kind
RESPONSE_KINDS = (Kind.FIRST_RESPONSE, Kind.NEXT_RESPONSE)
# What an agent's public reply meets; an internal note meets only the acknowledgement.
AGENT_REPLY_MEETS = (*RESPONSE_KINDS, Kind.ESCALATION_ACK)
PENDING = Ticket.Status.PENDING
RECOMPUTE_BATCH = 200


# ------------------------------------------------------------------ plans and calendars
# The plan, targets and calendar of a case come from casedesk.sla.terms, cached per process.


def add_time(spec: sla_calendar.CalendarSpec, start: datetime, seconds: int) -> datetime:
    """add_business_time, falling back to around the clock when the calendar has no open
    time ahead (a holiday list that closes it for two years): a due time is always set."""
    try:
        return sla_calendar.add_business_time(spec, start, seconds)
    except sla_calendar.InvalidCalendar as error:
        log.warning("Calendar cannot place %s s after %s (%s); counting around the clock",
                    seconds, start, error)
        return sla_calendar.add_business_time(sla_calendar.ALWAYS_OPEN, start, seconds)


def seconds_between(spec: sla_calendar.CalendarSpec, a: datetime, b: datetime) -> int:
    try:
        return sla_calendar.business_seconds_between(spec, a, b)
    except sla_calendar.InvalidCalendar:
        return sla_calendar.business_seconds_between(sla_calendar.ALWAYS_OPEN, a, b)


def schedule(clock: Clock, spec: sla_calendar.CalendarSpec, warn_percent: int) -> None:
    """Set the clock's due and warning instants and the sweep's next look (no save)."""
    total = clock.target_seconds + clock.paused_seconds
    clock.due_at = add_time(spec, clock.started_at, total)
    warn_after = clock.target_seconds * warn_percent // 100
    clock.warn_at = (
        add_time(spec, clock.started_at, warn_after + clock.paused_seconds)
        if 0 < warn_after < clock.target_seconds else None
    )
    clock.next_check_at = clock.pending_check()


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# ------------------------------------------------------------------ events


def _event(ticket: Ticket, event_kind: str, at: datetime, actor: User | None = None, /,
           **data: Any) -> Event:
    return rows.insert(Event(ticket=ticket, kind=event_kind, actor=actor, data=data,
                             created_at=at))


def _live(ticket: Ticket) -> dict[str, Clock]:
    """The case's live clocks by kind, oldest first. Written out in SQL: every reply and
    status change reads them, and compiling the ORM's query cost twenty times running it.
    Their plans come from the terms cache when needed (_plan)."""
    return {c.kind: c for c in rows.select(
        Clock, "ticket_id = %s AND met_at IS NULL AND cancelled_at IS NULL", [ticket.pk],
        tail=" ORDER BY started_at, id",
    )}


def _plan(clock: Clock) -> Plan:
    """The clock's plan, from the terms cache unless already loaded."""
    if not Clock.plan.is_cached(clock):
        plan = plan_by_id(clock.plan_id)
        if plan is not None:
            clock.plan = plan
    return clock.plan


def _save(clock: Clock) -> None:
    clock.next_check_at = clock.pending_check()
    clock.save()


def _fold_pause(clock: Clock, spec: sla_calendar.CalendarSpec, at: datetime) -> int:
    """End the clock's pause at `at`: its business length joins paused_seconds."""
    if clock.paused_at is None:
        return 0
    paused = seconds_between(spec, clock.paused_at, at)
    clock.paused_seconds += paused
    clock.paused_at = None
    return paused


# ------------------------------------------------------------------ the hooks


def new_clock(ticket: Ticket, kind: str, terms: Terms, at: datetime) -> Clock | None:
    """The clock of `kind` starting at `at` under `terms`, scheduled, not saved; None when
    the terms have no target for it."""
    seconds = terms.targets.get(kind)
    if not seconds:
        return None
    clock = Clock(ticket=ticket, kind=kind, plan=terms.plan, priority=terms.priority,
                  started_at=at, target_seconds=seconds)
    schedule(clock, terms.spec, terms.plan.warn_percent)
    return clock


def start_clock(ticket: Ticket, kind: str, terms: Terms, at: datetime) -> Clock | None:
    clock = new_clock(ticket, kind, terms, at)
    if clock is not None:
        clock.save(force_insert=True)
    return clock


def start_case(ticket: Ticket, *, at: datetime) -> list[Clock]:
    """A new case: first response, and resolution if the plan has that target (through
    rows.insert: every case opened runs this, and compiling the ORM's bulk INSERT cost
    more than running two precompiled ones)."""
    terms = Terms.of(ticket)
    if terms is None:
        return []
    started = [new_clock(ticket, kind, terms, at)
               for kind in (Kind.FIRST_RESPONSE, Kind.RESOLUTION)]
    return [rows.insert(clock) for clock in started if clock is not None]


def _meet(ticket: Ticket, clocks: Iterable[Clock], at: datetime,
          terms: Terms | None, by: User | None) -> list[Clock]:
    met = []
    for clock in clocks:
        if clock.paused_at is not None:
            spec = terms.spec if terms else spec_for(_plan(clock))
            _fold_pause(clock, spec, at)
            schedule(clock, spec, _plan(clock).warn_percent)
        clock.met_at = at
        clock.met_by = by
        _save(clock)
        late = max(0, int((at - clock.due_at).total_seconds()))
        _event(ticket, Event.Kind.SLA_MET, at, clock=clock.pk, kind=clock.kind,
               due_at=iso(clock.due_at), late_seconds=late)
        met.append(clock)
    return met


def on_agent_reply(ticket: Ticket, *, at: datetime, by: User) -> list[Clock]:
    """A public reply by agent `by` meets the response clocks that wait for one, and
    acknowledges an escalation."""
    live = _live(ticket)
    return _meet(ticket, [live[k] for k in AGENT_REPLY_MEETS if k in live], at, None, by)


def on_agent_note(ticket: Ticket, *, at: datetime, by: User) -> list[Clock]:
    """An internal note by an agent answers nobody, but acknowledges an escalation."""
    clock = _live(ticket).get(Kind.ESCALATION_ACK)
    return _meet(ticket, [clock], at, None, by) if clock is not None else []


def on_escalation(ticket: Ticket, *, to_level: int, ack_minutes: int | None,
                  at: datetime) -> Clock | None:
    """The case moved to level `to_level`: the previous level's acknowledgement clock, if
    still live, is cancelled, and the new level's starts if it has a target."""
    previous = _live(ticket).get(Kind.ESCALATION_ACK)
    if previous is not None:
        _cancel(previous, at, f"escalated again, to level {to_level}")
    if not ack_minutes:
        return None
    terms = Terms.of(ticket)
    if terms is None:
        # No plan at all (an install without one): there is no clock to hang it on.
        log.warning("Case %s: no plan, so no acknowledgement clock for level %s",
                    ticket.pk, to_level)
        return None
    clock = start_clock(ticket, Kind.ESCALATION_ACK,
                        replace(terms, targets={Kind.ESCALATION_ACK: ack_minutes * 60}), at)
    if clock is not None and ticket.status == PENDING:
        # As every clock of a case waiting on the customer (and as a recomputation,
        # which reads the pauses from the status events, would have it).
        _pause(ticket, [clock], at)
    return clock


def on_customer_message(ticket: Ticket, *, at: datetime) -> Clock | None:
    """A customer's message after the case was opened: the next response starts, unless a
    response clock is already waiting (then that answer is what the customer waits for)."""
    live = _live(ticket)
    if any(kind in live for kind in RESPONSE_KINDS):
        return None
    terms = Terms.of(ticket)
    if terms is None:
        return None
    clock = start_clock(ticket, Kind.NEXT_RESPONSE, terms, at)
    if clock is not None and ticket.status == PENDING:
        _pause(ticket, [clock], at)
    return clock


def _pause(ticket: Ticket, clocks: list[Clock], at: datetime) -> None:
    for clock in clocks:
        clock.paused_at = at
        _save(clock)


def on_status_change(ticket: Ticket, old: str, new: str, *, at: datetime,
                     actor: User | None = None, by_customer: bool = False) -> None:
    """Pause, resume, meet, cancel or restart the case's clocks for a status change.

    `at` is the instant of the change (the status event's time), so the pauses the
    timeline shows and the ones a recomputation reads from the events are the same.
    """
    done, was_done = new in Ticket.DONE_STATUSES, old in Ticket.DONE_STATUSES
    terms: Terms | None = None
    if was_done and not done:
        terms = Terms.of(ticket)
        if terms is not None:
            start_clock(ticket, Kind.RESOLUTION, terms, at)
            if by_customer:
                on_customer_message(ticket, at=at)
    live = _live(ticket)
    if new == PENDING and old != PENDING:
        running = [c for c in live.values() if c.paused_at is None]
        if running:
            _pause(ticket, running, at)
            _event(ticket, Event.Kind.SLA_PAUSED, at, actor, clocks=[
                {"clock": c.pk, "kind": c.kind} for c in running
            ])
    elif old == PENDING and new != PENDING and not done:
        paused = [c for c in live.values() if c.paused_at is not None]
        if paused:
            spec = terms.spec if terms else spec_for(_plan(paused[0]))
            since = min(c.paused_at for c in paused if c.paused_at is not None)
            rows = []
            for clock in paused:
                old_due = clock.due_at
                length = _fold_pause(clock, spec, at)
                schedule(clock, spec, _plan(clock).warn_percent)
                clock.save()
                rows.append({"clock": clock.pk, "kind": clock.kind, "paused_seconds": length,
                             "old_due": iso(old_due), "new_due": iso(clock.due_at)})
            _event(ticket, Event.Kind.SLA_RESUMED, at, actor, paused_from=iso(since),
                   clocks=rows)
    if done and not was_done:
        resolution = live.pop(Kind.RESOLUTION, None)
        if resolution is not None:
            _meet(ticket, [resolution], at, terms, actor)
        for clock in live.values():
            _cancel(clock, at, f"case {Ticket.Status(new).label.lower()}")


def on_merge(ticket: Ticket, *, into: int, at: datetime) -> list[Clock]:
    """Stop every running clock of a case merged into another: cancelled, neither met nor
    breached. The work goes on in the surviving case, under that case's own clocks."""
    stopped = list(_live(ticket).values())
    for clock in stopped:
        _cancel(clock, at, f"merged into case {into}")
    return stopped


def _cancel(clock: Clock, at: datetime, reason: str) -> None:
    clock.cancelled_at = at
    clock.cancel_reason = reason[:200]
    _save(clock)


# ------------------------------------------------------------------ recomputation


def pending_intervals(ticket: Ticket, since: datetime,
                      until: datetime) -> list[tuple[datetime, datetime]]:
    """When the case waited on the customer between `since` and `until`, from its status
    events (the record every pause was made from)."""
    intervals = []
    began: datetime | None = None
    for at, data in (Event.objects.filter(ticket=ticket, kind=Event.Kind.STATUS)
                     .order_by("created_at", "pk").values_list("created_at", "data")):
        if data.get("new") == PENDING and began is None:
            began = at
        elif data.get("old") == PENDING and began is not None:
            intervals.append((began, at))
            began = None
    if began is not None:
        intervals.append((began, until))
    return [(max(a, since), min(b, until)) for a, b in intervals if b > since and a < until]


def _paused_business(ticket: Ticket, clock: Clock, spec: sla_calendar.CalendarSpec,
                     at: datetime) -> tuple[int, datetime | None]:
    """(business seconds of finished pauses since the clock started, start of the pause
    still running or None), under `spec`."""
    total, running = 0, None
    for a, b in pending_intervals(ticket, clock.started_at, at):
        if b >= at and ticket.status == PENDING:
            running = a
        else:
            total += seconds_between(spec, a, b)
    return total, running


def recompute_case(ticket: Ticket, *, reason: str, at: datetime | None = None,
                   actor: User | None = None, plan: Plan | None = None,
                   **context: Any) -> bool:
    """Bring the case's clocks in line with its plan and priority now, from their original
    starts (see the module's rules). Writes one SLA_RECOMPUTED event listing what changed;
    returns whether anything did. Expects the case locked by the caller."""
    at = at or timezone.now()
    terms = Terms.of(ticket, plan)
    live = _live(ticket)
    rows: list[dict[str, Any]] = []
    for clock in live.values():
        seconds = terms.targets.get(clock.kind) if terms else None
        if clock.kind == Kind.ESCALATION_ACK and terms is not None:
            # The level's target, not the plan's: it stays; the calendar may change.
            seconds = clock.target_seconds
        if not seconds or terms is None:
            _cancel(clock, at, "no target for this priority in the plan")
            rows.append({"clock": clock.pk, "kind": clock.kind, "action": "cancelled",
                         "old_due": iso(clock.due_at)})
            continue
        before = (clock.plan_id, clock.priority, clock.target_seconds, clock.paused_seconds,
                  clock.due_at, clock.warn_at, clock.paused_at)
        old_plan, old_priority, old_target = _plan(clock), clock.priority, clock.target_seconds
        clock.plan, clock.priority, clock.target_seconds = terms.plan, terms.priority, seconds
        # Pauses are re-read from the status events: the calendar may have changed, and
        # a pause counts only the open hours of the calendar in force.
        clock.paused_seconds, running = _paused_business(ticket, clock, terms.spec, at)
        clock.paused_at = running
        schedule(clock, terms.spec, terms.plan.warn_percent)
        withdrawn = []
        if clock.breached_at is not None and clock.due_at > at:
            clock.breached_at = None
            withdrawn.append("breach")
        if clock.warned_at is not None and (clock.warn_at is None or clock.warn_at > at):
            clock.warned_at = None
            withdrawn.append("warning")
        after = (clock.plan_id, clock.priority, clock.target_seconds, clock.paused_seconds,
                 clock.due_at, clock.warn_at, clock.paused_at)
        if before == after and not withdrawn:
            continue
        _save(clock)
        rows.append({
            "clock": clock.pk, "kind": clock.kind, "action": "recomputed",
            "old_due": iso(before[4]), "new_due": iso(clock.due_at),
            "old_target": old_target, "new_target": seconds,
            "old_plan": old_plan.name, "old_priority": old_priority,
            "paused_seconds": clock.paused_seconds, "withdrawn": withdrawn,
        })
    if terms is not None:
        rows += _start_missing(ticket, terms, live, at)
    if not rows:
        return False
    _event(ticket, Event.Kind.SLA_RECOMPUTED, at, actor, reason=reason,
           plan=terms.plan.name if terms else None, priority=ticket.priority, clocks=rows,
           **context)
    return True


def _start_missing(ticket: Ticket, terms: Terms, live: dict[str, Clock],
                   at: datetime) -> list[dict[str, Any]]:
    """Clocks the case should have under these terms and has not (the target did not
    exist, or the clock was cancelled for lack of one): started from the original start
    (the cancelled clock's, else the case's creation), with the pauses since."""
    if not ticket.is_open:
        return []
    rows = []
    for kind in (Kind.FIRST_RESPONSE, Kind.RESOLUTION):
        if kind in live or not terms.targets.get(kind):
            continue
        previous = (Clock.objects.filter(ticket=ticket, kind=kind)
                    .order_by("-started_at", "-pk").first())
        if previous is not None and previous.met_at is not None:
            continue
        if kind == Kind.FIRST_RESPONSE and Message.objects.filter(
            ticket=ticket, kind=Message.Kind.PUBLIC, author__role=User.Role.AGENT
        ).exists():
            continue
        start = previous.started_at if previous is not None else ticket.created_at
        clock = Clock(ticket=ticket, kind=kind, plan=terms.plan, priority=terms.priority,
                      started_at=start, target_seconds=terms.targets[kind])
        clock.paused_seconds, clock.paused_at = _paused_business(ticket, clock, terms.spec, at)
        schedule(clock, terms.spec, terms.plan.warn_percent)
        clock.save(force_insert=True)
        rows.append({"clock": clock.pk, "kind": kind, "action": "started",
                     "new_due": iso(clock.due_at), "new_target": clock.target_seconds,
                     "started_at": iso(clock.started_at)})
    return rows


def on_priority_change(ticket: Ticket, old: int, new: int, *, at: datetime,
                       actor: User | None) -> bool:
    return recompute_case(ticket, reason="priority", at=at, actor=actor,
                          old_priority=old, new_priority=new)


def _recompute_tickets(ticket_ids: list[int], *, reason: str, batch: int,
                       **context: Any) -> int:
    """Recompute the given cases, `batch` cases per transaction.

    Each batch locks its cases in id order (the order every action locks one case in, so
    no deadlock) and commits before the next, so agents working on other cases of the plan
    wait at most one batch. Returns how many cases changed.
    """
    changed = 0
    for i in range(0, len(ticket_ids), batch):
        chunk = ticket_ids[i : i + batch]
        with transaction.atomic():
            tickets = (Ticket.objects.select_for_update(of=("self",))
                       .select_related("organization__plan").filter(pk__in=chunk)
                       .order_by("pk"))
            for ticket in tickets:
                changed += recompute_case(ticket, reason=reason, **context)
    return changed


def _open_ids(**filters: Any) -> set[int]:
    return set(Ticket.objects.filter(status__in=Ticket.OPEN_STATUSES, **filters)
               .values_list("pk", flat=True))


def recompute_for_plan(plan_id: int, *, batch: int = RECOMPUTE_BATCH) -> int:
    """After an admin edited a plan (targets, calendar, warning share, default flag): every
    open case served by it, or whose live clocks were computed under it."""
    plan = Plan.objects.filter(pk=plan_id).first()
    ids = set(Clock.objects.filter(plan_id=plan_id, met_at__isnull=True,
                                   cancelled_at__isnull=True).values_list("ticket_id", flat=True))
    if plan is not None:
        ids |= _open_ids(organization__plan_id=plan_id)
        default = Plan.default()
        if default is not None and default.pk == plan_id:
            ids |= _open_ids(organization__isnull=True)
            ids |= _open_ids(organization__plan__isnull=True)
    return _recompute_tickets(sorted(ids), reason="plan_edited", batch=batch,
                              plan_name=plan.name if plan else None)


def recompute_for_organization(org_id: int, *, batch: int = RECOMPUTE_BATCH) -> int:
    """After an admin changed an organization's plan: every open case of it."""
    return _recompute_tickets(sorted(_open_ids(organization_id=org_id)), reason="plan",
                              batch=batch)


def recompute_for_calendar(calendar_id: int, *, batch: int = RECOMPUTE_BATCH) -> int:
    """After an admin changed a calendar's hours, holidays or zone: every plan using it."""
    return sum(recompute_for_plan(plan_id, batch=batch) for plan_id in
               Plan.objects.filter(calendar_id=calendar_id).values_list("pk", flat=True))


def schedule_recompute(*, plan_id: int | None = None, organization_id: int | None = None,
                       calendar_id: int | None = None) -> None:
    """Ask the background worker to recompute once the admin's change commits.

    An admin's save runs in one transaction; recomputing thousands of cases inside it
    would hold their locks until the page returns. The job does it in short batches.
    """
    from casedesk.sla.jobs import recompute_clocks

    def enqueue() -> None:
        recompute_clocks.enqueue(plan_id=plan_id, organization_id=organization_id,
                                 calendar_id=calendar_id)

    transaction.on_commit(enqueue)


def priority_label(value: Any) -> str:
    try:
        return str(Priority(value).label)
    except ValueError:
        return str(value)
