"""Delivering queued mail, with retries and backoff; failures stay visible to admins."""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from casedesk.mail.models import OutboundMail

log = logging.getLogger(__name__)

# Seconds to wait before attempt n+1 (the last value repeats).
BACKOFF_SECONDS = [30, 120, 600, 1800, 3600]


def build_message(mail: OutboundMail) -> EmailMessage:
    config_from = settings.DEFAULT_FROM_EMAIL
    headers = {"Message-ID": mail.message_id, **mail.headers}
    return EmailMessage(
        subject=mail.subject, body=mail.body_text, from_email=config_from, to=[mail.to],
        headers=headers,
    )


def claim(mail_id: int) -> OutboundMail | None:
    """Take a queued message for sending. Exactly one worker wins: the conditional update
    changes one row only for the first caller, so a job enqueued twice sends once."""
    won = OutboundMail.objects.filter(
        pk=mail_id, status=OutboundMail.Status.QUEUED
    ).update(status=OutboundMail.Status.SENDING)
    if won != 1:
        return None
    return OutboundMail.objects.get(pk=mail_id)


def deliver(mail_id: int) -> str:
    """Send one queued message now. Returns its new status."""
    mail = claim(mail_id)
    if mail is None:
        return "skipped"
    try:
        with get_connection() as connection:
            connection.send_messages([build_message(mail)])
    except Exception as exc:  # noqa: BLE001 - any transport failure is retried, not lost
        return record_failure(mail, exc)
    OutboundMail.objects.filter(pk=mail.pk).update(
        status=OutboundMail.Status.SENT, sent_at=timezone.now(), attempts=mail.attempts + 1,
        last_error="",
    )
    return OutboundMail.Status.SENT


def record_failure(mail: OutboundMail, exc: Exception) -> str:
    attempts = mail.attempts + 1
    error = f"{type(exc).__name__}: {exc}"[:2000]
    log.warning("Mail %s to %s failed (attempt %s): %s", mail.pk, mail.to, attempts, error)
    if attempts >= settings.CASEDESK_MAIL_MAX_ATTEMPTS:
        OutboundMail.objects.filter(pk=mail.pk).update(
            status=OutboundMail.Status.FAILED, attempts=attempts, last_error=error
        )
        return OutboundMail.Status.FAILED
    delay = BACKOFF_SECONDS[min(attempts - 1, len(BACKOFF_SECONDS) - 1)]
    retry_at = timezone.now() + timedelta(seconds=delay)
    with transaction.atomic():
        OutboundMail.objects.filter(pk=mail.pk).update(
            status=OutboundMail.Status.QUEUED, attempts=attempts, last_error=error,
            next_attempt_at=retry_at,
        )
        transaction.on_commit(
            lambda: deliver_mail.using(run_after=retry_at).enqueue(mail.pk)
        )
    return OutboundMail.Status.QUEUED


def retry_now(mail_ids: list[int]) -> int:
    """An admin's "send again": failed or waiting messages are queued for an attempt now."""
    count = 0
    for mail_id in mail_ids:
        with transaction.atomic():
            changed = OutboundMail.objects.filter(
                pk=mail_id,
                status__in=[OutboundMail.Status.FAILED, OutboundMail.Status.QUEUED],
            ).update(status=OutboundMail.Status.QUEUED, next_attempt_at=timezone.now())
            if changed:
                transaction.on_commit(partial(deliver_mail.enqueue, mail_id))
                count += 1
    return count


@task(queue_name="mail")
def deliver_mail(mail_id: int) -> str:
    return deliver(mail_id)
