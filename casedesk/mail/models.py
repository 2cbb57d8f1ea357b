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
    # The case's CC'd people, one address per line (as Ticket.cc_emails), already without
    # the To address, our own addresses and bouncing ones (casedesk.mail.actions.mail_cc).
    cc = models.TextField(blank=True)
    # What the mail was written in (casedesk.accounts.models.language_for its recipient).
    language = models.CharField(max_length=10, blank=True)
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
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbound_due"),
            # The acknowledgement cap counts one sender's mail of the last hour
            # (casedesk.mail.ingest), once per received message.
            models.Index(fields=["to", "created_at"], name="outbound_to_created"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to}"

    def cc_list(self) -> list[str]:
        return [line.strip() for line in self.cc.split() if line.strip()]


class InboundMessage(models.Model):
    """One message received (SMTP, LMTP, IMAP or an import), stored as its raw bytes.

    The row is committed before the sender is told 250, so accepted mail survives any
    crash; turning it into a case happens later (casedesk.mail.inbound_jobs). The same
    message arriving again (an SMTP retry, an IMAP re-poll, a second import) is recognised
    by its Message-ID, or by the hash of its bytes when it has none, and stored once.
    """

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSING = "processing", "Processing"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored"
        QUARANTINED = "quarantined", "Quarantined"

    class Source(models.TextChoices):
        SMTP = "smtp", "SMTP"
        LMTP = "lmtp", "LMTP"
        IMAP = "imap", "IMAP"
        IMPORT = "import", "Import"

    # In the database (not a file) so that one commit makes the bytes and the row durable
    # together; messages are limited to CASEDESK_MAX_MESSAGE_BYTES.
    raw = models.BinaryField()
    size = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    # As in the header, angle brackets included; "" when the message has none.
    message_id = models.CharField(max_length=255, blank=True, db_index=True)
    subject = models.CharField(max_length=300, blank=True)
    from_header = models.CharField(max_length=300, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    envelope_from = models.CharField(max_length=300, blank=True)
    envelope_to = models.JSONField(default=list, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RECEIVED)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    # What processing did: "reply", "new_case", "ignored", "bounce", "portal_reply".
    result = models.CharField(max_length=20, blank=True)
    # Why processing left it without effect ("automatic reply: auto-submitted", "sent from
    # our own support address"...), or what a bounce reported: an admin wondering where a
    # message went reads it here.
    reason = models.CharField(max_length=300, blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="inbound_mail",
    )
    # Named ticket_message (not message): message_id is the header above.
    ticket_message = models.ForeignKey(
        "tickets.Message", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="inbound_mail",
    )

    class Meta:
        ordering = ["-received_at"]
        verbose_name = "inbound mail"
        verbose_name_plural = "inbound mail"
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="inbound_due")]
        constraints = [
            # The database, not a check before the insert, keeps duplicates out: two SMTP
            # sessions delivering the same message at once store it once.
            models.UniqueConstraint(
                fields=["message_id"], condition=~models.Q(message_id=""),
                name="inbound_unique_message_id",
            ),
            models.UniqueConstraint(
                fields=["sha256"], condition=models.Q(message_id=""),
                name="inbound_unique_raw_without_message_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject or '(no subject)'} ← {self.from_header or self.envelope_from}"
