"""Cases, their messages and attachments, and the append-only history of every change."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casedesk.core.choices import ChoiceLabels, Priority


class Category(models.Model):
    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class CaseCounter(models.Model):
    """The last Case ID handed out. One row; see tickets.actions.allocate_case_id."""

    last_value = models.BigIntegerField()

    def __str__(self) -> str:
        return f"Last Case ID {self.last_value}"


class Ticket(ChoiceLabels, models.Model):
    """A case. Its primary key is the Case ID customers see: a number, never reused."""

    class Status(models.TextChoices):
        NEW = "new", _("New")
        OPEN = "open", _("Open")
        PENDING = "pending", _("Waiting on customer")
        ON_HOLD = "on_hold", _("On hold")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    class Channel(models.TextChoices):
        PORTAL = "portal", _("Portal")
        EMAIL = "email", _("Email")
        PHONE = "phone", _("Phone")
        API = "api", _("API")
        AGENT = "agent", _("Agent")

    OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)
    DONE_STATUSES = (Status.RESOLVED, Status.CLOSED)

    id = models.BigIntegerField(primary_key=True, verbose_name="Case ID")
    subject = models.CharField(max_length=200)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="requested_tickets"
    )
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, null=True, blank=True,
        related_name="tickets",
    )
    # What the requester typed in the optional "organization" field, kept for agents even
    # when it matched no organization (organizations are joined by email domain only).
    organization_name_given = models.CharField(max_length=200, blank=True)
    requester_phone = models.CharField(max_length=40, blank=True)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, related_name="tickets"
    )
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.MEDIUM)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.PORTAL)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="assigned_tickets",
    )
    escalation_level = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # The time of the last public message, for "last activity" columns without a join.
    last_message_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The earlier case this one follows up (an email reply to a closed case, or to one
    # resolved longer ago than CASEDESK_REOPEN_DAYS, opens a new case linked here).
    related_to = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="follow_ups",
        db_index=False,  # a partial index below
    )
    # Addresses copied on the case's email thread, one per line: besides the requester,
    # the organization's contacts and agents, they may add to the case by its subject tag.
    cc_emails = models.TextField(blank=True)
    # Set when this case was merged into another (tickets.actions.merge_cases): its thread
    # lives there now, and its Case ID leads there (tickets.access.resolve_merged).
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_cases",
        db_index=False,  # a partial index below
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # Follow-ups and merges are rare: indexing only the cases that have one keeps
            # the index tiny, and SQLite's statistics for a full index of a column that is
            # almost all NULL ("1,000,000 rows per value") made it scan the whole table
            # for the case page's "linked cases" panel (240 ms at a million cases).
            models.Index(fields=["related_to"], condition=models.Q(related_to__isnull=False),
                         name="ticket_follow_ups"),
            models.Index(fields=["merged_into"], condition=models.Q(merged_into__isnull=False),
                         name="ticket_merged_cases"),
            # The desk's default views: open cases by newest, and by priority then age. The
            # Case ID ends each one: the queue's keyset pages sort on it last (a unique
            # order), and an index without it leaves the database sorting every row of a
            # status to break ties (casedesk/desk/queue.py).
            models.Index(fields=["status", "-created_at", "-id"], name="ticket_status_created_id"),
            models.Index(fields=["status", "priority", "created_at", "id"],
                         name="ticket_status_prio_id"),
            # "My cases": one agent's cases of one status, newest first, read in order (the
            # Case ID again makes the keyset exact). Its (assignee, status) prefix serves
            # the open-case counts per agent that escalation's assignment reads.
            models.Index(fields=["assignee", "status", "-created_at", "-id"],
                         name="ticket_assignee_created"),
            models.Index(fields=["organization", "-created_at"], name="ticket_org_created"),
            # The queue narrowed to one organization (casedesk.desk.queue.narrowed_to_one):
            # its open cases, by priority or not, straight from the index (with only
            # (organization, created_at) PostgreSQL ANDed two bitmaps, the organization's
            # and every open case of the priority: 8.5 ms at a million cases, 0.07 here).
            models.Index(fields=["organization", "status", "priority", "-created_at", "-id"],
                         name="ticket_org_status_prio"),
            models.Index(fields=["requester", "-created_at"], name="ticket_requester_created"),
            models.Index(fields=["-created_at", "-id"], name="ticket_created_id"),
            # The desk's "Unassigned" view: most open cases have an assignee, so walking a
            # status's stretch for the few without one read every open case of the status
            # (47 ms of CPU at 100,000 cases on SQLite, measured).
            models.Index(
                fields=["status", "-created_at", "-id"], condition=models.Q(assignee__isnull=True),
                name="ticket_unassigned",
            ),
            # The desk's "Escalated" view: only cases above the first level are in it, so
            # finding the open ones never reads the (many) cases that were never escalated.
            models.Index(
                fields=["status"], condition=models.Q(escalation_level__gt=1),
                name="ticket_escalated",
            ),
            # Reports: the cases resolved in a period, counted per assignee (and filtered by
            # organization) from the index.
            models.Index(fields=["resolved_at", "assignee", "organization"],
                         name="ticket_resolved_org"),
            # Reports by organization or plan: a message's, clock's or escalation's case ->
            # its organization from the index, without reading the case's row (SQLite keeps
            # a Case ID primary key apart from the row; PostgreSQL gets index-only scans).
            models.Index(fields=["id", "organization"], name="ticket_id_org"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    def cc_list(self) -> list[str]:
        return [line.strip() for line in self.cc_emails.split() if line.strip()]

    @property
    def case_id(self) -> int:
        return self.pk

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class Message(ChoiceLabels, models.Model):
    """One entry of a case's thread: a public reply or an internal note."""

    class Kind(models.TextChoices):
        PUBLIC = "public", _("Public reply")
        INTERNAL = "internal", _("Internal note")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="messages"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PUBLIC)
    body = models.TextField()
    channel = models.CharField(
        max_length=10, choices=Ticket.Channel.choices, default=Ticket.Channel.PORTAL
    )
    # Mail headers of the message as sent or received, for threading.
    message_id_header = models.CharField(max_length=255, blank=True, db_index=True)
    # The whole text of an email, quoted history and signature included, when `body` holds
    # only the new part ("show the whole email"); empty otherwise.
    full_body = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="message_ticket_created"),
            # Reports: the replies and notes written in a period, counted per author and
            # kind from the index alone (the rows, with their bodies, stay unread); with the
            # case in it, a report for an organization or a plan reads no message row either
            # (at 100,000 cases on SQLite: 147 -> 40 ms of CPU, unfiltered 38).
            models.Index(fields=["created_at", "author", "kind", "ticket"],
                         name="message_created_author_case"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on #{self.ticket_id}"

    @property
    def is_public(self) -> bool:
        return self.kind == self.Kind.PUBLIC

    @property
    def from_agent(self) -> bool:
        return self.author.role == "agent"


def attachment_path(instance: Attachment, filename: str) -> str:
    # The stored name is random: the name the sender gave is kept in `filename` and only
    # ever sent back in a Content-Disposition header.
    return f"cases/{instance.ticket_id}/{instance.storage_key}"


class Attachment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="attachments", null=True, blank=True
    )
    file = models.FileField(upload_to=attachment_path, max_length=255)
    storage_key = models.CharField(max_length=64)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.filename

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/") and self.content_type != "image/svg+xml"


class Event(models.Model):
    """Append-only history: one row per change, written in the change's transaction."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        STATUS = "status", _("Status changed")
        PRIORITY = "priority", _("Priority changed")
        ASSIGNEE = "assignee", _("Assignee changed")
        REPLY = "reply", _("Public reply")
        NOTE = "note", _("Internal note")
        MAIL_FAILED = "mail_failed", _("Email could not be delivered")
        ESCALATED = "escalated", _("Escalated")
        SLA_WARNING = "sla_warning", _("SLA target nearly due")
        SLA_BREACH = "sla_breach", _("SLA target breached")
        SLA_MET = "sla_met", _("SLA target met")
        SLA_RECOMPUTED = "sla_recomputed", _("SLA due times recomputed")
        SLA_PAUSED = "sla_paused", _("SLA clocks paused")
        SLA_RESUMED = "sla_resumed", _("SLA clocks resumed")
        MERGED_INTO = "merged_into", _("Merged into another case")
        MERGED_FROM = "merged_from", _("Another case merged in")
        LINKED = "linked", _("Related case linked")
        UNLINKED = "unlinked", _("Related case unlinked")
        CC_ADDED = "cc_added", _("CC added")
        CC_REMOVED = "cc_removed", _("CC removed")
        MAIL_BOUNCED = "mail_bounced", _("Email bounced")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="event_ticket_created")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on #{self.ticket_id}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("Events are append-only: an event is never changed.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class CaseLink(models.Model):
    """Two related cases, linked both ways. Stored once, the lower Case ID first, so a pair
    cannot be linked twice whichever page it was linked from."""

    low = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    high = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["low", "high"], name="caselink_unique_pair"),
            models.CheckConstraint(
                condition=models.Q(low__lt=models.F("high")), name="caselink_ordered_pair"
            ),
        ]
        # Links of a case from its higher side (the unique constraint covers `low`).
        indexes = [models.Index(fields=["high"], name="caselink_high")]

    def __str__(self) -> str:
        return f"#{self.low_id} <-> #{self.high_id}"

    def other(self, ticket_id: int) -> int:
        return self.high_id if self.low_id == ticket_id else self.low_id
