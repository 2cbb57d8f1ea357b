"""The outbox: every mail casedesk sends is stored here first, then delivered by a job."""

from django.db import models
from django.utils import timezone


class OutboundMail(models.Model):
    """A rendered message waiting for, or past, delivery.

    Written in the same transaction as the change that caused it, so a case is never
    created without its acknowledgement, and a failed delivery loses nothing: the row stays,
    with its error, for an admin to see and retry.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    class Kind(models.TextChoices):
        ACKNOWLEDGEMENT = "ack", "Case acknowledgement"
        INVITATION = "invitation", "Invitation"
        REPLY = "reply", "Reply to the requester"
        PASSWORD_RESET = "password_reset", "Password reset"
        OTHER = "other", "Other"

    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OTHER)
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="outbound_mail",
    )
    to = models.EmailField()
    subject = models.CharField(max_length=300)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    message_id = models.CharField(max_length=255, unique=True)
    headers = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "outbound mail"
        verbose_name_plural = "outbound mail"
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbound_due")]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to}"
