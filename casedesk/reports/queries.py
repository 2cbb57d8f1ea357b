"""The numbers behind the reports, aggregated in the database.

Every section is one or two GROUP BY queries with conditional counts; Python only folds
the grouped rows into tables. The one exception is percentiles on SQLite, which has no
percentile function: there the database sorts the first-response times of the period
(whole seconds, one number a case) and Python picks the median and the 90th percentile
by the same linear interpolation PostgreSQL's percentile_cont uses, so both give the same
numbers.

Definitions (shown on the report page too):

- SLA compliance counts the first-response clocks started in the period, by the plan and
  priority they were measured against (the clock's own snapshot). Met: answered by the
  due time. Breached: answered late, or still unanswered after the due time (or marked
  breached by the sweep before the case was closed). Waiting: not answered and not yet
  due, or paused while waiting on the customer. Clocks cancelled before they were due
  (a case closed before any answer) do not count. Share met = met / (met + breached).
  Response times are elapsed time from the start of the clock to the first public agent
  reply, pauses included.
- Escalations: every move between levels made in the period, by source and the level
  the case moved to.
- Backlog: the cases open now (new, open, waiting on the customer, on hold) by their age
  since they were opened; the period does not apply.
- Volume: the cases opened in the period by category and channel, and per day (week or
  month for long periods) in the report's time zone, with the cases resolved then.
- Agent activity: per agent, the public replies and internal notes written in the
  period, the cases resolved in it (the case's assignee at the time; a case reopened and
  resolved again counts once, at its last resolution), and the first responses given in
  it (the agent who wrote the first public agent reply) with their median time.

The organization filter keeps the cases of one organization; the plan filter the cases of
organizations on that plan (cases without an organization, or of one without a plan, are
on the default plan).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import Any, cast
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import (
    Count,
    F,
    Q,
    QuerySet,
)
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casedesk.accounts.models import Organization, User
from casedesk.core.choices import Priority
from casedesk.escalation.models import Escalation, level_names
from casedesk.reports.sql import ElapsedSeconds, local_date, percentiles
from casedesk.sla.models import Clock, Plan
from casedesk.tickets.models import Category, Message, Ticket

SECTIONS = ("sla", "escalations", "backlog", "volume", "timeline", "agents")
# A report covers at most about three years: the age of the oldest data a desk keeps at
# hand, and a bound on what one request may ask the database to read.
MAX_DAYS = 3 * 366
# The backlog's age buckets: (label, lower bound inclusive, upper bound exclusive).
AGE_BUCKETS: list[tuple[Any, timedelta | None, timedelta | None]] = [
    (gettext_lazy("Under 1 day"), None, timedelta(days=1)),
    (gettext_lazy("1-3 days"), timedelta(days=1), timedelta(days=3)),
    (gettext_lazy("3-7 days"), timedelta(days=3), timedelta(days=7)),
    (gettext_lazy("7-30 days"), timedelta(days=7), timedelta(days=30)),
    (gettext_lazy("Over 30 days"), timedelta(days=30), None),
]
FIRST_RESPONSE = Clock.Kind.FIRST_RESPONSE


@dataclass(frozen=True)
class Period:
    """Whole days from `start` to `end` (both included) in `zone`."""

    start: date
    end: date
    zone: ZoneInfo

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=self.zone)

    @property
    def until(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=self.zone)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def step(self) -> str:
        """The timeline's bucket: days up to a quarter, weeks up to a year, then months."""
        if self.days <= 92:
            return "day"
        return "week" if self.days <= 366 else "month"

    def bucket_of(self, day: date) -> date:
        if self.step == "day":
            return day
        if self.step == "week":
            return day - timedelta(days=day.weekday())
        return day.replace(day=1)

    def buckets(self) -> list[date]:
        """The first day of every bucket of the timeline, in order."""
        if self.step == "day":
            return [self.start + timedelta(days=n) for n in range(self.days)]
        if self.step == "week":
            first = self.start - timedelta(days=self.start.weekday())
            return [first + timedelta(weeks=n) for n in range((self.end - first).days // 7 + 1)]
        months, (year, month) = [], (self.start.year, self.start.month)
        while (year, month) <= (self.end.year, self.end.month):
            months.append(date(year, month, 1))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return months


@dataclass(frozen=True)
class Scope:
    organization: Organization | None = None
    plan: Plan | None = None

    @cached_property
    def plan_is_default(self) -> bool:
        """Whether the plan filter also keeps the cases on no plan (read once a report)."""
        if self.plan is None:
            return False
        default = Plan.default()
        return default is not None and default.pk == self.plan.pk

    def cases(self, prefix: str = "") -> Q:
        """The cases in scope, as a filter on Ticket (or on a model through `prefix`).

        A plain join to the organization: with the indexes tickets 0011 added, the
        database reads a message's, clock's or escalation's case and organization from
        indexes alone, so a report for a plan or an organization costs what an
        unfiltered one does (a list of the plan's organization ids, tried first, made
        SQLite start from the organizations and read every case of the plan)."""
        q = Q()
        if self.organization is not None:
            q &= Q(**{f"{prefix}organization": self.organization})
        if self.plan is not None:
            on_plan = Q(**{f"{prefix}organization__plan": self.plan})
            if self.plan_is_default:
                on_plan |= Q(**{f"{prefix}organization__isnull": True})
                on_plan |= Q(**{f"{prefix}organization__plan__isnull": True})
            q &= on_plan
        return q


@dataclass(frozen=True)
class Column:
    """`kind` says how a cell reads: text, count, percent (0-100), minutes."""

    label: str
    kind: str = "count"
    unit: str = ""

    @property
    def csv_label(self) -> str:
        return f"{self.label} ({self.unit})" if self.unit else self.label


@dataclass
class Table:
    slug: str
    title: str
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)
    # Rows summing the others, kept apart so charts draw only the parts.
    totals: list[Any] | None = None
    note: str = ""

    def all_rows(self) -> list[list[Any]]:
        return [*self.rows, self.totals] if self.totals else list(self.rows)

    @property
    def body(self) -> list[list[tuple[Any, Column]]]:
        """Each row's cells with their column, for templates."""
        return [list(zip(row, self.columns, strict=True)) for row in self.rows]

    @property
    def footer(self) -> list[tuple[Any, Column]]:
        return list(zip(self.totals, self.columns, strict=True)) if self.totals else []


@dataclass
class Report:
    period: Period
    scope: Scope
    now: datetime
    sections: dict[str, Table]


def minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


# SLA compliance


def _first_response_clocks(period: Period, scope: Scope) -> QuerySet[Clock]:
    return Clock.objects.filter(
        scope.cases("ticket__"), kind=FIRST_RESPONSE,
        started_at__gte=period.since, started_at__lt=period.until,
    )


def sla_compliance(period: Period, scope: Scope, now: datetime) -> Table:
    met = Q(met_at__isnull=False, met_at__lte=F("due_at"))
    late = Q(met_at__isnull=False, met_at__gt=F("due_at"))
    unanswered = Q(met_at__isnull=True)
    overdue = unanswered & (
        Q(breached_at__isnull=False)
        | Q(cancelled_at__isnull=True, paused_at__isnull=True, due_at__lte=now)
    )
    waiting = unanswered & Q(cancelled_at__isnull=True, breached_at__isnull=True) & (
        Q(paused_at__isnull=False) | Q(due_at__gt=now)
    )
    seconds = ElapsedSeconds("met_at", "started_at")
    clocks = _first_response_clocks(period, scope)
    aggregates: dict[str, Any] = {
        "met": Count("pk", filter=met),
        "breached": Count("pk", filter=late | overdue),
        "waiting": Count("pk", filter=waiting),
    }
    grouped = list(cast(
        Iterable[dict[str, Any]],
        clocks.values("plan_id", "priority").annotate(**aggregates).order_by("plan_id", "priority"),
    ))
    # Every clock, not only the met ones: the unmet give no elapsed time (NULL, left out),
    # and on SQLite "met_at IS NOT NULL" made the planner walk every met clock ever through
    # the met clocks' index (0.6 s at a million cases) instead of the period's (0.16 s).
    times = percentiles(clocks, [F("plan_id"), F("priority")], seconds, with_total=True)
    for row in grouped:
        _count, (row["median"], row["p90"]) = times.get(
            (row["plan_id"], row["priority"]), (0, [None, None])
        )
    _count, overall = times.get((), (0, [None, None]))

    plans = dict(Plan.objects.values_list("pk", "name"))
    table = Table("sla", _("SLA compliance: first response"), [
        Column(_("Plan"), "text"), Column(_("Priority"), "text"), Column(_("Met")),
        Column(_("Breached")), Column(_("Waiting")), Column(_("Share met"), "percent", "%"),
        Column(_("Median first response"), "minutes", _("minutes")),
        Column(_("90th percentile first response"), "minutes", _("minutes")),
    ])
    grouped.sort(key=lambda r: (plans.get(r["plan_id"], ""), r["priority"]))
    for row in grouped:
        if not (row["met"] or row["breached"] or row["waiting"]):
            continue
        table.rows.append([
            plans.get(row["plan_id"], "?"), str(Priority(row["priority"]).label),
            row["met"], row["breached"], row["waiting"],
            share(row["met"], row["met"] + row["breached"]),
            minutes(row["median"]), minutes(row["p90"]),
        ])
    if table.rows:
        met_all = sum(r[2] for r in table.rows)
        breached_all = sum(r[3] for r in table.rows)
        table.totals = [_("All plans"), _("All priorities"), met_all, breached_all,
                        sum(r[4] for r in table.rows), share(met_all, met_all + breached_all),
                        minutes(overall[0]), minutes(overall[1])]
    table.note = _("First-response clocks started in the period. Share met = met / (met + "
                   "breached); waiting clocks are not yet decided. Response times run from "
                   "the case's opening to the first public agent reply, pauses included.")
    return table


# Escalations


def escalations(period: Period, scope: Scope) -> Table:
    counts = (
        Escalation.objects.filter(
            scope.cases("ticket__"), created_at__gte=period.since, created_at__lt=period.until
        )
        .values("source", "to_level").annotate(n=Count("pk")).order_by()
    )
    by_source: dict[str, dict[int, int]] = defaultdict(dict)
    levels: set[int] = set()
    for row in counts:
        by_source[row["source"]][row["to_level"]] = row["n"]
        levels.add(row["to_level"])
    names = level_names()
    ordered = sorted(levels)
    table = Table("escalations", _("Escalations by source and level"), [
        Column(_("Source"), "text"),
        *[Column(_("To level %(level)s (%(name)s)") % {"level": n, "name": names[n]}
          if n in names else _("To level %(level)s") % {"level": n}) for n in ordered],
        Column(_("Total")),
    ])
    for source in Escalation.Source:
        cells = by_source.get(source.value)
        if cells:
            counts_row = [cells.get(n, 0) for n in ordered]
            table.rows.append([str(source.label), *counts_row, sum(counts_row)])
    if table.rows:
        columns = list(zip(*[r[1:] for r in table.rows], strict=True))
        table.totals = [_("All sources"), *[sum(c) for c in columns]]
    table.note = _("Every move between levels made in the period, by the level moved to.")
    return table


# Backlog


def backlog(scope: Scope, now: datetime) -> Table:
    buckets = {}
    for n, (_label, low, high) in enumerate(AGE_BUCKETS):
        q = Q()
        if low is not None:
            q &= Q(created_at__lte=now - low)
        if high is not None:
            q &= Q(created_at__gt=now - high)
        buckets[f"b{n}"] = Count("pk", filter=q)
    grouped = cast(
        Iterable[dict[str, Any]],
        Ticket.objects.filter(scope.cases(), status__in=Ticket.OPEN_STATUSES)
        .values("status").annotate(**buckets).order_by(),
    )
    rows = {row["status"]: row for row in grouped}
    table = Table("backlog", _("Backlog by age and status"), [
        Column(_("Status"), "text"), *[Column(str(label)) for label, _low, _high in AGE_BUCKETS],
        Column(_("Total")),
    ])
    for status in Ticket.OPEN_STATUSES:
        row = rows.get(status)
        if row:
            cells = [row[f"b{n}"] for n in range(len(AGE_BUCKETS))]
            table.rows.append([str(Ticket.Status(status).label), *cells, sum(cells)])
    if table.rows:
        columns = list(zip(*[r[1:] for r in table.rows], strict=True))
        table.totals = [_("All open"), *[sum(c) for c in columns]]
    table.note = _("Cases open now, by time since they were opened; the period does not "
                   "apply.")
    return table


# Volume


def _opened(period: Period, scope: Scope) -> QuerySet[Ticket]:
    return Ticket.objects.filter(
        scope.cases(), created_at__gte=period.since, created_at__lt=period.until
    )


def volume(period: Period, scope: Scope) -> Table:
    counts = _opened(period, scope).values("category_id", "channel").annotate(n=Count("pk"))
    by_category: dict[int | None, dict[str, int]] = defaultdict(dict)
    for row in counts.order_by():
        by_category[row["category_id"]][row["channel"]] = row["n"]
    used = {ch for cells in by_category.values() for ch in cells}
    channels = [ch for ch in Ticket.Channel if ch.value in used]
    names = dict(Category.objects.values_list("pk", "name"))
    table = Table("volume", _("Volume by category and channel"), [
        Column(_("Category"), "text"), *[Column(str(ch.label)) for ch in channels],
        Column(_("Total")),
        Column(_("Share"), "percent", "%"),
    ])
    total = sum(sum(cells.values()) for cells in by_category.values())
    order = sorted(by_category, key=lambda pk: (pk is None, -sum(by_category[pk].values()),
                                                names.get(pk, "") if pk else ""))
    for pk in order:
        cells = [by_category[pk].get(ch.value, 0) for ch in channels]
        label = names.get(pk, "?") if pk is not None else _("No category")
        table.rows.append([label, *cells, sum(cells), share(sum(cells), total)])
    if table.rows:
        columns = list(zip(*[r[1:-1] for r in table.rows], strict=True))
        table.totals = [_("All categories"), *[sum(c) for c in columns], share(total, total)]
    table.note = _("Cases opened in the period.")
    return table


def timeline(period: Period, scope: Scope) -> Table:
    def per_bucket(queryset: QuerySet[Ticket], field_name: str) -> dict[date, int]:
        # Grouped by local day in the database (at most MAX_DAYS groups); days are folded
        # into weeks or months here.
        counts: dict[date, int] = defaultdict(int)
        day = local_date(field_name, period.zone, period.since, period.until)
        for row in queryset.annotate(day=day).values("day").annotate(n=Count("pk")).order_by():
            counts[period.bucket_of(_as_date(row["day"]))] += row["n"]
        return counts

    opened = per_bucket(_opened(period, scope), "created_at")
    resolved = per_bucket(
        Ticket.objects.filter(
            scope.cases(), resolved_at__gte=period.since, resolved_at__lt=period.until
        ),
        "resolved_at",
    )
    label = {"day": _("Day"), "week": _("Week from"), "month": _("Month")}[period.step]
    title = {"day": _("Cases opened and resolved per day"),
             "week": _("Cases opened and resolved per week"),
             "month": _("Cases opened and resolved per month")}[period.step]
    table = Table("timeline", title, [
        Column(label, "date"), Column(_("Opened")), Column(_("Resolved")),
    ])
    for first in period.buckets():
        table.rows.append([first, opened.get(first, 0), resolved.get(first, 0)])
    table.totals = [_("Total"), sum(opened.values()), sum(resolved.values())]
    table.note = _("In the report's time zone (%(zone)s). Resolved: the cases whose "
                   "last resolution falls in the period.") % {"zone": period.zone.key}
    return table


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


# Agent activity


def agent_activity(period: Period, scope: Scope) -> Table:
    in_period = {"created_at__gte": period.since, "created_at__lt": period.until}
    # By the author's role, through a join: given the agents' ids instead, SQLite reads
    # every message of every agent through the author index, not the period's.
    messages = (
        Message.objects.filter(scope.cases("ticket__"), author__role=User.Role.AGENT, **in_period)
        # COUNT(*), not COUNT(id): PostgreSQL then answers from the (created_at, author,
        # kind, case) index alone instead of reading 5 million rows (2.4 s -> 0.3 s at a
        # million cases); SQLite keeps the id in every index either way.
        .values("author_id", "kind").annotate(n=Count("*")).order_by()
    )
    resolved = (
        Ticket.objects.filter(
            scope.cases(), assignee__isnull=False,
            resolved_at__gte=period.since, resolved_at__lt=period.until,
        )
        .values("assignee_id").annotate(n=Count("*")).order_by()
    )
    # Who gave each first response: the clock keeps who met it (sla.Clock.met_by), so
    # this reads the clocks met in the period alone, from their index (kind, met_at,
    # met_by, started_at), instead of joining each to its case's thread (0.8 s of SQLite's
    # 90-day report at a million cases).
    responses = Clock.objects.filter(
        scope.cases("ticket__"), kind=FIRST_RESPONSE,
        met_at__gte=period.since, met_at__lt=period.until, met_by__isnull=False,
    )
    seconds = ElapsedSeconds("met_at", "started_at")
    stats: dict[int, dict[str, Any]] = defaultdict(
        lambda: {"public": 0, "internal": 0, "resolved": 0, "responses": 0, "median": None}
    )
    for written in messages:
        stats[written["author_id"]][written["kind"]] = written["n"]
    for done in resolved:
        stats[done["assignee_id"]]["resolved"] = done["n"]
    by_responder = percentiles(responses, [F("met_by_id")], seconds, [50],
                               with_total=True)
    _count, (overall,) = by_responder.pop((), (0, [None]))
    for (responder,), (count, (median,)) in by_responder.items():
        stats[responder].update(responses=count, median=median)
    people = dict(User.objects.filter(pk__in=list(stats)).values_list("pk", "full_name"))
    table = Table("agents", _("Agent activity"), [
        Column(_("Agent"), "text"), Column(_("Public replies")), Column(_("Internal notes")),
        Column(_("Cases resolved")), Column(_("First responses")),
        Column(_("Median first response"), "minutes", _("minutes")),
    ])
    for pk, row in sorted(
        stats.items(), key=lambda item: (-item[1]["public"], people.get(item[0], ""))
    ):
        table.rows.append([
            people.get(pk) or _("User %(id)s") % {"id": pk}, row["public"], row["internal"],
            row["resolved"],
            row["responses"], minutes(row["median"]),
        ])
    if table.rows:
        table.totals = [_("All agents"), *[sum(r[n] for r in table.rows) for n in range(1, 5)],
                        minutes(overall)]
    table.note = _("Replies and notes written, cases resolved while assigned to the agent, "
                   "and first responses given in the period.")
    return table


def compute(section: str, period: Period, scope: Scope, now: datetime) -> Table:
    if section == "sla":
        return sla_compliance(period, scope, now)
    if section == "escalations":
        return escalations(period, scope)
    if section == "backlog":
        return backlog(scope, now)
    if section == "volume":
        return volume(period, scope)
    if section == "timeline":
        return timeline(period, scope)
    if section == "agents":
        return agent_activity(period, scope)
    raise ValueError(f"No report section {section!r}.")


def build(
    start: date,
    end: date,
    organization: Organization | None = None,
    plan: Plan | None = None,
    *,
    zone: ZoneInfo | None = None,
    now: datetime | None = None,
    sections: Iterable[str] = SECTIONS,
) -> Report:
    """Every section (or those named) for the days `start` to `end` in `zone` (default:
    the site's time zone), without rendering anything."""
    if end < start:
        raise ValueError("The report's end is before its start.")
    period = Period(start, end, zone or ZoneInfo(settings.TIME_ZONE))
    scope = Scope(organization, plan)
    now = now or timezone.now()
    return Report(period, scope, now,
                  {name: compute(name, period, scope, now) for name in sections})
