"""The real background worker (`casedesk worker`, django_tasks_db's db_worker) picks up
the delivery jobs a submission enqueues on commit, and sends the mail."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from casedesk.conftest import make_case, make_contact, make_org, read_outbox
from casedesk.mail.models import OutboundMail
from casedesk.mail.tests.conftest import free_port


@pytest.fixture
def keep_signal_handlers() -> Iterator[None]:
    # The worker installs its own Ctrl-C handlers; give pytest its own back afterwards.
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def run_worker_once() -> None:
    call_command("worker", "--batch", "--no-startup-delay", "--interval", "0", verbosity=0)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_worker_delivers_the_mail_a_new_case_enqueued(
    settings: Any, keep_signal_handlers: None
) -> None:
    # Given a new requester's case, committed: its acknowledgement and invitation wait
    ticket = make_case(email="first.time@example.org").ticket
    jobs = DBTaskResult.objects.filter(task_path="casedesk.mail.jobs.deliver_mail")
    assert jobs.ready().count() == 2

    # When the worker runs through everything that is due
    run_worker_once()

    # Then both mails are sent, and their jobs are done
    assert set(OutboundMail.objects.values_list("status", flat=True)) == {"sent"}
    subjects = sorted(m["Subject"] for m in read_outbox(settings))
    assert subjects == [
        "Your invitation to the support portal",
        f"[Case #{ticket.pk}] {ticket.subject}",
    ]
    assert sorted(jobs.values_list("status", flat=True)) == ["SUCCESSFUL", "SUCCESSFUL"]
    assert jobs.ready().count() == 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_failed_delivery_in_the_worker_waits_for_its_retry_instead_of_spinning(
    settings: Any, keep_signal_handlers: None
) -> None:
    # Given a known contact's case while the mail server is down
    settings.CASEDESK_EMAIL_URL = f"smtp://127.0.0.1:{free_port()}?timeout=5"
    ticket = make_case(make_contact(make_org())).ticket

    # When the worker runs through everything that is due
    run_worker_once()

    # Then the one attempt was made, the job itself succeeded (the failure is the mail's,
    # kept on it), and the retry waits for its time instead of running again at once
    mail = OutboundMail.objects.get(ticket=ticket)
    assert (mail.status, mail.attempts) == ("queued", 1)
    jobs = DBTaskResult.objects.filter(task_path="casedesk.mail.jobs.deliver_mail")
    assert jobs.count() == 2
    assert jobs.filter(status="SUCCESSFUL").get().return_value == "queued"
    assert jobs.filter(status="READY").get().run_after == mail.next_attempt_at
