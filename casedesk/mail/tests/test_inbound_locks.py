"""What a batch of inbound mail locks on PostgreSQL (casedesk.mail.inbound_locks): the
cases and senders its messages point at, read as ingest will find them, so that batches
about different cases and people ingest at once."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from casedesk.conftest import make_case, make_contact, make_org
from casedesk.mail.inbound_locks import BATCH_LOCK, key, lock, plan
from casedesk.mail.parse import BounceInfo, ParsedMail
from casedesk.tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db
_n = iter(range(1, 10**9))


def mail(**fields: Any) -> ParsedMail:
    """A parsed message: a person's new request unless told otherwise."""
    n = next(_n)
    values: dict[str, Any] = {
        "message_id": f"<lock-{n}@mail.example>", "in_reply_to": "", "references": [],
        "subject": "Filtering stopped", "from_address": f"person{n}@example.org",
        "from_name": "", "to": ["support@casedesk.localhost"], "cc": [],
        "date": timezone.now(), "text": "Text.", "html": "", "reply_text": "Text.",
        "attachments": [], "auto": None, "bounce": None,
    }
    values.update(fields)
    return ParsedMail(**values)


def first_message_id(ticket: Ticket) -> str:
    return Message.objects.filter(ticket=ticket).order_by("pk").first().message_id_header  # type: ignore[union-attr]


def test_a_batch_names_the_cases_its_mail_threads_onto_and_its_senders() -> None:
    # Given a case replied to by its headers, one named by a subject tag, and one merged
    # into another case
    by_header, by_tag = make_case().ticket, make_case().ticket
    merged, survivor = make_case().ticket, make_case().ticket
    Ticket.objects.filter(pk=merged.pk).update(merged_into=survivor)
    new = mail(from_address="new@example.org")

    # When the batch of a reply to each and a new request is planned
    keys = plan([
        mail(in_reply_to=first_message_id(by_header), from_address="a@example.org"),
        mail(subject=f"Re: [Case #{by_tag.pk}] more", from_address="b@example.org"),
        mail(references=[first_message_id(merged)], from_address="c@example.org"),
        new,
    ])

    # Then it locks those cases, the case the merged one went to, and every sender
    assert keys == {
        key("case", by_header.pk), key("case", by_tag.pk), key("case", merged.pk),
        key("case", survivor.pk), *(key("address", a) for a in (
            "a@example.org", "b@example.org", "c@example.org", "new@example.org")),
    }


def test_a_bounce_names_the_bounced_address_and_its_open_cases() -> None:
    # Given a contact with an open case and a resolved one
    contact = make_contact(make_org())
    open_case, done = make_case(contact).ticket, make_case(contact).ticket
    Ticket.objects.filter(pk=done.pk).update(status=Ticket.Status.CLOSED)
    report = mail(from_address="mailer-daemon@mx.example", auto="bounce",
                  bounce=BounceInfo(addresses=(contact.email.upper(),), permanent=True))

    # When a batch with the delivery report is planned
    keys = plan([report])

    # Then it locks the address and its open case (the one a bounce writes to), not more
    assert keys == {key("address", contact.email), key("case", open_case.pk),
                    key("address", "mailer-daemon@mx.example")}


def test_a_bounce_naming_no_address_makes_its_batch_run_alone() -> None:
    report = mail(auto="bounce", bounce=BounceInfo(addresses=(), permanent=True))
    assert plan([mail(), report]) is None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="advisory locks: PostgreSQL")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_batch_holds_its_keys_and_the_global_lock_shared_until_it_commits() -> None:
    case = make_case().ticket
    messages = [mail(in_reply_to=first_message_id(case), from_address="a@example.org")]

    def held() -> set[tuple[int, str]]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT (classid::bigint << 32) | objid::bigint, mode FROM pg_locks "
                "WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
            )
            return {(int(k) - (1 << 64) if int(k) >= 1 << 63 else int(k), mode)
                    for k, mode in cursor.fetchall()}

    # When a batch takes its locks
    with transaction.atomic():
        lock(messages)
        during = held()

    # Then it held its case's and its sender's keys, and the global lock only shared
    assert during == {(BATCH_LOCK, "ShareLock"), (key("case", case.pk), "ExclusiveLock"),
                      (key("address", "a@example.org"), "ExclusiveLock")}
    # And none once it committed
    assert held() == set()
    # And a batch that cannot be planned holds the global lock alone
    with transaction.atomic():
        lock([mail(bounce=BounceInfo(addresses=(), permanent=True))])
        assert held() == {(BATCH_LOCK, "ExclusiveLock")}
