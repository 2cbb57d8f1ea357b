"""Processing received mail: stored messages become replies, cases or nothing, in the
background.

The InboundMessage table is the queue, as the outbox is for outbound mail
(casedesk.mail.jobs): the listener and the importers only store bytes, and the periodic
task `process_inbound` (declared in casedesk.core.schedule) claims what is due with a
conditional UPDATE, so any number of workers can drain it and each message is handled by
one. A message that cannot be handled is quarantined with its error, never dropped; an
admin's "Process again" puts it back in the queue.
"""

from __future__ import annotations

import logging
import traceback
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from casedesk.mail.models import InboundMessage

log = logging.getLogger(__name__)

# A claimed message whose worker died mid-way is due again after this; processing runs in
# one transaction, so a second run starts from nothing done.
LEASE = timedelta(minutes=10)
BATCH = 100

Status = InboundMessage.Status


def due(now: datetime) -> Q:
    """Received and due, or claimed by a worker whose lease ran out."""
    return Q(status__in=[Status.RECEIVED, Status.PROCESSING], next_attempt_at__lte=now)


def claim(inbound_id: int, now: datetime) -> bool:
    """Take one message for processing. The conditional UPDATE changes the row for the
    first caller only, so two workers never process one message."""
    return InboundMessage.objects.filter(due(now), pk=inbound_id).update(
        status=Status.PROCESSING, next_attempt_at=now + LEASE,
    ) == 1


def describe(exc: BaseException) -> str:
    """The error as an admin reads it: the exception, then where it was raised."""
    where = "".join(traceback.format_exception(exc)[-6:])
    return f"{type(exc).__name__}: {exc}\n\n{where}"[:10000]


def parse(inbound: InboundMessage) -> Any:
    # Imported here, like ingest below: parsing and threading are modules of their own
    # that this queue (and the listener, which imports the model) must not need to load.
    from casedesk.mail.parse import parse_message

    return parse_message(bytes(inbound.raw))


def ingest(parsed: Any, inbound: InboundMessage) -> Any:
    from casedesk.mail.ingest import ingest

    return ingest(parsed, inbound_id=inbound.pk)


def process_one(inbound_id: int, now: datetime | None = None) -> str:
    """Claim and process one message. Returns its new status, or "skipped" when another
    worker has it or it is not due."""
    if not claim(inbound_id, now or timezone.now()):
        return "skipped"
    inbound = InboundMessage.objects.get(pk=inbound_id)
    attempts = inbound.attempts + 1
    try:
        # Parsed outside the transaction: on SQLite it holds the one write lock.
        parsed = parse(inbound)
        # The case changes and the row's new status commit together: a crash between them
        # cannot leave a reply posted twice after the lease runs out.
        with transaction.atomic():
            result = ingest(parsed, inbound)
            action = str(getattr(result, "action", "") or "")
            status = Status.IGNORED if action == "ignored" else Status.PROCESSED
            InboundMessage.objects.filter(pk=inbound_id).update(
                status=status, result=action, error="", attempts=attempts,
                processed_at=timezone.now(),
                ticket_id=getattr(result, "ticket_id", None),
                ticket_message_id=getattr(result, "message_id", None),
            )
    except Exception as exc:  # noqa: BLE001 - any failure quarantines, never loses, the mail
        log.warning("Inbound mail %s quarantined: %s: %s", inbound_id, type(exc).__name__, exc)
        InboundMessage.objects.filter(pk=inbound_id).update(
            status=Status.QUARANTINED, error=describe(exc), attempts=attempts,
            processed_at=timezone.now(),
        )
        return Status.QUARANTINED
    return status


def process_due(now: datetime | None = None, limit: int = BATCH) -> dict[str, int]:
    """Process every message that is due, oldest first, up to `limit`. Returns counts."""
    now = now or timezone.now()
    ids = list(
        InboundMessage.objects.filter(due(now)).order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    counts: dict[str, int] = {}
    for inbound_id in ids:
        status = process_one(inbound_id, now)
        counts[status] = counts.get(status, 0) + 1
    return counts


def process_again(inbound_ids: list[int]) -> int:
    """An admin's "Process again": quarantined or ignored messages go back in the queue
    (after a fix, or a change of settings), due now."""
    return InboundMessage.objects.filter(
        pk__in=inbound_ids, status__in=[Status.QUARANTINED, Status.IGNORED, Status.RECEIVED],
    ).update(status=Status.RECEIVED, next_attempt_at=timezone.now(), error="")


@task(queue_name="mail")
def process_inbound() -> dict[str, int]:
    """The periodic processing job: drains what is due, batch after batch."""
    total: dict[str, int] = {}
    while True:
        counts = process_due()
        for key, value in counts.items():
            total[key] = total.get(key, 0) + value
        if sum(counts.values()) < BATCH:
            return total
