"""Every change to a case. Each function writes its Event in the change's own transaction.

Views, forms, mail handlers, the API and jobs call these; nothing else saves a Ticket or
writes an Event.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone
from django.utils.translation import gettext as _

from casedesk.accounts.actions import get_or_create_contact, invite, needs_invitation
from casedesk.accounts.models import User
from casedesk.core import rows
from casedesk.core.choices import Priority
from casedesk.core.files import CheckedFile, note_stored, removed_on_failure
from casedesk.core.format import duration_text_lazy
from casedesk.mail.actions import new_message_id, queue_mail
from casedesk.mail.models import OutboundMail
from casedesk.search import index as search_index
from casedesk.sla import clocks as sla_clocks
from casedesk.sla.models import Clock, Plan
from casedesk.tickets.models import (
    Attachment,
    CaseCounter,
    Category,
    Event,
    Message,
    Ticket,
)

if TYPE_CHECKING:
    from casedesk.tickets.relations import (  # noqa: F401 - re-exported, see _RELATIONS
        MergeResult,
        add_cc,
        check_merge,
        link_cases,
        lock_tickets,
        merge_cases,
        parse_addresses,
        queue_merge_mail,
        remove_cc,
        unlink_cases,
    )


def allocate_case_id() -> int:
    """The next Case ID: unique and never reused, even after a case is deleted.

    Must run inside the transaction that creates the case. The counter row is incremented
    with one UPDATE, which takes its row lock (PostgreSQL) or the database write lock
    (SQLite, where transactions start IMMEDIATE): a concurrent submitter waits for our
    commit and then reads the incremented value, so no two cases get one number. A rolled
    back transaction gives its number back; a committed one never does. The same statement
    jumps forward to CASEDESK_CASE_ID_START when an admin raised it, never back.
    """
    start = settings.CASEDESK_CASE_ID_START
    table = connection.ops.quote_name(CaseCounter._meta.db_table)
    with connection.cursor() as cursor:
        # UPDATE ... RETURNING (SQLite 3.35+, PostgreSQL): one round trip for the number.
        cursor.execute(
            f"UPDATE {table} SET last_value = CASE WHEN last_value + 1 < %s THEN %s "  # noqa: S608
            "ELSE last_value + 1 END WHERE id = 1 RETURNING last_value",
            [start, start],
        )
        row = cursor.fetchone()
    if row is not None:
        return int(row[0])
    # First case ever. get_or_create is safe here: the loser of a race on the insert
    # re-reads the winner's row, then increments it like everyone else.
    CaseCounter.objects.get_or_create(pk=1, defaults={"last_value": start - 1})
    return allocate_case_id()


def lock_ticket(ticket_id: int) -> Ticket:
    """The case, locked for update until the caller's transaction ends (SQLite, which
    has no row locks, takes its one write lock at BEGIN). Written out in SQL: every
    change to a case runs it, and compiling the ORM's query cost more than running it."""
    lock = ""
    if connection.features.has_select_for_update:
        if connection.get_autocommit():
            # As select_for_update() says: a lock outside a transaction ends at once.
            raise TransactionManagementError("lock_ticket needs a transaction.")
        lock = " FOR UPDATE"
    found = rows.select(Ticket, "id = %s", [ticket_id], tail=lock)
    if not found:
        raise Ticket.DoesNotExist(f"There is no case {ticket_id}.")
    return found[0]


def record(ticket: Ticket, kind: str, actor: User | None, **data: Any) -> Event:
    # Through rows.insert, as the case's other rows written on every message (compiling
    # the ORM's INSERT cost more than running it); Event.save's append-only check is moot
    # for an insert.
    return rows.insert(Event(ticket=ticket, kind=kind, actor=actor, data=data))


def store_attachments(
    ticket: Ticket, message: Message | None, files: list[CheckedFile]
) -> list[Attachment]:
    stored = []
    for checked in files:
        attachment = Attachment(
            ticket=ticket, message=message, filename=checked.filename,
            content_type=checked.content_type, size=checked.size, sha256=checked.sha256,
            storage_key=secrets.token_hex(16),
        )
        attachment.file.save(checked.filename, checked.upload, save=False)
        note_stored(attachment.file.path)
        attachment.save(force_insert=True)
        stored.append(attachment)
    return stored


def plan_for(user: User) -> Plan | None:
    if user.organization_id is not None and user.organization and user.organization.plan_id:
        return user.organization.plan
    return Plan.default()


def case_subject(ticket: Ticket) -> str:
    return f"[Case #{ticket.pk}] {ticket.subject}"


@dataclass(frozen=True)
class MailHeaders:
    """What an email adds to a case beyond its text: its Message-ID (replies to it thread
    here), the whole text when the body is only the new part, who else it was sent to."""

    message_id: str = ""
    references: tuple[str, ...] = ()
    full_body: str = ""
    cc: tuple[str, ...] = ()

    def thread_headers(self) -> dict[str, str]:
        """In-Reply-To and References for our answer to this message."""
        if not self.message_id:
            return {}
        # The first and the latest few, as for replies (queue_reply_mail).
        refs = [*self.references, self.message_id]
        refs = [refs[0], *refs[-9:]] if len(refs) > 10 else refs
        return {"In-Reply-To": self.message_id, "References": " ".join(dict.fromkeys(refs))}


def merged_cc(current: str, added: Iterable[str], requester_email: str) -> str:
    """The case's CC list with `added` addresses, without the requester's, one per line."""
    addresses = [a for a in current.split() if a]
    for address in added:
        address = address.strip().lower()
        if address and address != requester_email.lower() and address not in addresses:
            addresses.append(address)
    return "\n".join(addresses[:50])


@dataclass(frozen=True)
class Submission:
    ticket: Ticket
    requester: User
    invited: bool
    message: Message  # the case's first message: its description


def submit_case(
    *,
    email: str,
    full_name: str,
    subject: str,
    description: str,
    priority: int,
    category: Category | None,
    files: list[CheckedFile],
    phone: str = "",
    organization_name: str = "",
    channel: str = Ticket.Channel.PORTAL,
    submitted_by: User | None = None,
    mail: MailHeaders | None = None,
    acknowledge: bool = True,
    related_to: Ticket | None = None,
    requester_is_new: bool = False,
    savepoint: bool = True,
) -> Submission:
    """Open a case for a requester (created if new, invited if they cannot sign in yet),
    store its description and files, and queue the acknowledgement.

    Everything is stored whole or not at all: if anything fails, the database rolls back
    and the files written so far are removed.

    A case opened by email passes `mail` (its headers, so the acknowledgement threads under
    the customer's message) and `acknowledge=False` when the message was automatic or the
    sender had too many acknowledgements this hour: no acknowledgement, no invitation.
    `requester_is_new`: the caller read the address in this transaction and found no
    account, so the contact is created without looking for it again.
    `savepoint=False`: the caller's transaction or savepoint rolls back as a whole when
    this raises (the inbound job gives each message its own), so none of its own is needed.
    """
    with removed_on_failure(), transaction.atomic(savepoint=savepoint):
        if submitted_by is not None:
            requester = submitted_by
        else:
            requester, created = get_or_create_contact(
                email=email, full_name=full_name, phone=phone, known_new=requester_is_new,
            )
        created = submitted_by is None and created
        now = timezone.now()
        ticket = Ticket(
            id=allocate_case_id(), subject=subject, requester=requester,
            organization_id=requester.organization_id,
            organization_name_given=organization_name.strip()[:200],
            requester_phone=phone.strip()[:40] or requester.phone,
            category=category, priority=priority, channel=channel,
            created_at=now, updated_at=now, last_message_at=now,
            related_to=related_to, cc_emails=merged_cc("", mail.cc if mail else [],
                                                       requester.email),
        )
        rows.insert(ticket)
        # Customers' replies to the acknowledgement thread onto the case through the
        # acknowledgement's Message-ID, which the first message carries; a case opened
        # by email carries the customer's own Message-ID instead (replies to the
        # acknowledgement are found through the outbox's row).
        ack_id = new_message_id()
        message = rows.insert(Message(
            ticket=ticket, author=requester, kind=Message.Kind.PUBLIC, body=description,
            channel=channel, created_at=now,
            message_id_header=mail.message_id if mail and mail.message_id else ack_id,
            full_body=mail.full_body if mail else "",
        ))
        search_index.case_opened(ticket, message)
        attachments = store_attachments(ticket, message, files)
        extra = {"related_to": related_to.pk} if related_to is not None else {}
        record(
            ticket, Event.Kind.CREATED, requester, channel=channel, priority=priority,
            subject=subject, attachments=len(attachments), **extra,
        )
        clocks = sla_clocks.start_case(ticket, at=now)
        # A contact created a moment ago has no invitation yet: no need to ask.
        invited = acknowledge and (created or needs_invitation(requester))
        if invited:
            invite(requester, case_id=ticket.pk)
        if acknowledge:
            queue_acknowledgement(
                ticket, requester, message, clocks, message_id=ack_id,
                thread=mail.thread_headers() if mail else {},
            )
    return Submission(ticket=ticket, requester=requester, invited=invited, message=message)


def queue_acknowledgement(
    ticket: Ticket, requester: User, message: Message, clocks: list[Clock], *, message_id: str,
    thread: dict[str, str] | None = None,
) -> None:
    # The promise the mail states is the case's own first-response clock (none: the plan
    # has no target for this priority, and the mail promises nothing).
    first = next((c for c in clocks if c.kind == Clock.Kind.FIRST_RESPONSE), None)
    plan = first.plan if first else None
    target = timedelta(seconds=first.target_seconds) if first else None
    queue_mail(
        kind=OutboundMail.Kind.ACKNOWLEDGEMENT,
        ticket=ticket,
        to=requester.email,
        cc=ticket.cc_list(),
        reader=requester,
        subject=case_subject(ticket),
        template="tickets/mail/acknowledgement.txt",
        # Plain values, not the case and the person: the template is rendered once per
        # language and these put back (casedesk.mail.pieces).
        context={
            "name": requester.get_short_name(), "case_id": ticket.pk,
            "case_subject": ticket.subject, "plan": plan.name if plan else None,
            "target": bool(target), "target_text": duration_text_lazy(target) if target else "",
            "priority_label": Priority(ticket.priority).label,
        },
        headers={
            "Auto-Submitted": "auto-replied", "X-Casedesk-Case": str(ticket.pk),
            **(thread or {}),
        },
        message_id=message_id,
    )


def touch(ticket: Ticket, **changes: Any) -> None:
    changes.setdefault("updated_at", timezone.now())
    for field, value in changes.items():
        setattr(ticket, field, value)
    rows.update(ticket, list(changes))


def _status_changes(ticket: Ticket, status: str) -> dict[str, Any]:
    now = timezone.now()
    changes: dict[str, Any] = {"status": status}
    if status == Ticket.Status.RESOLVED:
        changes["resolved_at"] = now
    elif status == Ticket.Status.CLOSED:
        changes["closed_at"] = now
        if ticket.resolved_at is None:
            changes["resolved_at"] = now
    elif status in Ticket.OPEN_STATUSES:
        changes["resolved_at"] = None
        changes["closed_at"] = None
    return changes


def _set_status(ticket: Ticket, actor: User | None, status: str, **extra: Any) -> bool:
    if ticket.status == status:
        return False
    old = ticket.status
    touch(ticket, **_status_changes(ticket, status))
    event = record(ticket, Event.Kind.STATUS, actor, old=old, new=status, **extra)
    # The event's own time: the SLA pauses and the status history then agree exactly.
    sla_clocks.on_status_change(
        ticket, old, status, at=event.created_at, actor=actor,
        by_customer=extra.get("reason") == "reopened_by_customer",
    )
    return True


class ActionError(Exception):
    """A change that is not allowed now; the message is for the person who asked."""


def refuse_if_merged(ticket: Ticket) -> None:
    """A merged case is closed for good: its thread and clocks live on the surviving case,
    and reopening it would split the conversation again."""
    if ticket.merged_into_id is not None:
        raise ActionError(
            _("Case %(id)s was merged into case %(into)s: its status cannot change. Work on "
              "case %(into)s instead.") % {"id": ticket.pk, "into": ticket.merged_into_id}
        )


def change_status(ticket_id: int, actor: User, status: str) -> Ticket:
    if status not in Ticket.Status.values:
        raise ActionError(_("“%(value)s” is not a status.") % {"value": status})
    with transaction.atomic():
        ticket = lock_ticket(ticket_id)
        refuse_if_merged(ticket)
        _set_status(ticket, actor, status)
    return ticket


def change_priority(ticket_id: int, actor: User, priority: int) -> Ticket:
    if priority not in Priority.values:
        raise ActionError(_("“%(value)s” is not a priority.") % {"value": priority})
    with transaction.atomic():
        ticket = lock_ticket(ticket_id)
        if ticket.priority != priority:
            old = ticket.priority
            touch(ticket, priority=priority)
            event = record(ticket, Event.Kind.PRIORITY, actor, old=old, new=priority)
            sla_clocks.on_priority_change(
                ticket, old, priority, at=event.created_at, actor=actor
            )
    return ticket


def assign(ticket_id: int, actor: User, assignee: User | None) -> Ticket:
    if assignee is not None and not assignee.is_agent:
        raise ActionError(
            _("%(person)s is not an agent; cases are assigned to agents only.")
            % {"person": assignee}
        )
    with transaction.atomic():
        ticket = lock_ticket(ticket_id)
        if ticket.assignee_id != (assignee.pk if assignee else None):
            old = ticket.assignee.email if ticket.assignee else None
            touch(ticket, assignee=assignee)
            record(
                ticket, Event.Kind.ASSIGNEE, actor, old=old,
                new=assignee.email if assignee else None,
            )
    return ticket


def add_message(
    ticket_id: int,
    author: User,
    body: str,
    files: list[CheckedFile],
    *,
    internal: bool = False,
    channel: str = Ticket.Channel.PORTAL,
    new_status: str | None = None,
    mail: MailHeaders | None = None,
    locked: Ticket | None = None,
    savepoint: bool = True,
) -> Message:
    """A reply (public) or a note (internal, agents only) on a case.

    A customer's reply reopens a resolved or closed case and ends a wait on the customer;
    an agent's public reply is mailed to the requester; a note is never shown or mailed to
    customers. A reply by email passes `mail`: its Message-ID (later mail chains to it),
    its whole text and the addresses it was copied to. A caller that already holds the
    case's lock in its transaction (lock_ticket) passes the case as `locked`, and
    `savepoint=False` when that transaction or savepoint rolls back as a whole should this
    raise (submit_case says why).
    """
    if internal and not author.is_agent:
        raise ActionError(_("Only agents can add internal notes."))
    with removed_on_failure(), transaction.atomic(savepoint=savepoint):
        ticket = locked if locked is not None and locked.pk == ticket_id else lock_ticket(
            ticket_id
        )
        if ticket.merged_into_id is not None:
            # Callers follow the merge first (tickets.access.resolve_merged); adding
            # here would reopen a case whose thread has moved.
            raise ActionError(
                _("Case %(id)s was merged into case %(into)s: add to case %(into)s instead.")
                % {"id": ticket.pk, "into": ticket.merged_into_id}
            )
        now = timezone.now()
        message = rows.insert(Message(
            ticket=ticket, author=author, body=body, channel=channel, created_at=now,
            kind=Message.Kind.INTERNAL if internal else Message.Kind.PUBLIC,
            message_id_header=mail.message_id if mail else "",
            full_body=mail.full_body if mail else "",
        ))
        search_index.message_added(message)
        attachments = store_attachments(ticket, message, files)
        event = record(
            ticket, Event.Kind.NOTE if internal else Event.Kind.REPLY, author,
            message=message.pk, attachments=len(attachments),
        )
        changes: dict[str, Any] = {} if internal else {"last_message_at": now}
        if mail is not None and mail.cc:
            cc = merged_cc(ticket.cc_emails, mail.cc, ticket.requester.email)
            if cc != ticket.cc_emails:
                changes["cc_emails"] = cc
        touch(ticket, **changes)
        if author.is_agent:
            if not internal:
                # Before any status change: a reply that also resolves the case meets
                # the response clock, and only then the resolution clock.
                sla_clocks.on_agent_reply(ticket, at=event.created_at, by=author)
            else:
                # No answer to the customer, but it acknowledges an escalation.
                sla_clocks.on_agent_note(ticket, at=event.created_at, by=author)
            status = new_status
            if status is None and ticket.status == Ticket.Status.NEW and not internal:
                status = Ticket.Status.OPEN
            if status:
                _set_status(ticket, author, status)
            if not internal:
                queue_reply_mail(ticket, message, attachments)
        else:
            if ticket.status != Ticket.Status.OPEN and ticket.status != Ticket.Status.NEW:
                # The customer answered: the case needs an agent again.
                _set_status(ticket, author, Ticket.Status.OPEN, reason="customer_reply")
            sla_clocks.on_customer_message(ticket, at=now)
    return message


def queue_reply_mail(ticket: Ticket, message: Message, attachments: list[Attachment]) -> None:
    previous = list(
        Message.objects.filter(ticket=ticket, kind=Message.Kind.PUBLIC)
        .exclude(message_id_header="").exclude(pk=message.pk)
        .order_by("created_at", "pk").values_list("message_id_header", flat=True)
    )
    headers = {"X-Casedesk-Case": str(ticket.pk)}
    if previous:
        headers["In-Reply-To"] = previous[-1]
        # The first and the latest few: enough for every client to thread, short enough
        # for every server to accept.
        refs = [previous[0], *previous[-9:]] if len(previous) > 10 else previous
        headers["References"] = " ".join(dict.fromkeys(refs))
    mail = queue_mail(
        kind=OutboundMail.Kind.REPLY,
        ticket=ticket,
        to=ticket.requester.email,
        cc=ticket.cc_list(),
        reader=ticket.requester,
        subject=case_subject(ticket),
        template="tickets/mail/reply.txt",
        context={"ticket": ticket, "message": message, "attachments": attachments},
        headers=headers,
    )
    Message.objects.filter(pk=message.pk).update(message_id_header=mail.message_id)


def close_by_contact(ticket_id: int, contact: User) -> Ticket:
    with transaction.atomic():
        ticket = lock_ticket(ticket_id)
        refuse_if_merged(ticket)
        if ticket.status == Ticket.Status.CLOSED:
            raise ActionError(_("Case %(id)s is already closed.") % {"id": ticket.pk})
        _set_status(ticket, contact, Ticket.Status.CLOSED, reason="closed_by_customer")
    return ticket


def reopen_by_contact(ticket_id: int, contact: User) -> Ticket:
    with transaction.atomic():
        ticket = lock_ticket(ticket_id)
        refuse_if_merged(ticket)
        if ticket.is_open:
            raise ActionError(_("Case %(id)s is already open.") % {"id": ticket.pk})
        _set_status(ticket, contact, Ticket.Status.OPEN, reason="reopened_by_customer")
    return ticket


# ------------------------------------------------------------------ merge, links, CCs
# They live in casedesk.tickets.relations (which imports this module's helpers); the names
# still import from here, loaded on first use so that neither module imports the other at
# load time.
_RELATIONS = frozenset({
    "MergeResult", "add_cc", "check_merge", "link_cases", "lock_tickets", "merge_cases",
    "parse_addresses", "queue_merge_mail", "remove_cc", "unlink_cases",
})


def __getattr__(name: str) -> Any:
    if name in _RELATIONS:
        from casedesk.tickets import relations

        return getattr(relations, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def record_bounce(ticket_ids: Iterable[int], *, to: str, reason: str, permanent: bool) -> int:
    """Note on each case's history that mail to `to` bounced (or, not `permanent`, is
    delayed), so that the agent reading the case knows the customer may not have our
    mail. Nothing else about the case changes, so no case is locked. Returns the count."""
    data = {"to": to[:300], "reason": reason[:300], "permanent": permanent}
    events = [
        Event(ticket_id=pk, kind=Event.Kind.MAIL_BOUNCED, data=data)
        for pk in dict.fromkeys(ticket_ids)
    ]
    Event.objects.bulk_create(events)
    return len(events)
