"""How SLA clocks read on a page: time left or overdue, in the reader's time zone.

Nothing here writes. The desk's queue gets each listed case's next due clock with one
query for the whole page (`attach_time_left`); the case pages and the portal get their
lines from `case_clocks` and `customer_lines`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casedesk.core import rows
from casedesk.core.format import minute_text
from casedesk.sla import calendar as sla_calendar
from casedesk.sla.models import Clock
from casedesk.tickets.models import Ticket

UTC_ZONE = ZoneInfo("UTC")


def duration(seconds: int) -> str:
    """"3d 4h", "2h 14m", "2h", "35m", "<1m": short enough for a queue cell."""
    seconds = max(0, int(seconds))
    minutes = seconds // 60
    if minutes == 0:
        return _("<1m")
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        if hours:
            return _("%(days)dd %(hours)dh") % {"days": days, "hours": hours}
        return _("%(days)dd") % {"days": days}
    if hours:
        if mins:
            return _("%(hours)dh %(minutes)dm") % {"hours": hours, "minutes": mins}
        return _("%(hours)dh") % {"hours": hours}
    return _("%(minutes)dm") % {"minutes": mins}


def zone_named(*names: str | None) -> ZoneInfo:
    """The first of `names` that is a time zone this server knows; UTC otherwise (a
    mistyped zone on a profile shows UTC times, labelled as such, rather than an error)."""
    for name in names:
        if name:
            try:
                return sla_calendar.get_zone(name)
            except sla_calendar.InvalidCalendar:
                continue
    return UTC_ZONE


def viewer_zone(user: Any, ticket: Ticket | None = None) -> ZoneInfo:
    """The reader's zone: their own, else their organization's, else the site's
    (settings.TIME_ZONE, UTC by default).

    `user` may be anonymous (the confirmation page after an anonymous submission): then
    the case's requester is the reader.
    """
    if not getattr(user, "is_authenticated", False) and ticket is not None:
        user = ticket.requester
    if not getattr(user, "is_authenticated", False):
        return zone_named(settings.TIME_ZONE)
    organization = None if getattr(user, "is_agent", False) else user.organization
    # The same order as the pages' own zone (casedesk.core.middleware.reader_zone).
    return zone_named(user.time_zone, organization.time_zone if organization else None,
                      settings.TIME_ZONE)


@dataclass(frozen=True)
class TimeLeft:
    """A clock as a cell: `state` is the colour class (ok, warn, breach, paused, met,
    cancelled), `text` what it says."""

    state: str
    text: str
    kind: str
    label: str
    due_at: datetime | None

    @property
    def css(self) -> str:
        return f"sla-{self.state}"


def time_left(clock: Clock, now: datetime | None = None) -> TimeLeft:
    now = now or timezone.now()
    label = str(clock.get_kind_display())
    if clock.met_at is not None:
        late = (clock.met_at - clock.due_at).total_seconds()
        text = (_("met %(late)s late") % {"late": duration(int(late))} if late > 0
                else _("met"))
        return TimeLeft("met", text, clock.kind, label, clock.due_at)
    if clock.cancelled_at is not None:
        return TimeLeft("cancelled", _("cancelled"), clock.kind, label, None)
    if clock.paused_at is not None:
        return TimeLeft("paused", _("paused"), clock.kind, label, clock.due_at)
    left = (clock.due_at - now).total_seconds()
    if left <= 0:
        return TimeLeft("breach", _("overdue by %(time)s") % {"time": duration(int(-left))},
                        clock.kind, label, clock.due_at)
    warned = clock.warned_at is not None or (clock.warn_at is not None and clock.warn_at <= now)
    return TimeLeft("warn" if warned else "ok", _("%(time)s left") % {"time": duration(int(left))},
                    clock.kind, label, clock.due_at)


def next_due(clocks: Iterable[Clock], now: datetime | None = None) -> TimeLeft | None:
    """The clock that matters most for a case: the running one due first, else a paused
    one (shown as paused), else None."""
    live = [c for c in clocks if c.is_live]
    running = sorted((c for c in live if c.paused_at is None), key=lambda c: c.due_at)
    if running:
        return time_left(running[0], now)
    if live:
        return time_left(live[0], now)
    return None


def attach_time_left(tickets: list[Ticket], now: datetime | None = None) -> None:
    """Set `sla` (a TimeLeft or None) on each case of a list page: one query per page, a
    fixed statement (compiling the ORM's cost more than running it)."""
    now = now or timezone.now()
    by_ticket: dict[int, list[Clock]] = {t.pk: [] for t in tickets}
    if by_ticket:
        marks = rows.marks(len(by_ticket))
        for clock in rows.select(
            Clock, f"ticket_id IN ({marks}) AND met_at IS NULL AND cancelled_at IS NULL",
            list(by_ticket), tail=" ORDER BY started_at, id",
        ):
            by_ticket[clock.ticket_id].append(clock)
    for ticket in tickets:
        ticket.sla = next_due(by_ticket.get(ticket.pk, []), now)  # type: ignore[attr-defined]


def local(value: datetime | None, zone: ZoneInfo) -> datetime | None:
    return value.astimezone(zone) if value is not None else None


def when_text(value: datetime, zone: ZoneInfo, now: datetime | None = None) -> str:
    """"14:30" today, "Tue 3 Dec, 14:30" another day, "3 Dec 2027, 14:30" another year,
    in `zone`."""
    at = value.astimezone(zone)
    today = (now or timezone.now()).astimezone(zone)
    # Month and day names in the active language; digits stay Latin.
    if at.date() == today.date():
        return f"{at:%H:%M}"
    if at.year == today.year:
        return date_format(at, _("D j M, H:i"))
    return date_format(at, _("j M Y, H:i"))


def zone_label(zone: ZoneInfo) -> str:
    return str(zone.key)


def case_clocks(clocks: Iterable[Clock], now: datetime | None = None) -> list[TimeLeft]:
    """The clocks of a case (live first, then by start), as cells for the desk."""
    now = now or timezone.now()
    ordered = sorted(clocks, key=lambda c: (not c.is_live, c.started_at, c.pk))
    return [time_left(c, now) for c in ordered]


@dataclass(frozen=True)
class CustomerLine:
    """What the customer reads about one response target."""

    label: str
    text: str
    state: str


CUSTOMER_KINDS = (Clock.Kind.FIRST_RESPONSE, Clock.Kind.NEXT_RESPONSE)


def customer_lines(clocks: Iterable[Clock], zone: ZoneInfo, now: datetime | None = None
                   ) -> list[CustomerLine]:
    """The response target the customer is waiting on, or the last one met, e.g.
    "First response due by 14:30 (your time)", from the case's clocks. Empty when the case
    has no response clock: the plan sets no response target for the case's priority."""
    now = now or timezone.now()
    # Resolution is not a response; an escalation's acknowledgement is the team's own
    # target between its levels, not a promise to the customer.
    clocks = sorted((c for c in clocks if c.kind in CUSTOMER_KINDS),
                    key=lambda c: (c.started_at, c.pk), reverse=True)
    live = [c for c in clocks if c.is_live]
    lines = []
    for clock in live or clocks[:1]:
        label = str(clock.get_kind_display())
        due = when_text(clock.due_at, zone, now)
        if clock.met_at is not None:
            text = _("%(label)s: answered at %(time)s (your time)") % {
                "label": label, "time": when_text(clock.met_at, zone, now)}
            state = "met"
        elif clock.cancelled_at is not None:
            continue
        elif clock.paused_at is not None:
            text = _("%(label)s: the clock is paused while we wait for your reply; "
                     "it runs again when you answer") % {"label": label}
            state = "paused"
        elif clock.due_at <= now:
            text = _("%(label)s was due by %(time)s (your time); we are on it") % {
                "label": label, "time": due}
            state = "breach"
        else:
            text = _("%(label)s due by %(time)s (your time)") % {"label": label, "time": due}
            state = "ok"
        lines.append(CustomerLine(label, text, state))
    return lines


def breaching_ids(narrow: QuerySet[Ticket] | None, offset: int, count: int) -> list[int]:
    """Case ids in the order of their soonest running due time (overdue first): the
    cases from `offset`, at most `count` of them. `narrow` limits them to some cases.

    Reads the running clocks through the partial index on due_at (clock_running_due), in
    order, and stops early: a case has at most one live clock per kind, so that many
    rows per case wanted always hold enough distinct cases.
    """
    clocks = Clock.objects.filter(
        met_at__isnull=True, cancelled_at__isnull=True, paused_at__isnull=True
    )
    if narrow is not None:
        clocks = clocks.filter(ticket__in=narrow)
    wanted = offset + count
    rows = clocks.order_by("due_at", "pk").values_list("ticket_id", flat=True)
    ids = list(dict.fromkeys(rows[: wanted * len(Clock.Kind)]))
    return ids[offset:wanted]


def kind_label(kind: object) -> str:
    """A clock's kind in lower case, in the active language."""
    try:
        return str(Clock.Kind(str(kind)).label).lower()
    except ValueError:
        return str(kind)


RECOMPUTE_WHY = {"priority": gettext_lazy("the priority changed"),
                 "plan": gettext_lazy("the organization's plan changed"),
                 "plan_edited": gettext_lazy("the plan was edited")}


def event_sentence(kind: str, data: dict[str, Any]) -> str | None:
    """An SLA event as a line of the case's history (None: not an SLA event)."""
    def label(row: dict[str, Any]) -> str:
        return kind_label(row.get("kind"))

    rows = [r for r in data.get("clocks", []) if isinstance(r, dict)]
    if kind == "sla_paused":
        return _("SLA paused while waiting on the customer: %(clocks)s") % {
            "clocks": _(", ").join(label(r) for r in rows)}
    if kind == "sla_resumed":
        return _("SLA running again: %(clocks)s") % {"clocks": _(", ").join(
            _("%(clock)s due moved by %(time)s") % {
                "clock": label(r), "time": duration(r.get("paused_seconds") or 0)}
            for r in rows)}
    if kind == "sla_recomputed":
        why = RECOMPUTE_WHY.get(str(data.get("reason")), _("recomputed"))
        parts = []
        for r in rows:
            if r.get("action") == "cancelled":
                parts.append(_("%(clock)s stopped (no target)") % {"clock": label(r)})
            elif r.get("action") == "started":
                parts.append(_("%(clock)s started (%(target)s)") % {
                    "clock": label(r), "target": duration(r.get("new_target") or 0)})
            else:
                parts.append(_("%(clock)s target %(old)s → %(new)s") % {
                    "clock": label(r), "old": duration(r.get("old_target") or 0),
                    "new": duration(r.get("new_target") or 0)})
        return _("SLA due times recomputed (%(why)s): %(changes)s") % {
            "why": why, "changes": _(", ").join(parts)}
    if kind == "sla_warning":
        return _("SLA warning: %(clock)s due soon (%(percent)s%% of the target)") % {
            "clock": label(data), "percent": data.get("percent", "?")}
    if kind == "sla_breach":
        return _("SLA breached: %(clock)s target missed") % {"clock": label(data)}
    if kind == "sla_met":
        late = int(data.get("late_seconds") or 0)
        if late:
            return _("SLA met: %(clock)s, %(late)s late") % {
                "clock": label(data), "late": duration(late)}
        return _("SLA met: %(clock)s, in time") % {"clock": label(data)}
    return None


MINUTE_FORMAT = "j M Y, H:i T"


def _due_text(due_at: datetime, fmt: str) -> str:
    """{{ due_at|date:_('j M Y, H:i T') }}."""
    local = timezone.localtime(due_at)
    return minute_text(local) if fmt == MINUTE_FORMAT else str(date_format(local, fmt))


def time_left_html(sla: TimeLeft | None, fmt: str) -> str:
    """sla/_time_left.html (without show_label), with its closing line break."""
    if not sla:
        return '<span class="muted">–</span>\n'
    title = ""
    if sla.due_at:
        text = _("%(label)s due %(due)s") % {
            "label": escape(sla.label), "due": escape(_due_text(sla.due_at, fmt))}
        title = f' title="{text}"'
    return f'<span class="sla {escape(sla.css)}"{title}>{escape(sla.text)}</span>\n'
