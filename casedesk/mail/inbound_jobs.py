"""Processing received mail: stored messages become replies, cases or nothing, in the
background.

The InboundMessage table is the queue, as the outbox is for outbound mail
(casedesk.mail.jobs): the listener and the importers only store bytes, and the periodic
task `process_inbound` (declared in casedesk.core.schedule) claims what is due in
batches (SKIP LOCKED on PostgreSQL, then a conditional UPDATE), so any number of workers
can drain it and each message is handled by one. A message that cannot be handled is
quarantined with its error, never dropped, and never undoes the rest of its batch; an
admin's "Process again" puts it back in the queue.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import DEFAULT_DB_ALIAS, OperationalError, connection, connections, transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from casedesk.core.files import removed_on_failure
from casedesk.core.lease import lease
from casedesk.core.models import SiteConfiguration
from casedesk.core.prepared import prepared_statements
from casedesk.mail import parse_process
from casedesk.mail.models import InboundMessage
from casedesk.mail.parse_process import ParseFailure, describe

log = logging.getLogger(__name__)

# A claimed message whose worker died mid-way is due again after the worker's job lease
# (casedesk.core.lease.lease(), CASEDESK_JOB_LEASE_SECONDS): with a fixed ten minutes, as
# before, a killed worker's batch sat unprocessed for ten minutes while its job had long been
# taken over (found by the soak, issue 8.8). Processing runs in one transaction, so a second
# run starts from nothing done, and a worker whose claim ran out rolls back what another worker
# has claimed since (record_outcome), so a batch slower than the lease is never ingested twice.
BATCH = 100
# Raw bytes claimed at once: a batch of 25 MB messages is parsed a few at a time.
BATCH_BYTES = 32 * 1024 * 1024
# Messages ingested per transaction: a message's own claim, re-read, BEGIN and COMMIT
# cost about a fifth of storing a reply (and on PostgreSQL each COMMIT waits for its WAL
# flush). 25 of them hold the write lock (SQLite) for about 0.1 s. SQLite has one lock
# for the whole database, so a batch cannot deadlock.
TRANSACTION_MESSAGES = 25
# On PostgreSQL, where workers ingest at once (casedesk.mail.inbound_locks), fewer: two
# batches wait for each other when they share a case or a sender, and from a new case on,
# a batch holds the Case ID counter until it commits; the more messages, the likelier both,
# the fewer, the more commits. 5, 10 and 25 drained the bench's mix at about the same rate
# with two workers on a busy two-core machine; 5 cost the most CPU per message.
TRANSACTION_MESSAGES_POSTGRES = 10
REASON_CHARS = 300
# A message that met a deadlock or a lock timeout is due again at once, this many times,
# before it is quarantined like any other failure.
TRANSIENT_RETRIES = 5
# PostgreSQL's deadlock_detected, serialization_failure and lock_not_available.
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001", "55P03"})

Status = InboundMessage.Status


def due(now: datetime) -> Q:
    """Received and due, or claimed by a worker whose lease ran out."""
    return Q(status__in=[Status.RECEIVED, Status.PROCESSING], next_attempt_at__lte=now)


def claim(inbound_id: int, now: datetime) -> bool:
    """Take one message for processing. The conditional UPDATE changes the row for the
    first caller only, so two workers never process one message."""
    return InboundMessage.objects.filter(due(now), pk=inbound_id).update(
        status=Status.PROCESSING, next_attempt_at=now + lease(),
    ) == 1


def ingest(parsed: Any, inbound_id: int) -> Any:
    from casedesk.mail.ingest import ingest

    return ingest(parsed, inbound_id=inbound_id)


def process_one(inbound_id: int, now: datetime | None = None) -> str:
    """Claim and process one message. Returns its new status, or "skipped" when another
    worker has it or it is not due."""
    now = now or timezone.now()
    if not claim(inbound_id, now):
        return "skipped"
    return process_claimed([inbound_id], claimed_until=now + lease())[0]


def claim_batch(now: datetime, limit: int = BATCH) -> list[int]:
    """Take up to `limit` due messages, oldest first, at most BATCH_BYTES of them (at
    least one): the ids now ours until the lease runs out.

    On PostgreSQL the rows are read FOR UPDATE SKIP LOCKED, so a worker claiming at the
    same moment passes over them instead of waiting, and the UPDATE (which re-checks the
    due condition) cannot hand one message to two workers. SQLite has no row locks: its
    IMMEDIATE transaction holds the one write lock across both statements.
    """
    with transaction.atomic():
        rows = list(
            InboundMessage.objects.filter(due(now)).order_by("next_attempt_at", "pk")
            .select_for_update(skip_locked=True).values_list("pk", "size")[:limit]
        )
        ids: list[int] = []
        size = 0
        for pk, nbytes in rows:
            size += nbytes
            if ids and size > BATCH_BYTES:
                break
            ids.append(pk)
        if ids:
            InboundMessage.objects.filter(due(now), pk__in=ids).update(
                status=Status.PROCESSING, next_attempt_at=now + lease(),
            )
    return ids


def process_claimed(ids: list[int], claimed_until: datetime | None = None) -> list[str]:
    """Process messages this worker has claimed; returns each one's new status.

    `claimed_until` is the lease the claim wrote (its next_attempt_at): a message whose
    lease ran out and that another worker claimed since is skipped, not ingested twice.

    Every message is parsed first, outside any transaction (on SQLite a transaction holds
    the one write lock); one that cannot be parsed is quarantined. Then the whole batch
    is ingested in ONE transaction (on PostgreSQL under batch_lock), without a savepoint
    per message: one commit per batch instead of per message, and no SAVEPOINT and
    RELEASE around each (two of a reply's dozen statements). Should any of it fail (a
    message that cannot be ingested, the connection lost, a failed commit, a deadlock),
    nothing of it was committed: the messages are processed again one by one, each in a
    transaction of its own where a failure quarantines that message only, so one message
    cannot hold back the others.
    """
    rows = read_claimed(ids)
    parsed = parse_process.parse_each([raw for raw, _ in rows.values()])
    return finish_claimed(ids, rows, parsed, claimed_until)


def read_claimed(ids: list[int]) -> dict[int, tuple[bytes, int]]:
    """The raw bytes and attempts so far of the claimed messages still there, in the
    order of `ids` (one an admin deleted meanwhile is missing)."""
    found = {pk: (bytes(raw), attempts) for pk, raw, attempts in
             InboundMessage.objects.filter(pk__in=ids).values_list("pk", "raw", "attempts")}
    return {pk: found[pk] for pk in ids if pk in found}


def finish_claimed(ids: list[int], rows: dict[int, tuple[bytes, int]], parsed: list[Any],
                   claimed_until: datetime | None) -> list[str]:
    """The rest of process_claimed once `rows` are parsed (`parsed`, in their order): a
    message whose parse failed is quarantined, the others are ingested; a message
    deleted meanwhile is "skipped"."""
    work: list[tuple[int, int, Any]] = []
    statuses: dict[int, str] = {}
    for (pk, (_raw, attempts)), mail in zip(rows.items(), parsed, strict=True):
        if isinstance(mail, ParseFailure):
            quarantine(pk, attempts + 1, mail)
            statuses[pk] = Status.QUARANTINED
        else:
            work.append((pk, attempts + 1, mail))
    with SiteConfiguration.held():
        statuses.update(_ingest_claimed(work, claimed_until))
    return [statuses.get(pk, "skipped") for pk in ids]


def _ingest_claimed(work: list[tuple[int, int, Any]],
                    claimed_until: datetime | None) -> dict[int, str]:
    """The ingest half of process_claimed: the batch in one transaction, else one by one."""
    statuses: dict[int, str] = {}
    if len(work) > 1:
        try:
            # The files of a batch that fails are removed: its messages write them again.
            with removed_on_failure(), transaction.atomic():
                batch_lock([parsed for _pk, _attempts, parsed in work])
                batch = {pk: ingest_one(pk, attempts, parsed, claimed_until, alone=False)
                         for pk, attempts, parsed in work}
        except Exception as exc:  # noqa: BLE001 - retried one by one below
            log.info("Inbound batch of %s failed (%s: %s); processing one by one",
                     len(work), type(exc).__name__, exc)
        else:
            statuses.update(batch)
            work = []
    for pk, attempts, parsed in work:
        try:
            with removed_on_failure(), transaction.atomic():
                statuses[pk] = ingest_one(pk, attempts, parsed, claimed_until)
        except Exception as exc:  # noqa: BLE001 - quarantined, never lost
            if is_transient(exc) and attempts <= TRANSIENT_RETRIES:
                # Another worker held what this message needed: try again, not quarantine.
                log.info("Inbound mail %s meets %s; due again", pk, type(exc).__name__)
                InboundMessage.objects.filter(pk=pk).update(
                    status=Status.RECEIVED, attempts=attempts, next_attempt_at=timezone.now(),
                )
                statuses[pk] = "retried"
                continue
            quarantine(pk, attempts, exc)
            statuses[pk] = Status.QUARANTINED
    return statuses


def is_transient(exc: BaseException) -> bool:
    """A deadlock, serialization failure or lock timeout: the message itself is fine."""
    if getattr(exc.__cause__, "sqlstate", None) in TRANSIENT_SQLSTATES:
        return True
    return isinstance(exc, OperationalError) and "database is locked" in str(exc)


def batch_lock(messages: list[Any]) -> None:
    """On PostgreSQL, wait until no other ingest batch holds a case or a sender these
    messages point at, for the rest of this transaction (casedesk.mail.inbound_locks).
    A batch holds its cases' and the Case ID counter's row locks across its messages, in
    the order its messages come: taken first, before any row lock, these advisory locks
    keep two batches from waiting for each other in a cycle; the workers parse, and
    ingest messages about different cases, in parallel.

    A batch can still meet a deadlock with a transaction that does not take these locks
    (an agent merging two cases the batch replies to): PostgreSQL aborts one of them, and
    a failed batch is processed again one message per transaction (process_claimed), so
    nothing is lost, only batched."""
    from casedesk.mail.inbound_locks import lock

    lock(messages)


class ClaimLost(Exception):
    """Another worker claimed the message after this worker's lease ran out: what this
    worker did with it is rolled back, and the other worker's processing stands."""


def ingest_one(inbound_id: int, attempts: int, parsed: Any,
               claimed_until: datetime | None = None, *, alone: bool = True) -> str:
    """Ingest one parsed message inside the caller's transaction, and record its outcome
    on its row in the same transaction: a crash between the two cannot leave a reply
    posted twice after the lease runs out. A failure rolls back this message's savepoint
    only, and quarantines it; a message another worker claimed meanwhile is rolled back
    and "skipped".

    `alone=False`: the caller's transaction holds a batch and is processed again one
    message at a time should it fail (process_claimed); no savepoint, and a failure
    (ClaimLost too) raises."""
    if not alone:
        return _ingest_and_record(inbound_id, attempts, parsed, claimed_until)
    try:
        with removed_on_failure(), transaction.atomic():
            return _ingest_and_record(inbound_id, attempts, parsed, claimed_until)
    except ClaimLost:
        log.warning("Inbound mail %s: claimed by another worker after this worker's lease "
                    "ran out; skipped", inbound_id)
        return "skipped"
    except Exception as exc:  # noqa: BLE001 - any failure quarantines, never loses, the mail
        if is_transient(exc):
            raise  # the caller tries it again
        # When the transaction itself is broken (connection lost), this update raises too,
        # and the caller retries the batch one message at a time.
        quarantine(inbound_id, attempts, exc)
        return Status.QUARANTINED


def _ingest_and_record(inbound_id: int, attempts: int, parsed: Any,
                       claimed_until: datetime | None) -> str:
    result = ingest(parsed, inbound_id)
    action = str(getattr(result, "action", "") or "")
    status = Status.IGNORED if action == "ignored" else Status.PROCESSED
    recorded = record_outcome(
        inbound_id, status=status, result=action, attempts=attempts,
        reason=str(getattr(result, "reason", "") or "")[:REASON_CHARS],
        ticket_id=getattr(result, "ticket_id", None),
        message_id=getattr(result, "message_id", None), claimed_until=claimed_until,
    )
    if not recorded:
        raise ClaimLost(inbound_id)
    return status


def record_outcome(inbound_id: int, *, status: str, result: str, attempts: int, reason: str,
                   ticket_id: int | None, message_id: int | None,
                   claimed_until: datetime | None = None) -> bool:
    """What processing did, on the message's row; False when `claimed_until` (the lease
    this worker's claim wrote) is no longer the row's: another worker claimed it since,
    and the caller must roll back what it did.

    The check is the UPDATE's own condition, after the ingest rather than before it: the
    row is locked from then on, so a worker re-claiming it afterwards (SKIP LOCKED, then a
    conditional UPDATE) finds it processed, and one that re-claimed it before changed the
    lease. A locking read first, as before, cost a statement per message to save the work
    of the rare worker whose lease ran out. In SQL: every message runs it, and compiling
    the ORM's UPDATE cost several times running it. The connection is looked up once
    (each read through django.db.connection looks it up again)."""
    db = connections[DEFAULT_DB_ALIAS]
    table = db.ops.quote_name(InboundMessage._meta.db_table)
    sql = (f"UPDATE {table} SET status = %s, result = %s, error = '', attempts = %s, "  # noqa: S608
           "reason = %s, processed_at = %s, ticket_id = %s, ticket_message_id = %s "
           "WHERE id = %s")
    params: list[Any] = [status, result, attempts, reason,
                         db.ops.adapt_datetimefield_value(timezone.now()), ticket_id,
                         message_id, inbound_id]
    if claimed_until is not None:
        sql += " AND status = %s AND next_attempt_at = %s"
        params += [Status.PROCESSING.value,
                   db.ops.adapt_datetimefield_value(claimed_until)]
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        return bool(cursor.rowcount == 1)


def quarantine(inbound_id: int, attempts: int, exc: BaseException | ParseFailure) -> None:
    """A message that cannot be handled, with its error, for an admin (a ParseFailure's
    was written in the process where parsing raised)."""
    if isinstance(exc, ParseFailure):
        summary, error = exc.summary, exc.error
    else:
        summary, error = f"{type(exc).__name__}: {exc}", describe(exc)
    log.warning("Inbound mail %s quarantined: %s", inbound_id, summary)
    InboundMessage.objects.filter(pk=inbound_id).update(
        status=Status.QUARANTINED, error=error, attempts=attempts, reason="",
        processed_at=timezone.now(),
    )


def process_due(now: datetime | None = None, limit: int = BATCH) -> dict[str, int]:
    """Process every message that is due, oldest first, up to `limit`. Returns counts.

    The batch goes through in chunks (process_claimed each), and while one chunk is
    ingested here, the next one is parsed in the parse process (casedesk.mail.parse_process),
    on another core: the first chunk is parsed here while the second is parsed there. A
    chunk whose parse process died is parsed here instead; with the parse process off, each
    chunk is read and parsed here just before it is ingested."""
    now = now or timezone.now()
    counts: dict[str, int] = {}
    size = (TRANSACTION_MESSAGES_POSTGRES if connection.vendor == "postgresql"
            else TRANSACTION_MESSAGES)
    # Every message runs the same statements: prepared once (casedesk.core.prepared).
    with prepared_statements():
        ids = claim_batch(now, limit)
        chunks = [ids[start:start + size] for start in range(0, len(ids), size)]
        ahead: tuple[dict[int, tuple[bytes, int]], parse_process.Job | None] | None = None
        for k, chunk in enumerate(chunks):
            rows, job = ahead if ahead is not None else (read_claimed(chunk), None)
            ahead = None
            if k + 1 < len(chunks) and parse_process.wanted():
                # Read before this chunk is ingested: a message deleted or re-claimed by
                # another worker meanwhile is caught by record_outcome's claim check, as
                # one changed while its chunk is parsed always was.
                following = read_claimed(chunks[k + 1])
                ahead = (following,
                         parse_process.submit([raw for raw, _ in following.values()]))
            parsed = (parse_process.result(job) if job is not None
                      else parse_process.parse_each([raw for raw, _ in rows.values()]))
            for status in finish_claimed(chunk, rows, parsed, claimed_until=now + lease()):
                counts[status] = counts.get(status, 0) + 1
    return counts


def process_again(inbound_ids: list[int]) -> int:
    """An admin's "Process again": quarantined or ignored messages go back in the queue
    (after a fix, or a change of settings), due now."""
    return InboundMessage.objects.filter(
        pk__in=inbound_ids, status__in=[Status.QUARANTINED, Status.IGNORED, Status.RECEIVED],
    ).update(status=Status.RECEIVED, next_attempt_at=timezone.now(), error="", reason="")


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
