"""Support plans and their response targets per priority; the SLA clocks of each case."""

from __future__ import annotations

from datetime import date, datetime, time

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casedesk.core.choices import ChoiceLabels, Priority
from casedesk.sla import calendar as sla_calendar


class Plan(models.Model):
    name = models.CharField(max_length=100, unique=True)
    is_default = models.BooleanField(
        default=False, help_text="The plan of contacts without an organization."
    )
    calendar = models.ForeignKey(
        "sla.Calendar", on_delete=models.PROTECT, null=True, blank=True, related_name="plans",
        help_text="The hours the targets count in. Empty: around the clock (24/7).",
    )
    warn_percent = models.PositiveSmallIntegerField(
        default=75, validators=[MinValueValidator(1), MaxValueValidator(99)],
        verbose_name="warn at (% of the target)",
        help_text="The assignee and the level's contacts are warned when this share of a "
        "target has passed (1-99).",
    )
    escalate_on_breach = models.BooleanField(
        default=True,
        help_text="When a target is missed, the case moves up one escalation level.",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(warn_percent__gte=1, warn_percent__lte=99),
                name="sla_plan_warn_percent_1_99",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def default(cls) -> Plan | None:
        return cls.objects.filter(is_default=True).first() or cls.objects.order_by("pk").first()


class Target(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="targets")
    priority = models.PositiveSmallIntegerField(choices=Priority.choices)
    first_response_minutes = models.PositiveIntegerField()
    next_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "priority"], name="sla_target_one_per_priority")
        ]

    def __str__(self) -> str:
        return f"{self.plan}: {self.get_priority_display()}"


class Clock(ChoiceLabels, models.Model):
    """One SLA target of one case: when it started, when it is due, and what became of it.

    Written only through casedesk.sla.clocks (called by the case actions, with the case
    locked) and casedesk.sla.jobs (the sweep). Times are UTC; `target_seconds` and
    `paused_seconds` are business seconds in the plan's calendar, so

        due_at = add_business_time(calendar, started_at, target_seconds + paused_seconds)

    always holds for a clock that is not paused (and is what a recomputation redoes).
    `next_check_at` is the next instant the sweep has work on this clock (the warning,
    then the breach), or NULL when it has none: met, cancelled, paused, or already warned
    and breached. The sweep reads only `next_check_at <= now` through its partial index,
    so its cost follows the clocks that are due, never the number of open cases.
    """

    class Kind(models.TextChoices):
        FIRST_RESPONSE = "first_response", _("First response")
        NEXT_RESPONSE = "next_response", _("Next response")
        RESOLUTION = "resolution", _("Resolution")
        # Started by an escalation to a level with an acknowledgement target
        # (casedesk.sla.clocks.on_escalation); the target is the level's, not the plan's.
        ESCALATION_ACK = "escalation_ack", _("Escalation acknowledged")

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="clocks")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Snapshots: what the due time was computed from (a recomputation updates them).
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="clocks")
    priority = models.PositiveSmallIntegerField(choices=Priority.choices)
    started_at = models.DateTimeField()
    target_seconds = models.PositiveIntegerField()
    paused_seconds = models.PositiveBigIntegerField(default=0)
    paused_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField()
    warn_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    met_at = models.DateTimeField(null=True, blank=True)
    # Who met it: the agent whose public reply met a response clock, the person who
    # resolved the case for a resolution clock (none for the system). Kept on the clock
    # so the reports' first responses per agent read the clocks alone instead of joining
    # every clock to its case's thread (0.8 s of a 90-day report at a million cases).
    met_by = models.ForeignKey("accounts.User", null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["started_at", "pk"]
        indexes = [
            # The sweep's only read: a range scan of the clocks with work due.
            models.Index(
                fields=["next_check_at"], condition=Q(next_check_at__isnull=False),
                name="clock_next_check",
            ),
            # The desk's "Breaching soon" view: running clocks by due time.
            models.Index(
                fields=["due_at"],
                condition=Q(met_at__isnull=True, cancelled_at__isnull=True,
                            paused_at__isnull=True),
                name="clock_running_due",
            ),
            # Reports: first-response clocks started in a period (SLA compliance) and met
            # in a period (first responses per agent). Only met clocks: SQLite took
            # "met_at IS NULL" for an equality this index answers in one row (its
            # statistics average over the distinct times) and read every unmet clock for
            # "Breaching soon" instead of the running ones in due order (15 ms of the
            # view's 25 at 100,000 cases).
            models.Index(fields=["kind", "started_at"], name="clock_kind_started"),
            # Who met them and when they started are in it too: first responses per agent
            # are counted and timed from the index alone.
            models.Index(fields=["kind", "met_at", "met_by", "started_at"],
                         condition=models.Q(met_at__isnull=False), name="clock_kind_met_by"),
            # /metrics: warnings and breaches by target, counted at every scrape from these
            # (index only) rather than from every clock ever started.
            models.Index(fields=["kind"], condition=Q(warned_at__isnull=False),
                         name="clock_warned_kind"),
            models.Index(fields=["kind"], condition=Q(breached_at__isnull=False),
                         name="clock_breached_kind"),
        ]
        constraints = [
            # A case has at most one live clock per kind; the ones before it stay as history.
            models.UniqueConstraint(
                fields=["ticket", "kind"],
                condition=Q(met_at__isnull=True, cancelled_at__isnull=True),
                name="clock_one_live_per_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.ticket_id} {self.get_kind_display()}"

    @property
    def is_live(self) -> bool:
        """Not met and not cancelled: it still counts (it may be paused or breached)."""
        return self.met_at is None and self.cancelled_at is None

    @property
    def is_running(self) -> bool:
        return self.is_live and self.paused_at is None

    @property
    def is_paused(self) -> bool:
        return self.is_live and self.paused_at is not None

    @property
    def met_late(self) -> bool:
        return self.met_at is not None and self.met_at > self.due_at

    def pending_check(self) -> datetime | None:
        """The next instant the sweep must look at this clock, or None."""
        if not self.is_running:
            return None
        instants = []
        if self.warned_at is None and self.warn_at is not None and self.breached_at is None:
            instants.append(self.warn_at)
        if self.breached_at is None:
            instants.append(self.due_at)
        return min(instants) if instants else None


# Calendars: the hours that SLA targets count in (casedesk.sla.calendar does the arithmetic).


def validate_time_zone(value: str) -> None:
    try:
        sla_calendar.get_zone(value)
    except sla_calendar.InvalidCalendar as error:
        raise ValidationError(str(error), code="invalid_time_zone") from error


class Calendar(models.Model):
    """Around the clock, or weekly hours in a time zone with holidays.

    `spec()` turns it into the CalendarSpec that casedesk.sla.calendar computes with; a
    calendar that is not always open must have open time in the next two years, which
    `check_open()` enforces (from clean(), and from the admin's hours inline, which sees
    the hours being submitted).
    """

    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(
        max_length=64, default="UTC", validators=[validate_time_zone],
        help_text='An IANA time zone name, such as "Asia/Dubai" or "Europe/London". The '
        "weekly hours and holidays are in this zone, and daylight saving follows it.",
    )
    always_open = models.BooleanField(
        default=True,
        help_text="Open around the clock (24/7): targets count every hour, and the weekly "
        "hours and holidays are ignored.",
    )
    country_holidays = models.CharField(
        "national holidays", max_length=3, blank=True,
        help_text="A country code whose public holidays are closed all day, such as AE, SA, "
        "EG, JO or MA. Empty: none.",
    )
    subdivision = models.CharField(
        max_length=10, blank=True,
        help_text="A region of that country whose holidays differ, such as ENG for GB. "
        "Usually empty.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.country_holidays = self.country_holidays.strip().upper()
        self.subdivision = self.subdivision.strip().upper()
        errors: dict[str, str] = {}
        try:
            sla_calendar.get_zone(self.time_zone)
        except sla_calendar.InvalidCalendar as error:
            errors["time_zone"] = str(error)
        if self.country_holidays:
            try:
                sla_calendar.check_country(self.country_holidays, self.subdivision)
            except sla_calendar.InvalidCalendar as error:
                field = "subdivision" if "subdivision" in str(error) else "country_holidays"
                errors[field] = str(error)
        elif self.subdivision:
            errors["subdivision"] = "A subdivision needs a country for national holidays."
        if errors:
            raise ValidationError(errors)
        # The admin's form sets this flag: its hours inline runs the same check with the
        # hours being submitted, which the stored ones here would contradict.
        if not getattr(self, "open_check_deferred", False):
            self.check_open()

    def check_open(
        self, hours: list[tuple[int, time, time]] | None = None, now: datetime | None = None
    ) -> None:
        """ValidationError if, with these weekly hours (default: the stored ones), the
        calendar has no open time in the next two years."""
        now = now or timezone.now()
        try:
            spec = self.spec(range(now.year, now.year + 3), hours=hours)
            sla_calendar.next_open(spec, now)
        except sla_calendar.ClosedCalendarError as error:
            raise ValidationError(
                "This calendar is never open in the next two years: give it weekly hours, "
                "or tick Always open.", code="closed_calendar",
            ) from error

    def spec(
        self, years: range | None = None, *, hours: list[tuple[int, time, time]] | None = None
    ) -> sla_calendar.CalendarSpec:
        """The calendar for the arithmetic, with national holidays for `years`.

        Default years: last year to two years ahead. A date outside `years` is a working
        day as far as national holidays go, so callers computing far ahead pass their own.
        `hours` replaces the stored weekly hours (to check a form before saving).
        Reads `hours` and `fixed_holidays` through .all(), so prefetch_related serves it.
        """
        if self.always_open:
            return sla_calendar.CalendarSpec(self.time_zone, always_open=True)
        if years is None:
            this_year = timezone.now().year
            years = range(this_year - 1, this_year + 3)
        if hours is None:
            hours = (
                [(row.weekday, row.start, row.end) for row in self.hours.all()]
                if self.pk else []
            )
        weekly: dict[int, list[tuple[time, time]]] = {}
        for weekday, start, end in hours:
            weekly.setdefault(weekday, []).append((start, end))
        names: dict[date, str] = {}
        if self.country_holidays:
            for year in years:
                names.update(
                    sla_calendar.national_holidays(self.country_holidays, self.subdivision, year)
                )
        for holiday in self.fixed_holidays.all() if self.pk else []:
            national = names.get(holiday.date)
            names[holiday.date] = (
                f"{national}; {holiday.name}"
                if national and national != holiday.name else holiday.name
            )
        return sla_calendar.CalendarSpec(self.time_zone, False, weekly, names)


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class WeeklyHours(models.Model):
    """One open interval of a calendar, in local time, on the weekday it starts."""

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start = models.TimeField()
    end = models.TimeField(
        help_text="At or before the start: the hours run past midnight into the next day "
        "(22:00-06:00). 00:00 is midnight at the end of the day.",
    )

    class Meta:
        ordering = ["weekday", "start"]
        verbose_name_plural = "weekly hours"
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="sla_weeklyhours_weekday")
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M}"


class Holiday(models.Model):
    """A date on which a calendar is closed all day (local time), besides national ones."""

    calendar = models.ForeignKey(
        Calendar, on_delete=models.CASCADE, related_name="fixed_holidays"
    )
    date = models.DateField()
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="sla_holiday_one_per_date")
        ]

    def __str__(self) -> str:
        return f"{self.date}: {self.name}"


class TermsToken(models.Model):
    """One row whose token changes, by database triggers (migration 0007), whenever a
    plan, target, calendar, weekly hours or holiday row is inserted, updated or deleted:
    the processes that cache those (casedesk.sla.terms) compare it to know when to reload.
    Never written by the application."""

    token = models.CharField(max_length=64)

    def __str__(self) -> str:
        return self.token
