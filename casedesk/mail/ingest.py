"""Threading received mail onto cases: a parsed message becomes a reply, a new case, a
bounce record, a pointer to the portal, or nothing.

Rules (issue 4, points 5, 6 and 10):

- A message joins a case when its In-Reply-To or References name a Message-ID of that
  case: one of its messages (sent or received) or a mail we sent about it (outbox). These
  IDs are random and only reach the case's correspondents.
- Otherwise, a Case ID tag in the subject joins it, but only from the requester, an
  address copied on the case, a contact of the case's organization or an agent: a stranger
  who guesses a Case ID opens a case of their own. Accepted tags (any letter case, spaces
  allowed): ``[Case #N]`` (what we send), ``[Case N]`` and ``[#N]``. A bare "case 12" in a
  sentence is not a tag: it would thread mail that merely mentions a number.
- A customer's reply to a closed case, or to one resolved more than CASEDESK_REOPEN_DAYS
  ago, opens a new case linked to the old one; otherwise the reply goes through
  tickets.actions.add_message, which reopens a resolved case and resumes SLA clocks. An
  agent's reply becomes a public reply from that agent, mailed to the requester as usual.
- Anything else opens a case, or (CASEDESK_EMAIL_NEW_CASES=portal) gets a polite pointer
  to the portal and stores nothing but the received bytes (kept by the caller).
- Loops: an automatic message (or one sent in bulk) is never answered; an automatic one
  that threads onto a case changes nothing (an out-of-office must not reopen a case); one
  that threads nowhere opens a case without acknowledgement (a monitoring alert still
  reaches the desk). Bounces and
  mailer-daemon mail never become cases; a permanent bounce marks the address bouncing.
  Acknowledgements to one sender are capped per hour (CASEDESK_ACK_CAP_PER_HOUR).
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from casedesk.accounts.actions import get_or_create_contact
from casedesk.accounts.models import User, normalize_email
from casedesk.core import rows
from casedesk.core.choices import Priority
from casedesk.core.files import CheckedFile, check_upload
from casedesk.mail.actions import queue_mail, support_address
from casedesk.mail.models import OutboundMail
from casedesk.tickets.access import resolve_merged
from casedesk.tickets.actions import (
    MailHeaders,
    add_message,
    lock_ticket,
    submit_case,
)
from casedesk.tickets.actions import record_bounce as record_bounce_on_cases
from casedesk.tickets.models import Message, Ticket

TAG = re.compile(r"\[\s*(?:case\s*#?|#)\s*(\d{1,18})\s*\]", re.IGNORECASE)
# Reply and forward prefixes of common clients (English, German, Nordic, French, Spanish,
# Arabic), removed from the subject of a case opened by email.
PREFIX = re.compile(
    r"^\s*((re|fw|fwd|aw|wg|sv|vs|tr|rv|enc|رد|إعادة توجيه|توجيه)\s*(\[\d+\])?\s*[:：]\s*)+",
    re.IGNORECASE,
)
# Automatic mail that is only about delivery: never a case, never a reply.
DELIVERY_REASONS = {"bounce", "mailer-daemon"}
MAX_IDS = 50
MAX_LISTED_REFUSALS = 20
# Open cases of a bouncing address told about it, newest first.
MAX_BOUNCE_CASES = 50


@dataclass(frozen=True)
class IngestResult:
    action: str  # "reply" | "new_case" | "ignored" | "bounce" | "portal_reply"
    ticket_id: int | None = None
    message_id: int | None = None
    reason: str = ""


# ------------------------------------------------------------------ helpers


def normalize_id(value: Any) -> str:
    """A Message-ID in the form we store: one token in angle brackets, or "" if unusable."""
    text = str(value or "").strip()
    if not text:
        return ""
    text = text.split()[0]
    if not text.startswith("<"):
        text = f"<{text.strip('<>')}>"
    return text if 2 < len(text) <= 255 else ""


def thread_ids(parsed: Any) -> list[str]:
    """In-Reply-To first, then References from the newest: the nearest parent wins."""
    raw = [parsed.in_reply_to, *reversed(list(parsed.references or []))]
    ids = [normalize_id(value) for value in raw]
    return list(dict.fromkeys(i for i in ids if i))[:MAX_IDS]


def ticket_by_headers(ids: list[str]) -> int | None:
    """The case of the nearest of `ids` that is one of its messages or a mail we sent
    about it."""
    found = threads_by_headers(ids)
    return next((found[i] for i in ids if i in found), None)


def threads_by_headers(ids: list[str]) -> dict[str, int]:
    """The case of each of `ids` that is one of its messages or a mail we sent about it."""
    if not ids:
        return {}
    # One statement for both tables, in SQL: every received message with threading headers
    # runs it, and compiling the two ORM lookups cost more than running them.
    marks = rows.marks(len(ids))
    message = connection.ops.quote_name(Message._meta.db_table)
    outbound = connection.ops.quote_name(OutboundMail._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT message_id_header, ticket_id FROM {message} "  # noqa: S608 - our names
            f"WHERE message_id_header IN ({marks}) "
            f"UNION ALL SELECT message_id, ticket_id FROM {outbound} "
            f"WHERE message_id IN ({marks}) AND ticket_id IS NOT NULL",
            [*ids, *ids],
        )
        found: dict[str, int] = {}
        for message_id, ticket_id in cursor.fetchall():
            # A case's own message wins over our mail about it (the former are listed first).
            found.setdefault(message_id, ticket_id)
    return found


@lru_cache(maxsize=4096)
def valid_address(address: str) -> bool:
    # An account is made for the sender: the address must fit and look like one. Kept
    # per address: most mail comes from people who wrote before, and validate_email
    # (its patterns, and the domain's IDNA encoding) cost ~15 us a sender.
    try:
        validate_email(address)
    except ValidationError:
        return False
    return len(address) <= 254


def tagged_case_id(subject: str) -> int | None:
    match = TAG.search(subject or "")
    if match is None:
        return None
    value = int(match.group(1))
    return value if 0 < value < 2**63 else None


def tagged_case(case_id: int) -> Ticket | None:
    """The case a subject's tag names, with its requester. In SQL, like user_by_email:
    a fifth of the replies thread by their tag alone."""
    found = rows.select(Ticket, "id = %s", [case_id])
    if not found:
        return None
    ticket = found[0]
    # The requester is protected from deletion while they have cases: always there.
    ticket.requester = rows.select(User, "id = %s", [ticket.requester_id])[0]
    return ticket


def may_use_tag(ticket: Ticket, sender: str, user: User | None) -> bool:
    """Whether `sender` (whose account, if any, is `user`) may add to `ticket` by naming
    its Case ID in a subject."""
    if sender == normalize_email(ticket.requester.email) or sender in ticket.cc_list():
        return True
    if user is None or not user.is_active:
        return False
    if user.is_agent:
        return True
    return ticket.organization_id is not None and user.organization_id == ticket.organization_id


def clean_subject(subject: str) -> str:
    text = TAG.sub("", subject or "")
    text = PREFIX.sub("", " ".join(text.split())).strip()
    return text[:200] or "(no subject)"


def our_addresses() -> set[str]:
    extra = getattr(settings, "CASEDESK_SUPPORT_ADDRESSES", []) or []
    return {normalize_email(a) for a in [support_address(), *extra] if a}


def copied(parsed: Any, sender: str) -> tuple[str, ...]:
    """The other people the message went to, without us and the sender."""
    ours = our_addresses()
    out = []
    for address in [*(parsed.to or []), *(parsed.cc or [])]:
        address = normalize_email(str(address))
        if address not in ours and address != sender and valid_address(address):
            out.append(address)
    return tuple(dict.fromkeys(out))


def attachment_name(filename: str, content_type: str, n: int) -> str:
    if filename:
        return filename
    extension = mimetypes.guess_extension(content_type or "") or ""
    return f"attachment-{n}{extension}"


def check_attachments(parsed: Any) -> tuple[list[CheckedFile], list[str]]:
    """The files we keep, checked like portal uploads, and a line per refused one."""
    limit = settings.CASEDESK_MAX_ATTACHMENTS
    accepted: list[CheckedFile] = []
    refused: list[str] = []
    for n, (filename, content_type, data) in enumerate(parsed.attachments or [], start=1):
        name = attachment_name(str(filename or ""), str(content_type or ""), n)
        if len(accepted) >= limit:
            refused.append(f"{name} (more than {limit} files in one message)")
            continue
        upload = SimpleUploadedFile(
            name, bytes(data), content_type=str(content_type or "application/octet-stream")
        )
        try:
            accepted.append(check_upload(upload))
        except ValidationError as exc:
            refused.append(f"{name} ({' '.join(exc.messages)})")
    return accepted, refused


def body_of(parsed: Any, refused: list[str]) -> tuple[str, str]:
    """The message's text (the new part) and the whole email's text when they differ."""
    full = (parsed.text or "").strip()
    body = (parsed.reply_text or "").strip() or full
    if refused:
        listed = refused[:MAX_LISTED_REFUSALS]
        more = len(refused) - len(listed)
        lines = "\n".join(f"- not attached: {line}" for line in listed)
        if more:
            lines += f"\n- and {more} more files not attached"
        body = f"{body}\n\n{lines}".strip()
    if not body:
        body = "(The email had no text.)"
    return body, full if full and full != body else ""


def acknowledgements_allowed(address: str) -> bool:
    since = timezone.now() - timedelta(hours=1)
    table = connection.ops.quote_name(OutboundMail._meta.db_table)
    with connection.cursor() as cursor:
        # In SQL, like ticket_by_headers: every new case by email counts (index
        # outbound_to_created), and compiling the ORM's count cost more than running it.
        cursor.execute(
            f"SELECT count(*) FROM {table} WHERE {connection.ops.quote_name('to')} = %s "  # noqa: S608
            "AND kind = %s AND created_at >= %s",
            [address, OutboundMail.Kind.ACKNOWLEDGEMENT.value,
             connection.ops.adapt_datetimefield_value(since)],
        )
        sent = cursor.fetchone()[0]
    return int(sent) < settings.CASEDESK_ACK_CAP_PER_HOUR


def user_by_email(address: str) -> User | None:
    """The account with this (normalized) address, if any. In SQL, like
    ticket_by_headers: every received message reads it."""
    found = rows.select(User, "email = %s", [address])
    return found[0] if found else None


def lock_thread(ticket_id: int) -> Ticket:
    """The case mail to `ticket_id` goes to, locked: itself, or where it was merged into
    (mail to a merged case's thread, or naming its Case ID, lands where the thread went).
    The case is locked first and its merge followed only when it has one, which saves
    every reply a query."""
    ticket = lock_ticket(ticket_id)
    if ticket.merged_into_id is None:
        return ticket
    return lock_ticket(resolve_merged(ticket.pk) or ticket.pk)


def resolved_too_long_ago(ticket: Ticket) -> bool:
    if ticket.status == Ticket.Status.CLOSED:
        return True
    if ticket.status != Ticket.Status.RESOLVED:
        return False
    window = timedelta(days=settings.CASEDESK_REOPEN_DAYS)
    return ticket.resolved_at is None or ticket.resolved_at <= timezone.now() - window


# ------------------------------------------------------------------ ingest


def ingest(parsed: Any, *, inbound_id: int | None = None) -> IngestResult:
    """Turn one parsed message into its effect on cases, in one transaction.

    `parsed` is a casedesk.mail.parse.ParsedMail. The caller keeps the received bytes and
    records the result (inbound_id names its row, for log lines)."""
    # No savepoint of its own, nor in the actions it calls: the caller's transaction or
    # savepoint rolls back as a whole (the inbound job's batch, processed again one message
    # per transaction should any of it fail).
    with transaction.atomic(savepoint=False):
        return _ingest(parsed)


def _ingest(parsed: Any) -> IngestResult:
    sender = normalize_email(str(parsed.from_address or ""))
    if parsed.bounce is not None:
        return record_bounce(parsed)
    ids = thread_ids(parsed)
    threaded = ticket_by_headers(ids)
    if parsed.auto in DELIVERY_REASONS:
        return IngestResult("ignored", threaded, reason=f"automatic: {parsed.auto}")
    if not valid_address(sender):
        return IngestResult("ignored", threaded, reason="no usable sender address")
    if sender in our_addresses():
        return IngestResult("ignored", threaded, reason="sent from our own support address")
    if parsed.auto and threaded is not None:
        # An out-of-office answering our reply: nothing to reopen, nobody to answer.
        return IngestResult("ignored", threaded, reason=f"automatic reply: {parsed.auto}")
    # The sender's account, read once: who may use a tag, the author, the bounce mark.
    user = user_by_email(sender)
    if threaded is None:
        tagged = tagged_case_id(parsed.subject)
        if tagged is not None:
            ticket = tagged_case(tagged)
            if ticket is not None and may_use_tag(ticket, sender, user):
                threaded = ticket.pk
    if user is not None and user.email_bouncing_at is not None:
        # They write to us again: their address works (again).
        User.objects.filter(pk=user.pk).update(email_bouncing_at=None)
    files, refused = check_attachments(parsed)
    body, full = body_of(parsed, refused)
    mail = MailHeaders(
        message_id=normalize_id(parsed.message_id),
        references=tuple(reversed(ids)), full_body=full, cc=copied(parsed, sender),
    )
    if threaded is not None:
        ticket = lock_thread(threaded)
        author = user
        if author is None or not author.is_agent:
            if resolved_too_long_ago(ticket):
                return new_case(parsed, sender, body, files, mail, user, related_to=ticket)
            if author is None:
                author, _ = get_or_create_contact(email=sender, full_name=sender_name(parsed))
        message = add_message(
            ticket.pk, author, body, files, channel=Ticket.Channel.EMAIL, mail=mail,
            locked=ticket, savepoint=False,  # see ingest()
        )
        return IngestResult("reply", ticket.pk, message.pk)
    if settings.CASEDESK_EMAIL_NEW_CASES == "portal":
        return point_to_portal(parsed, sender, mail)
    return new_case(parsed, sender, body, files, mail, user)


def answerable(parsed: Any) -> bool:
    """Written by a person and not sent in bulk (Precedence bulk/junk/list): we may answer."""
    return not parsed.auto and not getattr(parsed, "bulk", False)


def sender_name(parsed: Any) -> str:
    name = " ".join(str(parsed.from_name or "").split())
    return name[:150] or str(parsed.from_address or "").partition("@")[0][:150]


def new_case(
    parsed: Any, sender: str, body: str, files: list[CheckedFile], mail: MailHeaders,
    user: User | None, *, related_to: Ticket | None = None,
) -> IngestResult:
    """`user` is the sender's account as _ingest read it in this transaction (None: there
    is none, so submit_case need not look for it again)."""
    acknowledge = answerable(parsed) and acknowledgements_allowed(sender)
    submission = submit_case(
        email=sender, full_name=sender_name(parsed), subject=clean_subject(parsed.subject),
        description=body, priority=Priority.MEDIUM, category=None, files=files,
        channel=Ticket.Channel.EMAIL, mail=mail, acknowledge=acknowledge,
        related_to=related_to,
        # The sender's account when there is one (read above), else made from the address.
        submitted_by=user, requester_is_new=user is None,
        savepoint=False,  # see ingest()
    )
    return IngestResult("new_case", submission.ticket.pk, submission.message.pk)


def point_to_portal(parsed: Any, sender: str, mail: MailHeaders) -> IngestResult:
    """The polite answer to a new request by email when new cases are opened on the portal:
    nothing is stored as a case (the received message stays with the caller)."""
    if not answerable(parsed):
        return IngestResult("ignored", reason=f"automatic: {parsed.auto or 'bulk'}")
    if not acknowledgements_allowed(sender):
        return IngestResult("ignored", reason="acknowledgement cap reached for this sender")
    subject = " ".join(str(parsed.subject or "").split())[:200]
    queue_mail(
        kind=OutboundMail.Kind.ACKNOWLEDGEMENT, to=sender,
        subject=f"Re: {subject}" if subject else gettext_lazy("Your email to support"),
        template="mail/use_portal.txt",
        context={"name": sender_name(parsed), "subject": subject},
        headers={"Auto-Submitted": "auto-replied", **mail.thread_headers()},
    )
    return IngestResult("portal_reply")


def mark_bouncing(addresses: list[str]) -> tuple[int, list[int]]:
    """Marks the accounts at `addresses` bouncing (those not marked yet): how many were,
    and the open cases they requested, newest first (MAX_BOUNCE_CASES at most). In SQL,
    like ticket_by_headers: every permanent bounce runs both, and compiling the ORM's
    UPDATE and join cost several times running them."""
    users = connection.ops.quote_name(User._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {users} SET email_bouncing_at = %s "  # noqa: S608 - our names
            f"WHERE email IN ({rows.marks(len(addresses))}) "
            "AND email_bouncing_at IS NULL",
            [connection.ops.adapt_datetimefield_value(timezone.now()), *addresses],
        )
        marked = cursor.rowcount
    return int(marked), open_cases_of(addresses, limit=MAX_BOUNCE_CASES)


def open_cases_of(addresses: list[str], limit: int | None = None) -> list[int]:
    """The open cases requested by the accounts at `addresses`, newest first."""
    if not addresses:
        return []
    quote = connection.ops.quote_name
    users, tickets = quote(User._meta.db_table), quote(Ticket._meta.db_table)
    statuses = [str(status.value) for status in Ticket.OPEN_STATUSES]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {tickets}.id FROM {tickets} INNER JOIN {users} "  # noqa: S608
            f"ON {tickets}.requester_id = {users}.id "
            f"WHERE {users}.email IN ({rows.marks(len(addresses))}) "
            f"AND {tickets}.status IN ({rows.marks(len(statuses))}) "
            f"ORDER BY {tickets}.id DESC" + (f" LIMIT {int(limit)}" if limit is not None else ""),
            [*addresses, *statuses],
        )
        return [int(pk) for (pk,) in cursor.fetchall()]


def record_bounce(parsed: Any) -> IngestResult:
    """A delivery failure: never a reply. A permanent one marks the address bouncing, shown
    on the desk, until its owner writes to us again, and says so in the history of the
    case the bounced mail was about and of the open cases that address requested (an
    agent must know the customer may not have our answer); a temporary one (a delay)
    only on the case it is about."""
    bounce = parsed.bounce
    ids = thread_ids(parsed)
    original = normalize_id(bounce.original_message_id)
    if original and original not in ids:
        ids.append(original)
    threaded = ticket_by_headers(ids)
    addresses = {normalize_email(str(a)) for a in bounce.addresses or [] if a}
    if not addresses and ids:
        # No parsable report: the bounced mail is the one it answers, if it is ours.
        addresses = set(
            OutboundMail.objects.filter(message_id__in=ids).values_list("to", flat=True)
        )
    marked = 0
    cases = [threaded] if threaded is not None else []
    if bounce.permanent and addresses:
        marked, open_cases = mark_bouncing(sorted(addresses))
        cases += open_cases
    kind = "permanent" if bounce.permanent else "temporary"
    to = ", ".join(sorted(addresses)) or "unknown"
    if cases:
        record_bounce_on_cases(
            cases, to=to, reason=bounce.reason or str(parsed.subject or ""),
            permanent=bool(bounce.permanent),
        )
    why = f": {bounce.reason}" if bounce.reason else ""
    return IngestResult(
        "bounce", threaded,
        reason=f"{kind} failure for {to}{why}; {marked} marked bouncing, "
               f"{len(set(cases))} case(s) told",
    )
