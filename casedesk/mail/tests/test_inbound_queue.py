"""The inbound queue: stored messages are claimed by one worker, become cases through the
real parser and threading, and what cannot be handled is quarantined, shown to admins
with its error and the original, and processed again after a fix."""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from casedesk.conftest import PNG_BYTES, make_agent
from casedesk.core.lease import lease
from casedesk.core.schedule import periodic_tasks
from casedesk.mail.inbound_jobs import (
    claim,
    claim_batch,
    process_claimed,
    process_due,
    process_inbound,
)
from casedesk.mail.intake import store_raw
from casedesk.mail.models import InboundMessage
from casedesk.portal.tests.helpers import stored_files
from casedesk.tickets.models import Attachment, Ticket

needs_ingest = pytest.mark.skipif(
    importlib.util.find_spec("casedesk.mail.ingest") is None
    or importlib.util.find_spec("casedesk.mail.parse") is None,
    reason="casedesk.mail.parse and casedesk.mail.ingest are not written yet",
)

QUESTION = (
    b"Message-ID: <q1@gulfnet.example>\r\n"
    b"From: Noor Haddad <noor@gulfnet.example>\r\n"
    b"To: support@casedesk.localhost\r\n"
    b"Subject: DNS 2 lets adult sites through\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
    b"Since 09:10 the second resolver answers without filtering.\r\n"
)


def stored(raw: bytes = QUESTION) -> InboundMessage:
    return store_raw(raw, source=InboundMessage.Source.SMTP,
                     envelope_from="noor@gulfnet.example",
                     envelope_to=["support@casedesk.localhost"]).inbound


@contextmanager
def invitations_table_missing() -> Iterator[None]:
    """A stranger's first mail fails inside: its invitation cannot be stored."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE accounts_invitation RENAME TO accounts_invitation_away")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE accounts_invitation_away RENAME TO accounts_invitation")


def test_the_drain_is_on_the_schedule(settings: Any) -> None:
    [periodic] = [p for p in periodic_tasks() if p.name == "mail.inbound"]
    assert periodic.task == "casedesk.mail.inbound_jobs.process_inbound"
    assert periodic.every == timedelta(seconds=settings.CASEDESK_MAIL_POLL_SECONDS)


def test_a_message_is_claimed_by_one_worker_until_its_lease_runs_out(db: Any) -> None:
    # Given a received message
    inbound = stored()
    now = timezone.now()

    # When two workers try to claim it at the same moment, only the first gets it
    assert claim(inbound.pk, now) is True
    assert claim(inbound.pk, now) is False
    inbound.refresh_from_db()
    assert inbound.status == "processing"

    # And when that worker died, the message is due again once the lease has run out
    assert claim(inbound.pk, now + lease() - timedelta(seconds=1)) is False
    assert claim(inbound.pk, now + lease() + timedelta(seconds=1)) is True


def test_a_killed_workers_claim_runs_out_with_its_job_lease(db: Any, settings: Any) -> None:
    # Regression (issue 8.8, found by the soak): a worker SIGKILLed mid-batch left its
    # claimed messages alone for a fixed ten minutes, long after its job was taken over.
    settings.CASEDESK_JOB_LEASE_SECONDS = 8
    inbound = stored()
    now = timezone.now()
    assert claim_batch(now) == [inbound.pk]

    # When the worker dies without processing it, another worker gets it one lease later
    assert claim_batch(now + timedelta(seconds=7)) == []
    assert claim_batch(now + timedelta(seconds=9)) == [inbound.pk]


@needs_ingest
def test_a_worker_whose_claim_was_taken_over_does_not_ingest_it_again(db: Any) -> None:
    # Given a message claimed by a slow worker, whose lease ran out, then claimed by another
    inbound = stored()
    now = timezone.now()
    assert claim_batch(now) == [inbound.pk]
    later = now + lease() + timedelta(seconds=1)
    assert claim_batch(later) == [inbound.pk]

    # When the second worker processes it, then the slow one reaches it in its batch
    assert process_claimed([inbound.pk], claimed_until=later + lease()) == ["processed"]
    assert process_claimed([inbound.pk], claimed_until=now + lease()) == ["skipped"]

    # Then it became one case, once
    assert Ticket.objects.filter(subject="DNS 2 lets adult sites through").count() == 1


def test_a_taken_over_message_in_a_slow_workers_batch_is_rolled_back_alone(db: Any) -> None:
    # Given two messages claimed by a slow worker, whose lease ran out, and one of them
    # claimed and processed by another worker since
    taken = stored()
    other = stored(QUESTION.replace(b"q1@", b"q2@").replace(b"DNS 2", b"DNS 3"))
    now = timezone.now()
    assert sorted(claim_batch(now)) == sorted([taken.pk, other.pk])
    later = now + lease() + timedelta(seconds=1)
    assert claim_batch(later, limit=1) == [taken.pk]
    assert process_claimed([taken.pk], claimed_until=later + lease()) == ["processed"]

    # When the slow worker processes its batch
    statuses = process_claimed([taken.pk, other.pk], claimed_until=now + lease())

    # Then it skips the message taken over and processes the other: one case each
    assert statuses == ["skipped", "processed"]
    assert Ticket.objects.filter(subject="DNS 2 lets adult sites through").count() == 1
    assert Ticket.objects.filter(subject="DNS 3 lets adult sites through").count() == 1


@needs_ingest
def test_a_stored_message_becomes_a_case_when_the_job_runs(db: Any) -> None:
    # Given a customer's first mail, stored by the listener
    inbound = stored()

    # When the periodic job runs
    counts = process_inbound.call()

    # Then the mail is a case from that customer, linked from the stored message
    assert counts == {"processed": 1}
    inbound.refresh_from_db()
    assert (inbound.status, inbound.result, inbound.error) == ("processed", "new_case", "")
    assert inbound.processed_at is not None
    assert inbound.ticket is not None
    ticket = inbound.ticket
    assert ticket.subject == "DNS 2 lets adult sites through"
    assert ticket.requester.email == "noor@gulfnet.example"
    assert inbound.ticket_message is not None
    assert inbound.ticket_message.ticket_id == ticket.pk

    # And running again does nothing more
    assert process_due() == {}
    assert Ticket.objects.count() == 1


@needs_ingest
def test_bad_input_never_crashes_the_drain(db: Any) -> None:
    # Given mail no one could make a case of: empty, binary noise, headers only
    for raw in [b"", b"\x00\xff\xfe" * 100, b"Subject: =?x-unknown?B?!!!?=\r\n"]:
        stored(raw)

    # When the job runs, it finishes, and every message has a final status
    process_due()
    assert set(InboundMessage.objects.values_list("status", flat=True)) <= {
        "processed", "ignored", "quarantined",
    }


@needs_ingest
def test_quarantine_is_shown_to_admins_and_process_again_after_the_fix(
    db: Any, client: Client
) -> None:
    # Given the database is missing the cases table when a message is processed
    inbound = stored()
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE tickets_ticket RENAME TO tickets_ticket_away")
    try:
        assert process_due() == {"quarantined": 1}
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE tickets_ticket_away RENAME TO tickets_ticket")

    # Then the message is quarantined with the error, not lost
    inbound.refresh_from_db()
    assert inbound.status == "quarantined"
    assert "tickets_ticket" in inbound.error
    assert Ticket.objects.count() == 0

    # And an admin finds it under the Quarantined filter, with the error
    admin = make_agent(is_staff=True, is_superuser=True)
    client.force_login(admin)
    listing = client.get(
        reverse("admin:mail_inboundmessage_changelist"), {"status__exact": "quarantined"}
    )
    assert listing.status_code == 200
    page = listing.content.decode()
    assert "DNS 2 lets adult sites through" in page
    assert "tickets_ticket" in page
    detail = client.get(reverse("admin:mail_inboundmessage_change", args=[inbound.pk]))
    assert "tickets_ticket" in detail.content.decode()

    # And can download the message exactly as it arrived
    raw = client.get(reverse("admin:mail_inboundmessage_raw", args=[inbound.pk]))
    assert raw.status_code == 200
    assert raw["Content-Type"] == "message/rfc822"
    assert raw["Content-Disposition"] == (
        f"attachment; filename=\"inbound-{inbound.pk}.eml\"; "
        f"filename*=UTF-8''inbound-{inbound.pk}.eml")
    assert raw["X-Content-Type-Options"] == "nosniff"
    assert raw.content == QUESTION

    # When, the fault fixed, the admin chooses "Process again"
    response = client.post(
        reverse("admin:mail_inboundmessage_changelist"),
        {"action": "process_again_action", "_selected_action": [inbound.pk]},
        follow=True,
    )
    assert "1 message(s) queued to be processed again." in response.content.decode()
    inbound.refresh_from_db()
    assert (inbound.status, inbound.error) == ("received", "")

    # Then the next run makes the case
    assert process_due() == {"processed": 1}
    inbound.refresh_from_db()
    assert inbound.status == "processed"
    assert inbound.ticket is not None
    assert Ticket.objects.count() == 1


def test_only_admins_may_download_the_original(db: Any, client: Client) -> None:
    inbound = stored()
    url = reverse("admin:mail_inboundmessage_raw", args=[inbound.pk])
    client.force_login(make_agent())
    response = client.get(url)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_a_nul_byte_in_the_headers_does_not_refuse_the_message(db: Any) -> None:
    # Given a message whose Subject and Message-ID hold a NUL (found by test_fuzz_mail:
    # PostgreSQL refuses NUL in text, so storing it failed and the sender was refused)
    raw = QUESTION.replace(b"Subject: ", b"Subject: \x00").replace(b"<q1@", b"<q1\x00@")

    # When it is stored, then it is, its admin columns without the NUL
    inbound = stored(raw)
    inbound.refresh_from_db()
    assert bytes(inbound.raw) == raw
    assert "\x00" not in inbound.subject + inbound.message_id


def test_a_batch_is_claimed_once(db: Any) -> None:
    # Given three received messages
    ids = sorted(stored(QUESTION.replace(b"q1@", f"q{n}@".encode())).pk for n in range(3))
    now = timezone.now()

    # When two workers claim batches at the same moment, the first takes all three
    assert sorted(claim_batch(now)) == ids
    assert claim_batch(now) == []
    assert set(InboundMessage.objects.values_list("status", flat=True)) == {"processing"}


@needs_ingest
def test_one_bad_message_in_a_batch_is_quarantined_alone(db: Any) -> None:
    # Given a case, then three messages processed in one batch: a reply to the case, a
    # first mail from a stranger (whose invitation cannot be stored: its table is missing),
    # and another reply
    first = stored()
    assert process_due() == {"processed": 1}
    first.refresh_from_db()
    reply = b"In-Reply-To: <q1@gulfnet.example>\r\n" + QUESTION
    stored(reply.replace(b"<q1@gulfnet.example>\r\nFrom", b"<r1@gulfnet.example>\r\nFrom"))
    stranger = stored(QUESTION.replace(b"q1@", b"s1@").replace(b"noor@gulfnet", b"x@else"))
    stored(reply.replace(b"<q1@gulfnet.example>\r\nFrom", b"<r2@gulfnet.example>\r\nFrom"))
    with invitations_table_missing():
        # When the job runs
        counts = process_due()

    # Then the stranger's message is quarantined with its error, and both replies are on
    # the case: one bad message loses nothing of the others
    assert counts == {"processed": 2, "quarantined": 1}
    stranger.refresh_from_db()
    assert stranger.status == "quarantined" and "accounts_invitation" in stranger.error
    assert first.ticket is not None
    assert first.ticket.messages.count() == 3
    assert Ticket.objects.count() == 1


@needs_ingest
def test_a_failed_batch_leaves_no_file_without_its_attachment(db: Any) -> None:
    # Given a case, then in one batch a reply with a screenshot and a first mail from a
    # stranger whose invitation cannot be stored (its table is missing)
    first = stored()
    assert process_due() == {"processed": 1}
    first.refresh_from_db()
    reply = EmailMessage()
    reply["Message-ID"] = "<r1@gulfnet.example>"
    reply["In-Reply-To"] = "<q1@gulfnet.example>"
    reply["From"] = "Noor Haddad <noor@gulfnet.example>"
    reply["To"] = "support@casedesk.localhost"
    reply["Subject"] = "Re: DNS 2 lets adult sites through"
    reply.set_content("Here is what the resolver answers.")
    reply.add_attachment(PNG_BYTES, maintype="image", subtype="png", filename="dig.png")
    stored(reply.as_bytes())
    stored(QUESTION.replace(b"q1@", b"s1@").replace(b"noor@gulfnet", b"x@else"))
    with invitations_table_missing():
        # When the job runs: the batch fails, then each message is processed alone
        counts = process_due()

    # Then the screenshot is on the case once, and the uploads hold its file alone: the
    # copy the failed batch wrote was removed with the batch
    assert counts == {"processed": 1, "quarantined": 1}
    attachments = list(Attachment.objects.filter(ticket_id=first.ticket_id or 0))
    assert [a.filename for a in attachments] == ["dig.png"]
    assert stored_files() == [Path(attachments[0].file.path)]


@needs_ingest
def test_an_ignored_message_keeps_why_for_the_admin(db: Any, client: Client) -> None:
    # Given a case, and an out-of-office answering in its thread
    first = stored()
    process_due()
    away = stored(
        b"Message-ID: <ooo1@gulfnet.example>\r\nIn-Reply-To: <q1@gulfnet.example>\r\n"
        b"Auto-Submitted: auto-replied\r\nFrom: noor@gulfnet.example\r\n"
        b"Subject: Out of office\r\n\r\nBack on Monday.\r\n"
    )

    # When the job runs, it is ignored, with the reason on its row
    assert process_due() == {"ignored": 1}
    away.refresh_from_db()
    first.refresh_from_db()
    assert (away.status, away.ticket_id) == ("ignored", first.ticket_id)
    assert away.reason == "automatic reply: auto-submitted"

    # And an admin reads the reason in the list and on the message
    client.force_login(make_agent(is_staff=True, is_superuser=True))
    listing = client.get(reverse("admin:mail_inboundmessage_changelist"),
                         {"status__exact": "ignored"})
    assert "automatic reply: auto-submitted" in listing.content.decode()
    detail = client.get(reverse("admin:mail_inboundmessage_change", args=[away.pk]))
    assert "automatic reply: auto-submitted" in detail.content.decode()


@needs_ingest
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_draining_at_once_handle_each_message_once() -> None:
    # Given 40 first mails from different people
    for n in range(40):
        stored(QUESTION.replace(b"q1@", f"m{n}@".encode())
               .replace(b"noor@", f"person{n}@".encode()))
    barrier = threading.Barrier(2)
    counts: list[dict[str, int]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait(timeout=30)
            # Small batches, so that the two workers interleave
            while batch := process_due(limit=5):
                counts.append(batch)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    # When two workers, each with its own connection, drain the queue at the same moment
    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    # Then each message became exactly one case
    assert errors == []
    assert sum(c.get("processed", 0) for c in counts) == 40
    assert set(InboundMessage.objects.values_list("status", flat=True)) == {"processed"}
    assert Ticket.objects.count() == 40
    assert InboundMessage.objects.values("ticket").distinct().count() == 40
