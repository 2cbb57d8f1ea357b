"""The case page's reads of one case's rows, in plain SQL (casedesk.core.rows).

The thread, its files, the history and the escalations are read on every case page. The
ORM compiled each of those four queries again on every request (with its joins to the
authors), about 2 ms each on PostgreSQL at a million cases, more than running them: here
each is a fixed statement, and the people they name (authors, actors, assignees) come in
one more, for all four together.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Model

from casedesk.accounts.models import User
from casedesk.core import rows
from casedesk.escalation.models import Escalation
from casedesk.tickets.models import Attachment, Event, Message, Ticket

ORDER = " ORDER BY created_at, id"


@dataclass
class CaseRecords:
    thread: list[Message]
    events: list[Event]
    escalations: list[Escalation]


def _people(ids: set[int]) -> dict[int, User]:
    if not ids:
        return {}
    marks = ", ".join(["%s"] * len(ids))
    return {user.pk: user for user in rows.select(User, f"id IN ({marks})", sorted(ids))}


def _attach(objects: list[Model], relation: str, people: dict[int, User]) -> None:
    """Sets each object's `relation` (a foreign key to User) from `people`, as
    select_related would: reading it later makes no query."""
    field = type(objects[0])._meta.get_field(relation) if objects else None
    for obj in objects:
        pk = getattr(obj, f"{relation}_id")
        field.set_cached_value(obj, people.get(pk) if pk is not None else None)  # type: ignore[union-attr]


def case_records(ticket: Ticket) -> CaseRecords:
    """The case's messages (oldest first, each with `files`, its attachments in upload
    order), events and escalations (oldest first), each with its people loaded."""
    thread = rows.select(Message, "ticket_id = %s", [ticket.pk], tail=ORDER)
    # Each message's files as a list (`files`), read by the case (what its download view
    # serves), not by an IN of every message's id.
    files: dict[int | None, list[Attachment]] = {}
    for attachment in rows.select(Attachment, "ticket_id = %s", [ticket.pk], tail=" ORDER BY id"):
        files.setdefault(attachment.message_id, []).append(attachment)
    for message in thread:
        message.files = files.get(message.pk, [])  # type: ignore[attr-defined]
    events = rows.select(Event, "ticket_id = %s", [ticket.pk], tail=ORDER)
    escalations = rows.select(Escalation, "ticket_id = %s", [ticket.pk], tail=ORDER)
    ids = {m.author_id for m in thread} | {e.actor_id for e in events}
    ids |= {e.actor_id for e in escalations} | {e.assigned_to_id for e in escalations}
    ids.discard(None)
    people = _people(ids)  # type: ignore[arg-type]
    _attach(thread, "author", people)  # type: ignore[arg-type]
    _attach(events, "actor", people)  # type: ignore[arg-type]
    _attach(escalations, "actor", people)  # type: ignore[arg-type]
    _attach(escalations, "assigned_to", people)  # type: ignore[arg-type]
    return CaseRecords(thread, events, escalations)
