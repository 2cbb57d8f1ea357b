"""The case page's reads of one case's rows, in plain SQL (casedesk.core.rows).

The thread, its files, the history and the escalations are read on every case page. The
ORM compiled each of those four queries again on every request (with its joins to the
authors), about 2 ms each on PostgreSQL at a million cases, more than running them: here
each is a fixed statement, and the people they name (authors, actors, assignees) come in
one more, for all four together.
"""

from __future__ import annotations

from dataclasses import dataclass

from casedesk.core import rows
from casedesk.escalation.models import Escalation
from casedesk.tickets.models import Attachment, Event, Message, Ticket

ORDER = " ORDER BY created_at, id"


@dataclass
class CaseRecords:
    thread: list[Message]
    events: list[Event]
    escalations: list[Escalation]


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
    rows.attach([(thread, "author"), (events, "actor"), (escalations, "actor"),
                 (escalations, "assigned_to")])
    return CaseRecords(thread, events, escalations)
