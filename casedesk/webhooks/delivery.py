"""Sending deliveries: claimed one at a time, retried with growing waits, in order per
case and subscription.

Order. A delivery is due only when no earlier delivery (by event id) of the same case to
the same subscription is still pending or being sent: a receiver sees a case's events in
the order they happened even when one of them needed retries. A delivery that failed for
good no longer holds the rest back (it stays listed as failed, to replay).

Claim. A conditional UPDATE (pending/expired-lease and due and nothing earlier open ->
sending, with a lease) changes the row for exactly one worker; the HTTP call runs outside
any transaction. A worker that dies mid-send leaves the lease to expire, and the delivery
is then sent again: receivers may see a delivery twice (same Casedesk-Delivery id), never
lose one.
"""

from __future__ import annotations

import logging
import random
import time
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from casedesk.webhooks.models import Attempt, Delivery
from casedesk.webhooks.sender import Outcome, send

log = logging.getLogger(__name__)

Status = Delivery.Status
# Wait before attempt n+1 (the last one repeats): 1 min, 5 min, 30 min, 2 h, 5 h, 10 h.
BACKOFF_SECONDS = [60, 300, 1800, 7200, 18000, 36000]
# Each wait is stretched or shrunk by up to this much, so that a receiver that was down
# is not hit by every retry in the same second when it comes back.
JITTER = 0.2
LEASE = timedelta(minutes=5)
BATCH = 50
# One job sends for at most about this long, then leaves the rest to the next tick, so
# a slow receiver cannot hold a worker for minutes.
BUDGET_SECONDS = 30.0


def backoff(attempts: int) -> timedelta:
    delay = BACKOFF_SECONDS[min(attempts - 1, len(BACKOFF_SECONDS) - 1)]
    return timedelta(seconds=delay * random.uniform(1 - JITTER, 1 + JITTER))  # noqa: S311


def _open() -> Q:
    return Q(status__in=[Status.PENDING, Status.SENDING])


def due(now: datetime) -> QuerySet[Delivery]:
    """Deliveries to send now: due (or their sender's lease ran out) with nothing earlier
    of their case and subscription still open."""
    earlier = Delivery.objects.filter(
        _open(), subscription=OuterRef("subscription"), ticket=OuterRef("ticket"),
        event__lt=OuterRef("event"),
    )
    return Delivery.objects.filter(_open(), next_attempt_at__lte=now).exclude(Exists(earlier))


def claim(delivery_id: UUID | str, now: datetime) -> Delivery | None:
    """Take one due delivery for sending; None when another worker has it (or it is not
    due any more, or an earlier one of its case is open again)."""
    changed = due(now).filter(pk=delivery_id).update(
        status=Status.SENDING, next_attempt_at=now + LEASE
    )
    if changed != 1:
        return None
    return Delivery.objects.select_related("subscription").get(pk=delivery_id)


def attempt(delivery: Delivery, *, replay: bool = False) -> Outcome:
    subscription = delivery.subscription
    started = timezone.now()
    outcome = send(subscription.url, delivery.body, secret=subscription.secret,
                   event_type=delivery.event_type, delivery_id=str(delivery.pk))
    with transaction.atomic():
        if not Delivery.objects.filter(pk=delivery.pk).exists():
            # Its subscription was deleted while it was being sent: nothing to record.
            return outcome
        Attempt.objects.create(
            delivery=delivery, number=delivery.attempts + 1, replay=replay, started_at=started,
            duration_ms=outcome.duration_ms, status_code=outcome.status_code,
            response_excerpt=outcome.excerpt, error=outcome.error,
            succeeded=outcome.succeeded,
        )
        fields: dict[str, Any] = {
            "attempts": delivery.attempts + 1, "last_status_code": outcome.status_code,
            "last_error": outcome.error or ("" if outcome.succeeded else
                                            f"HTTP {outcome.status_code}"),
            "last_duration_ms": outcome.duration_ms,
        }
        if outcome.succeeded:
            fields.update(status=Status.DELIVERED, delivered_at=timezone.now(),
                          next_attempt_at=None)
        elif replay:
            pass  # a replay that fails leaves the delivery as it was (failed or delivered)
        elif delivery.attempts + 1 >= settings.CASEDESK_WEBHOOK_MAX_ATTEMPTS:
            fields.update(status=Status.FAILED, next_attempt_at=None)
            log.warning("Webhook delivery %s to %s failed for good after %s attempts: %s",
                        delivery.pk, subscription.url, delivery.attempts + 1,
                        fields["last_error"])
        else:
            fields.update(status=Status.PENDING,
                          next_attempt_at=timezone.now() + backoff(delivery.attempts + 1))
        Delivery.objects.filter(pk=delivery.pk).update(**fields)
    return outcome


def deliver_due(now: datetime | None = None, budget: float = BUDGET_SECONDS) -> dict[str, int]:
    """Send what is due, batch after batch (a delivered one may free the next of its
    case), until nothing is due or the time budget is spent. Returns counts."""
    counts = {"delivered": 0, "retrying": 0, "failed": 0, "skipped": 0}
    started = time.monotonic()
    while time.monotonic() - started < budget:
        moment = now or timezone.now()
        ids = list(due(moment).order_by("next_attempt_at", "event_id")
                   .values_list("pk", flat=True)[:BATCH])
        if not ids:
            break
        sent = 0
        for delivery_id in ids:
            delivery = claim(delivery_id, moment)
            if delivery is None:
                counts["skipped"] += 1
                continue
            sent += 1
            outcome = attempt(delivery)
            if outcome.succeeded:
                counts["delivered"] += 1
            elif Delivery.objects.filter(pk=delivery.pk, status=Status.FAILED).exists():
                counts["failed"] += 1
            else:
                counts["retrying"] += 1
            if time.monotonic() - started >= budget:
                break
        if not sent:
            break
    return counts


def replay(delivery_id: UUID | str) -> Outcome | None:
    """Send a finished delivery again now, once: same id, same body, a fresh signature.
    It neither waits for nor holds back the case's other deliveries (it is a copy of
    something already sent or given up). None when the delivery is not finished."""
    delivery = Delivery.objects.select_related("subscription").filter(
        pk=delivery_id, status__in=[Status.DELIVERED, Status.FAILED]).first()
    if delivery is None:
        return None
    return attempt(delivery, replay=True)


def prune(now: datetime | None = None) -> int:
    """Delete finished deliveries (with their attempts) older than
    CASEDESK_WEBHOOK_KEEP_DAYS. Returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.CASEDESK_WEBHOOK_KEEP_DAYS)
    deleted, _by_model = Delivery.objects.filter(
        status__in=[Status.DELIVERED, Status.FAILED], created_at__lt=cutoff
    ).delete()
    return deleted
