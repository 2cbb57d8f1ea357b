"""When the mail server cannot be reached: the mail waits with its error, is retried later,
ends up `failed` in the admin after the last attempt, can be sent again from there, and the
case is never touched by any of it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import time_machine
from django.test import Client
from django.utils import timezone

from casedesk.accounts.models import User
from casedesk.conftest import make_agent, make_case, make_contact, make_org, read_outbox
from casedesk.mail.jobs import claim, deliver, deliver_due
from casedesk.mail.models import OutboundMail
from casedesk.mail.tests.conftest import free_port
from casedesk.tickets.models import Ticket

CHANGELIST = "/admin/mail/outboundmail/"


def closed_port_url() -> str:
    # Nothing listens there: the connection is refused at once.
    return f"smtp://127.0.0.1:{free_port()}?timeout=5"


def assert_case_intact(ticket: Ticket) -> None:
    stored = Ticket.objects.get(pk=ticket.pk)
    assert (stored.subject, stored.status) == (ticket.subject, "new")
    assert stored.messages.count() == 1
    assert list(stored.events.values_list("kind", flat=True)) == ["created"]


def test_an_unreachable_server_keeps_the_mail_queued_with_its_error_and_a_later_retry(
    db: Any, settings: Any, tmp_path: Path
) -> None:
    # Given a case whose acknowledgement is to go through a server that is down
    settings.CASEDESK_EMAIL_URL = closed_port_url()
    ticket = make_case(make_contact(make_org())).ticket
    mail = OutboundMail.objects.get(ticket=ticket)

    # When the delivery job runs
    counts = deliver_due()

    # Then the mail is still queued, with the attempt counted and the error kept, and it
    # is due again later (not now: the server needs time to come back)
    assert counts["queued"] == 1
    mail.refresh_from_db()
    assert (mail.status, mail.attempts) == ("queued", 1)
    assert "Connection refused" in mail.last_error
    assert mail.next_attempt_at > timezone.now() + timedelta(seconds=20)
    assert deliver_due()["queued"] == 0
    assert_case_intact(ticket)

    # And once its time has come and the server is back, the next run sends it
    settings.CASEDESK_EMAIL_URL = f"file://{tmp_path / 'outbox-after-repair'}"
    with time_machine.travel(mail.next_attempt_at + timedelta(seconds=1)):
        assert deliver_due()["sent"] == 1
    mail.refresh_from_db()
    assert (mail.status, mail.attempts) == ("sent", 2)
    assert_case_intact(ticket)


def test_after_the_last_attempt_the_mail_is_failed_shown_to_admins_and_can_be_sent_again(
    db: Any, settings: Any, tmp_path: Path
) -> None:
    # Given three attempts at most, a server that stays down, and one mail that did go out
    settings.CASEDESK_MAIL_MAX_ATTEMPTS = 3
    org = make_org()
    delivered = make_case(make_contact(org), subject="A case whose mail went out").ticket
    deliver(OutboundMail.objects.get(ticket=delivered).pk)
    settings.CASEDESK_EMAIL_URL = closed_port_url()
    ticket = make_case(make_contact(org), subject="Proxy latency spike").ticket
    mail = OutboundMail.objects.get(ticket=ticket)

    # When every attempt fails
    statuses = [deliver(mail.pk) for _ in range(3)]

    # Then the mail is failed after the third, with its error, and the case is intact
    assert statuses == ["queued", "queued", "failed"]
    mail.refresh_from_db()
    assert (mail.status, mail.attempts) == ("failed", 3)
    assert "Connection refused" in mail.last_error
    assert deliver(mail.pk) == "skipped"  # a late retry job does not try again
    assert_case_intact(ticket)

    # And an admin sees it among the failed mail, and only it
    admin = make_agent(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    page = client.get(CHANGELIST, {"status__exact": "failed"})
    assert page.status_code == 200
    html = page.content.decode()
    assert f"[Case #{ticket.pk}] Proxy latency spike" in html
    assert "Connection refused" in html
    assert "A case whose mail went out" not in html

    # When the admin uses "Send again now" once the server is back
    response = client.post(
        CHANGELIST, {"action": "send_again", "_selected_action": [mail.pk]}, follow=True
    )

    # Then the mail is due now, and the next delivery run sends it
    assert "1 message(s) queued again." in response.content.decode()
    mail.refresh_from_db()
    assert mail.status == "queued"
    assert mail.next_attempt_at <= timezone.now()
    settings.CASEDESK_EMAIL_URL = f"file://{tmp_path / 'outbox-after-repair'}"
    assert deliver_due()["sent"] == 1
    [message] = read_outbox(settings)
    assert message["Message-ID"] == mail.message_id
    assert_case_intact(ticket)


def test_the_failed_mail_list_is_for_admins_only(db: Any) -> None:
    # Given an agent who is not an admin, and a contact
    agent = make_agent()
    contact = make_contact(make_org())

    for user in (agent, contact):
        client = Client()
        client.force_login(user)

        # When they open the admin's list of outbound mail
        response = client.get(CHANGELIST, {"status__exact": "failed"})

        # Then they are sent to the admin sign-in instead
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]
    assert not User.objects.get(pk=agent.pk).is_staff


def test_mail_claimed_by_a_killed_worker_goes_out_one_job_lease_later(
    db: Any, settings: Any, tmp_path: Path
) -> None:
    # Regression (issue 8.8, found by the soak): a worker SIGKILLed between claiming a
    # mail and sending it held the acknowledgement back a fixed ten minutes.
    settings.CASEDESK_JOB_LEASE_SECONDS = 8
    settings.CASEDESK_EMAIL_URL = f"file://{tmp_path / 'outbox'}"
    ticket = make_case(make_contact(make_org())).ticket
    mail = OutboundMail.objects.get(ticket=ticket)
    now = timezone.now()
    OutboundMail.objects.filter(pk=mail.pk).update(
        status="sending", next_attempt_at=now + timedelta(seconds=8)
    )

    # When the next workers look, it is not due within the lease, and due after it
    assert deliver_due(now + timedelta(seconds=7))["sent"] == 0
    assert deliver_due(now + timedelta(seconds=9))["sent"] == 1
    mail.refresh_from_db()
    assert mail.status == "sent"
    assert len(read_outbox(settings)) == 1


def test_a_claim_late_in_a_long_batch_still_holds_a_whole_lease(
    db: Any, settings: Any
) -> None:
    # Regression (issue 8.8, found by the soak): deliver_due claimed every mail of its batch
    # with the batch's start time, so a batch longer than the lease handed its later mail to
    # a second worker while the first was sending it: acknowledgements went out twice.
    settings.CASEDESK_JOB_LEASE_SECONDS = 8
    ticket = make_case(make_contact(make_org())).ticket
    mail = OutboundMail.objects.get(ticket=ticket)
    batch_started = timezone.now() - timedelta(seconds=30)
    OutboundMail.objects.filter(pk=mail.pk).update(next_attempt_at=batch_started)

    # When the batch that started 30 s ago reaches this mail and claims it
    assert claim(mail.pk, batch_started) is not None

    # Then no other worker may take it for a whole lease from now
    mail.refresh_from_db()
    assert mail.next_attempt_at > timezone.now() + timedelta(seconds=7)
    assert claim(mail.pk, timezone.now()) is None
