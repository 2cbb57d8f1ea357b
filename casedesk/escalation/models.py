"""The escalation matrix: ordered levels, each a team of agents with contacts; the agents'
weekly shifts; every escalation of a case; and the portal widget's confirmation requests.

Changes to cases go through casedesk.escalation.actions.escalate, never through these
models directly.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casedesk.core.choices import ChoiceLabels

if TYPE_CHECKING:
    from casedesk.accounts.models import User

LEVELS_CACHE_KEY = "casedesk:escalation-levels"
LEVELS_CACHE_SECONDS = 60

WEEKDAYS = [
    (0, "Monday"), (1, "Tuesday"), (2, "Wednesday"), (3, "Thursday"), (4, "Friday"),
    (5, "Saturday"), (6, "Sunday"),
]

AGENTS_ONLY = {"role": "agent"}


class Level(models.Model):
    number = models.PositiveSmallIntegerField(unique=True, help_text="1 is the first level.")
    name = models.CharField(max_length=100)
    contact_name = models.CharField(max_length=150, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    show_on_portal = models.BooleanField(default=True)
    team = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="escalation_levels",
        limit_choices_to=AGENTS_ONLY,
        help_text="Agents who take cases escalated to this level, when they are on shift.",
    )
    ack_target_minutes = models.PositiveIntegerField(
        null=True, blank=True, verbose_name="acknowledgement target (minutes)",
        help_text="How soon someone at this level must respond to an escalated case. "
        "Empty: no target.",
    )
    notify_emails = models.TextField(
        blank=True, verbose_name="also notify",
        help_text="One address per line. They are told of every escalation to this level, "
        "with the level's email above.",
    )

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"Level {self.number}: {self.name}"

    def save(self, *args: object, **kwargs: object) -> None:
        super().save(*args, **kwargs)  # type: ignore[arg-type]
        cache.delete(LEVELS_CACHE_KEY)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        result = super().delete(*args, **kwargs)  # type: ignore[arg-type]
        cache.delete(LEVELS_CACHE_KEY)
        return result

    def clean(self) -> None:
        bad = [a for a in self.notify_emails.split() if not _is_email(a)]
        if bad:
            raise ValidationError(
                {"notify_emails": f"Not an email address: {', '.join(bad)}. One per line."}
            )

    def notify_list(self) -> list[str]:
        """The level's email and the extra addresses, each once, in the order given."""
        found: dict[str, str] = {}
        for address in [self.email, *self.notify_emails.split()]:
            address = address.strip()
            if address and _is_email(address):
                found.setdefault(address.lower(), address)
        return list(found.values())


def level_names() -> dict[int, str]:
    """Level number -> name, for pages that show levels on every request.

    Cached per process for a minute, like the site configuration: a renamed level shows up
    everywhere within that minute (at once in the process that saved it).
    """
    names = cache.get(LEVELS_CACHE_KEY)
    if names is None:
        names = dict(Level.objects.order_by("number").values_list("number", "name"))
        cache.set(LEVELS_CACHE_KEY, names, LEVELS_CACHE_SECONDS)
    return names


def with_level_names(escalations: models.QuerySet[Escalation]) -> models.QuerySet[Escalation]:
    """Escalations with `from_name` and `to_name`, the levels' names, in the same query."""
    def name_of(field: str) -> models.Subquery:
        return models.Subquery(
            Level.objects.filter(number=models.OuterRef(field)).values("name")[:1]
        )

    return escalations.annotate(from_name=name_of("from_level"), to_name=name_of("to_level"))


def level_label(number: int, names: dict[int, str] | None = None) -> str:
    name = (names if names is not None else level_names()).get(number)
    return f"{number} ({name})" if name else str(number)


def _is_email(address: str) -> bool:
    try:
        validate_email(address)
    except ValidationError:
        return False
    return True


def agent_zone(name: str) -> ZoneInfo:
    """The agent's time zone; blank or unknown names mean UTC.

    An unknown name cannot stop an escalation: the shift is then read in UTC, and the
    shift form says so (Shift.clean refuses to save shifts for such an agent).
    """
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def zone_exists(name: str) -> bool:
    if not name:
        return True
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


class Shift(models.Model):
    """A weekly stretch an agent works, in the agent's own time zone (User.time_zone;
    blank means UTC).

    It starts on `weekday` at `start` and ends at `end` the same day, or the next day when
    `end` is at or before `start` (22:00-06:00 is a night shift; 00:00-00:00 is the whole
    day). Times are wall-clock times: on the night the clocks go back a night shift lasts
    an hour longer, and when they go forward an hour shorter. A wall time the clocks skip
    (02:30 on a spring-forward night) is read as the same time before the change, i.e. an
    hour later on the new clock (PEP 495, fold=0); a wall time that happens twice is its
    first occurrence.
    """

    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shifts",
        limit_choices_to=AGENTS_ONLY,
    )
    weekday = models.PositiveSmallIntegerField(choices=WEEKDAYS)
    start = models.TimeField()
    end = models.TimeField(help_text="At or before the start: the shift ends the next day.")

    class Meta:
        ordering = ["agent", "weekday", "start"]
        indexes = [models.Index(fields=["agent", "weekday"], name="shift_agent_weekday")]

    def __str__(self) -> str:
        day = dict(WEEKDAYS).get(self.weekday, "?")
        return f"{day} {self.start:%H:%M}-{self.end:%H:%M}"

    def clean(self) -> None:
        agent = getattr(self, "agent", None)
        if agent is not None and not zone_exists(agent.time_zone):
            raise ValidationError(
                f"{agent}'s time zone “{agent.time_zone}” does not exist, so this shift "
                "would be read in UTC. Set a time zone such as Asia/Dubai on the agent first."
            )

    def covers(self, at: datetime, zone: ZoneInfo) -> bool:
        """Whether the instant `at` (aware) falls in this shift, in `zone`."""
        local_day = at.astimezone(zone).date()
        # A shift that started yesterday may still be running today.
        for day in (local_day, local_day - timedelta(days=1)):
            if day.weekday() == self.weekday:
                begins, ends = self.bounds(day, zone)
                if begins <= at < ends:
                    return True
        return False

    def bounds(self, day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The shift's start and end instants (UTC) for its occurrence on `day`."""
        end_day = day if self.end > self.start else day + timedelta(days=1)
        begins = datetime.combine(day, self.start, tzinfo=zone)
        ends = datetime.combine(end_day, self.end, tzinfo=zone)
        return begins.astimezone(ZoneInfo("UTC")), ends.astimezone(ZoneInfo("UTC"))


def on_shift(agent: User, at: datetime | None = None, shifts: list[Shift] | None = None) -> bool:
    """Whether the agent works at `at` (default now), from their weekly shifts.

    Pass `shifts` when they are already loaded (prefetched), to save a query per agent.
    """
    at = at or timezone.now()
    if shifts is None:
        shifts = list(Shift.objects.filter(agent=agent))
    zone = agent_zone(agent.time_zone)
    return any(shift.covers(at, zone) for shift in shifts)


class Escalation(ChoiceLabels, models.Model):
    """One move of a case between levels: who asked, why, from where, and who got it."""

    class Source(models.TextChoices):
        PORTAL = "portal", _("Portal widget")
        PHONE = "phone", _("Phone call")
        AGENT = "agent", _("Agent")
        SLA = "sla", _("SLA breach")

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="escalations"
    )
    from_level = models.PositiveSmallIntegerField()
    to_level = models.PositiveSmallIntegerField()
    source = models.CharField(max_length=10, choices=Source.choices)
    reason = models.TextField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", help_text="Who escalated: the customer, the agent; empty for SLA.",
    )
    caller_name = models.CharField(max_length=150, blank=True)
    caller_phone = models.CharField(max_length=40, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    # Nobody of the level's team was on shift: the case waits unassigned and the level's
    # contacts were alerted.
    nobody_on_shift = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="escalation_ticket_created"),
            models.Index(fields=["created_at"], name="escalation_created"),
        ]

    def __str__(self) -> str:
        return f"#{self.ticket_id}: level {self.from_level} → {self.to_level}"

    @property
    def is_up(self) -> bool:
        return self.to_level > self.from_level


class EscalationRequest(models.Model):
    """A request from the portal widget: an anonymous visitor's, confirmed by a single-use
    link mailed to the case's requester, or a signed-in contact's, done at once.

    Stored for every request, matched or not, so rate limits hold across web processes.
    `ticket` is empty when the Case ID was unknown or the email did not match: the visitor
    sees the same answer either way. Only the link token's hash is stored.
    """

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, null=True, blank=True,
        related_name="escalation_requests",
    )
    case_id = models.BigIntegerField(help_text="The Case ID as typed.")
    email = models.EmailField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", help_text="The signed-in contact who asked; empty for visitors.",
    )
    reason = models.TextField()
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["email", "created_at"], name="escreq_email_created"),
            models.Index(fields=["ticket", "created_at"], name="escreq_ticket_created"),
        ]

    def __str__(self) -> str:
        return f"Escalation request for case {self.case_id} from {self.email}"

    def is_usable(self, now: datetime | None = None) -> bool:
        return self.used_at is None and self.expires_at > (now or timezone.now())

