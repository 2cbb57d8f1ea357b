"""Keeping the index current, and rebuilding it.

The tickets actions call these in the transaction of the change, so a case or message is
searchable the moment it is committed and never before (a rolled back change rolls its
index entry back too):

- case_opened(ticket, message): submit_case, for the new case and its first message;
- message_added(message): add_message, for a reply or an internal note;
- case_changed(ticket): anything that changes a case's subject or requester;
- requester_changed(user): a change of a person's name or email.

rebuild() makes the index again from the cases themselves, in batches (`casedesk
search-rebuild`, and after a bulk load that bypassed the actions, such as bench-seed).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, OuterRef

from casedesk.core import rows
from casedesk.search.kinds import CASE
from casedesk.search.models import Document
from casedesk.search.normalize import index_text
from casedesk.tickets.models import Message, Ticket

# The most normalized text one field of a document holds. Beyond it a case's later
# messages are not indexed: a tsvector must stay under 1 MB, and 200,000 characters is
# about a hundred long emails. Indexing stops rather than failing the reply.
MAX_FIELD = 200_000

Progress = Callable[[int, int], None]


def _people(full_name: str, email: str) -> str:
    return index_text(f"{full_name} {email}")


def _capped(parts: Iterable[str]) -> str:
    text = ""
    for part in parts:
        if not part:
            continue
        if len(text) + len(part) + 1 > MAX_FIELD:
            break
        text = f"{text} {part}" if text else part
    return text


def case_document(
    ticket_id: int, subject: str, full_name: str, email: str,
    messages: Iterable[tuple[str, str]], documents: Any = Document,
) -> Any:
    """The document of a case: `messages` are (kind, body) in thread order."""
    public: list[str] = []
    notes: list[str] = []
    for kind, body in messages:
        (notes if kind == Message.Kind.INTERNAL else public).append(index_text(body))
    return documents(
        id=CASE.key(ticket_id), kind=CASE.code, ref_id=ticket_id,
        title=index_text(subject), people=_people(full_name, email),
        body=_capped(public), notes=_capped(notes),
    )


def case_opened(ticket: Ticket, message: Message) -> None:
    """A new case with its first message. Call inside the transaction that creates it."""
    requester = ticket.requester
    # rows.insert: every case opened writes one, and compiling the ORM's INSERT cost more
    # than running it.
    rows.insert(case_document(
        ticket.pk, ticket.subject, requester.full_name, requester.email,
        [(message.kind, message.body)],
    ))


def message_added(message: Message) -> None:
    """A reply or note on a case. Call inside the transaction that adds it (the case is
    locked there, so two messages never append at once)."""
    text = index_text(message.body)
    field = "notes" if message.kind == Message.Kind.INTERNAL else "body"
    table = connection.ops.quote_name(Document._meta.db_table)
    with connection.cursor() as cursor:
        # Appending rather than re-reading the thread: the cost of a message does not
        # grow with the length of the case. `field` is one of two constants.
        cursor.execute(
            f"UPDATE {table} SET {field} = CASE "  # noqa: S608
            f"WHEN {field} = '' THEN %s "
            f"WHEN length({field}) + %s < %s THEN {field} || ' ' || %s "
            f"ELSE {field} END WHERE id = %s",
            [text, len(text) + 1, MAX_FIELD, text, CASE.key(message.ticket_id)],
        )
        found = cursor.rowcount
    if not found:
        # A case from before the index existed (or whose document was lost): index it
        # whole now rather than only this message.
        case_changed(Ticket.objects.get(pk=message.ticket_id))


def case_changed(ticket: Ticket) -> None:
    """Index the case again from its subject, requester and whole thread."""
    reindex_cases(ticket.pk, ticket.pk)


def requester_changed(user: Any) -> None:
    """A person's name or email changed: every case they requested is found by the new
    ones. (Nothing changes them through an action yet; the admin edits people directly.)"""
    Document.objects.filter(
        kind=CASE.code, ref_id__in=Ticket.objects.filter(requester=user).values("pk")
    ).update(people=_people(user.full_name, user.email))


def case_removed(ticket_id: int) -> None:
    Document.objects.filter(pk=CASE.key(ticket_id)).delete()


def reindex_cases(
    first: int, last: int, *, tickets: Any = Ticket, messages: Any = Message,
    documents: Any = Document,
) -> int:
    """Index again the cases with ids first..last; returns how many there are. Locks the
    cases (PostgreSQL) for the transaction, so a message added meanwhile waits and then
    appends to the new document instead of being lost with the old one."""
    with transaction.atomic():
        rows = list(
            tickets.objects.select_for_update(of=("self",))
            .filter(pk__gte=first, pk__lte=last).order_by("pk")
            .values_list("pk", "subject", "requester__full_name", "requester__email")
        )
        thread: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for ticket_id, kind, body in (
            messages.objects.filter(ticket_id__gte=first, ticket_id__lte=last)
            .order_by("ticket_id", "created_at", "pk")
            .values_list("ticket_id", "kind", "body").iterator(chunk_size=5000)
        ):
            thread[ticket_id].append((kind, body))
        low, high = CASE.key_range(first, last)
        documents.objects.filter(pk__gte=low, pk__lte=high, kind=CASE.code).delete()
        documents.objects.bulk_create(
            [case_document(pk, subject, name, email, thread[pk], documents)
             for pk, subject, name, email in rows],
            batch_size=500,
        )
    return len(rows)


def rebuild_cases(
    *, batch: int = 2000, progress: Progress | None = None, tickets: Any = Ticket,
    messages: Any = Message, documents: Any = Document,
) -> int:
    """Index every case again, `batch` cases per transaction (search keeps working
    meanwhile: each batch replaces its cases' documents at once). Returns the number of
    cases indexed; `progress(done, total)` is called after each batch."""
    total = tickets.objects.count()
    done = 0
    after = 0
    while True:
        ids = list(
            tickets.objects.filter(pk__gt=after).order_by("pk")
            .values_list("pk", flat=True)[:batch]
        )
        if not ids:
            break
        done += reindex_cases(
            ids[0], ids[-1], tickets=tickets, messages=messages, documents=documents
        )
        after = ids[-1]
        if progress is not None:
            progress(done, total)
    # Cases deleted since they were indexed. NOT EXISTS, not NOT IN: PostgreSQL runs
    # NOT IN (subquery) row by row once the ids outgrow work_mem (over 18 minutes at a
    # million cases), and plans NOT EXISTS as one anti-join.
    documents.objects.filter(kind=CASE.code).exclude(
        Exists(tickets.objects.filter(pk=OuterRef("ref_id")))
    ).delete()
    return done


# The engines' own indexes (search/migrations/0001), built at once after a first load.
GIN_INDEX = "search_document_vector"
GIN_SQL = f"CREATE INDEX IF NOT EXISTS {GIN_INDEX} ON search_document USING gin (vector)"
FTS_INSERT_TRIGGER = "search_document_ai"
FTS_HASHSIZE = "INSERT INTO search_fts(search_fts, rank) VALUES ('hashsize', %s)"
FTS_DEFAULT_HASHSIZE = 1024 * 1024
FTS_BULK_HASHSIZE = 64 * 1024 * 1024


@contextmanager
def _engine_index_deferred(deferred: bool) -> Iterator[None]:
    """While a first build fills the documents, leave the engine's index alone, then build
    it from them in one pass: on SQLite the FTS5 insert trigger goes and 'rebuild' reads
    every document (5x faster than a trigger per row: 30 s instead of ~160 s for 100,000
    cases); on PostgreSQL the GIN index goes and is created again (256 MB of sort memory
    for this session). What another process writes meanwhile is in the documents, so the
    final pass indexes it too."""
    if not deferred:
        yield
        return
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute(f"DROP INDEX IF EXISTS {GIN_INDEX}")
        else:
            cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = %s",
                           [FTS_INSERT_TRIGGER])
            trigger = cursor.fetchone()[0]
            cursor.execute(f"DROP TRIGGER {FTS_INSERT_TRIGGER}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if postgres:
                cursor.execute("SET maintenance_work_mem = '256MB'")
                cursor.execute(GIN_SQL)
                cursor.execute("RESET maintenance_work_mem")
            else:
                cursor.execute(trigger)
                # FTS5 gathers what it indexes in memory and writes a segment each time
                # that holds 'hashsize' bytes (1 MB by default), then spends most of a
                # rebuild merging those small segments again and again. 64 MB for this one
                # pass: 100,000 cases took 4.6 s instead of 15.3 s. The setting is stored
                # with the index, so the default goes back for everyday writes.
                cursor.execute(FTS_HASHSIZE, [FTS_BULK_HASHSIZE])
                try:
                    cursor.execute("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
                finally:
                    cursor.execute(FTS_HASHSIZE, [FTS_DEFAULT_HASHSIZE])


def rebuild(*, progress: Progress | None = None, batch: int = 2000) -> int:
    """Rebuild the whole index (cases are the only kind indexed today), then leave the
    engine's index in its best shape for queries.

    A first build (nothing indexed yet: a new install's backfill, a bulk load) fills the
    documents first and the engine's index from them at the end (_engine_index_deferred).
    With documents there, the engine's index is kept current as they are replaced, so
    search keeps working during the rebuild."""
    first = not Document.objects.exists()
    with _engine_index_deferred(first):
        done = rebuild_cases(progress=progress, batch=batch)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The planner chooses between the GIN index (rare words) and walking the
            # primary key (common words) from these statistics; a bulk load left none.
            cursor.execute("ANALYZE search_document")
        elif not first:
            # One FTS5 segment instead of the many that replacing every document one by
            # one leaves: each word is then one list to read instead of one per segment.
            # A first build's single 'rebuild' pass is already that compact (100,000
            # cases: 30,824 index pages against 30,352 after 'optimize', the same search
            # times), and optimizing it again took as long as building it, and over an
            # hour at a million cases.
            cursor.execute("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
    return done
