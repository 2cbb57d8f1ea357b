"""Support plans and their response targets per priority."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from casedesk.core.choices import Priority
from casedesk.sla import calendar as sla_calendar


class Plan(models.Model):
    name = models.CharField(max_length=100, unique=True)
    is_default = models.BooleanField(
        default=False, help_text="The plan of contacts without an organization."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def default(cls) -> Plan | None:
        return cls.objects.filter(is_default=True).first() or cls.objects.order_by("pk").first()

    def first_response_target(self, priority: int) -> timedelta | None:
        target = self.targets.filter(priority=priority).first()
        if target is None:
            return None
        return timedelta(minutes=target.first_response_minutes)


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
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


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
