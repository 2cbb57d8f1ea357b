"""Webhook subscriptions, their deliveries (one per event and subscription) and every
attempt at sending one, plus the outbox cursor over the cases' history.

The source of events is the append-only history (casedesk.tickets.models.Event): the
fan-out job (casedesk.webhooks.fanout) reads events past `Cursor.last_event_id` and turns
each into Delivery rows; the delivery job (casedesk.webhooks.jobs) sends them.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    CASE_CREATED = "case.created", _("A case is opened")
    CASE_UPDATED = "case.updated", _("A case's status, priority or assignee changes")
    MESSAGE_CREATED = "message.created", _("A reply or note is added to a case")
    CASE_ESCALATED = "case.escalated", _("A case is escalated")
    SLA_WARNING = "sla.warning", _("An SLA target is nearly due")
    SLA_BREACHED = "sla.breached", _("An SLA target is breached")


class Subscription(models.Model):
    """A URL told about the events it chose: of every case, or of one organization's."""

    url = models.CharField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    # Kept as written: every delivery is signed with it (HMAC needs the secret itself).
    # Shown once when made or rolled; the desk never shows it again.
    secret = models.CharField(max_length=100)
    events = models.JSONField(default=list)
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, null=True, blank=True,
        related_name="webhook_subscriptions",
    )
    is_active = models.BooleanField(default=True)
    # Events up to this one happened before the subscription existed: never sent to it.
    start_after_event_id = models.BigIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        return event_type in self.events

    @property
    def is_scoped(self) -> bool:
        """Scoped to one organization: it gets what that organization's portal shows."""
        return self.organization_id is not None

    def event_labels(self) -> list[str]:
        labels = dict(EventType.choices)
        return [str(labels.get(name, name)) for name in self.events]


class Delivery(models.Model):
    """One event for one subscription: its body is fixed when made, so every attempt
    (and a replay) sends exactly the same bytes under the same id."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    # Sent as Casedesk-Delivery: receivers may use it to ignore a delivery seen before.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    # The history event it reports; its id orders a case's deliveries.
    event = models.ForeignKey("tickets.Event", on_delete=models.CASCADE, related_name="+")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    event_type = models.CharField(max_length=30, choices=EventType.choices)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # Pending: when the next attempt is due. Sending: when the claim's lease runs out.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_duration_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-event_id", "subscription_id"]
        verbose_name_plural = "deliveries"
        constraints = [
            # The fan-out job may meet an event twice (a crash before its cursor moved):
            # an event gives one delivery per subscription, whatever happens.
            models.UniqueConstraint(fields=["subscription", "event"], name="delivery_once"),
        ]
        indexes = [
            # The delivery job's scan: only deliveries still to send are in it.
            models.Index(
                fields=["next_attempt_at"], name="delivery_due",
                condition=models.Q(status__in=["pending", "sending"]),
            ),
            # "Is an earlier delivery of this case to this subscription unfinished?"
            models.Index(
                fields=["subscription", "ticket", "event"], name="delivery_open_chain",
                condition=models.Q(status__in=["pending", "sending"]),
            ),
            # The desk's list of a subscription's deliveries, newest first.
            models.Index(fields=["subscription", "-event"], name="delivery_subscription"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} #{self.ticket_id} -> {self.subscription_id}"

    @property
    def is_done(self) -> bool:
        return self.status in (self.Status.DELIVERED, self.Status.FAILED)


class Attempt(models.Model):
    """One POST of a delivery: what came back, or why nothing did."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    replay = models.BooleanField(default=False)
    started_at = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    error = models.CharField(max_length=500, blank=True)
    succeeded = models.BooleanField(default=False)

    class Meta:
        ordering = ["delivery", "number"]

    def __str__(self) -> str:
        return f"Attempt {self.number} of {self.delivery_id}"


class Cursor(models.Model):
    """How far the fan-out job has read the history. One row ("events").

    `gap_*` remember a hole in the event ids seen past the cursor (PostgreSQL hands out ids
    before commit, so an id may still be in a transaction in flight): see
    casedesk.webhooks.fanout.
    """

    name = models.CharField(max_length=30, unique=True)
    last_event_id = models.BigIntegerField(default=0)
    gap_until = models.BigIntegerField(null=True, blank=True)
    gap_xids = models.JSONField(null=True, blank=True)
    gap_seen_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} at event {self.last_event_id}"
