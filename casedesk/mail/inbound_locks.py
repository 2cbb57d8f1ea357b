"""What a batch of inbound mail will lock, so that PostgreSQL workers ingest at once
(issue 4) without deadlocking each other.

A batch transaction takes row locks as its messages come: each case a message goes to
(lock_ticket, FOR UPDATE; a bounce's events and a follow-up's link take a key-share lock
on theirs), each sender's account (a new contact's unique email, a bounce mark), and, for
each new case, the Case ID counter (allocate_case_id). Two batches taking two of these in
opposite orders would deadlock, which is why every batch used to wait for one global
advisory lock, so that one batch at a time wrote.

Instead, a batch now reads, before its first row lock, which cases and addresses its
messages point at (the threading headers and subject tags as ingest will look them up,
where a case was merged into, a bounce's addresses and their open cases), and takes a
transaction-level advisory lock on a key for each, all in one statement in key order: two
batches wait for each other only where they share a case or a sender, and never in a
cycle. The Case ID counter needs no key: every other lock a batch waits for is covered by
a key it holds, so the batch holding the counter never waits for another batch, and the
ones waiting for the counter only wait for it to commit.

A message the plan cannot foresee (a delivery report that names no address) makes its
batch take the global lock exclusively: it then runs alone, as every batch did before;
planned batches take it shared. A wrong guess (a thread that changed between the read and
the locks: a case merged meanwhile, a new case of a bounced address) costs at worst a
deadlock, which PostgreSQL breaks by aborting one batch, then processed again one message
per transaction (inbound_jobs.process_claimed): no message is lost or ingested twice, and
where a message threads is still decided inside the transaction, under the case's lock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from django.db import connection

from casedesk.accounts.models import normalize_email
from casedesk.core.rows import marks
from casedesk.tickets.models import Ticket

# The PostgreSQL advisory lock (one bigint key, ours: "casedesk inbound") taken shared by
# a planned batch and exclusively by one that could not be planned.
BATCH_LOCK = 0x6361_7365_6465_736B


def key(kind: str, value: object) -> int:
    """A bigint advisory-lock key for a case or an address. Two things that share a key
    by chance only wait for each other."""
    digest = hashlib.blake2b(f"casedesk inbound {kind} {value}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


def plan(messages: Iterable[Any]) -> set[int] | None:
    """The keys a batch of parsed messages needs, or None when one of them cannot be
    foreseen (the batch then runs alone)."""
    from casedesk.mail.ingest import (
        DELIVERY_REASONS,
        normalize_id,
        open_cases_of,
        tagged_case_id,
        thread_ids,
        threads_by_headers,
    )

    wanted: list[tuple[list[str], int | None]] = []  # (thread ids, tagged case) per message
    addresses: set[str] = set()
    bounced: set[str] = set()
    for parsed in messages:
        ids = thread_ids(parsed)
        sender = normalize_email(str(parsed.from_address or ""))
        if sender:
            addresses.add(sender)
        if parsed.bounce is not None:
            original = normalize_id(parsed.bounce.original_message_id)
            if original and original not in ids:
                ids.append(original)
            found = {normalize_email(str(a)) for a in parsed.bounce.addresses or [] if a}
            if not found:
                return None  # its addresses come from the outbox: not worth foreseeing
            bounced |= found
            wanted.append((ids, None))
            continue
        tag = None if parsed.auto in DELIVERY_REASONS else tagged_case_id(parsed.subject)
        wanted.append((ids, tag))
    found_ids = threads_by_headers(sorted({i for ids, _tag in wanted for i in ids}))
    cases: set[int] = set()
    for ids, tag in wanted:
        threaded = next((found_ids[i] for i in ids if i in found_ids), None)
        if threaded is not None:
            cases.add(threaded)
        elif tag is not None:
            cases.add(tag)
    if bounced:
        cases |= set(open_cases_of(sorted(bounced)))
    if cases:
        # Mail to a merged case goes where it was merged into (ingest.lock_thread).
        cases |= merged_into(sorted(cases))
    return ({key("case", pk) for pk in cases}
            | {key("address", a) for a in addresses | bounced})


def merged_into(case_ids: list[int]) -> set[int]:
    """Where those of `case_ids` that were merged went. In SQL, as ingest's lookups: every
    batch runs it, and compiling the ORM's query cost more than running it."""
    table = connection.ops.quote_name(Ticket._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT merged_into_id FROM {table} "  # noqa: S608 - our names
            f"WHERE id IN ({marks(len(case_ids))}) "
            "AND merged_into_id IS NOT NULL",
            case_ids,
        )
        return {int(into) for (into,) in cursor.fetchall()}


def lock(messages: Iterable[Any]) -> None:
    """Take the batch's keys (see the module's docstring) for the rest of the
    transaction, on PostgreSQL; nothing elsewhere (SQLite's transaction holds its one
    write lock)."""
    if connection.vendor != "postgresql":
        return
    keys = plan(messages)
    with connection.cursor() as cursor:
        if keys is None:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [BATCH_LOCK])
            return
        cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [BATCH_LOCK])
        # In key order, whatever order the batch's messages came in: no two batches can
        # each hold a key the other waits for. The subquery is sorted before the outer
        # query calls the lock function on its rows (OFFSET 0 keeps it from being merged).
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(k)) FROM "
            "(SELECT k FROM unnest(%s::bigint[]) AS k ORDER BY k OFFSET 0) AS keys",
            [sorted(keys)],
        )

