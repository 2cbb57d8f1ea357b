"""The outbox: new history events become deliveries, in the order they happened.

The cases' history (casedesk.tickets.models.Event) is append-only and written in the same
transaction as each change, so it already is a transactional outbox: nothing inside the
actions knows about webhooks. `fan_out` reads the events past the cursor, in id order,
makes a Delivery for each subscription that wants each one, and moves the cursor, all in
one transaction. A crash before the commit leaves neither; an event met twice still gives
one delivery per subscription (a unique constraint, and the insert ignores the conflict).

Several workers: the cursor row is the claim. On PostgreSQL it is read FOR UPDATE SKIP
LOCKED, so a second fan-out finds it taken and returns at once; on SQLite every write
transaction holds the database's write lock from its start (IMMEDIATE), so a second one
waits and then reads what the first left.

Ids that are not there yet. PostgreSQL hands out an event's id when it is inserted, not
when its transaction commits: while a long transaction holding id 10 is still open, id 11
may already be committed and visible. Moving the cursor past 10 then would lose that
event. So a hole in the ids stops the cursor, and is skipped only once it is certainly
final (a rollback, or a deleted case's events): every transaction of the database that
was running when the hole was first seen has ended (their xids are kept on the cursor)
and GAP_GRACE has passed (an id is drawn a moment before its transaction gets an xid, if
the event is its first write). On SQLite writers take turns, so a hole is final as soon
as it is seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from casedesk.tickets.models import Event
from casedesk.webhooks import payloads
from casedesk.webhooks.models import Cursor, Delivery, Subscription
from casedesk.webhooks.sender import encode

CURSOR = "events"
BATCH = 500
GAP_GRACE = timedelta(seconds=5)


@dataclass
class FanOutResult:
    events: int = 0
    deliveries: int = 0
    busy: bool = False  # another worker held the cursor
    waiting_on_gap: bool = False


def _running_xids() -> list[int]:
    """PostgreSQL: the ids of this database's other transactions that hold an xid now
    (have written something). Only this database's: the xid horizon of the whole server
    would also wait on other databases' long transactions."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT backend_xid::text::bigint FROM pg_stat_activity"
            " WHERE datname = current_database() AND backend_xid IS NOT NULL"
            " AND pid <> pg_backend_pid()"
        )
        return [int(row[0]) for row in cursor.fetchall()]


def event_head() -> int:
    """The highest event id handed out so far, committed or not: a subscription made now
    starts after it. On PostgreSQL that is the id sequence's last value (ids of events
    still in flight, or rolled back, are below it); elsewhere the highest id."""
    head = Event.objects.aggregate(head=Max("pk"))["head"] or 0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sequence_last_value(pg_get_serial_sequence(%s, 'id'))",
                           [Event._meta.db_table])
            row = cursor.fetchone()
        if row is not None and row[0] is not None:
            head = max(head, int(row[0]))
    return head


def _claim_cursor() -> Cursor | None:
    Cursor.objects.get_or_create(name=CURSOR)
    rows = Cursor.objects.filter(name=CURSOR)
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True)
    return rows.first()


def _final_until(cursor: Cursor, events: list[Event], now: datetime) -> int:
    """The highest id up to which the ids past the cursor are settled: every event in it
    is among `events` or will never appear. Records a newly seen hole on `cursor`."""
    expected = cursor.last_event_id + 1
    settled = cursor.last_event_id
    for event in events:
        if event.pk != expected:
            if connection.vendor != "postgresql":
                pass  # writers take turns: a hole now is a hole for good
            elif (cursor.gap_until is not None and event.pk <= cursor.gap_until
                  and cursor.gap_seen_at is not None
                  and now - cursor.gap_seen_at >= GAP_GRACE
                  and not set(cursor.gap_xids or []) & set(_running_xids())):
                pass  # seen before, and every transaction that could fill it has ended
            else:
                if cursor.gap_until is None or event.pk > cursor.gap_until:
                    # Taken after the events were read: any transaction that could still
                    # fill a hole below the highest id read is running now.
                    cursor.gap_until = events[-1].pk
                    cursor.gap_xids = _running_xids()
                    cursor.gap_seen_at = now
                return settled
        settled = event.pk
        expected = event.pk + 1
    return settled


def fan_out(limit: int = BATCH, now: datetime | None = None) -> FanOutResult:
    """Turn up to `limit` new events into deliveries and move the cursor past them."""
    now = now or timezone.now()
    result = FanOutResult()
    with transaction.atomic():
        cursor = _claim_cursor()
        if cursor is None:
            result.busy = True
            return result
        subscriptions = list(Subscription.objects.filter(is_active=True))
        if not subscriptions:
            # Nobody listens: nothing to make. A subscription made later starts after the
            # events of its own time (start_after_event_id), so skipping ahead loses none.
            head = event_head()
            Cursor.objects.filter(pk=cursor.pk).update(
                last_event_id=max(head, cursor.last_event_id), gap_until=None,
                gap_xids=None, gap_seen_at=None)
            return result
        floor = min(s.start_after_event_id for s in subscriptions)
        if floor > cursor.last_event_id:
            # Nobody wants the events before the oldest subscription: start there.
            cursor.last_event_id = floor
            cursor.gap_until = cursor.gap_xids = cursor.gap_seen_at = None
        events = list(
            Event.objects.filter(pk__gt=cursor.last_event_id).order_by("pk")[:limit]
        )
        settled = _final_until(cursor, events, now)
        ready = [e for e in events if e.pk <= settled]
        wanted = [e for e in ready if e.kind in payloads.TYPES]
        deliveries = _deliveries(wanted, subscriptions, now)
        Delivery.objects.bulk_create(deliveries, ignore_conflicts=True)
        if settled > cursor.last_event_id:
            cursor.last_event_id = settled
            if cursor.gap_until is not None and settled >= cursor.gap_until:
                cursor.gap_until = cursor.gap_xids = cursor.gap_seen_at = None
        cursor.save()
        result.events = len(ready)
        result.deliveries = len(deliveries)
        result.waiting_on_gap = len(ready) < len(events)
    return result


def _deliveries(events: list[Event], subscriptions: list[Subscription],
                now: datetime) -> list[Delivery]:
    if not events:
        return []
    loaded = payloads.load(events)
    made = []
    for event in events:
        kind = payloads.event_type(event)
        ticket = loaded.tickets.get(event.ticket_id)
        if kind is None or ticket is None:
            continue
        bodies: dict[bool, str | None] = {}
        for subscription in subscriptions:
            if not subscription.wants(kind) or event.pk <= subscription.start_after_event_id:
                continue
            scoped = subscription.is_scoped
            if scoped and subscription.organization_id != ticket.organization_id:
                continue
            if scoped not in bodies:
                body = payloads.payload(event, loaded, scoped=scoped)
                bodies[scoped] = encode(body) if body is not None else None
            body_text = bodies[scoped]
            if body_text is None:
                continue
            made.append(Delivery(
                subscription=subscription, event=event, ticket_id=event.ticket_id,
                event_type=kind, body=body_text, next_attempt_at=now, created_at=now,
            ))
    return made


def drain(now: datetime | None = None) -> FanOutResult:
    """fan_out until the history is read to its end (or a hole waits)."""
    total = FanOutResult()
    while True:
        result = fan_out(now=now)
        total.events += result.events
        total.deliveries += result.deliveries
        total.busy, total.waiting_on_gap = result.busy, result.waiting_on_gap
        if result.busy or result.waiting_on_gap or result.events < BATCH:
            return total
