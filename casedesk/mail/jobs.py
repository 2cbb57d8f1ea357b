"""Delivering the outbox: queued mail goes out in batches, failures are retried with
backoff and stay visible to admins.

The OutboundMail table is the queue. A change stores its mail in its own transaction
(casedesk.mail.actions.queue_mail) and nothing else: no job row per message. The periodic
task `deliver_due_mail` (declared in casedesk.core.schedule) claims what is due and sends it
over one connection, so the cost of a busy minute is one job, not one per message, and a
message can never be lost between its commit and the enqueueing of a job.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from casedesk.core.lease import lease
from casedesk.mail.actions import support_address
from casedesk.mail.models import OutboundMail

log = logging.getLogger(__name__)

# Seconds to wait before attempt n+1 (the last value repeats).
BACKOFF_SECONDS = [30, 120, 600, 1800, 3600]
# A claimed message not finished within the worker's job lease (casedesk.core.lease.lease(),
# CASEDESK_JOB_LEASE_SECONDS: its worker died mid-send) is due again. It may then go out
# twice; that is the price of never losing one. A fixed ten minutes, as before, held a killed
# worker's mail back ten minutes after its job had been taken over (the soak, issue 8.8).
# Messages are claimed one at a time, right before their send, so the lease covers one SMTP
# exchange (whose timeout, 30 s by default, must stay below the lease).
BATCH = 200

Status = OutboundMail.Status


def build_message(mail: OutboundMail) -> EmailMessage:
    headers = {"Message-ID": mail.message_id, **mail.headers}
    # Answers come back to the support mailbox, wherever the From address points.
    # Cc is a header and, through EmailMessage.recipients(), an envelope recipient too.
    message = EmailMultiAlternatives(
        subject=mail.subject, body=mail.body_text, from_email=settings.DEFAULT_FROM_EMAIL,
        to=[mail.to], cc=mail.cc_list(), headers=headers, reply_to=[support_address()],
    )
    if mail.body_html:
        message.attach_alternative(mail.body_html, "text/html")
    return message


def due(now: datetime) -> Q:
    """Queued and due, or claimed by a worker whose lease ran out."""
    return Q(status__in=[Status.QUEUED, Status.SENDING], next_attempt_at__lte=now)


def claim(mail_id: int, now: datetime, *, due_only: bool = True) -> OutboundMail | None:
    """Take one message for sending. Exactly one worker wins: the conditional UPDATE
    changes the row only for the first caller, so two workers never send one message."""
    rows = OutboundMail.objects.filter(pk=mail_id)
    rows = rows.filter(due(now)) if due_only else rows.filter(status=Status.QUEUED)
    # The lease runs from the claim, not from `now`: deliver_due passes the time its batch
    # started, and a batch longer than the lease made every later claim due again at once,
    # so a second worker sent the same mail (the soak, issue 8.8: 57 acknowledgements twice).
    until = max(now, timezone.now()) + lease()
    if rows.update(status=Status.SENDING, next_attempt_at=until) != 1:
        return None
    return OutboundMail.objects.get(pk=mail_id)


def send_claimed(mail: OutboundMail, connection: BaseEmailBackend) -> str:
    try:
        connection.send_messages([build_message(mail)])
    except Exception as exc:  # noqa: BLE001 - any transport failure is retried, not lost
        # The connection may be half-open after a failure: the next message opens anew.
        connection.close()
        return record_failure(mail, exc)
    OutboundMail.objects.filter(pk=mail.pk).update(
        status=Status.SENT, sent_at=timezone.now(), attempts=mail.attempts + 1, last_error="",
    )
    return Status.SENT


def deliver(mail_id: int) -> str:
    """Send one queued message now, due or not (tests, and an admin's "send again").
    Returns its new status, or "skipped" when it was not queued."""
    mail = claim(mail_id, timezone.now(), due_only=False)
    if mail is None:
        return "skipped"
    connection = get_connection()
    try:
        return send_claimed(mail, connection)
    finally:
        connection.close()


def deliver_due(now: datetime | None = None, limit: int = BATCH) -> dict[str, int]:
    """Send every message that is due, oldest first, up to `limit`. Returns counts."""
    now = now or timezone.now()
    ids = list(
        OutboundMail.objects.filter(due(now)).order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    counts = {Status.SENT: 0, Status.QUEUED: 0, Status.FAILED: 0, "skipped": 0}
    if not ids:
        return counts
    connection = get_connection()
    try:
        for mail_id in ids:
            mail = claim(mail_id, now)
            status = "skipped" if mail is None else send_claimed(mail, connection)
            counts[status] += 1
    finally:
        connection.close()
    return counts


def record_failure(mail: OutboundMail, exc: Exception) -> str:
    attempts = mail.attempts + 1
    error = f"{type(exc).__name__}: {exc}"[:2000]
    log.warning("Mail %s to %s failed (attempt %s): %s", mail.pk, mail.to, attempts, error)
    if attempts >= settings.CASEDESK_MAIL_MAX_ATTEMPTS:
        OutboundMail.objects.filter(pk=mail.pk).update(
            status=Status.FAILED, attempts=attempts, last_error=error
        )
        return Status.FAILED
    delay = BACKOFF_SECONDS[min(attempts - 1, len(BACKOFF_SECONDS) - 1)]
    OutboundMail.objects.filter(pk=mail.pk).update(
        status=Status.QUEUED, attempts=attempts, last_error=error,
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
    )
    return Status.QUEUED


def retry_now(mail_ids: list[int]) -> int:
    """An admin's "send again": failed or waiting messages become due now."""
    return OutboundMail.objects.filter(
        pk__in=mail_ids, status__in=[Status.FAILED, Status.QUEUED]
    ).update(status=Status.QUEUED, next_attempt_at=timezone.now())


@task(queue_name="mail")
def deliver_due_mail() -> dict[str, int]:
    """The periodic delivery job: drains what is due, batch after batch."""
    total = {Status.SENT: 0, Status.QUEUED: 0, Status.FAILED: 0, "skipped": 0}
    while True:
        counts = deliver_due()
        for key, value in counts.items():
            total[key] += value
        if sum(counts.values()) < BATCH:
            return total
