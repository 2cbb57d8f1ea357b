"""How each due time of a case was computed, step by step, so a person can redo the sum.

For every clock: when it started, under which plan, priority and target; which calendar
counted the time and which stretches it skipped (closed hours, weekends, holidays, from
casedesk.sla.calendar.explain); each pause and how far it moved the due time; each
recomputation (priority or plan change, plan edited) with the old and new due time; then
warnings, breaches, and when the target was met. The customer's version (`customer=True`)
leaves out the internal alerts (warnings, breaches, escalation) and nothing else.

Read from the clocks and the case's SLA events only: two queries, plus the plan's calendar
when it is not around the clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casedesk.core import rows
from casedesk.sla import calendar as sla_calendar
from casedesk.sla.clocks import priority_label, spec_for
from casedesk.sla.display import TimeLeft, duration, time_left
from casedesk.sla.models import Clock
from casedesk.sla.terms import current_token, plan_by_id
from casedesk.tickets.models import Event, Ticket

SLA_EVENTS = (
    Event.Kind.SLA_PAUSED, Event.Kind.SLA_RESUMED, Event.Kind.SLA_RECOMPUTED,
    Event.Kind.SLA_WARNING, Event.Kind.SLA_BREACH, Event.Kind.SLA_MET,
)
# A calendar walk longer than this is summarized (a 96-hour target over a holiday
# fortnight has a few dozen stretches; a months-long resolution target could have more).
MAX_SKIPPED = 40
_CLOCK_PLAN = Clock._meta.get_field("plan")
RECOMPUTE_REASONS = {
    "priority": gettext_lazy("Priority changed"),
    "plan": gettext_lazy("The organization's plan changed"),
    "plan_edited": gettext_lazy("The plan was edited"),
}


@dataclass
class Step:
    at: datetime | None
    kind: str
    text: str
    details: list[str] = field(default_factory=list)


@dataclass
class ClockStory:
    clock: Clock
    label: str
    now: TimeLeft
    steps: list[Step]
    sum_text: str


def _when(value: datetime | str | None, zone: ZoneInfo) -> str:
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is None:
        return "?"
    # Day and month names in the active language; digits stay Latin.
    return date_format(value.astimezone(zone), _("D j M Y, H:i"))


def _parse(value: str | None) -> datetime | None:
    return parse_datetime(value) if value else None


def _events_by_clock(ticket: Ticket, events: Iterable[Event] | None = None,
                     ) -> dict[int, list[tuple[Event, dict[str, Any]]]]:
    """The case's SLA events by clock; from `events` (all the case's events, oldest first)
    when the page has read them already."""
    found: dict[int, list[tuple[Event, dict[str, Any]]]] = {}
    if events is None:
        events = ticket.events.filter(kind__in=SLA_EVENTS).order_by("created_at", "pk")
    for event in events:
        if event.kind not in SLA_EVENTS:
            continue
        data = event.data or {}
        rows = data.get("clocks") or [data]
        for row in rows:
            if isinstance(row, dict) and row.get("clock"):
                found.setdefault(int(row["clock"]), []).append((event, row))
    return found


def case_clocks_for_pages(ticket: Ticket) -> list[Clock]:
    """The case's clocks, oldest first, each with its plan: a fixed statement (both case
    pages read them on every request; compiling the ORM's join to the plan and calendar
    cost more than running it), the plans as casedesk.sla.terms keeps them."""
    clocks = rows.select(Clock, "ticket_id = %s", [ticket.pk], tail=" ORDER BY started_at, id")
    if clocks:
        token = current_token()
        plans = {plan_id: plan_by_id(plan_id, token) for plan_id in {c.plan_id for c in clocks}}
        for clock in clocks:
            _CLOCK_PLAN.set_cached_value(clock, plans[clock.plan_id])
    return clocks


def timelines(ticket: Ticket, zone: ZoneInfo, *, customer: bool = False,
              now: datetime | None = None, clocks: list[Clock] | None = None,
              events: Iterable[Event] | None = None) -> list[ClockStory]:
    """One story per clock of the case, oldest first."""
    now = now or timezone.now()
    if clocks is None:
        clocks = case_clocks_for_pages(ticket)
    if customer:
        # The acknowledgement of an escalation is the team's internal target.
        clocks = [c for c in clocks if c.kind != Clock.Kind.ESCALATION_ACK]
    if not clocks:
        return []
    by_clock = _events_by_clock(ticket, events)
    specs: dict[int, sla_calendar.CalendarSpec] = {}
    stories = []
    for clock in clocks:
        if clock.plan_id not in specs:
            specs[clock.plan_id] = spec_for(clock.plan)
        stories.append(_story(clock, by_clock.get(clock.pk, []), specs[clock.plan_id], zone,
                              customer, now))
    return stories


def _story(clock: Clock, events: list[tuple[Event, dict[str, Any]]],
           spec: sla_calendar.CalendarSpec, zone: ZoneInfo, customer: bool,
           now: datetime) -> ClockStory:
    label = str(clock.get_kind_display())
    steps = [_start_step(clock, events, zone)]
    calendar = clock.plan.calendar
    if spec.always_open:
        steps.append(Step(None, "calendar", _("Counted around the clock (24/7): every hour "
                                              "counts.")))
    else:
        name = calendar.name if calendar else _("the plan's calendar")
        steps.append(Step(None, "calendar",
                          _("Counted in the open hours of %(calendar)s (%(zone)s).")
                          % {"calendar": name, "zone": spec.time_zone},
                          _skipped(spec, clock, zone)))
    for event, row in events:
        step = _event_step(event, row, clock, zone, customer)
        if step is not None:
            steps.append(step)
    if clock.cancelled_at is not None:
        steps.append(Step(clock.cancelled_at, "cancelled",
                          _("Stopped at %(time)s: %(reason)s.") % {
                              "time": _when(clock.cancelled_at, zone),
                              "reason": clock.cancel_reason or _("no longer needed")}))
    elif clock.paused_at is not None:
        steps.append(Step(clock.paused_at, "paused",
                          _("Paused since %(time)s: waiting on the customer. The due time "
                            "moves when it runs again.") % {"time": _when(clock.paused_at, zone)}))
    # Stable: the start, then the calendar (which has no time of its own), then in order.
    steps.sort(key=lambda s: s.at or clock.started_at)
    counted = clock.target_seconds + clock.paused_seconds
    values = {
        "target": duration(clock.target_seconds), "paused": duration(clock.paused_seconds),
        "total": duration(counted), "start": _when(clock.started_at, zone),
        "due": _when(clock.due_at, zone),
    }
    if clock.paused_seconds:
        sum_text = _("Target %(target)s + paused %(paused)s = %(total)s of counted time after "
                     "%(start)s → due %(due)s.") % values
    else:
        sum_text = _("Target %(target)s of counted time after %(start)s → due %(due)s.") % values
    return ClockStory(clock, label, time_left(clock, now), steps, sum_text)


def _start_step(clock: Clock, events: list[tuple[Event, dict[str, Any]]],
                zone: ZoneInfo) -> Step:
    # The plan and target at the start are those before the first recomputation.
    first = next((row for e, row in events if e.kind == Event.Kind.SLA_RECOMPUTED), None)
    if clock.kind == Clock.Kind.ESCALATION_ACK:
        # Its target is the escalation level's, whatever the plan and priority.
        return Step(clock.started_at, "start",
                    _("Started %(time)s by an escalation to a level whose acknowledgement "
                      "target is %(target)s; the first message by an agent after it meets it.")
                    % {"time": _when(clock.started_at, zone),
                       "target": duration(clock.target_seconds)})
    if first is not None and first.get("action") == "started":
        return Step(clock.started_at, "start",
                    _("Counted from the case's creation, %(time)s: the target was added later "
                      "(see below).") % {"time": _when(clock.started_at, zone)})
    if first is not None and first.get("action") == "recomputed":
        plan = first.get("old_plan") or clock.plan.name
        priority = priority_label(first.get("old_priority") or clock.priority)
        target = first.get("old_target") or clock.target_seconds
    else:
        plan, priority, target = clock.plan.name, priority_label(clock.priority), \
            clock.target_seconds
    return Step(clock.started_at, "start",
                _("Started %(time)s: %(plan)s plan, %(priority)s, target %(target)s.") % {
                    "time": _when(clock.started_at, zone), "plan": plan, "priority": priority,
                    "target": duration(target)})


def _skipped(spec: sla_calendar.CalendarSpec, clock: Clock, zone: ZoneInfo) -> list[str]:
    """The closed stretches between the start and the due time, in the calendar's zone
    (the office clock the hours are written in)."""
    try:
        segments = sla_calendar.explain(spec, clock.started_at, clock.due_at)
    except sla_calendar.InvalidCalendar as error:
        return [_("The calendar could not be read (%(error)s); time was counted around the "
                  "clock.") % {"error": error}]
    lines = []
    counted = 0
    skipped = [s for s in segments if not s.counted]
    for segment in segments:
        if segment.counted:
            counted += segment.seconds
    for segment in skipped[:MAX_SKIPPED]:
        reason = segment.reason.replace("holiday: ", "holiday, ")
        lines.append(_("Not counted: %(start)s – %(end)s (%(reason)s, %(time)s)") % {
            "start": date_format(segment.start, "D d M H:i"),
            "end": date_format(segment.end, "D d M H:i"),
            "reason": reason, "time": duration(segment.seconds)})
    if len(skipped) > MAX_SKIPPED:
        rest = sum(s.seconds for s in skipped[MAX_SKIPPED:])
        lines.append(_("… and %(count)s more closed stretches (%(time)s).") % {
            "count": len(skipped) - MAX_SKIPPED, "time": duration(rest)})
    lines.append(_("Open time from the start to the due time: %(time)s.")
                 % {"time": duration(counted)})
    return lines


def _event_step(event: Event, row: dict[str, Any], clock: Clock, zone: ZoneInfo,
                customer: bool) -> Step | None:
    at = event.created_at
    kind = event.kind
    if kind == Event.Kind.SLA_PAUSED:
        return Step(at, "paused", _("Paused at %(time)s: waiting on the customer.")
                    % {"time": _when(at, zone)})
    if kind == Event.Kind.SLA_RESUMED:
        return Step(at, "resumed",
                    _("Running again at %(time)s: the pause counted %(paused)s of open time, "
                      "so the due time moved from %(old)s to %(new)s.") % {
                        "time": _when(at, zone),
                        "paused": duration(row.get("paused_seconds") or 0),
                        "old": _when(row.get("old_due"), zone),
                        "new": _when(row.get("new_due"), zone)})
    if kind == Event.Kind.SLA_RECOMPUTED:
        return _recompute_step(event, row, zone, customer)
    if kind == Event.Kind.SLA_MET:
        late = int(row.get("late_seconds") or 0)
        if late:
            return Step(at, "met", _("Met at %(time)s, %(late)s after the due time.") % {
                "time": _when(at, zone), "late": duration(late)})
        return Step(at, "met", _("Met at %(time)s, in time.") % {"time": _when(at, zone)})
    if customer:
        return None
    if kind == Event.Kind.SLA_WARNING:
        return Step(at, "warning",
                    _("Warning sent at %(time)s (%(percent)s%% of the target had passed).")
                    % {"time": _when(at, zone), "percent": row.get("percent", "?")})
    if kind == Event.Kind.SLA_BREACH:
        text = _("Breached: still not met at %(time)s.") % {"time": _when(at, zone)}
        if row.get("escalate"):
            text += " " + _("The plan escalates breached cases one level.")
        return Step(at, "breach", text)
    return None


def _recompute_step(event: Event, row: dict[str, Any], zone: ZoneInfo,
                    customer: bool) -> Step:
    data = event.data or {}
    reason = str(RECOMPUTE_REASONS.get(data.get("reason", ""), _("Recomputed")))
    at = event.created_at
    if data.get("reason") == "priority":
        reason = _("Priority changed from %(old)s to %(new)s") % {
            "old": priority_label(data.get("old_priority")),
            "new": priority_label(data.get("new_priority"))}
    elif data.get("plan"):
        reason = _("%(reason)s (now the %(plan)s plan)") % {"reason": reason,
                                                           "plan": data["plan"]}
    action = row.get("action")
    if action == "cancelled":
        return Step(at, "recomputed",
                    _("%(reason)s at %(time)s: the plan has no such target for this priority "
                      "any more, so this clock stopped.")
                    % {"reason": reason, "time": _when(at, zone)})
    if action == "started":
        return Step(at, "recomputed",
                    _("%(reason)s at %(time)s: the plan now has this target (%(target)s), "
                      "counted from the case's creation → due %(due)s.") % {
                        "reason": reason, "time": _when(at, zone),
                        "target": duration(row.get("new_target") or 0),
                        "due": _when(row.get("new_due"), zone)})
    text = _("%(reason)s at %(time)s: target %(old_target)s → %(new_target)s, counted again "
             "from the original start: due %(old_due)s → %(new_due)s.") % {
        "reason": reason, "time": _when(at, zone),
        "old_target": duration(row.get("old_target") or 0),
        "new_target": duration(row.get("new_target") or 0),
        "old_due": _when(row.get("old_due"), zone), "new_due": _when(row.get("new_due"), zone)}
    withdrawn = row.get("withdrawn") or []
    if withdrawn and not customer:
        names = {"warning": _("warning"), "breach": _("breach")}
        text += " " + _("The earlier %(what)s no longer applies.") % {
            "what": _(" and ").join(str(names.get(w, w)) for w in withdrawn)}
    return Step(at, "recomputed", text)


def page_context(ticket: Ticket, user: Any, *, customer: bool,
                 now: datetime | None = None, events: Iterable[Event] | None = None,
                 ) -> dict[str, Any]:
    """What the case pages need: the timeline, the reader's zone, and for the customer
    the target they wait on (for agents, each clock's time left). `events`: all the
    case's events oldest first, when the page has them (one query fewer)."""
    from casedesk.sla.display import case_clocks, customer_lines, viewer_zone

    now = now or timezone.now()
    zone = viewer_zone(user, ticket)
    clocks = case_clocks_for_pages(ticket)
    context: dict[str, Any] = {
        "sla_zone": zone.key,
        "sla_stories": timelines(ticket, zone, customer=customer, now=now, clocks=clocks,
                                 events=events),
    }
    if customer:
        context["sla_lines"] = customer_lines(clocks, zone, now)
    else:
        context["sla_clocks"] = [c for c in case_clocks(clocks, now)
                                 if c.state not in ("met", "cancelled")]
    return context
